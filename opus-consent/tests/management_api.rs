//! The management API for the bank's channels: listing by document through
//! the blind index, by client, paging, showing, revoking as the customer
//! and ending as the institution, and what each principal may see.
// Tests fail by panicking; these lints are for library code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::request::Parts;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use opus_consent::{
    ChannelAuthenticator, ChannelPrincipal, CreateDataConsent, DataConsentPolicy, DataConsents,
    ManagementApi,
};
use opus_core::consent::{ConsentStatus, DataConsent, Permission};
use opus_core::seal::Sealer;
use opus_core::store::{TokenHash, TokenKind, TokenRecord};
use opus_core::{
    AuthorisationServerId, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, GrantId,
    OrganisationId, Storage,
};
use opus_store::MemoryStore;
use opus_testkit::{ManualClock, TestKeyCustody};
use serde_json::{Value, json};
use tower::ServiceExt;
use url::Url;

const BASE: &str = "/channels/consents";
const MARIA: &str = "52998224725";
const JOAO: &str = "11144477735";
const PADARIA: &str = "11222333000181";

/// Test principals from a header: `customer:<cpf>[:<cnpj>]` or `operator:<id>`.
struct HeaderAuthenticator;

#[async_trait]
impl ChannelAuthenticator for HeaderAuthenticator {
    async fn authenticate(&self, request: &Parts) -> Option<ChannelPrincipal> {
        let value = request.headers.get("x-test-principal")?.to_str().ok()?;
        let parts: Vec<&str> = value.split(':').collect();
        match parts.as_slice() {
            ["customer", cpf, companies @ ..] => Some(ChannelPrincipal::Customer {
                cpf: Cpf::parse(cpf).ok()?,
                companies: companies
                    .iter()
                    .filter_map(|c| Cnpj::parse(c).ok())
                    .collect(),
            }),
            ["operator", id] => Some(ChannelPrincipal::Operator {
                id: (*id).to_owned(),
            }),
            _ => None,
        }
    }
}

struct Fixture {
    storage: Storage,
    sealer: Arc<Sealer>,
    clock: Arc<ManualClock>,
    brand: Brand,
    consents: DataConsents,
    api: ManagementApi,
}

impl Fixture {
    async fn new() -> Self {
        let clock = Arc::new(ManualClock::new());
        let storage = Storage::from_backend(Arc::new(MemoryStore::new()));
        let sealer = Arc::new(
            Sealer::open_or_create(
                Arc::new(TestKeyCustody::new("bank")),
                storage.data_keys.clone(),
                clock.clone(),
            )
            .await
            .unwrap(),
        );
        let brand = Brand::builder(BrandId::new("banco-azul").unwrap())
            .display_name("Banco Azul")
            .organisation_id(OrganisationId::random())
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse("https://127.0.0.1/banco-azul").unwrap())
            .api_base_url(Url::parse("https://127.0.0.1/banco-azul/api").unwrap())
            .build()
            .unwrap();
        let consents = DataConsents::new(
            storage.clone(),
            sealer.clone(),
            clock.clone(),
            DataConsentPolicy::default(),
        );
        let api = ManagementApi::new(
            brand.clone(),
            consents.clone(),
            clock.clone(),
            Arc::new(HeaderAuthenticator),
            Url::parse(&format!("https://127.0.0.1{BASE}")).unwrap(),
        );
        Self {
            storage,
            sealer,
            clock,
            brand,
            consents,
            api,
        }
    }

    /// A consent of `client` for `cpf` (and `cnpj`), authorised.
    async fn consent(&self, client: &str, cpf: &str, cnpj: Option<&str>) -> DataConsent {
        let permissions = if cnpj.is_some() {
            vec![
                Permission::CustomersBusinessIdentificationsRead,
                Permission::ResourcesRead,
            ]
        } else {
            vec![
                Permission::AccountsRead,
                Permission::AccountsBalancesRead,
                Permission::ResourcesRead,
            ]
        };
        let created = self
            .consents
            .create(
                self.brand.id(),
                &ClientId::new(client).unwrap(),
                CreateDataConsent {
                    logged_user: Cpf::parse(cpf).unwrap(),
                    business_entity: cnpj.map(|c| Cnpj::parse(c).unwrap()),
                    permissions,
                    expiration_date_time: Some(
                        self.clock
                            .now()
                            .saturating_add(Duration::from_secs(30 * 86_400)),
                    ),
                },
            )
            .await
            .unwrap();
        // Authorise it as the authorization server would.
        let record = self
            .storage
            .consents
            .get_consent(self.brand.id(), &created.id)
            .await
            .unwrap()
            .unwrap();
        let mut authorised = created.clone();
        authorised.status = ConsentStatus::Authorised;
        self.storage
            .consents
            .update_consent(&authorised.seal(&self.sealer).unwrap(), record.version, &[])
            .await
            .unwrap();
        self.clock.advance(Duration::from_secs(1));
        authorised
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        principal: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{BASE}{path}"));
        if let Some(principal) = principal {
            request = request.header("x-test-principal", principal);
        }
        let body = body.map_or_else(Bytes::new, |b| Bytes::from(b.to_string()));
        let response = self
            .api
            .clone()
            .oneshot(request.body(Full::new(body)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

fn ids(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["consentId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_customer_sees_only_their_own_consents() {
    let f = Fixture::new().await;
    let mine = f.consent("tpp-1", MARIA, None).await;
    let mine_too = f.consent("tpp-2", MARIA, None).await;
    let company = f.consent("tpp-1", MARIA, Some(PADARIA)).await;
    let joaos = f.consent("tpp-1", JOAO, None).await;
    let maria = format!("customer:{MARIA}");

    let (status, body) = f.call(Method::GET, "", Some(&maria), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        ids(&body),
        [
            mine.id.to_string(),
            mine_too.id.to_string(),
            company.id.to_string()
        ],
        "every consent she authorised, the company's included"
    );
    assert_eq!(body["meta"]["totalRecords"], 3);
    assert_eq!(
        body["data"][0]["loggedUser"]["document"]["identification"],
        MARIA
    );

    // Listing by the company's document only for a customer who acts for it.
    let (status, _) = f
        .call(
            Method::GET,
            &format!("?document={PADARIA}"),
            Some(&maria),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let with_company = format!("customer:{MARIA}:{PADARIA}");
    let (_, body) = f
        .call(
            Method::GET,
            &format!("?document={PADARIA}"),
            Some(&with_company),
            None,
        )
        .await;
    assert_eq!(ids(&body), [company.id.to_string()]);

    // Someone else's consent does not exist for her.
    let (status, _) = f
        .call(Method::GET, &format!("/{}", joaos.id), Some(&maria), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = f
        .call(
            Method::POST,
            &format!("/{}/revoke", joaos.id),
            Some(&maria),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = f
        .call(Method::GET, &format!("/{}", mine.id), Some(&maria), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["clientId"], "tpp-1");

    // No principal, no answer.
    let (status, body) = f.call(Method::GET, "", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn operators_list_by_document_or_client_page_by_page() {
    let f = Fixture::new().await;
    let mut maria = Vec::new();
    for i in 0..3 {
        maria.push(
            f.consent(&format!("tpp-{i}"), MARIA, None)
                .await
                .id
                .to_string(),
        );
    }
    f.consent("tpp-0", JOAO, None).await;
    let operator = "operator:ana";
    let (status, _) = f.call(Method::GET, "", Some(operator), None).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "an operator names what to list"
    );
    let (_, first) = f
        .call(
            Method::GET,
            "?document=529.982.247-25&page-size=2",
            Some(operator),
            None,
        )
        .await;
    assert_eq!(ids(&first), maria[..2]);
    assert_eq!(first["meta"]["totalPages"], 2);
    let next = first["links"]["next"].as_str().unwrap();
    assert!(next.contains("page=2"), "{next}");
    let (_, second) = f
        .call(
            Method::GET,
            "?document=529.982.247-25&page-size=2&page=2",
            Some(operator),
            None,
        )
        .await;
    assert_eq!(ids(&second), maria[2..]);
    let (_, by_client) = f
        .call(Method::GET, "?clientId=tpp-0", Some(operator), None)
        .await;
    assert_eq!(by_client["data"].as_array().unwrap().len(), 2);
    let (_, by_status) = f
        .call(
            Method::GET,
            "?clientId=tpp-0&status=REJECTED",
            Some(operator),
            None,
        )
        .await;
    assert!(by_status["data"].as_array().unwrap().is_empty());
    let (status, _) = f
        .call(Method::GET, "?document=123", Some(operator), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn revoking_in_a_bank_channel_ends_the_consent_and_its_tokens() {
    let f = Fixture::new().await;
    let consent = f.consent("tpp-1", MARIA, None).await;
    let now = f.clock.now();
    let token = TokenRecord {
        brand: f.brand.id().clone(),
        token: TokenHash::of("access"),
        kind: TokenKind::Access,
        grant_id: GrantId::random(),
        client_id: ClientId::new("tpp-1").unwrap(),
        consent_id: Some(consent.id.clone()),
        scope: "openid accounts".to_owned(),
        certificate_thumbprint: None,
        issued_at: now,
        expires_at: Some(now.saturating_add(Duration::from_secs(600))),
        revoked_at: None,
        subject: None,
    };
    f.storage.grants.put_token(&token).await.unwrap();

    let maria = format!("customer:{MARIA}");
    // A customer cannot end a consent as the institution.
    let (status, _) = f
        .call(
            Method::POST,
            &format!("/{}/revoke", consent.id),
            Some(&maria),
            Some(json!({"rejectedBy": "ASPSP", "reason": "INTERNAL_SECURITY_REASON"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = f
        .call(
            Method::POST,
            &format!("/{}/revoke", consent.id),
            Some(&maria),
            Some(json!({"rejectedBy": "USER"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "REJECTED");
    assert_eq!(body["data"]["rejection"]["rejectedBy"], "USER");
    assert_eq!(
        body["data"]["rejection"]["reason"]["code"],
        "CUSTOMER_MANUALLY_REVOKED"
    );
    let stored = f
        .storage
        .grants
        .get_token(f.brand.id(), &TokenHash::of("access"))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.revoked_at.is_some(), "its tokens are revoked");
    let (status, body) = f
        .call(
            Method::POST,
            &format!("/{}/revoke", consent.id),
            Some(&maria),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");

    // The institution ends another one for security reasons.
    let other = f.consent("tpp-2", MARIA, None).await;
    let (status, _) = f
        .call(
            Method::POST,
            &format!("/{}/revoke", other.id),
            Some("operator:fraude"),
            Some(json!({"rejectedBy": "ASPSP", "reason": "CUSTOMER_MANUALLY_REVOKED"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "not a reason the bank gives"
    );
    let (status, body) = f
        .call(
            Method::POST,
            &format!("/{}/revoke", other.id),
            Some("operator:fraude"),
            Some(json!({"rejectedBy": "ASPSP", "reason": "INTERNAL_SECURITY_REASON"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["rejection"]["rejectedBy"], "ASPSP");
    let ended = f
        .consents
        .find(f.brand.id(), &ConsentId::new(other.id.as_str()).unwrap())
        .await
        .unwrap();
    assert_eq!(ended.status, ConsentStatus::Rejected);
}
