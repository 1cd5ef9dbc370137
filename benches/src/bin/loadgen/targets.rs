//! The servers under load: the sandbox's bank and the interop kit's
//! oidc-provider, and what each scenario prepares before the clock starts.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Method;
use opus_core::consent::Permission;
use opus_core::keys::KeyCustody;
use opus_core::{ClientId, Clock, Cpf, OrganisationId, SystemClock};
use opus_examples::fintech::FINTECH_REDIRECT;
use opus_fapi::custody::software::{SoftwareKey, SoftwareKeyCustody};
use opus_fapi::jose::jws;
use serde_json::{Value, json};
use url::Url;

use crate::{
    Failure, Identity, Job, Options, Run, Scenario, Server, flow_job, measure, token_jobs,
};

/// How many preparations run at once.
const PREPARING: usize = 8;

/// Runs `count` copies of `make(n)` with at most [`PREPARING`] at once;
/// their answers in order.
async fn prepare<T, F, Fut>(count: usize, make: F) -> Result<Vec<T>, Failure>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>> + Send + 'static,
{
    let mut answers = Vec::with_capacity(count);
    let mut start = 0;
    while start < count {
        let end = (start + PREPARING * 16).min(count);
        let semaphore = Arc::new(tokio::sync::Semaphore::new(PREPARING));
        let mut tasks = Vec::with_capacity(end - start);
        for n in start..end {
            let permit = semaphore.clone().acquire_owned().await?;
            let work = make(n);
            tasks.push(tokio::spawn(async move {
                let answer = work.await;
                drop(permit);
                answer
            }));
        }
        for task in tasks {
            answers.push(task.await??);
        }
        start = end;
    }
    Ok(answers)
}

// ------------------------------------------------------------ the sandbox

/// The sandbox's bank as its own process, the endpoints file's ready-made
/// TPP identity as the client.
pub(crate) async fn sandbox(options: &Options) -> Result<(), Failure> {
    let dir = std::env::temp_dir().join(format!("opus-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = match &options.postgres {
        Some(url) => {
            let database = FreshDatabase::create(url).await?;
            let mut options = options.clone();
            options
                .sandbox_args
                .extend(["--store".to_owned(), database.url.clone()]);
            if !options.count_processes.iter().any(|p| p == "postgres") {
                options.count_processes.push("postgres".to_owned());
            }
            let result = sandbox_in(&options, &dir).await;
            database.drop_it().await;
            result
        }
        None => sandbox_in(options, &dir).await,
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A database of its own for one run (the sandbox's keys are new each run:
/// another run's records could not be opened).
struct FreshDatabase {
    admin: sqlx::PgPool,
    name: String,
    url: String,
}

impl FreshDatabase {
    async fn create(url: &str) -> Result<Self, Failure> {
        let admin = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(url)
            .await?;
        let name = format!("opus_load_{}", std::process::id());
        // The name is this process's: digits after a fixed prefix.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&admin)
        .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await?;
        let mut fresh = Url::parse(url)?;
        fresh.set_path(&format!("/{name}"));
        Ok(Self {
            admin,
            name,
            url: fresh.to_string(),
        })
    }

    async fn drop_it(self) {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await;
    }
}

async fn sandbox_in(options: &Options, dir: &Path) -> Result<(), Failure> {
    let endpoints_file = dir.join("endpoints.json");
    let mut command = std::process::Command::new(&options.sandbox);
    if !options.sandbox_args.iter().any(|a| a == "--store") {
        command.arg("--memory");
    }
    // The balances' monthly quota per customer, account and receiver is
    // raised to fit the run (an institution may raise it).
    if options.scenario == Scenario::Accounts
        && !options.sandbox_args.iter().any(|a| a == "--quota-factor")
    {
        let quota = opus_core::data_apis::endpoints::BALANCES
            .monthly_limit
            .unwrap_or(1)
            .max(1);
        let factor = u64::try_from(options.requests)? / quota + 1;
        command.args(["--quota-factor", &factor.to_string()]);
    }
    let server = Server::Child(
        command
            .args(&options.sandbox_args)
            .arg("--endpoints-file")
            .arg(&endpoints_file)
            .arg("--work-dir")
            .arg(dir.join("sandbox"))
            .stdout(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", options.sandbox.display()))?,
    );
    let mut endpoints = None;
    for _ in 0..600 {
        if let Some(found) = std::fs::read_to_string(&endpoints_file)
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        {
            endpoints = Some(found);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let endpoints = endpoints.ok_or("the sandbox wrote no endpoints file within a minute")?;
    let text = |pointer: &str| -> Result<String, Failure> {
        Ok(endpoints
            .pointer(pointer)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("no {pointer} in the endpoints file"))?
            .to_owned())
    };
    let read =
        |pointer: &str| -> Result<String, Failure> { Ok(std::fs::read_to_string(text(pointer)?)?) };
    let custody = Arc::new(
        SoftwareKeyCustody::builder()
            .signing_key(SoftwareKey::from_pem(
                &text("/tpp_identities/0/signing_kid")?,
                &read("/tpp_identities/0/signing_key_path")?,
            )?)
            .encryption_key(SoftwareKey::from_pem(
                &text("/tpp_identities/0/encryption_kid")?,
                &read("/tpp_identities/0/encryption_key_path")?,
            )?)
            .build()?,
    );
    let identity = Identity::new(
        &read("/ca_pem_path")?,
        &read("/tpp_identities/0/transport_certificate_path")?,
        &read("/tpp_identities/0/transport_key_path")?,
        custody,
        ClientId::new(text("/tpp_identities/0/client_id")?)?,
        &text("/brands/0/issuer")?,
    )
    .await?;
    let bank = Bank {
        api_base: Url::parse(&format!("{}/", text("/brands/0/api_base_url")?))?,
        organisation: OrganisationId::parse(&text("/brands/0/organisation_id")?)?,
        tpp_organisation: OrganisationId::parse(&text("/tpp_identities/0/org_id")?)?,
        customer: Cpf::parse(&text("/test_customers/0/cpf")?)?,
    };
    let count = options.requests;
    let jobs = match options.scenario {
        Scenario::Token => {
            let audience = identity.server.token_endpoint.to_string();
            token_jobs(&identity, "consents", &audience, count).await?
        }
        Scenario::CodeFlow => bank_flows(&identity, &bank, count).await?,
        Scenario::Accounts => accounts(&identity, &bank, count).await?,
        Scenario::Payment => payments(&identity, &bank, count).await?,
        Scenario::Hello => return Err("hello has no sandbox".into()),
    };
    let mut name = String::from("opus (sandbox bank");
    for arg in &options.sandbox_args {
        name.push(' ');
        // A store URL is named by its scheme only.
        name.push_str(arg.split("://").next().unwrap_or_default());
    }
    name.push(')');
    let run = Run::of(&name, options, &server, identity.tls.clone(), identity.port);
    measure(&run, jobs).await
}

/// What the scenarios need of the bank besides its authorization server.
#[derive(Clone)]
struct Bank {
    api_base: Url,
    organisation: OrganisationId,
    tpp_organisation: OrganisationId,
    customer: Cpf,
}

/// A 90-day data consent of the bank's customer for accounts and
/// resources: its id (`urn:…`).
async fn create_data_consent(
    identity: &Identity,
    bank: &Bank,
    token: &str,
) -> Result<String, Failure> {
    let expiration = SystemClock
        .now()
        .saturating_add(Duration::from_secs(90 * 86_400))
        .truncated_to_seconds()
        .to_string();
    let url = bank.api_base.join(opus_consent::api::BASE_PATH)?;
    let body = json!({"data": {
        "loggedUser": {"document": {"identification": bank.customer.as_str(), "rel": "CPF"}},
        "permissions": [Permission::AccountsRead, Permission::AccountsBalancesRead, Permission::ResourcesRead],
        "expirationDateTime": expiration,
    }});
    let request = http::Request::builder()
        .method(Method::POST)
        .uri(url.as_str())
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(body.to_string()))?;
    let answer = identity.client().send(request).await?;
    let created: Value = serde_json::from_slice(&answer.body)?;
    Ok(created
        .pointer("/data/consentId")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the consent was not created: {created}"))?
        .to_owned())
}

/// `count` whole code flows, each for a consent created now.
async fn bank_flows(identity: &Identity, bank: &Bank, count: usize) -> Result<Vec<Job>, Failure> {
    let token: Arc<str> = identity
        .client()
        .client_credentials("consents")
        .await?
        .access_token
        .into();
    let consents = prepare(count, |_| {
        let (identity, bank, token) = (identity.clone(), bank.clone(), token.clone());
        async move { create_data_consent(&identity, &bank, &token).await }
    })
    .await?;
    let signer = identity.signer().await?;
    let mut jobs = Vec::with_capacity(count);
    for consent in consents {
        jobs.push(
            flow_job(
                identity,
                signer.as_ref(),
                &format!("openid accounts resources consent:{consent}"),
                FINTECH_REDIRECT,
            )
            .await?,
        );
    }
    Ok(jobs)
}

/// The customer's browser through the bank's test-mode login, on a fresh
/// connection: the redirect URI's parameters.
async fn approve(
    identity: &Identity,
    pending: &opus_fapi::client::PendingAuthorisation,
) -> Result<std::collections::BTreeMap<String, String>, Failure> {
    let mut conn = crate::conn::Conn::open(&identity.tls, identity.port).await?;
    let url = &pending.authorization_url;
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    conn.browse(&path, pending.redirect_uri.as_str()).await
}

/// `count` GETs of an account's balances (`GET
/// …/accounts/{accountId}/balances`, the Accounts API's high-frequency
/// read) with the token of one consent, authorised by the SDK's data
/// receiver (the encrypted ID token checked).
async fn accounts(identity: &Identity, bank: &Bank, count: usize) -> Result<Vec<Job>, Failure> {
    let receiver = opus_drx::DataReceiver::new(
        identity.client(),
        bank.api_base.clone(),
        Url::parse(FINTECH_REDIRECT)?,
    );
    let consent =
        opus_examples::journeys::data_consent(&receiver, &SystemClock, &bank.customer).await?;
    let params = approve(identity, &consent.pending).await?;
    let tokens = identity
        .client()
        .complete(&consent.pending, &params)
        .await?;
    let token: Arc<str> = tokens.access_token.into();
    let list = bank.api_base.join("open-banking/accounts/v2/accounts")?;
    let request = http::Request::get(list.as_str())
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Bytes::new())?;
    let answer = identity.client().send(request).await?;
    let accounts: Value = serde_json::from_slice(&answer.body)?;
    let id = accounts
        .pointer("/data/0/accountId")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the accounts list answered {accounts}"))?;
    let path: Arc<str> = bank
        .api_base
        .join(&format!("open-banking/accounts/v2/accounts/{id}/balances"))?
        .path()
        .into();
    Ok((0..count)
        .map(|_| Job::Get {
            path: path.clone(),
            token: token.clone(),
            interaction: uuid::Uuid::new_v4().to_string(),
        })
        .collect())
}

/// `count` Pix payments of R$ 80.00 today, each against its own payment
/// consent authorised by the SDK's initiator (the encrypted ID token
/// checked), the payment JWTs signed last (their `iat` must be fresh).
async fn payments(identity: &Identity, bank: &Bank, count: usize) -> Result<Vec<Job>, Failure> {
    let client = identity.client();
    let keys = client.server_keys().await?;
    let initiator = Arc::new(opus_itp::Initiator::new(
        client,
        bank.tpp_organisation,
        opus_itp::HolderSettings {
            api_base: bank.api_base.clone(),
            organisation: bank.organisation,
            keys,
            redirect_uri: Url::parse(FINTECH_REDIRECT)?,
        },
        Arc::new(SystemClock),
    ));
    let today = SystemClock.now().date_in_brasilia().to_string();
    let tokens = prepare(count, |_| {
        let (identity, bank, initiator, today) = (
            identity.clone(),
            bank.clone(),
            initiator.clone(),
            today.clone(),
        );
        async move {
            let data = opus_examples::journeys::payment_consent_data(&today, false, &bank.customer);
            let consent = initiator
                .create_payment_consent(Value::Object(data))
                .await?;
            let params = approve(&identity, &consent.pending).await?;
            let tokens = identity
                .client()
                .complete(&consent.pending, &params)
                .await?;
            Ok(tokens.access_token)
        }
    })
    .await?;
    let url = bank
        .api_base
        .join("open-banking/payments/v4/pix/payments")?;
    let path: Arc<str> = url.path().into();
    let signer = identity.signer().await?;
    let mut jobs = Vec::with_capacity(count);
    for (n, token) in tokens.into_iter().enumerate() {
        let claims = json!({
            "data": opus_examples::journeys::pix_order(&today, u32::try_from(n)?),
            "iss": bank.tpp_organisation.to_string(),
            "aud": url.as_str(),
            "iat": SystemClock.now().unix_seconds(),
            "jti": uuid::Uuid::new_v4().to_string(),
        });
        jobs.push(Job::Payment {
            path: path.clone(),
            token,
            jwt: jws::sign_claims(signer.as_ref(), Some("JWT"), &claims).await?,
            idempotency: uuid::Uuid::new_v4().to_string(),
        });
    }
    Ok(jobs)
}

// ------------------------------------------------------------ oidc-provider

/// The interop kit's oidc-provider, identity `load`: its static client
/// `harness-load-pkjwt` for `token`, a client registered by DCR with an
/// encryption key for `code-flow`.
pub(crate) async fn peer_op(options: &Options, kit: &Path) -> Result<(), Failure> {
    let started = std::process::Command::new(kit.join("peer-op/start.sh"))
        .env("PORT", "0")
        .env("QUIET", "1")
        .output()?;
    if !started.status.success() {
        return Err(format!(
            "peer-op did not start: {}",
            String::from_utf8_lossy(&started.stderr)
        )
        .into());
    }
    let port = String::from_utf8(started.stdout)?.trim().to_owned();
    let pid: u32 = std::fs::read_to_string(kit.join("peer-op/run/peer-op.pid"))?
        .trim()
        .parse()?;
    let server = Server::PeerOp {
        kit: kit.to_owned(),
        pid,
    };
    let read = |file: &str| -> Result<String, Failure> {
        Ok(std::fs::read_to_string(kit.join("pki").join(file))?)
    };
    let signing_key_pem = read("clients/load-sign.key")?;
    // oidc-provider's static clients use the RFC 7638 thumbprint as kid.
    let probe = SoftwareKeyCustody::builder()
        .signing_key(SoftwareKey::from_pem("probe", &signing_key_pem)?)
        .build()?;
    let jwks = probe.public_jwks().await?;
    let jwk = jwks.keys.first().ok_or("no public key")?;
    let signing_kid = opus_fapi::jose::jwk::thumbprint(jwk)?;
    let custody = Arc::new(
        SoftwareKeyCustody::builder()
            .signing_key(SoftwareKey::from_pem(&signing_kid, &signing_key_pem)?)
            .encryption_key(SoftwareKey::generate_rsa("load-enc")?)
            .build()?,
    );
    let issuer = format!("https://127.0.0.1:{port}");
    let mut identity = Identity::new(
        &read("ca.pem")?,
        &read("clients/load-transport.pem")?,
        &read("clients/load-transport.key")?,
        custody.clone(),
        ClientId::new("harness-load-pkjwt")?,
        &issuer,
    )
    .await?;
    let count = options.requests;
    let jobs = match options.scenario {
        Scenario::Token => {
            let audience = identity.server.token_endpoint.to_string();
            token_jobs(&identity, "consents", &audience, count).await?
        }
        Scenario::CodeFlow => {
            identity.client_id = register_at_peer_op(&identity).await?;
            let signer = identity.signer().await?;
            let mut jobs = Vec::with_capacity(count);
            for _ in 0..count {
                jobs.push(
                    flow_job(
                        &identity,
                        signer.as_ref(),
                        "openid accounts",
                        crate::PEER_OP_REDIRECT,
                    )
                    .await?,
                );
            }
            jobs
        }
        other => return Err(format!("{other:?} is not a scenario for --peer-op").into()),
    };
    let name = "oidc-provider (interop kit peer-op)";
    let run = Run::of(name, options, &server, identity.tls.clone(), identity.port);
    measure(&run, jobs).await
}

/// Registers a `code id_token` client with encrypted ID tokens (RSA-OAEP,
/// A256GCM) at oidc-provider: its client id.
async fn register_at_peer_op(identity: &Identity) -> Result<ClientId, Failure> {
    let endpoint = identity
        .server
        .registration_endpoint
        .clone()
        .ok_or("no registration endpoint")?;
    let body = json!({
        "redirect_uris": [crate::PEER_OP_REDIRECT],
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "PS256",
        "grant_types": ["authorization_code", "implicit", "refresh_token"],
        "response_types": ["code id_token"],
        "id_token_signed_response_alg": "PS256",
        "id_token_encrypted_response_alg": "RSA-OAEP",
        "id_token_encrypted_response_enc": "A256GCM",
        "request_object_signing_alg": "PS256",
        "tls_client_certificate_bound_access_tokens": true,
        "jwks": identity.custody.public_jwks().await?,
        "scope": "openid accounts offline_access",
    });
    let request = http::Request::post(endpoint.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Bytes::from(body.to_string()))?;
    let answer = identity.client().send(request).await?;
    let registered: Value = serde_json::from_slice(&answer.body)?;
    Ok(ClientId::new(
        registered["client_id"]
            .as_str()
            .ok_or_else(|| format!("DCR answered {}: {registered}", answer.status))?,
    )?)
}
