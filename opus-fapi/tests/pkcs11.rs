//! The PKCS#11 key custody against a real module (SoftHSM2 in CI).
//!
//! Reads `OPUS_PKCS11_MODULE`, `OPUS_PKCS11_TOKEN` and `OPUS_PKCS11_PIN`
//! (`.ci/softhsm.sh` sets them). Without a module the tests are skipped with
//! a message — except under `CI=true`, where they fail.
#![cfg(feature = "pkcs11")]
// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, ObjectClass};
use opus_core::KeyId;
use opus_core::keys::KeyCustody;
use opus_fapi::custody::pkcs11::{Pkcs11Config, Pkcs11KeyCustody, provision};
use zeroize::Zeroizing;

struct Module {
    path: PathBuf,
    token: String,
    pin: String,
}

fn module() -> Option<Module> {
    match std::env::var("OPUS_PKCS11_MODULE") {
        Ok(path) => Some(Module {
            path: path.into(),
            token: std::env::var("OPUS_PKCS11_TOKEN").unwrap_or_else(|_| "opus-ci".into()),
            pin: std::env::var("OPUS_PKCS11_PIN").unwrap_or_else(|_| "1234".into()),
        }),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_PKCS11_MODULE is not set: the PKCS#11 tests must run in CI")
        }
        Err(_) => {
            eprintln!("skipping PKCS#11 tests: set OPUS_PKCS11_MODULE (see .ci/softhsm.sh)");
            None
        }
    }
}

/// Labels unique to this test, so parallel tests never share keys.
fn labels() -> (KeyId, KeyId, KeyId) {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let l = |p: &str| KeyId::new(format!("{p}-{run}")).unwrap();
    (l("sig"), l("enc"), l("kek"))
}

async fn custody() -> Option<Arc<dyn KeyCustody>> {
    let module = module()?;
    let (sig, enc, kek) = labels();
    let (path, token, pin) = (
        module.path.clone(),
        module.token.clone(),
        module.pin.clone(),
    );
    let (s, e, k) = (sig.clone(), enc.clone(), kek.clone());
    tokio::task::spawn_blocking(move || {
        let (_ctx, session) = provision::session(&path, &token, &pin).unwrap();
        provision::rsa_key_pair(&session, &s, true).unwrap();
        provision::rsa_key_pair(&session, &e, false).unwrap();
        provision::aes_kek(&session, &k).unwrap();
    })
    .await
    .unwrap();
    let config = Pkcs11Config {
        module: module.path,
        token_label: module.token,
        pin: Zeroizing::new(module.pin),
        signing_keys: vec![sig],
        current_signer: None,
        encryption_keys: vec![enc],
        data_key_keks: vec![kek],
        sessions: 4,
    };
    Some(Arc::new(Pkcs11KeyCustody::open(config).await.unwrap()))
}

opus_testkit::key_custody_conformance_tests!(optional: custody);

#[test]
fn private_keys_cannot_leave_the_module() {
    let Some(module) = module() else { return };
    let (sig, _, kek) = labels();
    let (_ctx, session) = provision::session(&module.path, &module.token, &module.pin).unwrap();
    provision::rsa_key_pair(&session, &sig, true).unwrap();
    provision::aes_kek(&session, &kek).unwrap();
    let find = |class, label: &KeyId| {
        session
            .find_objects(&[
                Attribute::Class(class),
                Attribute::Label(label.as_str().as_bytes().to_vec()),
            ])
            .unwrap()[0]
    };
    let private = find(ObjectClass::PRIVATE_KEY, &sig);
    let attrs = session
        .get_attributes(
            private,
            &[
                AttributeType::Extractable,
                AttributeType::NeverExtractable,
                AttributeType::Sensitive,
            ],
        )
        .unwrap();
    assert!(attrs.contains(&Attribute::Extractable(false)));
    assert!(attrs.contains(&Attribute::NeverExtractable(true)));
    assert!(attrs.contains(&Attribute::Sensitive(true)));
    // The private exponent is not readable…
    let secret = session.get_attributes(private, &[AttributeType::PrivateExponent]);
    assert!(
        secret.as_ref().map_or(true, |a| a.is_empty()),
        "the private exponent must not be readable: {secret:?}"
    );
    // …and the key cannot be wrapped out, even under a key of the same token.
    let wrapping_key = find(ObjectClass::SECRET_KEY, &kek);
    assert!(
        session
            .wrap_key(&Mechanism::AesKeyWrapPad, wrapping_key, private)
            .is_err()
    );
    let kek_value = session.get_attributes(wrapping_key, &[AttributeType::Value]);
    assert!(
        kek_value.as_ref().map_or(true, |a| a.is_empty()),
        "the KEK value must not be readable"
    );
}
