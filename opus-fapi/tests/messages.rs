//! Signed messages of the payments family (FAPI-BR §5.3): the checks on a
//! signed request, and the signature of responses.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use opus_core::keys::{JwsAlg, KeyCustody, KeyPurpose};
use opus_core::{ApiErrorKind, BrandId, ClientId, Clock, OrganisationId, Storage};
use opus_fapi::jose::jws::{self, JwsPolicy};
use opus_fapi::message::{RequestContext, sign_response, verify_request};
use opus_store::MemoryStore;
use opus_testkit::{ManualClock, MockDirectory, TestKeyCustody};
use serde_json::{Value, json};

const AUDIENCE: &str = "https://api.banco-azul.test/open-banking/payments/v4/consents";

struct Fixture {
    directory: MockDirectory,
    storage: Storage,
    clock: ManualClock,
    org: OrganisationId,
    custody: TestKeyCustody,
    brand: BrandId,
    client: ClientId,
}

impl Fixture {
    async fn new() -> Self {
        let directory = MockDirectory::new();
        let org = OrganisationId::random();
        let custody = TestKeyCustody::new("initiator");
        directory.set_organisation_jwks(org, custody.public_jwks().await.unwrap());
        Self {
            directory,
            storage: Storage::from_backend(Arc::new(MemoryStore::new())),
            clock: ManualClock::new(),
            org,
            custody,
            brand: BrandId::new("banco-azul").unwrap(),
            client: ClientId::new("itp-client").unwrap(),
        }
    }

    fn claims(&self) -> Value {
        json!({
            "data": {"payment": {"amount": "100.00", "currency": "BRL"}},
            "iss": self.org.to_string(),
            "aud": AUDIENCE,
            "iat": self.clock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        })
    }

    async fn sign(&self, claims: &Value) -> String {
        let signer = self
            .custody
            .signer(KeyPurpose::MessageSigning)
            .await
            .unwrap();
        jws::sign_claims(signer.as_ref(), Some("JWT"), claims)
            .await
            .unwrap()
    }

    fn context(&self) -> RequestContext<'_> {
        RequestContext {
            brand: &self.brand,
            client: &self.client,
            organisation: &self.org,
            audience: AUDIENCE,
            now: self.clock.now(),
        }
    }

    async fn verify(
        &self,
        token: &str,
    ) -> Result<serde_json::Map<String, Value>, opus_core::ApiError> {
        verify_request(
            token,
            &self.directory,
            self.storage.replay.as_ref(),
            self.context(),
        )
        .await
    }
}

#[tokio::test]
async fn checklist_90_to_95_signed_requests_are_checked_claim_by_claim() {
    let f = Fixture::new().await;
    let good = f.sign(&f.claims()).await;
    let claims = f.verify(&good).await.unwrap();
    assert_eq!(claims["data"]["payment"]["amount"], "100.00");

    // The same message again: its jti is spent.
    let replayed = f.verify(&good).await.unwrap_err();
    assert_eq!(replayed.kind(), ApiErrorKind::Forbidden);

    let patch = |change: Value| {
        let mut claims = f.claims();
        for (k, v) in change.as_object().unwrap() {
            if v.is_null() {
                claims.as_object_mut().unwrap().remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        claims
    };
    let now = f.clock.now().unix_seconds();
    for (why, claims) in [
        (
            "another issuer",
            patch(json!({"iss": OrganisationId::random().to_string()})),
        ),
        ("no issuer", patch(json!({"iss": null}))),
        (
            "another audience",
            patch(json!({"aud": "https://elsewhere.test/consents"})),
        ),
        ("iat two minutes old", patch(json!({"iat": now - 120}))),
        ("iat in the future", patch(json!({"iat": now + 120}))),
        ("no jti", patch(json!({"jti": null}))),
        ("a jti that is not a UUID", patch(json!({"jti": "abc"}))),
    ] {
        let token = f.sign(&claims).await;
        let error = f.verify(&token).await.unwrap_err();
        assert_eq!(error.kind(), ApiErrorKind::Forbidden, "{why}");
    }
    // `aud` as an array holding the endpoint is accepted.
    let token = f
        .sign(&patch(json!({"aud": ["https://other.test", AUDIENCE]})))
        .await;
    f.verify(&token).await.unwrap();
    // A key the directory does not list, and an algorithm the profile refuses.
    let stranger = TestKeyCustody::new("stranger");
    let signer = stranger.signer(KeyPurpose::MessageSigning).await.unwrap();
    let token = jws::sign_claims(signer.as_ref(), Some("JWT"), &f.claims())
        .await
        .unwrap();
    assert_eq!(f.verify(&token).await.unwrap_err().code(), "BAD_SIGNATURE");
    let ec = TestKeyCustody::with_signing_alg("ec", JwsAlg::ES256);
    f.directory
        .set_organisation_jwks(f.org, ec.public_jwks().await.unwrap());
    let signer = ec.signer(KeyPurpose::MessageSigning).await.unwrap();
    let token = jws::sign_claims(signer.as_ref(), Some("JWT"), &f.claims())
        .await
        .unwrap();
    assert_eq!(f.verify(&token).await.unwrap_err().code(), "BAD_SIGNATURE");
    // Tampered payload.
    let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
    parts[1] = parts[1].chars().rev().collect();
    assert_eq!(
        f.verify(&parts.join(".")).await.unwrap_err().code(),
        "BAD_SIGNATURE"
    );
}

#[tokio::test]
async fn a_jti_is_accepted_once_under_concurrency_and_for_a_day() {
    let f = Arc::new(Fixture::new().await);
    let token = Arc::new(f.sign(&f.claims()).await);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (f, token) = (f.clone(), token.clone());
        tasks.push(tokio::spawn(async move { f.verify(&token).await.is_ok() }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += usize::from(t.await.unwrap());
    }
    assert_eq!(accepted, 1);
    // Re-signed with the same jti a day later, within iat tolerance: still spent
    // until the retention ends.
    let mut claims = f.claims();
    claims["jti"] = json!("5b1f6a3e-8d2c-4a7b-9e0f-1c2d3e4f5a6b");
    let first = f.sign(&claims).await;
    f.verify(&first).await.unwrap();
    f.clock.advance(Duration::from_secs(23 * 3600));
    claims["iat"] = json!(f.clock.now().unix_seconds());
    let again = f.sign(&claims).await;
    assert_eq!(
        f.verify(&again).await.unwrap_err().kind(),
        ApiErrorKind::Forbidden
    );
}

#[tokio::test]
async fn checklist_96_responses_are_signed_for_the_client_organisation() {
    let f = Fixture::new().await;
    let bank = TestKeyCustody::new("bank");
    let signer = bank.signer(KeyPurpose::MessageSigning).await.unwrap();
    let bank_org = OrganisationId::random();
    let body = json!({"data": {"status": "AWAITING_AUTHORISATION"}, "links": {"self": AUDIENCE}, "meta": {"requestDateTime": "2026-11-29T12:00:00Z"}});
    let token = sign_response(signer.as_ref(), &body, &bank_org, &f.org, f.clock.now())
        .await
        .unwrap();
    let verified = jws::verify(
        &token,
        &bank.public_jwks().await.unwrap(),
        &JwsPolicy::ofb(),
    )
    .unwrap();
    assert_eq!(verified.header().typ(), Some("JWT"));
    let claims = verified.claims().unwrap();
    assert_eq!(claims["aud"], f.org.to_string());
    assert_eq!(claims["iss"], bank_org.to_string());
    assert!(uuid::Uuid::parse_str(claims["jti"].as_str().unwrap()).is_ok());
    assert_eq!(claims["iat"], f.clock.now().unix_seconds());
    assert_eq!(claims["data"], body["data"]);
    assert!(
        sign_response(
            signer.as_ref(),
            &json!([1]),
            &bank_org,
            &f.org,
            f.clock.now()
        )
        .await
        .is_err()
    );
}
