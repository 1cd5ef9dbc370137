//! The certified openid-client (the interop kit's `peer-rp`) against our
//! authorization server over loopback mTLS, in OFB mode: it registers with
//! the mock directory, registers with us through DCR with the software
//! statement, creates a data consent through the Consents API, runs PAR, the
//! hybrid flow with an encrypted ID token, the code exchange, userinfo and
//! refresh, checks that the consent became AUTHORISED — and then every one of
//! its negative checks must be rejected.
//!
//! Needs Node, `openssl` and the interop kit (`../shared/interop/setup.sh
//! target/interop`); `OPUS_INTEROP_DIR` points at the kit. Without it the
//! test is skipped with a message — except under `CI=true`, where it fails.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::Duration;

use opus_examples::bank::{LoopbackBank, sandbox_customer};
use serde_json::Value;

fn peer_rp() -> Option<PathBuf> {
    match std::env::var("OPUS_INTEROP_DIR") {
        Ok(dir) => {
            let flow = PathBuf::from(dir).join("peer-rp/flow.mjs");
            assert!(
                flow.exists(),
                "peer-rp not installed under OPUS_INTEROP_DIR: {}",
                flow.display()
            );
            Some(flow)
        }
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_INTEROP_DIR is not set: the peer-rp interop must run in CI")
        }
        Err(_) => {
            eprintln!(
                "skipping the peer-rp interop: run ../shared/interop/setup.sh target/interop and set OPUS_INTEROP_DIR"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_passes_against_our_server_in_ofb_mode() {
    let Some(flow) = peer_rp() else { return };
    let bank = LoopbackBank::start().await.unwrap();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("peer-rp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, bank.ca_pem()).unwrap();
    let report = dir.join("report.json");
    let args = vec![
        flow.display().to_string(),
        "--issuer".into(),
        bank.issuer().as_str().trim_end_matches('/').to_owned(),
        "--ca".into(),
        ca.display().to_string(),
        "--ofb-directory".into(),
        bank.test_registration_url().unwrap().to_string(),
        "--consent-url".into(),
        bank.consents_url().unwrap().to_string(),
        "--consent-cpf".into(),
        sandbox_customer().unwrap().as_str().to_owned(),
        "--encrypted-id-token".into(),
        "--no-introspection".into(),
        "--out".into(),
        report.display().to_string(),
    ];
    let cwd = flow.parent().unwrap().to_owned();
    let node = std::env::var("OPUS_NODE").unwrap_or_else(|_| "node".into());
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(node)
            .args(&args)
            .current_dir(cwd)
            .output()
    });
    let output = tokio::time::timeout(Duration::from_secs(240), run)
        .await
        .expect("peer-rp did not finish within 4 minutes")
        .unwrap()
        .expect("node could not be started");
    bank.stop().await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("peer-rp printed no report ({e}); stderr:\n{stderr}\nstdout:\n{stdout}")
    });
    let steps = report["steps"].as_array().cloned().unwrap_or_default();
    let failed: Vec<&Value> = steps.iter().filter(|s| s["status"] == "FAIL").collect();
    assert!(
        failed.is_empty(),
        "peer-rp steps failed:\n{}",
        serde_json::to_string_pretty(&failed).unwrap()
    );
    // The OFB steps and every negative check ran (not skipped).
    for name in [
        "ofb_directory_registration",
        "ofb_directory_second_identity",
        "discovery_fapi_metadata",
        "dynamic_client_registration",
        "client_credentials_grant",
        "create_consent",
        "par_with_signed_request_object",
        "authorization_redirect_chain",
        "callback_detached_signature_validation",
        "authorization_code_grant",
        "consent_authorised",
        "userinfo",
        "refresh_token_grant",
        "reject_authorization_code_replay",
        "reject_access_token_without_client_certificate",
        "reject_access_token_with_other_client_certificate",
        "reject_par_without_request_object",
        "reject_par_request_object_without_pkce",
        "reject_par_request_object_rs256",
        "reject_authorization_request_without_par",
        "reject_private_key_jwt_wrong_audience",
    ] {
        let step = steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("peer-rp has no step {name}"));
        assert_eq!(step["status"], "PASS", "{name}: {step}");
    }
    assert_eq!(report["result"], "PASS");
    assert!(output.status.success());
}
