//! The sandbox's tour (`--tour`): Open Finance Brasil in process, step by
//! step.
//!
//! It walks, in process, through the foundation every other part stands on
//! (the test PKI with OFB certificate identities, a two-brand bank, a data
//! consent sealed into the embedded store, looked up by blind index,
//! authorised with compare-and-set, the OFB envelopes a client would
//! receive), then through a FAPI-BR journey: registration with a software
//! statement, PAR, the customer's approval, tokens, a protected API and
//! revocation (see `fapi.rs`).

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use opus_core::consent::{ConsentStatus, DataConsent, Permission};
use opus_core::seal::Sealer;
use opus_core::store::{ConsentFilter, Window};
use opus_core::{
    ApiError, AuthorisationServerId, Brand, BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf,
    Document, Envelope, OrganisationId, Storage, Theme,
};
use opus_store::{MemoryStore, SqliteStore};
use opus_testkit::{ManualClock, OfbSubject, TestKeyCustody, TestPki};
use url::Url;

use crate::fapi;

pub(crate) fn step(n: usize, total: usize, title: &str) {
    println!("\n[{n}/{total}] {title}");
}

/// Runs the tour.
///
/// # Errors
/// When a step fails.
pub(crate) async fn run() -> Result<(), Box<dyn Error>> {
    const STEPS: usize = 10;
    println!("OPUS Open Finance SDK sandbox — the foundation, on the embedded store");

    step(
        1,
        STEPS,
        "Test PKI: root → intermediate → leaves with OFB subject attributes",
    );
    let pki = TestPki::generate("Sandbox Directory")?;
    let tpp = OfbSubject::example("tpp.sandbox.localhost", Cnpj::parse("11222333000181")?);
    let transport = pki.transport_certificate(&tpp)?;
    let server = pki.server_certificate(&["127.0.0.1", "localhost"])?;
    println!(
        "  fintech transport certificate: {} bytes, organizationIdentifier OFBBR-{}, UID {}",
        transport.der.len(),
        tpp.organisation_id,
        tpp.software_statement_id
    );
    println!(
        "  bank server certificate for 127.0.0.1/localhost: {} bytes",
        server.der.len()
    );

    step(2, STEPS, "A bank with two brands (each brand is a tenant)");
    let org = OrganisationId::random();
    let brands = [
        ("banco-azul", "Banco Azul", "#1f4e79"),
        ("banco-verde", "Banco Verde", "#2e7d32"),
    ]
    .into_iter()
    .map(|(id, name, colour)| {
        Brand::builder(BrandId::new(id)?)
            .display_name(name)
            .organisation_id(org)
            .authorisation_server_id(AuthorisationServerId::random())
            .issuer(Url::parse(&format!("https://127.0.0.1/{id}"))?)
            .api_base_url(Url::parse(&format!("https://127.0.0.1/{id}/api"))?)
            .theme(Theme::new(colour, None)?)
            .build()
            .map_err(Box::<dyn Error>::from)
    })
    .collect::<Result<Vec<_>, _>>()?;
    for brand in &brands {
        println!("  {} — issuer {}", brand.display_name(), brand.issuer());
    }
    let brand = &brands[0];

    let in_memory = std::env::args().any(|a| a == "--memory");
    let db_path = std::env::temp_dir().join(format!("opus-sandbox-{}.db", std::process::id()));
    step(
        3,
        STEPS,
        "Embedded store with sealing at rest (data keys wrapped by key custody)",
    );
    let memory = Arc::new(MemoryStore::new());
    let storage = if in_memory {
        println!("  store: in memory (--memory)");
        Storage::from_backend(memory.clone())
    } else {
        println!("  store: SQLite file {}", db_path.display());
        Storage::from_backend(Arc::new(SqliteStore::open(&db_path).await?))
    };
    let clock = Arc::new(ManualClock::new());
    let sealer = Sealer::open_or_create(
        Arc::new(TestKeyCustody::new("sandbox-bank")),
        storage.data_keys.clone(),
        clock.clone(),
    )
    .await?;
    println!("  sealing with data key {}", sealer.current_key_id()?);

    step(
        4,
        STEPS,
        "A data-sharing consent, stored sealed and found by blind index",
    );
    let customer = Cpf::parse("529.982.247-25")?;
    let consent = DataConsent {
        brand: brand.id().clone(),
        id: ConsentId::new("urn:bancoazul:sandbox-1")?,
        client_id: ClientId::new("fintech-client")?,
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
        expiration_date_time: Some(clock.now().saturating_add(Duration::from_secs(90 * 86_400))),
        rejection: None,
        resources: Vec::new(),
        extensions: Vec::new(),
    };
    let stored = storage
        .consents
        .insert_consent(&consent.seal(&sealer)?, &[])
        .await?;
    let stored_bytes = if in_memory {
        memory.export_text()?.into_bytes()
    } else {
        let mut bytes = std::fs::read(&db_path).unwrap_or_default();
        bytes.extend(std::fs::read(format!("{}-wal", db_path.display())).unwrap_or_default());
        bytes
    };
    let plaintext = stored_bytes
        .windows(customer.as_str().len())
        .any(|w| w == customer.as_str().as_bytes());
    println!(
        "  what the store holds: {} bytes; plaintext CPF in it: {plaintext}",
        stored_bytes.len()
    );
    let mut by_customer = ConsentFilter::brand(brand.id().clone());
    by_customer.subject = Some(sealer.blind_index(&Document::Cpf(customer))?);
    let found = storage
        .consents
        .list_consents(
            &by_customer,
            Window {
                offset: 0,
                limit: 10,
            },
        )
        .await?;
    println!(
        "  consents of customer ***{}: {}",
        &consent.logged_user.as_str()[9..],
        found.total_records
    );

    step(
        5,
        STEPS,
        "Authorisation is compare-and-set: a concurrent second attempt loses",
    );
    clock.advance(Duration::from_secs(90));
    let mut authorised = DataConsent::open(&stored, &sealer).await?;
    authorised.status = ConsentStatus::Authorised;
    authorised.status_update_date_time = clock.now();
    let record = authorised.seal(&sealer)?;
    let (first, second) = tokio::join!(
        storage
            .consents
            .update_consent(&record, stored.version, &[]),
        storage
            .consents
            .update_consent(&record, stored.version, &[]),
    );
    println!(
        "  first: {}, second: {}",
        first
            .as_ref()
            .map(|r| format!("AUTHORISED at version {}", r.version))
            .unwrap_or_else(|e| e.to_string()),
        second
            .as_ref()
            .map(|r| format!("version {}", r.version))
            .unwrap_or_else(|e| e.to_string())
    );

    step(
        6,
        STEPS,
        "What a client receives: the OFB envelope and the OFB error body",
    );
    let self_link = brand.api_url("open-banking/consents/v3/consents/urn:bancoazul:sandbox-1")?;
    let body = serde_json::json!({
        "consentId": authorised.id,
        "status": authorised.status,
        "permissions": authorised.permissions,
        "creationDateTime": authorised.creation_date_time,
        "statusUpdateDateTime": authorised.status_update_date_time,
        "expirationDateTime": authorised.expiration_date_time,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&Envelope::single(body, &self_link, clock.now()))?
    );
    let error = ApiError::operational_limit_reached().to_http_response(clock.now());
    println!(
        "  HTTP {} {}",
        error.status(),
        String::from_utf8_lossy(error.body())
    );

    let walkthrough = fapi::walkthrough(fapi::Setup {
        pki: &pki,
        tpp: &tpp,
        transport: &transport,
        brands: &brands,
        storage: storage.clone(),
        sealer: Arc::new(sealer),
        clock: clock.clone(),
        customer: consent.logged_user.clone(),
        first_step: 7,
        steps: STEPS,
    })
    .await;
    if let Err(e) = walkthrough {
        cleanup(in_memory, &db_path);
        return Err(e);
    }
    let open_data = open_data(&brands, storage.clone(), clock.clone()).await;
    cleanup(in_memory, &db_path);
    open_data?;
    println!("\nDone. Run the tests with: cargo test --workspace --all-features");
    Ok(())
}

fn cleanup(in_memory: bool, db_path: &std::path::Path) {
    if !in_memory {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db_path.display()));
        }
    }
}

/// Step 10: each brand's public catalogue, reported to the metrics
/// collector as open-data reports.
async fn open_data(
    brands: &[Brand],
    storage: Storage,
    clock: Arc<ManualClock>,
) -> Result<(), Box<dyn Error>> {
    use http::Request;
    use http_body_util::{BodyExt, Full};
    use opus_pcm::{PcmLayer, PcmReporter};
    use tower::{Layer, ServiceExt};
    step(
        10,
        10,
        "Open data for each brand, reported to the metrics collector",
    );
    for brand in brands {
        let reporter = PcmReporter::for_brand(brand, storage.clone(), clock.clone());
        let apis = PcmLayer::new(reporter).layer(opus_transmitter::OpenDataApis::new(
            brand.clone(),
            Arc::new(opus_testkit::SyntheticOpenData::new()),
            clock.clone(),
        ));
        for endpoint in [
            "open-banking/channels/v1/branches",
            "open-banking/opendata-accounts/v1/personal-accounts",
        ] {
            let path = format!("{}/{endpoint}", brand.api_base_url().path());
            let request = Request::get(path).body(Full::new(bytes::Bytes::new()))?;
            let response = apis.clone().oneshot(request).await?;
            let status = response.status();
            let body: serde_json::Value =
                serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
            if !status.is_success() {
                return Err(format!("{endpoint}: {status} {body}").into());
            }
            println!(
                "  {} GET /{endpoint} → {status}, {} record(s)",
                brand.display_name(),
                body["meta"]["totalRecords"]
            );
        }
    }
    let pending = storage
        .outbox
        .pending(&opus_core::store::Topic::new(opus_pcm::OPENDATA_TOPIC)?)
        .await?;
    println!("  open-data reports waiting for the metrics collector: {pending}");
    Ok(())
}
