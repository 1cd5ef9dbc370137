//! The test key custody passes the key custody contract.

use std::sync::Arc;

use opus_core::keys::KeyCustody;
use opus_testkit::TestKeyCustody;

opus_testkit::key_custody_conformance_tests!(|| async {
    Arc::new(TestKeyCustody::new("conformance")) as Arc<dyn KeyCustody>
});
