//! The storage conformance suite.
//!
//! Each public `async fn` here is one rule of the storage contract
//! (`opus_core::store`), written against the [`Storage`] bundle. Run them all
//! against a backend with [`crate::storage_conformance_tests!`]:
//!
//! ```
//! opus_testkit::storage_conformance_tests!(|| async {
//!     opus_core::Storage::from_backend(std::sync::Arc::new(opus_store::MemoryStore::new()))
//! });
//! # fn main() {}
//! ```
//!
//! Every body starts from an empty store (the factory is called once per
//! test). Race tests start 64 tasks at a barrier on a 4-worker runtime.

// These bodies are tests: a failed expectation must fail the calling test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use opus_core::consent::{ConsentKind, ConsentStatus, DataConsent, Permission};
use opus_core::keys::WrappedKey;
use opus_core::payment::PaymentStatus;
use opus_core::seal::{DataKeyKind, SealContext, SealError, Sealer, StoredDataKey};
use opus_core::store::{
    AuditRecord, AuthorizationCodeRecord, ClientRecord, ClientStatus, CodeRedemption,
    ConsentFilter, ConsentRecord, CounterKey, CounterOutcome, IdempotencyBegin, IdempotencyScope,
    InteractionRecord, OutboxMessage, ParRecord, PaymentRecord, ReplayScope, RequestFingerprint,
    StoreError, StoredResponse, TokenHash, TokenKind, TokenRecord, Topic, Window,
};
use opus_core::{
    BrandId, ClientId, Clock, Cnpj, ConsentId, Cpf, DataKeyId, Date, Document, GrantId,
    IdempotencyKey, InteractionSessionId, Jti, KeyId, MessageId, OrganisationId, PaymentId,
    SoftwareStatementId, Storage, Timestamp,
};

use super::race;
use crate::{ManualClock, TestKeyCustody};

/// How many tasks race in the race tests.
pub const RACERS: usize = 64;

/// A CPF used by the fixtures.
pub const CPF: &str = "52998224725";
/// A second CPF.
pub const OTHER_CPF: &str = "11144477735";
/// A CNPJ used by the fixtures.
pub const CNPJ: &str = "11222333000181";

/// Builders of valid, sealed records for the contract tests.
pub struct Fixture {
    /// The backend under test.
    pub storage: Storage,
    /// A sealer whose data keys live in the backend under test.
    pub sealer: Arc<Sealer>,
    /// The clock the fixtures read.
    pub clock: Arc<ManualClock>,
    /// The main brand.
    pub brand: BrandId,
    /// Another brand of the same institution.
    pub other_brand: BrandId,
    /// The main client.
    pub client: ClientId,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("brand", &self.brand)
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// Fixtures over `storage`, with a sealer keyed through a test custody.
    pub async fn new(storage: Storage) -> Self {
        let clock = Arc::new(ManualClock::new());
        let sealer = Sealer::open_or_create(
            Arc::new(TestKeyCustody::new("conformance")),
            storage.data_keys.clone(),
            clock.clone(),
        )
        .await
        .expect("a sealer over the backend's data key store");
        Self {
            storage,
            sealer: Arc::new(sealer),
            clock,
            brand: BrandId::new("banco-azul").unwrap(),
            other_brand: BrandId::new("banco-verde").unwrap(),
            client: ClientId::new("client-1").unwrap(),
        }
    }

    /// The fixture clock's time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// `now + secs`.
    pub fn at(&self, secs: u64) -> Timestamp {
        self.now().saturating_add(Duration::from_secs(secs))
    }

    /// A data consent awaiting authorisation, in the clear.
    pub fn data_consent(&self, brand: &BrandId, id: &str) -> DataConsent {
        DataConsent {
            brand: brand.clone(),
            id: ConsentId::new(format!("urn:bancoazul:{id}")).unwrap(),
            client_id: self.client.clone(),
            status: ConsentStatus::AwaitingAuthorisation,
            version: 0,
            permissions: vec![
                Permission::AccountsRead,
                Permission::AccountsBalancesRead,
                Permission::ResourcesRead,
            ],
            logged_user: Cpf::parse(CPF).unwrap(),
            business_entity: None,
            creation_date_time: self.now(),
            status_update_date_time: self.now(),
            expiration_date_time: Some(self.at(90 * 24 * 3600)),
            rejection: None,
            resources: Vec::new(),
            extensions: Vec::new(),
        }
    }

    /// The sealed record of [`Fixture::data_consent`] in the main brand.
    pub fn consent(&self, id: &str) -> ConsentRecord {
        self.consent_in(&self.brand, id)
    }

    /// The sealed record of a data consent in `brand`.
    pub fn consent_in(&self, brand: &BrandId, id: &str) -> ConsentRecord {
        self.data_consent(brand, id).seal(&self.sealer).unwrap()
    }

    /// An authorised payment consent record in the main brand.
    pub fn payment_consent(&self, id: &str) -> ConsentRecord {
        ConsentRecord {
            kind: ConsentKind::Payment,
            status: ConsentStatus::Authorised,
            ..self.consent(id)
        }
    }

    /// A payment under `consent`.
    pub fn payment(&self, consent: &ConsentRecord, id: &str) -> PaymentRecord {
        let id = PaymentId::new(id).unwrap();
        PaymentRecord {
            brand: consent.brand.clone(),
            body: self
                .sealer
                .seal(
                    &SealContext::new("payment", &consent.brand, id.as_str()),
                    br#"{"creditor":"Maria"}"#,
                )
                .unwrap(),
            id,
            consent_id: consent.id.clone(),
            client_id: consent.client_id.clone(),
            status: PaymentStatus::Rcvd,
            version: 0,
            created_at: self.now(),
            status_updated_at: self.now(),
            scheduled_for: None,
        }
    }

    /// An outbox message of `topic`, available now.
    pub fn message(&self, topic: &str) -> OutboxMessage {
        self.message_at(topic, self.now())
    }

    /// An outbox message of `topic`, available at `available_at`.
    pub fn message_at(&self, topic: &str, available_at: Timestamp) -> OutboxMessage {
        OutboxMessage {
            id: MessageId::random(),
            brand: self.brand.clone(),
            topic: Topic::new(topic).unwrap(),
            payload: b"{\"report\":1}".to_vec(),
            created_at: self.now(),
            available_at,
        }
    }

    /// A registered client.
    pub fn client_record(&self, id: &str) -> ClientRecord {
        ClientRecord {
            brand: self.brand.clone(),
            client_id: ClientId::new(id).unwrap(),
            organisation_id: OrganisationId::random(),
            software_statement_id: SoftwareStatementId::random(),
            status: ClientStatus::Active,
            version: 0,
            created_at: self.now(),
            updated_at: self.now(),
            registration_access_token: Some(TokenHash::of("rat")),
            metadata: r#"{"redirect_uris":["https://tpp.example/cb"]}"#.to_owned(),
        }
    }

    /// A pushed request of the main client, valid for `ttl_secs`.
    pub fn par(&self, uri: &str, ttl_secs: u64) -> ParRecord {
        ParRecord {
            brand: self.brand.clone(),
            request_uri: format!("urn:ietf:params:oauth:request_uri:{uri}"),
            client_id: self.client.clone(),
            created_at: self.now(),
            expires_at: self.at(ttl_secs),
            request: self.seal_blob("par", uri),
        }
    }

    /// A new interaction of the main brand, valid for `ttl_secs`.
    pub fn interaction(&self, ttl_secs: u64) -> InteractionRecord {
        let id = InteractionSessionId::random();
        InteractionRecord::new(
            self.brand.clone(),
            id,
            self.now(),
            self.at(ttl_secs),
            self.seal_blob("interaction", &id.to_string()),
        )
    }

    /// An authorization code of `grant`, valid for `ttl_secs`.
    pub fn code(&self, code: &str, grant: GrantId, ttl_secs: u64) -> AuthorizationCodeRecord {
        AuthorizationCodeRecord {
            brand: self.brand.clone(),
            code: TokenHash::of(code),
            grant_id: grant,
            client_id: self.client.clone(),
            consent_id: Some(ConsentId::new("urn:bancoazul:c1").unwrap()),
            created_at: self.now(),
            expires_at: self.at(ttl_secs),
            grant: self.seal_blob("code", code),
        }
    }

    /// A token of `grant`, optionally tied to `consent`.
    pub fn token(
        &self,
        token: &str,
        kind: TokenKind,
        grant: GrantId,
        consent: Option<&str>,
        expires_at: Option<Timestamp>,
    ) -> TokenRecord {
        TokenRecord {
            brand: self.brand.clone(),
            token: TokenHash::of(token),
            kind,
            grant_id: grant,
            client_id: self.client.clone(),
            consent_id: consent.map(|c| ConsentId::new(format!("urn:bancoazul:{c}")).unwrap()),
            scope: "openid accounts".to_owned(),
            certificate_thumbprint: Some("bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2".to_owned()),
            issued_at: self.now(),
            expires_at,
            revoked_at: None,
            subject: None,
        }
    }

    /// An idempotency scope of the main client.
    pub fn idempotency_scope(&self, key: &str) -> IdempotencyScope {
        IdempotencyScope {
            brand: self.brand.clone(),
            client_id: self.client.clone(),
            operation: "payments-v4:POST:/pix/payments".to_owned(),
            key: IdempotencyKey::new(key).unwrap(),
        }
    }

    /// A counter key for `object`.
    pub fn counter_key(&self, object: &str) -> CounterKey {
        CounterKey {
            brand: self.brand.clone(),
            period: "2026-11".to_owned(),
            endpoint: "GET /accounts/v2/accounts/{accountId}/balances".to_owned(),
            object: object.to_owned(),
            customer: self
                .sealer
                .blind_index(&Document::Cpf(Cpf::parse(CPF).unwrap()))
                .unwrap(),
            organisation: OrganisationId::from_uuid(uuid::Uuid::nil()),
        }
    }

    fn seal_blob(&self, purpose: &'static str, record: &str) -> opus_core::seal::Sealed {
        self.sealer
            .seal(&SealContext::new(purpose, &self.brand, record), b"{}")
            .unwrap()
    }
}

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict))
}

// ---------------------------------------------------------------- consents

/// A consent reads back exactly as inserted, at version 1, and opens.
pub async fn consent_insert_then_get_round_trips(storage: Storage) {
    let f = Fixture::new(storage).await;
    let record = f.consent("c1");
    let stored = f
        .storage
        .consents
        .insert_consent(&record, &[])
        .await
        .unwrap();
    assert_eq!(stored.version, 1);
    let got = f
        .storage
        .consents
        .get_consent(&f.brand, &record.id)
        .await
        .unwrap()
        .expect("the inserted consent");
    assert_eq!(
        got,
        ConsentRecord {
            version: 1,
            ..record
        }
    );
    let opened = DataConsent::open(&got, &f.sealer).await.unwrap();
    assert_eq!(opened.logged_user.as_str(), CPF);
    assert_eq!(opened.version, 1);
}

/// A second insert of the same id conflicts and leaves the first untouched.
pub async fn consent_duplicate_insert_conflicts(storage: Storage) {
    let f = Fixture::new(storage).await;
    let record = f.consent("c1");
    f.storage
        .consents
        .insert_consent(&record, &[])
        .await
        .unwrap();
    let again = ConsentRecord {
        status: ConsentStatus::Authorised,
        ..record.clone()
    };
    assert!(is_conflict(
        &f.storage.consents.insert_consent(&again, &[]).await
    ));
    let got = f
        .storage
        .consents
        .get_consent(&f.brand, &record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.status, ConsentStatus::AwaitingAuthorisation);
}

/// Consents are scoped by brand: the same id lives apart in two brands and
/// one brand never reads or lists the other's.
pub async fn consent_lookups_are_scoped_by_brand(storage: Storage) {
    let f = Fixture::new(storage).await;
    let a = f.consent("c1");
    f.storage.consents.insert_consent(&a, &[]).await.unwrap();
    assert_eq!(
        f.storage
            .consents
            .get_consent(&f.other_brand, &a.id)
            .await
            .unwrap(),
        None
    );
    let b = ConsentRecord {
        status: ConsentStatus::Rejected,
        ..f.consent_in(&f.other_brand, "c1")
    };
    f.storage.consents.insert_consent(&b, &[]).await.unwrap();
    let got_a = f
        .storage
        .consents
        .get_consent(&f.brand, &a.id)
        .await
        .unwrap()
        .unwrap();
    let got_b = f
        .storage
        .consents
        .get_consent(&f.other_brand, &a.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got_a.status, ConsentStatus::AwaitingAuthorisation);
    assert_eq!(got_b.status, ConsentStatus::Rejected);
    let all = Window {
        offset: 0,
        limit: 100,
    };
    let listed = f
        .storage
        .consents
        .list_consents(&ConsentFilter::brand(f.brand.clone()), all)
        .await
        .unwrap();
    assert_eq!(listed.total_records, 1);
    assert_eq!(listed.items[0].brand, f.brand);
}

/// Updates are compare-and-set on the version: the right version wins and
/// bumps it; a stale one conflicts and changes nothing.
pub async fn consent_update_is_compare_and_set(storage: Storage) {
    let f = Fixture::new(storage).await;
    let record = f
        .storage
        .consents
        .insert_consent(&f.consent("c1"), &[])
        .await
        .unwrap();
    let authorised = ConsentRecord {
        status: ConsentStatus::Authorised,
        status_updated_at: f.at(10),
        ..record.clone()
    };
    let stored = f
        .storage
        .consents
        .update_consent(&authorised, 1, &[])
        .await
        .unwrap();
    assert_eq!(stored.version, 2);
    let rejected = ConsentRecord {
        status: ConsentStatus::Rejected,
        ..record
    };
    assert!(is_conflict(
        &f.storage.consents.update_consent(&rejected, 1, &[]).await
    ));
    let got = f
        .storage
        .consents
        .get_consent(&f.brand, &stored.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.status, got.version), (ConsentStatus::Authorised, 2));
    assert_eq!(got.status_updated_at, f.at(10));
}

/// Immutable fields cannot change through an update; unknown consents are
/// not found.
pub async fn consent_update_guards_immutable_fields(storage: Storage) {
    let f = Fixture::new(storage).await;
    let record = f
        .storage
        .consents
        .insert_consent(&f.consent("c1"), &[])
        .await
        .unwrap();
    let other_client = ConsentRecord {
        client_id: ClientId::new("intruder").unwrap(),
        ..record.clone()
    };
    assert!(is_conflict(
        &f.storage
            .consents
            .update_consent(&other_client, 1, &[])
            .await
    ));
    let other_kind = ConsentRecord {
        kind: ConsentKind::Payment,
        ..record.clone()
    };
    assert!(is_conflict(
        &f.storage.consents.update_consent(&other_kind, 1, &[]).await
    ));
    let other_created = ConsentRecord {
        created_at: f.at(1),
        ..record.clone()
    };
    assert!(is_conflict(
        &f.storage
            .consents
            .update_consent(&other_created, 1, &[])
            .await
    ));
    let unknown = f.consent("never-stored");
    assert!(matches!(
        f.storage.consents.update_consent(&unknown, 1, &[]).await,
        Err(StoreError::NotFound)
    ));
    let got = f
        .storage
        .consents
        .get_consent(&f.brand, &record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, record);
}

/// Of 64 concurrent transitions from the same version, exactly one wins.
pub async fn consent_concurrent_transitions_exactly_one_wins(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let record = f
        .storage
        .consents
        .insert_consent(&f.consent("c1"), &[])
        .await
        .unwrap();
    let results = race(RACERS, |i| {
        let f = f.clone();
        let next = ConsentRecord {
            status: if i % 2 == 0 {
                ConsentStatus::Authorised
            } else {
                ConsentStatus::Rejected
            },
            status_updated_at: f.at(i as u64),
            ..record.clone()
        };
        async move { f.storage.consents.update_consent(&next, 1, &[]).await }
    })
    .await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "exactly one transition wins");
    assert!(results.iter().filter(|r| r.is_err()).all(is_conflict));
    let got = f
        .storage
        .consents
        .get_consent(&f.brand, &record.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.version, 2);
    assert_eq!(got.status, winners[0].status);
    assert_eq!(got.status_updated_at, winners[0].status_updated_at);
}

/// Listings filter by client, subject, kind, status and deadline, order by
/// creation then id, and page with a correct total.
pub async fn consent_listing_filters_orders_and_pages(storage: Storage) {
    let f = Fixture::new(storage).await;
    let other_subject = f
        .sealer
        .blind_index(&Document::Cpf(Cpf::parse(OTHER_CPF).unwrap()))
        .unwrap();
    for i in 0..5u64 {
        let mut c = f.consent(&format!("c{i}"));
        c.created_at = f.at(100 - i * 10); // inserted newest first
        c.expires_at = Some(f.at(1000 + i));
        if i == 1 {
            c.client_id = ClientId::new("client-2").unwrap();
        }
        if i == 2 {
            c.subject = Some(other_subject);
        }
        if i == 3 {
            c.status = ConsentStatus::Authorised;
        }
        f.storage.consents.insert_consent(&c, &[]).await.unwrap();
    }
    let all = Window {
        offset: 0,
        limit: 100,
    };
    let list = |filter: ConsentFilter, window: Window| {
        let consents = f.storage.consents.clone();
        async move { consents.list_consents(&filter, window).await.unwrap() }
    };
    let everything = list(ConsentFilter::brand(f.brand.clone()), all).await;
    let ids: Vec<_> = everything.items.iter().map(|c| c.id.to_string()).collect();
    assert_eq!(
        ids,
        [
            "urn:bancoazul:c4",
            "urn:bancoazul:c3",
            "urn:bancoazul:c2",
            "urn:bancoazul:c1",
            "urn:bancoazul:c0"
        ],
        "oldest first"
    );
    let mut by_client = ConsentFilter::brand(f.brand.clone());
    by_client.client_id = Some(ClientId::new("client-2").unwrap());
    assert_eq!(
        list(by_client, all).await.items[0].id.as_str(),
        "urn:bancoazul:c1"
    );
    let mut by_subject = ConsentFilter::brand(f.brand.clone());
    by_subject.subject = Some(other_subject);
    assert_eq!(
        list(by_subject, all).await.items[0].id.as_str(),
        "urn:bancoazul:c2"
    );
    let mut by_status = ConsentFilter::brand(f.brand.clone());
    by_status.statuses = vec![ConsentStatus::Authorised];
    assert_eq!(list(by_status, all).await.total_records, 1);
    let mut by_kind = ConsentFilter::brand(f.brand.clone());
    by_kind.kind = Some(ConsentKind::Payment);
    assert_eq!(list(by_kind, all).await.total_records, 0);
    let mut due = ConsentFilter::brand(f.brand.clone());
    due.expires_at_or_before = Some(f.at(1002));
    assert_eq!(list(due, all).await.total_records, 3);
    let page = list(
        ConsentFilter::brand(f.brand.clone()),
        Window {
            offset: 3,
            limit: 10,
        },
    )
    .await;
    assert_eq!(page.total_records, 5);
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].id.as_str(), "urn:bancoazul:c1");
    let beyond = list(
        ConsentFilter::brand(f.brand.clone()),
        Window {
            offset: 50,
            limit: 10,
        },
    )
    .await;
    assert!(beyond.items.is_empty());
    assert_eq!(beyond.total_records, 5);
}

/// Outbox messages passed with a state change are written with it, and a
/// failing write writes neither.
pub async fn consent_changes_write_the_outbox_atomically(storage: Storage) {
    let f = Fixture::new(storage).await;
    let topic = Topic::new("events").unwrap();
    let m1 = f.message("events");
    f.storage
        .consents
        .insert_consent(&f.consent("c1"), std::slice::from_ref(&m1))
        .await
        .unwrap();
    assert_eq!(f.storage.outbox.pending(&topic).await.unwrap(), 1);
    // A duplicate message id makes the whole insert fail: no consent either.
    let c2 = f.consent("c2");
    assert!(is_conflict(
        &f.storage
            .consents
            .insert_consent(&c2, std::slice::from_ref(&m1))
            .await
    ));
    assert_eq!(
        f.storage
            .consents
            .get_consent(&f.brand, &c2.id)
            .await
            .unwrap(),
        None
    );
    // Likewise for an update: the version does not move.
    let c1 = f
        .storage
        .consents
        .get_consent(&f.brand, &f.consent("c1").id)
        .await
        .unwrap()
        .unwrap();
    let next = ConsentRecord {
        status: ConsentStatus::Authorised,
        ..c1.clone()
    };
    assert!(is_conflict(
        &f.storage.consents.update_consent(&next, 1, &[m1]).await
    ));
    assert_eq!(
        f.storage
            .consents
            .get_consent(&f.brand, &c1.id)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    let m2 = f.message("events");
    f.storage
        .consents
        .update_consent(&next, 1, &[m2])
        .await
        .unwrap();
    assert_eq!(f.storage.outbox.pending(&topic).await.unwrap(), 2);
}

// ---------------------------------------------------------------- payments

/// Of 64 concurrent payment requests on one authorised consent, exactly one
/// consumes it and creates its payment.
pub async fn payment_consent_is_consumed_exactly_once(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let consent = f
        .storage
        .consents
        .insert_consent(&f.payment_consent("p1"), &[])
        .await
        .unwrap();
    let consumed = ConsentRecord {
        status: ConsentStatus::Consumed,
        ..consent.clone()
    };
    let results = race(RACERS, |i| {
        let f = f.clone();
        let consumed = consumed.clone();
        let payment = f.payment(&consent, &format!("pay-{i}"));
        async move {
            f.storage
                .payments
                .create_consuming(&consumed, 1, &[payment], &[])
                .await
        }
    })
    .await;
    let winners: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one payment request consumes the consent"
    );
    assert!(results.iter().filter(|r| r.is_err()).all(is_conflict));
    let payments = f
        .storage
        .payments
        .list_payments_by_consent(&f.brand, &consent.id)
        .await
        .unwrap();
    assert_eq!(payments.len(), 1);
    assert_eq!(payments[0].id, winners[0][0].id);
    assert_eq!(payments[0].version, 1);
    let got = f
        .storage
        .consents
        .get_consent(&f.brand, &consent.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.status, got.version), (ConsentStatus::Consumed, 2));
}

/// Creating payments is all or nothing: a duplicate payment id, a payment
/// of another consent or a duplicate outbox id writes nothing at all.
pub async fn payment_creation_is_all_or_nothing(storage: Storage) {
    let f = Fixture::new(storage).await;
    let a = f
        .storage
        .consents
        .insert_consent(&f.payment_consent("a"), &[])
        .await
        .unwrap();
    let consumed_a = ConsentRecord {
        status: ConsentStatus::Consumed,
        ..a.clone()
    };
    let existing = f.payment(&a, "pay-1");
    let m = f.message("webhook");
    f.storage
        .payments
        .create_consuming(&consumed_a, 1, &[existing], std::slice::from_ref(&m))
        .await
        .unwrap();

    let b = f
        .storage
        .consents
        .insert_consent(&f.payment_consent("b"), &[])
        .await
        .unwrap();
    let consumed_b = ConsentRecord {
        status: ConsentStatus::Consumed,
        ..b.clone()
    };
    let fresh = f.payment(&b, "pay-2");
    let duplicate = f.payment(&b, "pay-1");
    let foreign = f.payment(&a, "pay-3");
    let attempts = [
        (vec![fresh.clone(), duplicate], vec![]),
        (vec![fresh.clone(), foreign], vec![]),
        (vec![fresh.clone()], vec![m]),
    ];
    for (payments, outbox) in attempts {
        let result = f
            .storage
            .payments
            .create_consuming(&consumed_b, 1, &payments, &outbox)
            .await;
        assert!(is_conflict(&result));
    }
    let got_b = f
        .storage
        .consents
        .get_consent(&f.brand, &b.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got_b.status, got_b.version),
        (ConsentStatus::Authorised, 1)
    );
    assert_eq!(
        f.storage
            .payments
            .get_payment(&f.brand, &fresh.id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        f.storage
            .outbox
            .pending(&Topic::new("webhook").unwrap())
            .await
            .unwrap(),
        1
    );
    let stale = f
        .storage
        .payments
        .create_consuming(&consumed_a, 1, &[fresh], &[])
        .await;
    assert!(
        is_conflict(&stale),
        "an already consumed consent cannot be consumed again"
    );
}

/// Payment updates are compare-and-set; due scheduled payments are listed
/// by date, status and brand, earliest first, up to the limit.
pub async fn payment_updates_and_due_listing(storage: Storage) {
    let f = Fixture::new(storage).await;
    let consent = f
        .storage
        .consents
        .insert_consent(&f.payment_consent("s"), &[])
        .await
        .unwrap();
    let day = |d: u8| Date::from_calendar_date(2026, 12, d).unwrap();
    let payments: Vec<PaymentRecord> = (1..=4u8)
        .map(|d| PaymentRecord {
            status: PaymentStatus::Schd,
            scheduled_for: Some(day(5 - d)),
            ..f.payment(&consent, &format!("sched-{d}"))
        })
        .collect();
    let consumed = ConsentRecord {
        status: ConsentStatus::Consumed,
        ..consent.clone()
    };
    let stored = f
        .storage
        .payments
        .create_consuming(&consumed, 1, &payments, &[])
        .await
        .unwrap();
    assert!(stored.iter().all(|p| p.version == 1));

    let first = stored[0].clone(); // scheduled for Dec 4
    let accepted = PaymentRecord {
        status: PaymentStatus::Accp,
        ..first.clone()
    };
    assert_eq!(
        f.storage
            .payments
            .update_payment(&accepted, 1, &[])
            .await
            .unwrap()
            .version,
        2
    );
    assert!(is_conflict(
        &f.storage.payments.update_payment(&accepted, 1, &[]).await
    ));
    let moved = PaymentRecord {
        consent_id: ConsentId::new("urn:x:other").unwrap(),
        ..accepted.clone()
    };
    assert!(is_conflict(
        &f.storage.payments.update_payment(&moved, 2, &[]).await
    ));
    let unknown = f.payment(&consent, "nope");
    assert!(matches!(
        f.storage.payments.update_payment(&unknown, 1, &[]).await,
        Err(StoreError::NotFound)
    ));

    let due = f
        .storage
        .payments
        .list_payments_due(&f.brand, PaymentStatus::Schd, day(3), 10)
        .await
        .unwrap();
    let dates: Vec<String> = due
        .iter()
        .map(|p| p.scheduled_for.unwrap().to_string())
        .collect();
    assert_eq!(dates, ["2026-12-01", "2026-12-02", "2026-12-03"]);
    let limited = f
        .storage
        .payments
        .list_payments_due(&f.brand, PaymentStatus::Schd, day(31), 2)
        .await
        .unwrap();
    assert_eq!(limited.len(), 2);
    let other_brand = f
        .storage
        .payments
        .list_payments_due(&f.other_brand, PaymentStatus::Schd, day(31), 10)
        .await
        .unwrap();
    assert!(other_brand.is_empty());
}

// ---------------------------------------------------------------- clients

/// Clients: insert once, read by brand, compare-and-set updates with
/// immutable directory identity, listing by software statement, delete.
pub async fn client_registration_lifecycle(storage: Storage) {
    let f = Fixture::new(storage).await;
    let clients = &f.storage.clients;
    let record = f.client_record("c-1");
    let stored = clients.insert_client(&record).await.unwrap();
    assert_eq!(stored.version, 1);
    assert!(is_conflict(&clients.insert_client(&record).await));
    assert_eq!(
        clients
            .get_client(&f.other_brand, &record.client_id)
            .await
            .unwrap(),
        None
    );
    let updated = ClientRecord {
        status: ClientStatus::Inactive,
        updated_at: f.at(5),
        ..stored.clone()
    };
    assert_eq!(clients.update_client(&updated, 1).await.unwrap().version, 2);
    assert!(is_conflict(&clients.update_client(&updated, 1).await));
    let reidentified = ClientRecord {
        organisation_id: OrganisationId::random(),
        ..updated.clone()
    };
    assert!(is_conflict(&clients.update_client(&reidentified, 2).await));
    let sibling = ClientRecord {
        software_statement_id: record.software_statement_id,
        ..f.client_record("c-2")
    };
    clients.insert_client(&sibling).await.unwrap();
    let by_ss = clients
        .list_clients_by_software_statement(&f.brand, &record.software_statement_id)
        .await
        .unwrap();
    assert_eq!(by_ss.len(), 2);
    assert!(
        clients
            .delete_client(&f.brand, &record.client_id)
            .await
            .unwrap()
    );
    assert!(
        !clients
            .delete_client(&f.brand, &record.client_id)
            .await
            .unwrap()
    );
    assert_eq!(
        clients
            .get_client(&f.brand, &record.client_id)
            .await
            .unwrap(),
        None
    );
}

// ---------------------------------------------------------------- grants

/// A pushed request is consumed once: 64 concurrent takes, one gets it.
pub async fn par_request_uri_is_consumed_once(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let par = f.par("abc", 60);
    f.storage.grants.put_par(&par).await.unwrap();
    assert!(is_conflict(&f.storage.grants.put_par(&par).await));
    let now = f.now();
    let results = race(RACERS, |_| {
        let f = f.clone();
        let uri = par.request_uri.clone();
        async move {
            f.storage
                .grants
                .take_par(&f.brand, &uri, &f.client, now)
                .await
                .unwrap()
        }
    })
    .await;
    let taken: Vec<_> = results.into_iter().flatten().collect();
    assert_eq!(taken.len(), 1, "exactly one take gets the request");
    assert_eq!(taken[0], par);
    assert_eq!(
        f.storage
            .grants
            .take_par(&f.brand, &par.request_uri, &f.client, now)
            .await
            .unwrap(),
        None
    );
}

/// A pushed request is usable only before it expires, by its own client, in
/// its own brand.
pub async fn par_request_is_bound_and_expires(storage: Storage) {
    let f = Fixture::new(storage).await;
    let grants = &f.storage.grants;
    let par = f.par("bound", 60);
    grants.put_par(&par).await.unwrap();
    let intruder = ClientId::new("intruder").unwrap();
    assert_eq!(
        grants
            .take_par(&f.brand, &par.request_uri, &intruder, f.now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        grants
            .take_par(&f.other_brand, &par.request_uri, &f.client, f.now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        grants
            .take_par(&f.brand, &par.request_uri, &f.client, f.at(60))
            .await
            .unwrap(),
        None
    );
    let fresh = f.par("fresh", 60);
    grants.put_par(&fresh).await.unwrap();
    assert_eq!(
        grants
            .take_par(&f.brand, &fresh.request_uri, &f.client, f.at(59))
            .await
            .unwrap(),
        Some(fresh)
    );
}

// ---------------------------------------------------------------- registrations

/// A registration is read back as written, per owner, issuer and software
/// statement, and writing it again replaces it.
pub async fn registrations_round_trip_and_replace(storage: Storage) {
    use opus_core::store::RegistrationRecord;
    let f = Fixture::new(storage).await;
    let store = &f.storage.registrations;
    let statement = SoftwareStatementId::random();
    let record = RegistrationRecord {
        owner: f.brand.clone(),
        issuer: "https://auth.banco.test".to_owned(),
        software_statement_id: statement,
        client_id: ClientId::new("client-1").unwrap(),
        registration_client_uri: "https://auth.banco.test/register/client-1".to_owned(),
        registration_access_token: f.seal_blob("registration", "client-1"),
        metadata_digest: "digest-1".to_owned(),
        updated_at: f.now(),
    };
    assert!(
        store
            .get_registration(&f.brand, &record.issuer, &statement)
            .await
            .unwrap()
            .is_none()
    );
    store.put_registration(&record).await.unwrap();
    assert_eq!(
        store
            .get_registration(&f.brand, &record.issuer, &statement)
            .await
            .unwrap(),
        Some(record.clone())
    );
    // Another owner, issuer or statement is another registration.
    assert!(
        store
            .get_registration(&f.other_brand, &record.issuer, &statement)
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .get_registration(&f.brand, "https://auth.other.test", &statement)
            .await
            .unwrap()
            .is_none()
    );
    let updated = RegistrationRecord {
        metadata_digest: "digest-2".to_owned(),
        updated_at: f.at(60),
        ..record.clone()
    };
    store.put_registration(&updated).await.unwrap();
    assert_eq!(
        store
            .get_registration(&f.brand, &record.issuer, &statement)
            .await
            .unwrap(),
        Some(updated)
    );
}

// ---------------------------------------------------------------- documents

/// Documents are compare-and-set by version (0: insert if absent), listed
/// by collection and by person, scoped by owner, and deleted; of many
/// concurrent writers of one version, exactly one wins.
pub async fn documents_are_versioned_listed_and_raced(storage: Storage) {
    use opus_core::store::StoredDocument;
    let f = Fixture::new(storage).await;
    let store = f.storage.documents.clone();
    let maria = opus_core::seal::BlindIndex::from_bytes([7; 32]);
    let joao = opus_core::seal::BlindIndex::from_bytes([9; 32]);
    let doc = |key: &str, person: Option<opus_core::seal::BlindIndex>, body: &str| StoredDocument {
        owner: f.brand.clone(),
        collection: "accounts".to_owned(),
        key: key.to_owned(),
        person,
        body: f.seal_blob("document", body),
        version: 0,
        updated_at: f.now(),
    };
    assert!(
        store
            .get_document(&f.brand, "accounts", "a")
            .await
            .unwrap()
            .is_none()
    );
    let first = doc("a", Some(maria), "1");
    assert_eq!(store.put_document(&first, 0).await.unwrap(), 1);
    // Insert if absent: a second insert conflicts and changes nothing.
    assert!(matches!(
        store.put_document(&doc("a", Some(joao), "2"), 0).await,
        Err(StoreError::Conflict)
    ));
    let read = store
        .get_document(&f.brand, "accounts", "a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.version, 1);
    assert_eq!(read.person, Some(maria));
    assert_eq!(read.body, first.body);
    // Update at the right version only.
    assert!(matches!(
        store.put_document(&doc("a", Some(maria), "3"), 2).await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store
            .put_document(&doc("a", Some(maria), "3"), 1)
            .await
            .unwrap(),
        2
    );
    assert!(matches!(
        store.put_document(&doc("never", None, "x"), 1).await,
        Err(StoreError::Conflict)
    ));
    store
        .put_document(&doc("b", Some(joao), "4"), 0)
        .await
        .unwrap();
    store
        .put_document(&doc("c", Some(maria), "5"), 0)
        .await
        .unwrap();
    store.put_document(&doc("d", None, "6"), 0).await.unwrap();
    let mut other = doc("a", Some(maria), "7");
    other.owner = f.other_brand.clone();
    store.put_document(&other, 0).await.unwrap();
    let mut elsewhere = doc("e", Some(maria), "8");
    elsewhere.collection = "balances".to_owned();
    store.put_document(&elsewhere, 0).await.unwrap();
    let keys = |docs: Vec<StoredDocument>| docs.into_iter().map(|d| d.key).collect::<Vec<_>>();
    assert_eq!(
        keys(
            store
                .documents_of(&f.brand, "accounts", &maria)
                .await
                .unwrap()
        ),
        ["a", "c"]
    );
    assert_eq!(
        keys(store.documents(&f.brand, "accounts").await.unwrap()),
        ["a", "b", "c", "d"]
    );
    store
        .delete_document(&f.brand, "accounts", "a")
        .await
        .unwrap();
    store
        .delete_document(&f.brand, "accounts", "absent")
        .await
        .unwrap();
    assert_eq!(
        keys(
            store
                .documents_of(&f.brand, "accounts", &maria)
                .await
                .unwrap()
        ),
        ["c"]
    );
    assert!(
        store
            .get_document(&f.other_brand, "accounts", "a")
            .await
            .unwrap()
            .is_some()
    );

    // A race on one version: exactly one writer wins.
    let base = store
        .get_document(&f.brand, "accounts", "b")
        .await
        .unwrap()
        .unwrap();
    let mut racers = Vec::new();
    for n in 0..8 {
        let store = store.clone();
        let mut next = base.clone();
        next.body = f.seal_blob("document", &format!("race-{n}"));
        racers.push(tokio::spawn(async move {
            store.put_document(&next, base.version).await
        }));
    }
    let mut won = 0;
    for racer in racers {
        if racer.await.unwrap().is_ok() {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

// ---------------------------------------------------------------- operations

/// Outages are listed when they overlap the window (ongoing ones too),
/// earliest first, per brand; writing one again replaces it.
pub async fn outages_are_listed_by_window_and_replaced(storage: Storage) {
    use opus_core::store::OutageRecord;
    let f = Fixture::new(storage).await;
    let store = &f.storage.operations;
    let outage = |id: &str, from: u64, to: Option<u64>| OutageRecord {
        brand: f.brand.clone(),
        id: id.to_owned(),
        scheduled: id.starts_with('s'),
        partial: id.ends_with('p'),
        starts_at: f.at(from),
        ends_at: to.map(|t| f.at(t)),
        explanation: format!("Manutenção {id}"),
        endpoints: vec!["/open-banking/accounts/v2/accounts".to_owned()],
    };
    store
        .put_outage(&outage("s1", 100, Some(200)))
        .await
        .unwrap();
    store.put_outage(&outage("u2p", 50, None)).await.unwrap();
    store
        .put_outage(&outage("s3", 500, Some(600)))
        .await
        .unwrap();
    let mut other = outage("x", 0, None);
    other.brand = f.other_brand.clone();
    store.put_outage(&other).await.unwrap();
    let ids = |list: Vec<OutageRecord>| list.into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .list_outages(&f.brand, f.at(0), f.at(1000))
            .await
            .unwrap()),
        ["u2p", "s1", "s3"]
    );
    assert_eq!(
        ids(store
            .list_outages(&f.brand, f.at(200), f.at(500))
            .await
            .unwrap()),
        ["u2p"],
        "half-open windows: s1 ended at 200, s3 starts at 500"
    );
    let listed = store
        .list_outages(&f.brand, f.at(0), f.at(1000))
        .await
        .unwrap();
    assert_eq!(
        listed[1],
        outage("s1", 100, Some(200)),
        "read back as written"
    );
    // Resolved: written again with its end.
    store
        .put_outage(&outage("u2p", 50, Some(60)))
        .await
        .unwrap();
    assert_eq!(
        ids(store
            .list_outages(&f.brand, f.at(70), f.at(1000))
            .await
            .unwrap()),
        ["s1", "s3"]
    );
}

/// Calls are counted per endpoint and day: invocations, errors (5xx),
/// rejections (429), durations by latency bucket, and the busiest second,
/// exactly under concurrency.
pub async fn call_stats_count_exactly_under_concurrency(storage: Storage) {
    use opus_core::store::CallSample;
    let f = Arc::new(Fixture::new(storage).await);
    let sample = |endpoint: &str, secs: u64, ms: u32, status: u16| CallSample {
        brand: f.brand.clone(),
        endpoint: endpoint.to_owned(),
        at: f.at(secs),
        duration_ms: ms,
        status,
    };
    let accounts = "/open-banking/accounts/v2/accounts";
    let results = race(RACERS, |i| {
        let f = f.clone();
        let call = sample(
            accounts,
            0,
            5 + (i as u32 % 3) * 100,
            if i % 8 == 0 { 500 } else { 200 },
        );
        async move { f.storage.operations.record_call(&call).await }
    })
    .await;
    assert!(results.iter().all(Result::is_ok));
    for (secs, status) in [(1, 429), (1, 200), (2, 200)] {
        f.storage
            .operations
            .record_call(&sample(accounts, secs, 3000, status))
            .await
            .unwrap();
    }
    f.storage
        .operations
        .record_call(&sample("/token", 0, 20, 200))
        .await
        .unwrap();
    let mut foreign = sample(accounts, 0, 1, 200);
    foreign.brand = f.other_brand.clone();
    f.storage.operations.record_call(&foreign).await.unwrap();
    let today = f.now().date_in_brasilia();
    let stats = f
        .storage
        .operations
        .call_stats(&f.brand, today, today)
        .await
        .unwrap();
    assert_eq!(stats.len(), 2, "{stats:?}");
    let calls = stats.iter().find(|s| s.endpoint == accounts).unwrap();
    let racers = RACERS as u64;
    assert_eq!(calls.invocations, racers + 3);
    assert_eq!(calls.errors, racers.div_ceil(8));
    assert_eq!(calls.rejections, 1);
    assert_eq!(calls.peak_per_second, racers);
    let expected_ms: u64 = (0..RACERS as u64).map(|i| 5 + (i % 3) * 100).sum::<u64>() + 9000;
    assert_eq!(calls.duration_ms_sum, expected_ms);
    assert_eq!(calls.latency.iter().sum::<u64>(), racers + 3);
    assert_eq!(calls.latency[opus_core::store::latency_bucket(3000)], 3);
    assert_eq!(calls.day, today);
    // Another day is another row.
    let tomorrow = today.add_days(1).unwrap();
    assert!(
        f.storage
            .operations
            .call_stats(&f.brand, tomorrow, tomorrow)
            .await
            .unwrap()
            .is_empty()
    );
}

// ---------------------------------------------------------------- interactions

/// An interaction is read back as stored, only in its brand and before it
/// expires; a duplicate id conflicts; expired ones are purged.
pub async fn interaction_round_trips_scoped_and_expiring(storage: Storage) {
    let f = Fixture::new(storage).await;
    let store = &f.storage.interactions;
    let record = f.interaction(60);
    store.insert_interaction(&record).await.unwrap();
    assert!(is_conflict(&store.insert_interaction(&record).await));
    assert_eq!(
        store
            .get_interaction(&f.brand, &record.id, f.now())
            .await
            .unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        store
            .get_interaction(&f.other_brand, &record.id, f.now())
            .await
            .unwrap(),
        None,
        "another brand does not see it"
    );
    assert_eq!(
        store
            .get_interaction(&f.brand, &record.id, f.at(60))
            .await
            .unwrap(),
        None,
        "expired"
    );
    let lasting = f.interaction(600);
    store.insert_interaction(&lasting).await.unwrap();
    assert_eq!(store.purge_expired_interactions(f.at(60)).await.unwrap(), 1);
    assert!(
        store
            .get_interaction(&f.brand, &lasting.id, f.at(60))
            .await
            .unwrap()
            .is_some()
    );
}

/// Updates are compare-and-set on the version: of 64 concurrent updates
/// from one version exactly one wins; immutable fields cannot change.
pub async fn interaction_update_is_compare_and_set(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let record = f.interaction(60);
    f.storage
        .interactions
        .insert_interaction(&record)
        .await
        .unwrap();
    let results = race(RACERS, |i| {
        let f = f.clone();
        let mut next = record.clone();
        next.state = f.seal_blob("interaction", &format!("step {i}"));
        async move { f.storage.interactions.update_interaction(&next, 1).await }
    })
    .await;
    let won: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "exactly one update from version 1 wins");
    assert_eq!(won[0].version, 2);
    assert!(results.iter().filter(|r| r.is_err()).all(is_conflict));
    let stored = f
        .storage
        .interactions
        .get_interaction(&f.brand, &record.id, f.now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&stored, won[0]);
    let mut moved = stored.clone();
    moved.expires_at = f.at(3600);
    assert!(is_conflict(
        &f.storage.interactions.update_interaction(&moved, 2).await
    ));
    let unknown = f.interaction(60);
    assert!(matches!(
        f.storage.interactions.update_interaction(&unknown, 1).await,
        Err(StoreError::NotFound)
    ));
}

/// A hand-off code finds its interaction, in its brand only, and no two
/// interactions of a brand hold the same code.
pub async fn interaction_handoff_is_unique_and_scoped(storage: Storage) {
    let f = Fixture::new(storage).await;
    let store = &f.storage.interactions;
    let first = f.interaction(60);
    let second = f.interaction(60);
    store.insert_interaction(&first).await.unwrap();
    store.insert_interaction(&second).await.unwrap();
    let code = TokenHash::of("hand-off code");
    let handed = store
        .update_interaction(
            &InteractionRecord {
                handoff: Some(code),
                ..first.clone()
            },
            1,
        )
        .await
        .unwrap();
    assert_eq!(
        store
            .find_interaction_by_handoff(&f.brand, &code, f.now())
            .await
            .unwrap(),
        Some(handed)
    );
    assert_eq!(
        store
            .find_interaction_by_handoff(&f.other_brand, &code, f.now())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .find_interaction_by_handoff(&f.brand, &code, f.at(60))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert!(is_conflict(
        &store
            .update_interaction(
                &InteractionRecord {
                    handoff: Some(code),
                    ..second.clone()
                },
                1,
            )
            .await
    ));
}

/// An authorization code is redeemed once: of 64 concurrent redemptions,
/// one gets it and the others see a replay of its grant.
pub async fn authorization_code_is_redeemed_exactly_once(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let grant = GrantId::random();
    let code = f.code("the-code", grant, 60);
    f.storage.grants.put_code(&code).await.unwrap();
    let now = f.now();
    let results = race(RACERS, |_| {
        let f = f.clone();
        async move {
            f.storage
                .grants
                .redeem_code(&f.brand, &TokenHash::of("the-code"), now)
                .await
                .unwrap()
        }
    })
    .await;
    let redeemed = results
        .iter()
        .filter(|r| matches!(r, CodeRedemption::Redeemed(_)))
        .count();
    assert_eq!(redeemed, 1, "exactly one redemption wins");
    assert!(results.iter().all(|r| match r {
        CodeRedemption::Redeemed(c) => c == &code,
        CodeRedemption::AlreadyRedeemed { grant_id } => *grant_id == grant,
        _ => false,
    }));
}

/// Replays name the grant; unknown, foreign-brand and expired codes are unknown.
pub async fn authorization_code_replay_and_expiry(storage: Storage) {
    let f = Fixture::new(storage).await;
    let grants = &f.storage.grants;
    let grant = GrantId::random();
    let code = f.code("c-1", grant, 60);
    grants.put_code(&code).await.unwrap();
    assert!(is_conflict(&grants.put_code(&code).await));
    let hash = TokenHash::of("c-1");
    assert_eq!(
        grants
            .redeem_code(&f.other_brand, &hash, f.now())
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    assert_eq!(
        grants.redeem_code(&f.brand, &hash, f.now()).await.unwrap(),
        CodeRedemption::Redeemed(code)
    );
    assert_eq!(
        grants.redeem_code(&f.brand, &hash, f.at(1)).await.unwrap(),
        CodeRedemption::AlreadyRedeemed { grant_id: grant }
    );
    assert_eq!(
        grants
            .redeem_code(&f.brand, &TokenHash::of("never"), f.now())
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
    grants
        .put_code(&f.code("late", GrantId::random(), 60))
        .await
        .unwrap();
    assert_eq!(
        grants
            .redeem_code(&f.brand, &TokenHash::of("late"), f.at(60))
            .await
            .unwrap(),
        CodeRedemption::Unknown
    );
}

/// Tokens are revoked one by one, by grant and by consent; revocation
/// counts only active tokens and stays inside the brand.
pub async fn tokens_are_revoked_by_token_grant_and_consent(storage: Storage) {
    let f = Fixture::new(storage).await;
    let grants = &f.storage.grants;
    let g1 = GrantId::random();
    let g2 = GrantId::random();
    let far = Some(f.at(3600));
    for t in [
        f.token("a1", TokenKind::Access, g1, Some("c1"), far),
        f.token("r1", TokenKind::Refresh, g1, Some("c1"), None),
        f.token("a2", TokenKind::Access, g2, Some("c2"), far),
        f.token("a3", TokenKind::Access, g2, Some("c1"), far),
    ] {
        grants.put_token(&t).await.unwrap();
    }
    let foreign = TokenRecord {
        brand: f.other_brand.clone(),
        ..f.token("x1", TokenKind::Access, g1, Some("c1"), far)
    };
    grants.put_token(&foreign).await.unwrap();
    assert!(is_conflict(
        &grants
            .put_token(&f.token("a1", TokenKind::Access, g1, None, far))
            .await
    ));

    assert!(
        grants
            .revoke_token(&f.brand, &TokenHash::of("a1"), f.now())
            .await
            .unwrap()
    );
    assert!(
        !grants
            .revoke_token(&f.brand, &TokenHash::of("a1"), f.now())
            .await
            .unwrap()
    );
    assert_eq!(
        grants.revoke_grant(&f.brand, &g1, f.now()).await.unwrap(),
        1,
        "only r1 was still active"
    );
    let c1 = ConsentId::new("urn:bancoazul:c1").unwrap();
    assert_eq!(
        grants
            .revoke_consent_tokens(&f.brand, &c1, f.now())
            .await
            .unwrap(),
        1,
        "a3"
    );
    let a2 = grants
        .get_token(&f.brand, &TokenHash::of("a2"))
        .await
        .unwrap()
        .unwrap();
    assert!(a2.is_active(f.now()));
    let r1 = grants
        .get_token(&f.brand, &TokenHash::of("r1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r1.revoked_at, Some(f.now()));
    assert!(!r1.is_active(f.now()));
    let x1 = grants
        .get_token(&f.other_brand, &TokenHash::of("x1"))
        .await
        .unwrap()
        .unwrap();
    assert!(x1.is_active(f.now()), "another brand's token is untouched");
}

/// A refresh token rotates once: of 64 concurrent rotations one succeeds;
/// access tokens, revoked and unknown tokens do not rotate.
pub async fn refresh_token_rotation_is_single_use(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let grant = GrantId::random();
    f.storage
        .grants
        .put_token(&f.token("r0", TokenKind::Refresh, grant, Some("c1"), None))
        .await
        .unwrap();
    let now = f.now();
    let results = race(RACERS, |i| {
        let f = f.clone();
        let next = f.token(
            &format!("r1-{i}"),
            TokenKind::Refresh,
            grant,
            Some("c1"),
            None,
        );
        async move {
            let r = f
                .storage
                .grants
                .rotate_refresh_token(&f.brand, &TokenHash::of("r0"), &next, now)
                .await;
            (i, r)
        }
    })
    .await;
    let winners: Vec<usize> = results
        .iter()
        .filter(|(_, r)| r.is_ok())
        .map(|(i, _)| *i)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one rotation wins");
    assert!(
        results
            .iter()
            .filter(|(_, r)| r.is_err())
            .all(|(_, r)| is_conflict(r))
    );
    let grants = &f.storage.grants;
    for (i, _) in &results {
        let stored = grants
            .get_token(&f.brand, &TokenHash::of(&format!("r1-{i}")))
            .await
            .unwrap();
        assert_eq!(stored.is_some(), winners.contains(i));
    }
    let old = grants
        .get_token(&f.brand, &TokenHash::of("r0"))
        .await
        .unwrap()
        .unwrap();
    assert!(!old.is_active(now));
    grants
        .put_token(&f.token("acc", TokenKind::Access, grant, None, Some(f.at(60))))
        .await
        .unwrap();
    let next = f.token("acc-2", TokenKind::Refresh, grant, None, None);
    assert!(is_conflict(
        &grants
            .rotate_refresh_token(&f.brand, &TokenHash::of("acc"), &next, now)
            .await
    ));
    assert!(matches!(
        grants
            .rotate_refresh_token(&f.brand, &TokenHash::of("ghost"), &next, now)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Expired pushed requests, codes and tokens are purged; live ones stay.
pub async fn expired_grants_are_purged(storage: Storage) {
    let f = Fixture::new(storage).await;
    let grants = &f.storage.grants;
    grants.put_par(&f.par("old", 10)).await.unwrap();
    grants.put_par(&f.par("new", 1000)).await.unwrap();
    grants
        .put_code(&f.code("old", GrantId::random(), 10))
        .await
        .unwrap();
    grants
        .put_code(&f.code("new", GrantId::random(), 1000))
        .await
        .unwrap();
    let g = GrantId::random();
    grants
        .put_token(&f.token("old", TokenKind::Access, g, None, Some(f.at(10))))
        .await
        .unwrap();
    grants
        .put_token(&f.token("new", TokenKind::Access, g, None, Some(f.at(1000))))
        .await
        .unwrap();
    grants
        .put_token(&f.token("forever", TokenKind::Refresh, g, Some("c1"), None))
        .await
        .unwrap();
    assert_eq!(grants.purge_expired_grants(f.at(11)).await.unwrap(), 3);
    assert!(
        grants
            .get_token(&f.brand, &TokenHash::of("old"))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        grants
            .get_token(&f.brand, &TokenHash::of("new"))
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        grants
            .get_token(&f.brand, &TokenHash::of("forever"))
            .await
            .unwrap()
            .is_some()
    );
    let uri = f.par("new", 1000).request_uri;
    assert!(
        grants
            .take_par(&f.brand, &uri, &f.client, f.at(11))
            .await
            .unwrap()
            .is_some()
    );
}

// ---------------------------------------------------------------- idempotency

/// A key's first use starts; a duplicate in flight waits; once complete,
/// the same request replays the stored outcome.
pub async fn idempotency_replays_the_first_outcome(storage: Storage) {
    let f = Fixture::new(storage).await;
    let store = &f.storage.idempotency;
    let scope = f.idempotency_scope("key-1");
    let fp = RequestFingerprint::of(b"{\"data\":1}");
    let (lease, retain) = (f.at(30), f.at(24 * 3600));
    assert_eq!(
        store
            .begin(&scope, fp, f.now(), lease, retain)
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        store
            .begin(&scope, fp, f.at(1), lease, retain)
            .await
            .unwrap(),
        IdempotencyBegin::InProgress
    );
    let response = StoredResponse {
        status: 201,
        body: f
            .sealer
            .seal(&SealContext::new("idempotency", &f.brand, "key-1"), b"jwt")
            .unwrap(),
    };
    store.complete(&scope, fp, &response).await.unwrap();
    assert!(is_conflict(&store.complete(&scope, fp, &response).await));
    assert_eq!(
        store
            .begin(&scope, fp, f.at(2), lease, retain)
            .await
            .unwrap(),
        IdempotencyBegin::Completed(response)
    );
}

/// The same key with a different request is a mismatch, in flight or done;
/// keys are scoped per client.
pub async fn idempotency_refuses_a_changed_request(storage: Storage) {
    let f = Fixture::new(storage).await;
    let store = &f.storage.idempotency;
    let scope = f.idempotency_scope("key-2");
    let (a, b) = (RequestFingerprint::of(b"a"), RequestFingerprint::of(b"b"));
    let (lease, retain) = (f.at(30), f.at(24 * 3600));
    assert_eq!(
        store
            .begin(&scope, a, f.now(), lease, retain)
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        store
            .begin(&scope, b, f.now(), lease, retain)
            .await
            .unwrap(),
        IdempotencyBegin::Mismatch
    );
    let response = StoredResponse {
        status: 422,
        body: f
            .sealer
            .seal(&SealContext::new("idempotency", &f.brand, "key-2"), b"err")
            .unwrap(),
    };
    assert!(is_conflict(&store.complete(&scope, b, &response).await));
    store.complete(&scope, a, &response).await.unwrap();
    assert_eq!(
        store
            .begin(&scope, b, f.at(5), lease, retain)
            .await
            .unwrap(),
        IdempotencyBegin::Mismatch
    );
    let other_client = IdempotencyScope {
        client_id: ClientId::new("client-2").unwrap(),
        ..scope.clone()
    };
    assert_eq!(
        store
            .begin(&other_client, b, f.now(), lease, retain)
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
}

/// Of 64 concurrent first uses of one key, exactly one starts.
pub async fn idempotency_first_use_starts_once_under_race(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let scope = f.idempotency_scope("key-race");
    let fp = RequestFingerprint::of(b"same");
    let (now, lease, retain) = (f.now(), f.at(30), f.at(24 * 3600));
    let results = race(RACERS, |_| {
        let f = f.clone();
        let scope = scope.clone();
        async move {
            f.storage
                .idempotency
                .begin(&scope, fp, now, lease, retain)
                .await
                .unwrap()
        }
    })
    .await;
    let started = results
        .iter()
        .filter(|r| **r == IdempotencyBegin::Started)
        .count();
    assert_eq!(started, 1, "exactly one request runs");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, IdempotencyBegin::Started | IdempotencyBegin::InProgress))
    );
}

/// A dead holder's lease lapses and a retry takes over; a released key
/// starts again; retention ends and purges the key.
pub async fn idempotency_leases_release_and_retention(storage: Storage) {
    let f = Fixture::new(storage).await;
    let store = &f.storage.idempotency;
    let scope = f.idempotency_scope("key-3");
    let fp = RequestFingerprint::of(b"x");
    let retain = f.at(24 * 3600);
    let response = StoredResponse {
        status: 201,
        body: f
            .sealer
            .seal(&SealContext::new("idempotency", &f.brand, "key-3"), b"ok")
            .unwrap(),
    };
    assert!(matches!(
        store.complete(&scope, fp, &response).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store
            .begin(&scope, fp, f.now(), f.at(30), retain)
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        store
            .begin(&scope, fp, f.at(31), f.at(61), retain)
            .await
            .unwrap(),
        IdempotencyBegin::Started,
        "lease lapsed"
    );
    store.release(&scope).await.unwrap();
    assert_eq!(
        store
            .begin(&scope, fp, f.at(32), f.at(62), retain)
            .await
            .unwrap(),
        IdempotencyBegin::Started,
        "released"
    );
    store.complete(&scope, fp, &response).await.unwrap();
    store.release(&scope).await.unwrap();
    assert_eq!(
        store
            .begin(&scope, fp, f.at(40), f.at(70), retain)
            .await
            .unwrap(),
        IdempotencyBegin::Completed(response),
        "release leaves a completed key alone"
    );
    let after = f.at(24 * 3600 + 1);
    assert_eq!(store.purge_expired_idempotency(after).await.unwrap(), 1);
    let other = RequestFingerprint::of(b"y");
    assert_eq!(
        store
            .begin(
                &scope,
                other,
                after,
                after.saturating_add(Duration::from_secs(30)),
                after.saturating_add(Duration::from_secs(3600))
            )
            .await
            .unwrap(),
        IdempotencyBegin::Started,
        "after retention the key is new again"
    );
}

// ---------------------------------------------------------------- jti

/// A `jti` is accepted once per scope until it expires.
pub async fn jti_replay_is_refused(storage: Storage) {
    let f = Fixture::new(storage).await;
    let guard = &f.storage.replay;
    let scope = ReplayScope {
        brand: f.brand.clone(),
        namespace: "client-assertion:client-1".into(),
    };
    let jti = Jti::new("3b1f4a42-1d59-4a47-9a43-5b7a2b37c1d0").unwrap();
    guard
        .insert_jti(&scope, &jti, f.at(300), f.now())
        .await
        .unwrap();
    assert!(is_conflict(
        &guard.insert_jti(&scope, &jti, f.at(300), f.at(10)).await
    ));
    let other_ns = ReplayScope {
        namespace: "request-object:client-1".into(),
        ..scope.clone()
    };
    guard
        .insert_jti(&other_ns, &jti, f.at(300), f.now())
        .await
        .unwrap();
    let other_brand = ReplayScope {
        brand: f.other_brand.clone(),
        ..scope.clone()
    };
    guard
        .insert_jti(&other_brand, &jti, f.at(300), f.now())
        .await
        .unwrap();
    guard
        .insert_jti(&scope, &jti, f.at(600), f.at(300))
        .await
        .unwrap();
    assert!(is_conflict(
        &guard.insert_jti(&scope, &jti, f.at(900), f.at(599)).await
    ));
    assert_eq!(guard.purge_expired_jtis(f.at(601)).await.unwrap(), 3);
}

/// Of 64 concurrent uses of one `jti`, exactly one is accepted.
pub async fn jti_concurrent_use_exactly_one_accepted(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let scope = ReplayScope {
        brand: f.brand.clone(),
        namespace: "payment-request:org".into(),
    };
    let jti = Jti::new("same-jti").unwrap();
    let (now, until) = (f.now(), f.at(24 * 3600));
    let results = race(RACERS, |_| {
        let f = f.clone();
        let scope = scope.clone();
        let jti = jti.clone();
        async move { f.storage.replay.insert_jti(&scope, &jti, until, now).await }
    })
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results.iter().filter(|r| r.is_err()).all(is_conflict));
}

// ---------------------------------------------------------------- outbox

/// A due message is claimed once, not again while the lease lives, and
/// never after it is acked; future messages wait.
pub async fn outbox_claim_then_ack_delivers_once(storage: Storage) {
    let f = Fixture::new(storage).await;
    let outbox = &f.storage.outbox;
    let topic = Topic::new("pcm").unwrap();
    let m1 = f.message("pcm");
    let m2 = f.message_at("pcm", f.at(100));
    outbox.enqueue(&[m1.clone(), m2.clone()]).await.unwrap();
    let claimed = outbox.claim(&topic, 10, f.now(), f.at(30)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].message, m1);
    assert_eq!(claimed[0].attempts, 1);
    assert_eq!(claimed[0].lease_expires_at, f.at(30));
    assert!(
        outbox
            .claim(&topic, 10, f.at(1), f.at(31))
            .await
            .unwrap()
            .is_empty()
    );
    outbox.ack(&m1.id, claimed[0].lease).await.unwrap();
    assert!(is_conflict(&outbox.ack(&m1.id, claimed[0].lease).await));
    assert_eq!(outbox.pending(&topic).await.unwrap(), 1);
    assert!(
        outbox
            .claim(&topic, 10, f.at(99), f.at(129))
            .await
            .unwrap()
            .is_empty()
    );
    let later = outbox
        .claim(&topic, 10, f.at(100), f.at(130))
        .await
        .unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].message.id, m2.id);
    assert!(matches!(
        outbox.ack(&MessageId::random(), later[0].lease).await,
        Err(StoreError::NotFound)
    ));
}

/// A worker that dies loses its lease: the message is claimed again (its
/// attempt counted) and the stale worker can no longer ack it.
pub async fn outbox_lease_expiry_redelivers_and_fences(storage: Storage) {
    let f = Fixture::new(storage).await;
    let outbox = &f.storage.outbox;
    let topic = Topic::new("webhook").unwrap();
    let m = f.message("webhook");
    outbox.enqueue(std::slice::from_ref(&m)).await.unwrap();
    let first = outbox
        .claim(&topic, 1, f.now(), f.at(30))
        .await
        .unwrap()
        .remove(0);
    let second = outbox
        .claim(&topic, 1, f.at(30), f.at(60))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(second.message.id, m.id, "same stable id on redelivery");
    assert_eq!(second.attempts, 2);
    assert_ne!(second.lease, first.lease);
    assert!(
        is_conflict(&outbox.ack(&m.id, first.lease).await),
        "the stale worker is fenced"
    );
    assert!(is_conflict(
        &outbox.retry(&m.id, first.lease, f.at(90)).await
    ));
    outbox.ack(&m.id, second.lease).await.unwrap();
    assert_eq!(outbox.pending(&topic).await.unwrap(), 0);
}

/// Retry gives a message back for a later time (backoff); dead-lettering
/// takes it out of delivery for good.
pub async fn outbox_retry_backoff_and_dead_letter(storage: Storage) {
    let f = Fixture::new(storage).await;
    let outbox = &f.storage.outbox;
    let topic = Topic::new("pcm").unwrap();
    let m = f.message("pcm");
    outbox.enqueue(std::slice::from_ref(&m)).await.unwrap();
    let c1 = outbox
        .claim(&topic, 1, f.now(), f.at(30))
        .await
        .unwrap()
        .remove(0);
    outbox.retry(&m.id, c1.lease, f.at(60)).await.unwrap();
    assert!(
        outbox
            .claim(&topic, 1, f.at(59), f.at(89))
            .await
            .unwrap()
            .is_empty()
    );
    let c2 = outbox
        .claim(&topic, 1, f.at(60), f.at(90))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(c2.attempts, 2);
    outbox.dead_letter(&m.id, c2.lease).await.unwrap();
    assert!(
        outbox
            .claim(&topic, 1, f.at(10_000), f.at(10_030))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(outbox.pending(&topic).await.unwrap(), 0);
}

/// Eight workers claiming concurrently deliver each of 200 messages exactly once.
pub async fn outbox_concurrent_workers_never_share_a_message(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let messages: Vec<OutboxMessage> = (0..200).map(|_| f.message("events")).collect();
    f.storage.outbox.enqueue(&messages).await.unwrap();
    let (now, until) = (f.now(), f.at(300));
    let delivered = race(8, |_| {
        let f = f.clone();
        async move {
            let topic = Topic::new("events").unwrap();
            let mut mine = Vec::new();
            loop {
                let batch = f.storage.outbox.claim(&topic, 7, now, until).await.unwrap();
                if batch.is_empty() {
                    break mine;
                }
                for claimed in batch {
                    f.storage
                        .outbox
                        .ack(&claimed.message.id, claimed.lease)
                        .await
                        .unwrap();
                    mine.push(claimed.message.id);
                }
            }
        }
    })
    .await;
    let all: Vec<MessageId> = delivered.into_iter().flatten().collect();
    let unique: HashSet<MessageId> = all.iter().copied().collect();
    assert_eq!(all.len(), 200, "no message delivered twice");
    assert_eq!(unique.len(), 200, "every message delivered");
}

/// Claims take the oldest due messages of one topic, up to `max`; a batch
/// enqueue with a duplicate id writes nothing.
pub async fn outbox_orders_batches_and_topics(storage: Storage) {
    let f = Fixture::new(storage).await;
    let outbox = &f.storage.outbox;
    let late = f.message_at("pcm", f.at(20));
    let early = f.message_at("pcm", f.at(10));
    let other = f.message_at("events", f.at(5));
    let third = f.message_at("pcm", f.at(30));
    outbox
        .enqueue(&[late.clone(), early.clone(), other.clone(), third])
        .await
        .unwrap();
    let claimed = outbox
        .claim(&Topic::new("pcm").unwrap(), 2, f.at(100), f.at(130))
        .await
        .unwrap();
    let ids: Vec<MessageId> = claimed.iter().map(|c| c.message.id).collect();
    assert_eq!(ids, [early.id, late.id]);
    let fresh = f.message("pcm");
    assert!(is_conflict(&outbox.enqueue(&[fresh.clone(), other]).await));
    assert!(is_conflict(
        &outbox.enqueue(&[fresh.clone(), fresh.clone()]).await
    ));
    assert_eq!(
        outbox.pending(&Topic::new("pcm").unwrap()).await.unwrap(),
        3,
        "fresh was not written"
    );
    assert_eq!(
        outbox
            .pending(&Topic::new("events").unwrap())
            .await
            .unwrap(),
        1
    );
}

// ---------------------------------------------------------------- counters

/// Under 64 concurrent calls with a limit of 10, exactly 10 are counted.
pub async fn counter_never_exceeds_its_limit(storage: Storage) {
    let f = Arc::new(Fixture::new(storage).await);
    let key = f.counter_key("acc-1");
    let results = race(RACERS, |_| {
        let f = f.clone();
        let key = key.clone();
        async move { f.storage.counters.try_increment(&key, 10).await.unwrap() }
    })
    .await;
    let counted = results
        .iter()
        .filter(|r| matches!(r, CounterOutcome::Counted(_)))
        .count();
    assert_eq!(counted, 10);
    assert!(results.iter().all(|r| match r {
        CounterOutcome::Counted(n) => (1..=10).contains(n),
        CounterOutcome::LimitReached(n) => *n == 10,
        _ => false,
    }));
    assert_eq!(f.storage.counters.count(&key).await.unwrap(), 10);
}

/// Refunds give counts back (never below zero); keys differing in any part
/// count apart.
pub async fn counter_refunds_and_key_independence(storage: Storage) {
    let f = Fixture::new(storage).await;
    let counters = &f.storage.counters;
    let key = f.counter_key("acc-1");
    counters.refund(&key).await.unwrap();
    assert_eq!(counters.count(&key).await.unwrap(), 0);
    assert_eq!(
        counters.try_increment(&key, 2).await.unwrap(),
        CounterOutcome::Counted(1)
    );
    assert_eq!(
        counters.try_increment(&key, 2).await.unwrap(),
        CounterOutcome::Counted(2)
    );
    assert_eq!(
        counters.try_increment(&key, 2).await.unwrap(),
        CounterOutcome::LimitReached(2)
    );
    counters.refund(&key).await.unwrap();
    assert_eq!(
        counters.try_increment(&key, 2).await.unwrap(),
        CounterOutcome::Counted(2)
    );
    let variants = [
        CounterKey {
            object: "acc-2".into(),
            ..key.clone()
        },
        CounterKey {
            period: "2026-12".into(),
            ..key.clone()
        },
        CounterKey {
            brand: f.other_brand.clone(),
            ..key.clone()
        },
        CounterKey {
            organisation: OrganisationId::random(),
            ..key.clone()
        },
        CounterKey {
            endpoint: "GET /accounts/v2/accounts".into(),
            ..key.clone()
        },
    ];
    for other in variants {
        assert_eq!(counters.count(&other).await.unwrap(), 0);
        assert_eq!(
            counters.try_increment(&other, 2).await.unwrap(),
            CounterOutcome::Counted(1)
        );
    }
}

// ---------------------------------------------------------------- sealing

/// Data keys are insert-if-absent and listed back as stored.
pub async fn data_keys_are_insert_if_absent(storage: Storage) {
    let f = Fixture::new(storage).await;
    let keys = &f.storage.data_keys;
    let before = keys.list_data_keys().await.unwrap();
    assert_eq!(
        before.len(),
        2,
        "the sealer created one sealing and one index key"
    );
    let key = StoredDataKey {
        id: DataKeyId::new("dk-manual").unwrap(),
        kind: DataKeyKind::Sealing,
        wrapped: WrappedKey {
            kek_id: KeyId::new("kek").unwrap(),
            alg: "A256KW".into(),
            bytes: vec![1; 40],
        },
        created_at: f.at(1),
    };
    keys.insert_data_key(&key).await.unwrap();
    assert!(is_conflict(&keys.insert_data_key(&key).await));
    let after = keys.list_data_keys().await.unwrap();
    assert_eq!(after.len(), 3);
    assert!(after.contains(&key));
}

/// A sealed consent survives the backend bit for bit: it opens to the
/// same consent, and its body does not open under another consent's id.
pub async fn sealed_consent_round_trips_through_the_backend(storage: Storage) {
    let f = Fixture::new(storage).await;
    let mut consent = f.data_consent(&f.brand, "pj-1");
    consent.business_entity = Some(Cnpj::parse(CNPJ).unwrap());
    consent.permissions = vec![
        Permission::CustomersBusinessIdentificationsRead,
        Permission::ResourcesRead,
    ];
    let record = consent.seal(&f.sealer).unwrap();
    f.storage
        .consents
        .insert_consent(&record, &[])
        .await
        .unwrap();
    let got = f
        .storage
        .consents
        .get_consent(&f.brand, &consent.id)
        .await
        .unwrap()
        .unwrap();
    let opened = DataConsent::open(&got, &f.sealer).await.unwrap();
    assert_eq!(
        opened,
        DataConsent {
            version: 1,
            ..consent
        }
    );
    let moved = ConsentRecord {
        id: ConsentId::new("urn:bancoazul:other").unwrap(),
        ..got.clone()
    };
    assert!(matches!(
        DataConsent::open(&moved, &f.sealer).await,
        Err(SealError::OpenFailed)
    ));
    let mut by_company = ConsentFilter::brand(f.brand.clone());
    by_company.business_entity = Some(
        f.sealer
            .blind_index(&Document::Cnpj(Cnpj::parse(CNPJ).unwrap()))
            .unwrap(),
    );
    let found = f
        .storage
        .consents
        .list_consents(
            &by_company,
            Window {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert_eq!(found.total_records, 1);
}

// ---------------------------------------------------------------- audit

/// The audit trail is append-only (duplicate ids conflict), scoped by brand,
/// windowed by time and ordered oldest first.
pub async fn audit_trail_appends_and_lists_in_order(storage: Storage) {
    let f = Fixture::new(storage).await;
    let audit = &f.storage.audit;
    let entry = |brand: &BrandId, secs: u64, action: &str| AuditRecord {
        id: MessageId::random(),
        brand: brand.clone(),
        at: f.at(secs),
        action: action.to_owned(),
        interaction_id: Some(opus_core::InteractionId::random()),
        actor: f
            .sealer
            .seal(&SealContext::new("audit", brand, action), CPF.as_bytes())
            .unwrap(),
        details: f
            .sealer
            .seal(&SealContext::new("audit", brand, action), b"{}")
            .unwrap(),
    };
    let late = entry(&f.brand, 30, "consent.revoked");
    let early = entry(&f.brand, 10, "consent.created");
    let middle = entry(&f.brand, 20, "consent.authorised");
    let foreign = entry(&f.other_brand, 15, "consent.created");
    for e in [&late, &early, &middle, &foreign] {
        audit.append_audit(e).await.unwrap();
    }
    assert!(is_conflict(&audit.append_audit(&early).await));
    let all = audit
        .list_audit(&f.brand, f.now(), f.at(100), 10)
        .await
        .unwrap();
    assert_eq!(all, vec![early.clone(), middle.clone(), late.clone()]);
    let window = audit
        .list_audit(&f.brand, f.at(20), f.at(30), 10)
        .await
        .unwrap();
    assert_eq!(window, vec![middle]);
    let limited = audit
        .list_audit(&f.brand, f.now(), f.at(100), 1)
        .await
        .unwrap();
    assert_eq!(limited, vec![early]);
    let other = audit
        .list_audit(&f.other_brand, f.now(), f.at(100), 10)
        .await
        .unwrap();
    assert_eq!(other, vec![foreign]);
}

/// Runs every storage contract test against a backend.
///
/// The argument is a factory: an expression callable with no arguments that
/// returns a future of a fresh, empty [`opus_core::Storage`]; it is called once per
/// test. The generated tests are plain `#[test]` functions with their own
/// runtime. With `optional:` the factory returns `Option<Storage>`, and
/// `None` skips the test with a message (for backends that need a service).
///
/// ```
/// opus_testkit::storage_conformance_tests!(|| async {
///     opus_core::Storage::from_backend(std::sync::Arc::new(opus_store::MemoryStore::new()))
/// });
/// # fn main() {}
/// ```
#[macro_export]
macro_rules! storage_conformance_tests {
    (optional: $factory:expr) => {
        $crate::__storage_conformance_tests!(@optional $factory);
    };
    ($factory:expr) => {
        $crate::__storage_conformance_tests!(@optional || async { Some(($factory)().await) });
    };
}

/// Implementation detail of [`storage_conformance_tests!`]: the list of contract tests.
#[doc(hidden)]
#[macro_export]
macro_rules! __storage_conformance_tests {
    (@optional $factory:expr) => {
        $crate::__storage_conformance_tests!(@each $factory;
            consent_insert_then_get_round_trips,
            consent_duplicate_insert_conflicts,
            consent_lookups_are_scoped_by_brand,
            consent_update_is_compare_and_set,
            consent_update_guards_immutable_fields,
            consent_concurrent_transitions_exactly_one_wins,
            consent_listing_filters_orders_and_pages,
            consent_changes_write_the_outbox_atomically,
            payment_consent_is_consumed_exactly_once,
            payment_creation_is_all_or_nothing,
            payment_updates_and_due_listing,
            client_registration_lifecycle,
            par_request_uri_is_consumed_once,
            par_request_is_bound_and_expires,
            authorization_code_is_redeemed_exactly_once,
            authorization_code_replay_and_expiry,
            tokens_are_revoked_by_token_grant_and_consent,
            refresh_token_rotation_is_single_use,
            expired_grants_are_purged,
            registrations_round_trip_and_replace,
            documents_are_versioned_listed_and_raced,
            outages_are_listed_by_window_and_replaced,
            call_stats_count_exactly_under_concurrency,
            interaction_round_trips_scoped_and_expiring,
            interaction_update_is_compare_and_set,
            interaction_handoff_is_unique_and_scoped,
            idempotency_replays_the_first_outcome,
            idempotency_refuses_a_changed_request,
            idempotency_first_use_starts_once_under_race,
            idempotency_leases_release_and_retention,
            jti_replay_is_refused,
            jti_concurrent_use_exactly_one_accepted,
            outbox_claim_then_ack_delivers_once,
            outbox_lease_expiry_redelivers_and_fences,
            outbox_retry_backoff_and_dead_letter,
            outbox_concurrent_workers_never_share_a_message,
            outbox_orders_batches_and_topics,
            counter_never_exceeds_its_limit,
            counter_refunds_and_key_independence,
            data_keys_are_insert_if_absent,
            sealed_consent_round_trips_through_the_backend,
            audit_trail_appends_and_lists_in_order,
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                $crate::conformance::run(async {
                    match ($factory)().await {
                        Some(storage) => $crate::conformance::storage::$name(storage).await,
                        None => eprintln!(
                            "skipped {}: the backend under test is not available",
                            stringify!($name)
                        ),
                    }
                });
            }
        )*
    };
}
