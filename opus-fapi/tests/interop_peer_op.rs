//! Our FAPI client against the certified oidc-provider (the interop kit's
//! `peer-op`) over loopback mTLS: discovery, dynamic registration with an
//! ID-token encryption key, PAR with a PS256 request object and PKCE, the
//! hybrid flow (`code id_token`) with the encrypted ID token validated by
//! `opus_fapi::client::validate_callback`, the code exchange with
//! `private_key_jwt` and a certificate-bound token, and a refresh; then the
//! server's real answer, tampered, is refused.
//!
//! Needs Node and the interop kit (`../shared/interop/setup.sh
//! target/interop`); `OPUS_INTEROP_DIR` points at the kit. Without it the
//! test is skipped with a message — except under `CI=true`, where it fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use opus_core::keys::{JwkSet, KeyCustody, KeyPurpose};
use opus_core::{ClientId, Clock, SystemClock};
use opus_fapi::client::{
    CallbackError, CallbackExpectations, client_assertion, pkce_pair, validate_callback,
};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::jose::jws;
use opus_fapi::mtls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use serde_json::{Value, json};
use url::Url;

const REDIRECT: &str = "https://127.0.0.1/harness/cb";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn kit() -> Option<PathBuf> {
    match std::env::var("OPUS_INTEROP_DIR") {
        Ok(dir) => Some(PathBuf::from(dir)),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_INTEROP_DIR is not set: the peer-op interop must run in CI")
        }
        Err(_) => {
            eprintln!(
                "skipping the peer-op interop: run ../shared/interop/setup.sh target/interop and set OPUS_INTEROP_DIR"
            );
            None
        }
    }
}

/// peer-op, started for the test and stopped after it.
struct PeerOp {
    kit: PathBuf,
    issuer: String,
}

impl PeerOp {
    fn start(kit: PathBuf) -> Self {
        let output = std::process::Command::new("bash")
            .arg(kit.join("peer-op/start.sh"))
            .env("PORT", "0")
            .env("QUIET", "1")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "peer-op did not start: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let port = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        Self {
            kit,
            issuer: format!("https://127.0.0.1:{port}"),
        }
    }
}

impl Drop for PeerOp {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg(self.kit.join("peer-op/stop.sh"))
            .output();
    }
}

/// An HTTPS client with the kit's `rust` identity, keeping cookies.
struct Client {
    config: Arc<rustls::ClientConfig>,
    cookies: std::sync::Mutex<BTreeMap<String, String>>,
}

struct Answer {
    status: u16,
    location: Option<String>,
    body: Value,
}

impl Client {
    fn new(kit: &std::path::Path) -> Self {
        let pki = kit.join("pki");
        let anchors: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(pki.join("ca.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let chain: Vec<CertificateDer<'static>> =
            CertificateDer::pem_file_iter(pki.join("clients/rust-transport.pem"))
                .unwrap()
                .map(Result::unwrap)
                .collect();
        let key = PrivateKeyDer::from_pem_file(pki.join("clients/rust-transport.key")).unwrap();
        Self {
            config: mtls::client_config(&anchors, chain, key).unwrap(),
            cookies: Default::default(),
        }
    }

    async fn send(&self, method: &str, url: &str, body: Option<(&str, String)>) -> Answer {
        let url = Url::parse(url).unwrap();
        let mut request = http::Request::builder().method(method).uri(url.as_str());
        let cookies: Vec<String> = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !cookies.is_empty() {
            request = request.header(http::header::COOKIE, cookies.join("; "));
        }
        let bytes = match body {
            Some((content_type, text)) => {
                request = request.header(http::header::CONTENT_TYPE, content_type);
                Bytes::from(text)
            }
            None => Bytes::new(),
        };
        let answer = mtls::exchange(
            &self.config,
            request.body(bytes).unwrap(),
            &url,
            Duration::from_secs(20),
            1 << 20,
        )
        .await
        .unwrap();
        for value in answer.headers.get_all(http::header::SET_COOKIE) {
            let pair = value.to_str().unwrap().split(';').next().unwrap();
            if let Some((k, v)) = pair.split_once('=') {
                self.cookies
                    .lock()
                    .unwrap()
                    .insert(k.to_owned(), v.to_owned());
            }
        }
        Answer {
            status: answer.status.as_u16(),
            location: answer
                .headers
                .get(http::header::LOCATION)
                .map(|v| v.to_str().unwrap().to_owned()),
            body: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
        }
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_runs_the_hybrid_flow_against_oidc_provider() {
    let Some(kit) = kit() else { return };
    let op = PeerOp::start(kit.clone());
    let client = Client::new(&kit);
    let sign_pem = std::fs::read_to_string(kit.join("pki/clients/rust-sign.key")).unwrap();
    let custody = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::from_pem("rust-sign", &sign_pem).unwrap())
        .encryption_key(SoftwareKey::generate_rsa("rust-enc").unwrap())
        .build()
        .unwrap();
    let signer = custody.signer(KeyPurpose::MessageSigning).await.unwrap();

    // Discovery and registration, with an encryption key for ID tokens.
    let discovery = client
        .send(
            "GET",
            &format!("{}/.well-known/openid-configuration", op.issuer),
            None,
        )
        .await
        .body;
    let endpoint = |name: &str| {
        discovery["mtls_endpoint_aliases"][name]
            .as_str()
            .or_else(|| discovery[name].as_str())
            .unwrap()
            .to_owned()
    };
    let registered = client
        .send(
            "POST",
            &endpoint("registration_endpoint"),
            Some((
                "application/json",
                json!({
                    "redirect_uris": [REDIRECT],
                    "token_endpoint_auth_method": "private_key_jwt",
                    "token_endpoint_auth_signing_alg": "PS256",
                    "grant_types": ["authorization_code", "implicit", "refresh_token"],
                    "response_types": ["code id_token"],
                    "id_token_signed_response_alg": "PS256",
                    "id_token_encrypted_response_alg": "RSA-OAEP",
                    "id_token_encrypted_response_enc": "A256GCM",
                    "request_object_signing_alg": "PS256",
                    "tls_client_certificate_bound_access_tokens": true,
                    "jwks": custody.public_jwks().await.unwrap(),
                    "scope": "openid accounts offline_access",
                })
                .to_string(),
            )),
        )
        .await;
    assert_eq!(registered.status, 201, "{}", registered.body);
    let client_id = ClientId::new(registered.body["client_id"].as_str().unwrap()).unwrap();

    // PAR with a signed request object, PKCE and a consent scope.
    let (verifier, challenge) = pkce_pair().unwrap();
    let now = SystemClock.now().unix_seconds();
    let request_object = jws::sign_claims(
        signer.as_ref(),
        Some("oauth-authz-req+jwt"),
        &json!({
            "iss": client_id.as_str(),
            "aud": op.issuer,
            "client_id": client_id.as_str(),
            "response_type": "code id_token",
            "redirect_uri": REDIRECT,
            "scope": "openid accounts consent:urn:bancoazul:c-1",
            "state": "st-interop",
            "nonce": "n-interop",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "nbf": now,
            "exp": now + 300,
            "jti": uuid::Uuid::new_v4().to_string(),
        }),
    )
    .await
    .unwrap();
    let assertion = |audience: String| {
        let signer = signer.clone();
        let client_id = client_id.clone();
        async move {
            client_assertion(
                signer.as_ref(),
                &client_id,
                &audience,
                SystemClock.now(),
                Duration::from_secs(60),
            )
            .await
            .unwrap()
        }
    };
    let par = client
        .send(
            "POST",
            &endpoint("pushed_authorization_request_endpoint"),
            Some((
                "application/x-www-form-urlencoded",
                form(&[
                    ("client_id", client_id.as_str()),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion(op.issuer.clone()).await),
                    ("request", &request_object),
                ]),
            )),
        )
        .await;
    assert_eq!(par.status, 201, "{}", par.body);

    // The browser: the authorization endpoint and the auto-approving login.
    let mut at = Url::parse(discovery["authorization_endpoint"].as_str().unwrap()).unwrap();
    at.query_pairs_mut()
        .append_pair("client_id", client_id.as_str())
        .append_pair("request_uri", par.body["request_uri"].as_str().unwrap());
    let mut next = at.to_string();
    let callback = loop {
        let answer = client.send("GET", &next, None).await;
        let location = answer
            .location
            .unwrap_or_else(|| panic!("{next}: {} {}", answer.status, answer.body));
        let location = Url::parse(&next).unwrap().join(&location).unwrap();
        if location.as_str().starts_with(REDIRECT) {
            break location;
        }
        next = location.to_string();
    };
    let params: BTreeMap<String, String> =
        url::form_urlencoded::parse(callback.fragment().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    assert_eq!(params["id_token"].split('.').count(), 5, "encrypted");
    let keys: JwkSet = serde_json::from_value(
        client
            .send("GET", discovery["jwks_uri"].as_str().unwrap(), None)
            .await
            .body,
    )
    .unwrap();
    let expected = CallbackExpectations {
        issuer: &op.issuer,
        client_id: &client_id,
        nonce: "n-interop",
        state: Some("st-interop"),
        acr_values: &[],
        encrypted: true,
    };
    let valid = validate_callback(&params, &expected, &custody, &keys, SystemClock.now())
        .await
        .unwrap();

    // The real answer, tampered: refused.
    let mut swapped = params.clone();
    swapped.insert("code".into(), "not-the-code".into());
    assert!(matches!(
        validate_callback(&swapped, &expected, &custody, &keys, SystemClock.now()).await,
        Err(CallbackError::CodeHash)
    ));
    let other = CallbackExpectations {
        nonce: "n-other",
        ..expected.clone()
    };
    assert!(matches!(
        validate_callback(&params, &other, &custody, &keys, SystemClock.now()).await,
        Err(CallbackError::Nonce)
    ));
    let impostor = CallbackExpectations {
        issuer: "https://127.0.0.1:1",
        ..expected.clone()
    };
    assert!(matches!(
        validate_callback(&params, &impostor, &custody, &keys, SystemClock.now()).await,
        Err(CallbackError::Claims(_))
    ));
    let stranger = SoftwareKeyCustody::builder()
        .encryption_key(SoftwareKey::generate_rsa("rust-enc").unwrap())
        .build()
        .unwrap();
    assert!(matches!(
        validate_callback(&params, &expected, &stranger, &keys, SystemClock.now()).await,
        Err(CallbackError::Signature)
    ));

    let mut restated = params.clone();
    restated.insert("state".into(), "st-other".into());
    let restate = CallbackExpectations {
        state: Some("st-other"),
        ..expected.clone()
    };
    assert!(matches!(
        validate_callback(&restated, &restate, &custody, &keys, SystemClock.now()).await,
        Err(CallbackError::StateHash)
    ));
    // The signed token inside: refused in the clear, and with a broken signature.
    let inner = opus_fapi::jose::jwe::decrypt(
        &params["id_token"],
        &custody,
        &opus_fapi::jose::jwe::JwePolicy::ofb(),
    )
    .await
    .unwrap();
    let inner = String::from_utf8(inner.plaintext().to_vec()).unwrap();
    let mut clear = params.clone();
    clear.insert("id_token".into(), inner.clone());
    assert!(matches!(
        validate_callback(&clear, &expected, &custody, &keys, SystemClock.now()).await,
        Err(CallbackError::Unencrypted)
    ));
    let unencrypted = CallbackExpectations {
        encrypted: false,
        ..expected.clone()
    };
    let (head, signature) = inner.rsplit_once('.').unwrap();
    let mut forged = signature.to_owned();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    clear.insert("id_token".into(), format!("{head}.{forged}"));
    assert!(matches!(
        validate_callback(&clear, &unencrypted, &custody, &keys, SystemClock.now()).await,
        Err(CallbackError::Signature)
    ));

    // The code exchange (private_key_jwt, certificate-bound), then a refresh.
    let token_endpoint = endpoint("token_endpoint");
    let tokens = client
        .send(
            "POST",
            &token_endpoint,
            Some((
                "application/x-www-form-urlencoded",
                form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &valid.code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                    ("client_id", client_id.as_str()),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion(op.issuer.clone()).await),
                ]),
            )),
        )
        .await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.body["token_type"], "Bearer");
    let refresh = tokens.body["refresh_token"].as_str().unwrap().to_owned();
    let refreshed = client
        .send(
            "POST",
            &token_endpoint,
            Some((
                "application/x-www-form-urlencoded",
                form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh),
                    ("client_id", client_id.as_str()),
                    ("client_assertion_type", ASSERTION_TYPE),
                    ("client_assertion", &assertion(op.issuer.clone()).await),
                ]),
            )),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.body);
    assert!(refreshed.body["access_token"].is_string());
}
