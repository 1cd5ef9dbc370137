//! The memory backend against the whole storage contract.

use std::sync::Arc;

use opus_core::Storage;
use opus_store::MemoryStore;

opus_testkit::storage_conformance_tests!(|| async {
    Storage::from_backend(Arc::new(MemoryStore::new()))
});
