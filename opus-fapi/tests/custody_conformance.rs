//! The software key custody passes the key custody contract.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use opus_core::keys::KeyCustody;
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};

fn custody() -> Arc<dyn KeyCustody> {
    match SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("sig-1").expect("RSA key"))
        .encryption_key(SoftwareKey::generate_rsa("enc-1").expect("RSA key"))
        .generate_data_key_kek("kek-1")
        .and_then(|b| b.build())
    {
        Ok(custody) => Arc::new(custody),
        Err(e) => panic!("software custody: {e}"),
    }
}

opus_testkit::key_custody_conformance_tests!(|| async { custody() });
