//! The certified openid-client (the interop kit's `peer-rp`) against every
//! brand of the running sandbox, found through the sandbox's
//! `--endpoints-file`, over loopback mTLS, in OFB mode: it registers with
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

/// Runs the sandbox binary until dropped.
struct Sandbox(std::process::Child);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_passes_against_every_sandbox_brand_from_its_endpoints_file() {
    let Some(flow) = peer_rp() else { return };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("peer-rp-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let endpoints_file = dir.join("endpoints.json");
    let _sandbox = Sandbox(
        std::process::Command::new(env!("CARGO_BIN_EXE_sandbox"))
            .args(["--memory", "--endpoints-file"])
            .arg(&endpoints_file)
            .arg("--work-dir")
            .arg(dir.join("sandbox"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut endpoints = None;
    for _ in 0..1200 {
        if let Some(found) = std::fs::read_to_string(&endpoints_file)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        {
            endpoints = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let endpoints = endpoints.expect("the sandbox wrote no endpoints file within two minutes");
    let brands = endpoints["brands"].as_array().cloned().unwrap_or_default();
    assert!(
        brands.len() >= 2,
        "the sandbox bank has two brands: {endpoints}"
    );
    let customer = endpoints["test_customers"][0]["cpf"]
        .as_str()
        .unwrap()
        .to_owned();
    for brand in &brands {
        run_peer_rp(&flow, &endpoints, brand, &customer, &dir).await;
    }
}

async fn run_peer_rp(
    flow: &std::path::Path,
    endpoints: &Value,
    brand: &Value,
    customer: &str,
    dir: &std::path::Path,
) {
    let report = dir.join(format!("report-{}.json", brand["id"].as_str().unwrap()));
    let args = vec![
        flow.display().to_string(),
        "--issuer".into(),
        brand["issuer"].as_str().unwrap().to_owned(),
        "--ca".into(),
        endpoints["ca_pem_path"].as_str().unwrap().to_owned(),
        "--ofb-directory".into(),
        endpoints["directory"]["test_registration_url"]
            .as_str()
            .unwrap()
            .to_owned(),
        "--consent-url".into(),
        format!(
            "{}/open-banking/consents/v3/consents",
            brand["api_base_url"].as_str().unwrap()
        ),
        "--consent-cpf".into(),
        customer.to_owned(),
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
