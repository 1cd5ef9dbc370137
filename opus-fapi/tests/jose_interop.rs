//! Cross-implementation JOSE: what we sign verifies with Node's `jose`, and
//! what `jose` signs and encrypts verifies and decrypts here.
//!
//! Needs Node and the interop kit (`../shared/interop/setup.sh target/interop`);
//! `OPUS_INTEROP_DIR` points at the kit. Without it the test is skipped with a
//! message — except under `CI=true`, where it fails.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use opus_core::keys::{JwkSet, KeyCustody, KeyPurpose};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::jose::jwe::{self, JwePolicy};
use opus_fapi::jose::jws::{self, JwsPolicy};
use serde_json::{Value, json};

fn jose_entry() -> Option<PathBuf> {
    match std::env::var("OPUS_INTEROP_DIR") {
        Ok(dir) => {
            let entry = PathBuf::from(dir).join("peer-op/node_modules/jose/dist/webapi/index.js");
            assert!(
                entry.exists(),
                "jose not installed under OPUS_INTEROP_DIR: {}",
                entry.display()
            );
            Some(entry)
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_INTEROP_DIR is not set: the interop check must run in CI")
        }
        Err(_) => {
            eprintln!(
                "skipping the jose interop check: run ../shared/interop/setup.sh target/interop and set OPUS_INTEROP_DIR"
            );
            None
        }
    }
}

#[tokio::test]
async fn jws_and_jwe_interoperate_with_node_jose() {
    let Some(entry) = jose_entry() else { return };
    let custody = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("rust-ps256").unwrap())
        .encryption_key(SoftwareKey::generate_rsa("rust-enc").unwrap())
        .build()
        .unwrap();
    let our_jwks = custody.public_jwks().await.unwrap();
    let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();
    let our_jws = jws::sign_claims(signer.as_ref(), None, &json!({"from": "rust"}))
        .await
        .unwrap();

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/jose_peer.mjs");
    let mut node = Command::new(std::env::var("OPUS_NODE").unwrap_or_else(|_| "node".into()))
        .arg(script)
        .env("JOSE_ENTRY", entry)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node");
    let input = json!({"our_jws": our_jws, "our_jwks": our_jwks});
    node.stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).unwrap();

    // jose verified our PS256 signature.
    assert_eq!(out["verified_payload"], r#"{"from":"rust"}"#);
    assert_eq!(out["verified_kid"], "rust-ps256");

    // We verify jose's PS256 signature with its published key.
    let theirs: JwkSet = serde_json::from_value(json!({"keys": [out["their_jwk"]]})).unwrap();
    let verified = jws::verify(
        out["their_jws"].as_str().unwrap(),
        &theirs,
        &JwsPolicy::ofb().with_typ("JWT"),
    )
    .unwrap();
    assert_eq!(verified.claims().unwrap()["from"], "node");

    // We decrypt jose's JWEs (RSA-OAEP and RSA-OAEP-256, A256GCM) through custody.
    let opened = jwe::decrypt(
        out["their_jwe"].as_str().unwrap(),
        &custody,
        &JwePolicy::ofb(),
    )
    .await
    .unwrap();
    assert_eq!(opened.plaintext(), b"hello from node");
    let opened = jwe::decrypt(
        out["their_jwe_256"].as_str().unwrap(),
        &custody,
        &JwePolicy::ofb(),
    )
    .await
    .unwrap();
    assert_eq!(opened.plaintext(), b"hello from node, OAEP-256");

    // And the nested signed-then-encrypted token, as an ID token would come.
    let nested = jwe::decrypt_then_verify(
        out["nested"].as_str().unwrap(),
        &custody,
        &JwePolicy::ofb(),
        &theirs,
        &JwsPolicy::ofb(),
    )
    .await
    .unwrap();
    assert_eq!(nested.claims().unwrap()["from"], "node");
}
