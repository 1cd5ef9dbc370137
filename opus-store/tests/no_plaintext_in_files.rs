//! Personal data never reaches the database files: write consents,
//! payments, audit entries and stored responses for known customers, then
//! search the SQLite file (and its WAL) and a `pg_dump` for their documents
//! and names. The consent ids — stored in clear on purpose — are the
//! positive control that the search sees the data at all.
#![cfg(all(feature = "sqlite", feature = "postgres"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::time::Duration;

use opus_core::consent::{self, ConsentKind, ConsentStatus, DataConsent, Permission};
use opus_core::payment::PaymentStatus;
use opus_core::seal::{SealContext, Sealer};
use opus_core::store::{
    AuditRecord, ConsentRecord, IdempotencyScope, PaymentRecord, RequestFingerprint, StoredResponse,
};
use opus_core::{
    BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, Document, IdempotencyKey, MessageId, PaymentId,
    Storage,
};
use opus_testkit::{ManualClock, TestKeyCustody};

const CUSTOMERS: [(&str, &str); 2] = [
    ("52998224725", "Maria Aparecida Fernandes"),
    ("11144477735", "Joaquim José da Silva Xavier"),
];
const COMPANY: (&str, &str) = ("12ABC34501DE35", "Padaria Pão Quente Ltda");

/// Writes everything a bank would store about the customers; returns the
/// consent ids (stored in clear).
async fn write_customer_data(storage: &Storage) -> Vec<String> {
    let clock = Arc::new(ManualClock::new());
    let sealer = Sealer::open_or_create(
        Arc::new(TestKeyCustody::new("bank")),
        storage.data_keys.clone(),
        clock.clone(),
    )
    .await
    .unwrap();
    let brand = BrandId::new("banco-azul").unwrap();
    let mut ids = Vec::new();
    for (i, (cpf, name)) in CUSTOMERS.iter().enumerate() {
        let cpf = Cpf::parse(cpf).unwrap();
        // A PJ data consent.
        let data = DataConsent {
            brand: brand.clone(),
            id: ConsentId::new(format!("urn:bancoazul:data-{i}")).unwrap(),
            client_id: ClientId::new("tpp").unwrap(),
            status: ConsentStatus::Authorised,
            version: 0,
            permissions: vec![
                Permission::CustomersBusinessIdentificationsRead,
                Permission::ResourcesRead,
            ],
            logged_user: cpf.clone(),
            business_entity: Some(Cnpj::parse(COMPANY.0).unwrap()),
            creation_date_time: clock.now(),
            status_update_date_time: clock.now(),
            expiration_date_time: Some(clock.now().saturating_add(Duration::from_secs(86_400))),
            rejection: None,
            resources: Vec::new(),
            extensions: Vec::new(),
        };
        storage
            .consents
            .insert_consent(&data.seal(&sealer).unwrap(), &[])
            .await
            .unwrap();
        ids.push(data.id.to_string());
        // A payment consent and its payment, naming the debtor and the creditor.
        let pid = ConsentId::new(format!("urn:bancoazul:pay-{i}")).unwrap();
        let body = serde_json::json!({
            "loggedUser": {"document": {"identification": cpf.as_str(), "rel": "CPF"}},
            "creditor": {"personType": "PESSOA_JURIDICA", "cpfCnpj": COMPANY.0, "name": COMPANY.1},
            "debtorName": name,
        });
        let record = ConsentRecord {
            id: pid.clone(),
            kind: ConsentKind::Payment,
            body: consent::seal_consent_body(&sealer, &brand, &pid, &body).unwrap(),
            ..data.seal(&sealer).unwrap()
        };
        let stored = storage.consents.insert_consent(&record, &[]).await.unwrap();
        ids.push(pid.to_string());
        let payment_id = PaymentId::new(format!("pay-{i}")).unwrap();
        let payment = PaymentRecord {
            brand: brand.clone(),
            body: sealer
                .seal_json(
                    &SealContext::new("payment", &brand, payment_id.as_str()),
                    &serde_json::json!({"debtor": cpf.as_str(), "debtorName": name}),
                )
                .unwrap(),
            id: payment_id,
            consent_id: pid.clone(),
            client_id: stored.client_id.clone(),
            status: PaymentStatus::Rcvd,
            version: 0,
            created_at: clock.now(),
            status_updated_at: clock.now(),
            scheduled_for: None,
        };
        let consumed = ConsentRecord {
            status: ConsentStatus::Consumed,
            ..stored.clone()
        };
        storage
            .payments
            .create_consuming(&consumed, stored.version, &[payment], &[])
            .await
            .unwrap();
        // The audit trail and an idempotent response body.
        storage
            .audit
            .append_audit(&AuditRecord {
                id: MessageId::random(),
                brand: brand.clone(),
                at: clock.now(),
                action: "payment.created".into(),
                interaction_id: None,
                actor: sealer
                    .seal(
                        &SealContext::new("audit", &brand, "actor"),
                        cpf.as_str().as_bytes(),
                    )
                    .unwrap(),
                details: sealer
                    .seal(
                        &SealContext::new("audit", &brand, "details"),
                        name.as_bytes(),
                    )
                    .unwrap(),
            })
            .await
            .unwrap();
        let scope = IdempotencyScope {
            brand: brand.clone(),
            client_id: ClientId::new("tpp").unwrap(),
            operation: "payments-v4:POST:/pix/payments".into(),
            key: IdempotencyKey::new(format!("key-{i}")).unwrap(),
        };
        let fp = RequestFingerprint::of(cpf.as_str().as_bytes());
        let later = clock.now().saturating_add(Duration::from_secs(60));
        storage
            .idempotency
            .begin(&scope, fp, clock.now(), later, later)
            .await
            .unwrap();
        let response = StoredResponse {
            status: 201,
            body: sealer
                .seal(
                    &SealContext::new("idempotency", &brand, "key"),
                    format!("{{\"name\":\"{name}\"}}").as_bytes(),
                )
                .unwrap(),
        };
        storage
            .idempotency
            .complete(&scope, fp, &response)
            .await
            .unwrap();
        // The blind index finds the customer without the document being stored.
        let mut filter = opus_core::store::ConsentFilter::brand(brand.clone());
        filter.subject = Some(sealer.blind_index(&Document::Cpf(cpf)).unwrap());
        let found = storage
            .consents
            .list_consents(
                &filter,
                opus_core::store::Window {
                    offset: 0,
                    limit: 10,
                },
            )
            .await
            .unwrap();
        assert_eq!(found.total_records, 2);
    }
    ids
}

/// Every plain form of the personal data written.
fn forbidden() -> Vec<String> {
    let mut out = Vec::new();
    for (cpf, name) in CUSTOMERS {
        let parsed = Cpf::parse(cpf).unwrap();
        out.extend([cpf.to_owned(), parsed.formatted(), name.to_owned()]);
        out.extend(name.split(' ').filter(|w| w.len() > 3).map(str::to_owned));
    }
    let cnpj = Cnpj::parse(COMPANY.0).unwrap();
    out.extend([
        COMPANY.0.to_owned(),
        cnpj.formatted(),
        COMPANY.1.to_owned(),
        "Padaria".to_owned(),
    ]);
    out
}

fn assert_clean(what: &str, haystack: &[u8], present: &[String]) {
    for id in present {
        assert!(
            contains(haystack, id.as_bytes()),
            "{what}: positive control {id} not found — the search sees nothing"
        );
    }
    for needle in forbidden() {
        assert!(
            !contains(haystack, needle.as_bytes()),
            "{what}: plaintext {needle:?} found"
        );
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_sqlite_file_holds_no_plaintext_personal_data() {
    let path = support::sqlite_path();
    let store = opus_store::SqliteStore::open(&path).await.unwrap();
    let ids = write_customer_data(&Storage::from_backend(Arc::new(store.clone()))).await;
    store.pool().close().await;
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        if let Ok(content) = std::fs::read(&file) {
            bytes.extend(content);
        }
    }
    assert_clean("SQLite file", &bytes, &ids);
}

#[tokio::test]
async fn a_pg_dump_holds_no_plaintext_personal_data() {
    let Some(url) = support::postgres_url() else {
        return;
    };
    let store = support::postgres_store(&url, 4).await;
    let ids = write_customer_data(&Storage::from_backend(Arc::new(store.clone()))).await;
    let schema: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(store.pool())
        .await
        .unwrap();
    let pg_dump = std::env::var("OPUS_PG_DUMP").unwrap_or_else(|_| "pg_dump".into());
    let dump = std::process::Command::new(pg_dump)
        .args(["--dbname", &url, "--schema", &schema, "--data-only"])
        .output()
        .expect("pg_dump");
    assert!(
        dump.status.success(),
        "pg_dump failed: {}",
        String::from_utf8_lossy(&dump.stderr)
    );
    assert_clean("pg_dump", &dump.stdout, &ids);
}
