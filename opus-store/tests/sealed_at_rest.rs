//! What reaches the backend: personal data only in sealed form.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use opus_core::consent::{self, ConsentKind, ConsentStatus, DataConsent, Permission};
use opus_core::seal::Sealer;
use opus_core::store::ConsentRecord;
use opus_core::{BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, Document, Storage};
use opus_store::MemoryStore;
use opus_testkit::{ManualClock, TestKeyCustody};

const CPF: &str = "52998224725";
const CNPJ: &str = "12ABC34501DE35";
const NAME: &str = "Maria Aparecida Fernandes";

/// Every way a document could appear in clear: bare, masked, and split
/// around the mask.
fn forms_of(document: &Document) -> Vec<String> {
    match document {
        Document::Cpf(cpf) => vec![
            cpf.as_str().to_owned(),
            cpf.formatted(),
            cpf.as_str()[..9].to_owned(),
        ],
        Document::Cnpj(cnpj) => vec![
            cnpj.as_str().to_owned(),
            cnpj.formatted(),
            cnpj.root().to_owned(),
        ],
        _ => panic!("only CPF and CNPJ exist"),
    }
}

async fn setup() -> (Arc<MemoryStore>, Storage, Arc<Sealer>, Arc<ManualClock>) {
    let backend = Arc::new(MemoryStore::new());
    let storage = Storage::from_backend(backend.clone());
    let clock = Arc::new(ManualClock::new());
    let sealer = Sealer::open_or_create(
        Arc::new(TestKeyCustody::new("bank")),
        storage.data_keys.clone(),
        clock.clone(),
    )
    .await
    .unwrap();
    (backend, storage, Arc::new(sealer), clock)
}

#[tokio::test]
async fn a_stored_consent_reaches_the_backend_with_its_documents_and_names_sealed() {
    let (backend, storage, sealer, clock) = setup().await;
    let brand = BrandId::new("banco-azul").unwrap();
    let cpf = Cpf::parse(CPF).unwrap();
    let cnpj = Cnpj::parse(CNPJ).unwrap();

    // A data consent (documents of the logged user and of the company)…
    let data = DataConsent {
        brand: brand.clone(),
        id: ConsentId::new("urn:bancoazul:d-1").unwrap(),
        client_id: ClientId::new("tpp-1").unwrap(),
        status: ConsentStatus::AwaitingAuthorisation,
        version: 0,
        permissions: vec![
            Permission::CustomersBusinessIdentificationsRead,
            Permission::ResourcesRead,
        ],
        logged_user: cpf.clone(),
        business_entity: Some(cnpj.clone()),
        creation_date_time: clock.now(),
        status_update_date_time: clock.now(),
        expiration_date_time: None,
        rejection: None,
        resources: Vec::new(),
        extensions: Vec::new(),
    };
    storage
        .consents
        .insert_consent(&data.seal(&sealer).unwrap(), &[])
        .await
        .unwrap();

    // …and a payment consent whose body names people (creditor and debtor).
    let payment_id = ConsentId::new("urn:bancoazul:p-1").unwrap();
    let body = serde_json::json!({
        "loggedUser": {"document": {"identification": CPF, "rel": "CPF"}},
        "creditor": {"personType": "PESSOA_NATURAL", "cpfCnpj": CPF, "name": NAME},
    });
    let payment = ConsentRecord {
        id: payment_id.clone(),
        kind: ConsentKind::Payment,
        body: consent::seal_consent_body(&sealer, &brand, &payment_id, &body).unwrap(),
        subject: Some(sealer.blind_index(&Document::Cpf(cpf.clone())).unwrap()),
        business_entity: None,
        ..data.seal(&sealer).unwrap()
    };
    storage
        .consents
        .insert_consent(&payment, &[])
        .await
        .unwrap();

    // The backend's raw records hold no plaintext document or name…
    let raw = backend.export_text().unwrap();
    assert!(
        raw.contains("urn:bancoazul:d-1") && raw.contains("urn:bancoazul:p-1"),
        "{raw}"
    );
    let mut forbidden = forms_of(&Document::Cpf(cpf.clone()));
    forbidden.extend(forms_of(&Document::Cnpj(cnpj.clone())));
    forbidden.extend([NAME.to_owned(), "Maria".to_owned(), "Fernandes".to_owned()]);
    for needle in &forbidden {
        assert!(
            !raw.contains(needle.as_str()),
            "plaintext {needle:?} reached the backend:\n{raw}"
        );
    }

    // …yet the bank finds a customer's consents by document, through the blind index.
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

    // And what was sealed opens back.
    let stored = storage
        .consents
        .get_consent(&brand, &data.id)
        .await
        .unwrap()
        .unwrap();
    let opened = DataConsent::open(&stored, &sealer).await.unwrap();
    assert_eq!(opened.business_entity, Some(cnpj));
    let stored = storage
        .consents
        .get_consent(&brand, &payment_id)
        .await
        .unwrap()
        .unwrap();
    let opened: serde_json::Value =
        consent::open_consent_body(&sealer, &brand, &payment_id, &stored.body)
            .await
            .unwrap();
    assert_eq!(opened["creditor"]["name"], NAME);
}

#[tokio::test]
async fn rotation_keeps_old_values_readable_and_other_replicas_follow() {
    // Two replicas share one store and one custody (one HSM).
    let backend = Arc::new(MemoryStore::new());
    let storage = Storage::from_backend(backend);
    let clock = Arc::new(ManualClock::new());
    let custody = Arc::new(TestKeyCustody::new("bank"));
    let replica_a =
        Sealer::open_or_create(custody.clone(), storage.data_keys.clone(), clock.clone())
            .await
            .unwrap();
    let replica_b = Sealer::open_or_create(custody, storage.data_keys.clone(), clock.clone())
        .await
        .unwrap();
    assert_eq!(
        replica_a.current_key_id().unwrap(),
        replica_b.current_key_id().unwrap()
    );
    let brand = BrandId::new("banco-azul").unwrap();
    let id = ConsentId::new("urn:bancoazul:r-1").unwrap();
    let before = consent::seal_consent_body(&replica_a, &brand, &id, &"before").unwrap();
    let old_key = replica_a.current_key_id().unwrap();

    clock.advance(std::time::Duration::from_secs(3600));
    let new_key = replica_a.rotate().await.unwrap();
    assert_ne!(new_key, old_key);
    assert_eq!(replica_a.current_key_id().unwrap(), new_key);
    assert_eq!(
        replica_b.current_key_id().unwrap(),
        old_key,
        "B has not looked yet"
    );

    // B meets a value sealed under a key it has not loaded: it reloads once and opens it.
    let after = consent::seal_consent_body(&replica_a, &brand, &id, &"after").unwrap();
    let opened: String = consent::open_consent_body(&replica_b, &brand, &id, &after)
        .await
        .unwrap();
    assert_eq!(opened, "after");
    assert_eq!(
        replica_b.current_key_id().unwrap(),
        new_key,
        "and seals with the new key from then on"
    );

    // Values sealed before the rotation still open on both.
    for replica in [&replica_a, &replica_b] {
        let opened: String = consent::open_consent_body(replica, &brand, &id, &before)
            .await
            .unwrap();
        assert_eq!(opened, "before");
    }

    // A replica with another custody cannot unwrap the data keys: it fails closed.
    let stranger = Sealer::open_or_create(
        Arc::new(TestKeyCustody::new("stranger")),
        storage.data_keys.clone(),
        clock.clone(),
    )
    .await;
    assert!(stranger.is_err());
}
