//! The SQLite backend against the whole storage contract.
#![cfg(feature = "sqlite")]

mod support;

use std::sync::Arc;

use opus_core::Storage;
use opus_store::SqliteStore;

opus_testkit::storage_conformance_tests!(|| async {
    let store = match SqliteStore::open(support::sqlite_path()).await {
        Ok(store) => store,
        Err(e) => panic!("SQLite store: {e}"),
    };
    Storage::from_backend(Arc::new(store))
});
