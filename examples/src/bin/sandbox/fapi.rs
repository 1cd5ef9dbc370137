//! The FAPI-BR part of the sandbox: the bank's authorization server and a
//! fintech, in process, through every step a real journey takes.

use std::error::Error;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use opus_consent::{DataConsentPolicy, DataConsents};
use opus_core::consent::{ConsentStatus, DataConsent, Permission};
use opus_core::keys::{KeyCustody, KeyPurpose};
use opus_core::seal::Sealer;
use opus_core::{Brand, ClientId, Clock, ConsentId, Cpf, Storage};
use opus_fapi::client::{client_assertion, pkce_pair};
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::jose::jwe::{self, JwePolicy};
use opus_fapi::jose::jws::{self, JwsPolicy};
use opus_fapi::mtls::{ClientCertificateLayer, ConnectionInfo};
use opus_fapi::server::guard::ResourceGuardLayer;
use opus_fapi::server::{AuthorizationServer, DirectoryClientKeys, Registration, ServerBrand};
use opus_testkit::{
    IssuedCertificate, ManualClock, MockDirectory, OfbSubject, RecordingAuthenticator,
    SyntheticBank, TEST_PASSWORD, TestPki,
};
use opus_transmitter::DataApis;
use rustls::pki_types::CertificateDer;
use serde_json::{Value, json};
use tower::{Layer, ServiceExt};
use url::Url;

type Failure = Box<dyn Error>;

const SSA_ISSUER: &str = "Open Banking Open Banking Brasil sandbox SSA issuer";
const REDIRECT: &str = "https://127.0.0.1/fintech/callback";
const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What the walkthrough starts from.
pub(crate) struct Setup<'a> {
    pub(crate) pki: &'a TestPki,
    pub(crate) tpp: &'a OfbSubject,
    pub(crate) transport: &'a IssuedCertificate,
    pub(crate) brands: &'a [Brand],
    pub(crate) storage: Storage,
    pub(crate) sealer: Arc<Sealer>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) customer: Cpf,
    pub(crate) first_step: usize,
    pub(crate) steps: usize,
}

fn connection(cert: Option<&IssuedCertificate>) -> ConnectionInfo {
    ConnectionInfo::new(
        SocketAddr::from(([127, 0, 0, 1], 40_000)),
        cert.map(|c| {
            Arc::new(
                c.chain_der
                    .iter()
                    .cloned()
                    .map(CertificateDer::from)
                    .collect(),
            )
        }),
    )
}

async fn send(
    server: &AuthorizationServer,
    mut request: Request<Full<Bytes>>,
    cert: Option<&IssuedCertificate>,
) -> Result<(StatusCode, http::HeaderMap, Value), Failure> {
    request.extensions_mut().insert(connection(cert));
    let response = ClientCertificateLayer::tls_only()
        .layer(server.clone())
        .oneshot(request)
        .await?;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await?.to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)?
    };
    Ok((status, headers, body))
}

fn form(path: &str, pairs: &[(&str, &str)]) -> Result<Request<Full<Bytes>>, Failure> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    Ok(Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))?)
}

fn expect(status: StatusCode, wanted: StatusCode, body: &Value) -> Result<(), Failure> {
    if status == wanted {
        Ok(())
    } else {
        Err(format!("expected {wanted}, got {status}: {body}").into())
    }
}

/// Runs the journey and prints what each party sees.
pub(crate) async fn walkthrough(setup: Setup<'_>) -> Result<(), Failure> {
    let Setup {
        pki,
        tpp,
        transport,
        brands,
        storage,
        sealer,
        clock,
        customer,
        first_step,
        steps,
    } = setup;
    let brand = &brands[0];
    let base = brand.issuer().path().trim_end_matches('/').to_owned();

    crate::tour::step(
        first_step,
        steps,
        "The bank's authorization server, and a fintech registering with a software statement",
    );
    let directory = Arc::new(MockDirectory::new());
    let fintech_keys = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::generate_rsa("fintech-sig")?)
        .encryption_key(SoftwareKey::generate_rsa("fintech-enc")?)
        .build()?;
    directory.set_software_statement_jwks(
        tpp.organisation_id,
        tpp.software_statement_id,
        fintech_keys.public_jwks().await?,
    );
    // The server's own interaction pages; the test login takes the
    // customer's CPF and the test password.
    let authenticator = Arc::new(RecordingAuthenticator::pages().with_clock(clock.clone()));
    // The bank's back office: seeded customers, accounts and contracts.
    let bank = SyntheticBank::new(clock.now().date_in_brasilia());
    let mut builder = AuthorizationServer::builder()
        .storage(storage.clone())
        .sealer(sealer.clone())
        .clock(clock.clone())
        .client_keys(Arc::new(DirectoryClientKeys::new(directory.clone())))
        .authenticator(authenticator.clone())
        .customer_resources(Arc::new(bank.clone()))
        .registration(Registration::new(directory.clone(), SSA_ISSUER));
    for (i, b) in brands.iter().enumerate() {
        let keys = SoftwareKeyCustody::builder()
            .signing_key(SoftwareKey::generate_rsa(&format!("{}-sig-{i}", b.id()))?)
            .build()?;
        builder = builder.brand(ServerBrand {
            brand: b.clone(),
            keys: Arc::new(keys),
        });
    }
    let server = builder.build()?;
    let (_, _, discovery) = send(
        &server,
        Request::builder()
            .uri(format!("{base}/.well-known/openid-configuration"))
            .body(Full::default())?,
        None,
    )
    .await?;
    println!(
        "  discovery: issuer {}, PAR required: {}",
        discovery["issuer"], discovery["require_pushed_authorization_requests"]
    );
    let jwks_uri = format!(
        "https://keystore.sandbox.localhost/{}/{}/application.jwks",
        tpp.organisation_id, tpp.software_statement_id
    );
    let ssa = directory
        .issue_software_statement(&json!({
            "iss": SSA_ISSUER,
            "iat": clock.now().unix_seconds(),
            "org_id": tpp.organisation_id.to_string(),
            "software_id": tpp.software_statement_id.to_string(),
            "software_client_name": "Fintech Sandbox",
            "software_jwks_uri": jwks_uri,
            "software_redirect_uris": [REDIRECT],
            "software_roles": ["DADOS"],
        }))
        .await?;
    let registration = json!({
        "software_statement": ssa,
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "private_key_jwt",
        "grant_types": ["authorization_code", "implicit", "refresh_token", "client_credentials"],
        "response_types": ["code id_token"],
        "jwks_uri": jwks_uri,
    });
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{base}/register"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(registration.to_string())))?;
    let (status, _, registered) = send(&server, request, Some(transport)).await?;
    expect(status, StatusCode::CREATED, &registered)?;
    let client_id = ClientId::new(registered["client_id"].as_str().unwrap_or_default())?;
    println!(
        "  DCR: 201, client_id {client_id}, scope \"{}\"",
        registered["scope"].as_str().unwrap_or_default()
    );

    crate::tour::step(
        first_step + 1,
        steps,
        "A consent, PAR with a signed request object, the customer approves at the bank",
    );
    let consent_id = ConsentId::new(format!("urn:bancoazul:{}", uuid::Uuid::new_v4()))?;
    let consent = DataConsent {
        brand: brand.id().clone(),
        id: consent_id.clone(),
        client_id: client_id.clone(),
        status: ConsentStatus::AwaitingAuthorisation,
        version: 0,
        permissions: vec![
            Permission::AccountsRead,
            Permission::AccountsBalancesRead,
            Permission::ResourcesRead,
        ],
        logged_user: customer.clone(),
        business_entity: None,
        creation_date_time: clock.now(),
        status_update_date_time: clock.now(),
        expiration_date_time: Some(
            clock
                .now()
                .saturating_add(Duration::from_secs(180 * 86_400)),
        ),
        rejection: None,
        resources: Vec::new(),
        extensions: Vec::new(),
    };
    storage
        .consents
        .insert_consent(&consent.seal(&sealer)?, &[])
        .await?;
    let signer = fintech_keys.signer(KeyPurpose::ClientSigning).await?;
    let issuer = brand.issuer().as_str().trim_end_matches('/').to_owned();
    let token_endpoint = discovery["token_endpoint"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (verifier, challenge) = pkce_pair().ok_or("PKCE")?;
    let now = clock.now().unix_seconds();
    let request_object = jws::sign_claims(
        signer.as_ref(),
        Some("oauth-authz-req+jwt"),
        &json!({
            "iss": client_id.as_str(), "aud": issuer, "client_id": client_id.as_str(),
            "response_type": "code id_token", "redirect_uri": REDIRECT,
            "scope": format!("openid accounts consent:{consent_id}"),
            "state": "sandbox-state", "nonce": "sandbox-nonce",
            "code_challenge": challenge, "code_challenge_method": "S256",
            "nbf": now, "exp": now + 300, "jti": uuid::Uuid::new_v4().to_string(),
            "claims": {"id_token": {"acr": {"essential": true}}},
        }),
    )
    .await?;
    let assertion = client_assertion(
        signer.as_ref(),
        &client_id,
        &issuer,
        clock.now(),
        Duration::from_secs(60),
    )
    .await?;
    let par = form(
        &format!("{base}/par"),
        &[
            ("client_id", client_id.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
            ("request", &request_object),
        ],
    )?;
    let (status, _, pushed) = send(&server, par, Some(transport)).await?;
    expect(status, StatusCode::CREATED, &pushed)?;
    let request_uri = pushed["request_uri"].as_str().unwrap_or_default();
    println!("  PAR: 201, request_uri valid {} s", pushed["expires_in"]);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", client_id.as_str())
        .append_pair("request_uri", request_uri)
        .finish();
    let (status, headers, _) = send(
        &server,
        Request::builder()
            .uri(format!("{base}/authorize?{query}"))
            .body(Full::default())?,
        None,
    )
    .await?;
    let login = headers
        .get(header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or_default();
    println!("  authorize: {status}, the browser goes to the interaction pages: {login}");
    let interaction = authenticator.last().ok_or("no interaction")?;
    let path = format!("{base}/interaction/{}", interaction.id);
    let command = |method: Method, path: String, body: Option<Value>| {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::ACCEPT, "application/json");
        match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body.to_string()))),
            None => request.body(Full::default()),
        }
    };
    let (_, _, view) = send(&server, command(Method::GET, path.clone(), None)?, None).await?;
    println!("  interaction: step {}", view["step"]);
    let login_form = json!({"form": {"cpf": customer.as_str(), "password": TEST_PASSWORD}});
    let (status, _, view) = send(
        &server,
        command(
            Method::POST,
            format!("{path}/authenticate"),
            Some(login_form),
        )?,
        None,
    )
    .await?;
    let offered: Vec<Value> = view["resources"]
        .as_array()
        .map(|r| r.iter().map(|r| r["resourceId"].clone()).collect())
        .unwrap_or_default();
    println!(
        "  authenticate: {status}, step {}, permissions {}, the customer's accounts on offer {}",
        view["step"],
        view["consent"]["permissions"],
        Value::from(offered.clone())
    );
    let (status, _, view) = send(
        &server,
        command(
            Method::POST,
            format!("{path}/decision"),
            Some(json!({"decision": "approve", "resources": offered})),
        )?,
        None,
    )
    .await?;
    println!("  decision: {status}, step {}", view["step"]);
    let back = Url::parse(view["redirect_to"].as_str().ok_or("no redirect")?)?;
    let fragment: std::collections::BTreeMap<String, String> =
        url::form_urlencoded::parse(back.fragment().unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let code = fragment.get("code").ok_or("no code")?;
    let id_token = fragment.get("id_token").ok_or("no id_token")?;
    let (_, _, as_keys) = send(
        &server,
        Request::builder()
            .uri(format!("{base}/jwks"))
            .body(Full::default())?,
        None,
    )
    .await?;
    let as_keys = serde_json::from_value(as_keys)?;
    let claims = jwe::decrypt_then_verify(
        id_token,
        &fintech_keys,
        &JwePolicy::ofb(),
        &as_keys,
        &JwsPolicy::ofb(),
    )
    .await?
    .claims()?;
    println!(
        "  back at the fintech: code, state {}, an encrypted ID token (acr {}, nonce {})",
        fragment
            .get("state")
            .map(String::as_str)
            .unwrap_or_default(),
        claims["acr"],
        claims["nonce"]
    );

    crate::tour::step(
        first_step + 2,
        steps,
        "Tokens bound to the certificate, a protected API, revocation",
    );
    let assertion = client_assertion(
        signer.as_ref(),
        &client_id,
        &token_endpoint,
        clock.now(),
        Duration::from_secs(60),
    )
    .await?;
    let exchange = form(
        &format!("{base}/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", client_id.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
    )?;
    let (status, _, tokens) = send(&server, exchange, Some(transport)).await?;
    expect(status, StatusCode::OK, &tokens)?;
    let access = tokens["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let refresh = tokens["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    println!(
        "  token: access token for {} s, a refresh token living with the consent",
        tokens["expires_in"]
    );

    // The data transmitter in front of the bank's back office.
    let consents = DataConsents::new(
        storage.clone(),
        sealer.clone(),
        clock.clone(),
        DataConsentPolicy::default(),
    );
    let shared = Arc::new(bank);
    let apis = DataApis::builder(
        brand.clone(),
        consents.clone(),
        storage.clone(),
        sealer.clone(),
        clock.clone(),
    )
    .resources(shared.clone())
    .accounts(shared)
    .build();
    let guard = ResourceGuardLayer::new(brand.id().clone(), storage.clone(), clock.clone())
        .require_authorised_consent();
    let api = ClientCertificateLayer::tls_only().layer(guard.layer(apis));
    let accounts_path = brand.api_url("open-banking/accounts/v2/accounts")?;
    let call = |path: &str, cert: &IssuedCertificate| -> Result<Request<Full<Bytes>>, Failure> {
        let mut request = Request::builder()
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {access}"))
            .header("x-fapi-interaction-id", uuid::Uuid::new_v4().to_string())
            .body(Full::default())?;
        request.extensions_mut().insert(connection(Some(cert)));
        Ok(request)
    };
    let ok = api
        .clone()
        .oneshot(call(accounts_path.path(), transport)?)
        .await?;
    let listed: Value = serde_json::from_slice(
        &ok.into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes(),
    )?;
    let first = listed["data"][0]["accountId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let balances_path = brand.api_url(&format!(
        "open-banking/accounts/v2/accounts/{first}/balances"
    ))?;
    let balances = api
        .clone()
        .oneshot(call(balances_path.path(), transport)?)
        .await?;
    let balances: Value = serde_json::from_slice(
        &balances
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes(),
    )?;
    println!(
        "  GET accounts: {} accounts shared; balances of {first}: available {}",
        listed["data"].as_array().map_or(0, Vec::len),
        balances["data"]["availableAmount"]["amount"]
    );
    let thief_subject = OfbSubject::example("thief.localhost", tpp.cnpj.clone());
    let thief = pki.transport_certificate(&thief_subject)?;
    let stolen = api
        .clone()
        .oneshot(call(accounts_path.path(), &thief)?)
        .await?;
    println!(
        "  the same token with another certificate: {}",
        stolen.status()
    );

    // The customer revokes at the bank: the consent ends, refresh stops.
    consents.end_by_customer(brand.id(), &consent_id).await?;
    let after = api
        .clone()
        .oneshot(call(accounts_path.path(), transport)?)
        .await?;
    let assertion = client_assertion(
        signer.as_ref(),
        &client_id,
        &token_endpoint,
        clock.now(),
        Duration::from_secs(60),
    )
    .await?;
    let renew = form(
        &format!("{base}/token"),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &refresh),
            ("client_id", client_id.as_str()),
            ("client_assertion_type", ASSERTION_TYPE),
            ("client_assertion", &assertion),
        ],
    )?;
    let (status, _, refused) = send(&server, renew, Some(transport)).await?;
    println!(
        "  after the customer revokes: accounts {}, refresh {status} {}",
        after.status(),
        refused["error"]
    );
    Ok(())
}
