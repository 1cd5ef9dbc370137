//! The PostgreSQL backend against the whole storage contract, each test in
//! a fresh schema of the database at `OPUS_POSTGRES_URL`.
#![cfg(feature = "postgres")]

mod support;

use std::sync::Arc;

use opus_core::Storage;

opus_testkit::storage_conformance_tests!(optional: || async {
    let url = support::postgres_url()?;
    Some(Storage::from_backend(Arc::new(support::postgres_store(&url, 8).await)))
});
