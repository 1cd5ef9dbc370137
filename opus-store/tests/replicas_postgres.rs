//! Two instances on one PostgreSQL — each with its own connection pool, on
//! its own OS thread and tokio runtime — behave as one: exactly one winner
//! of a code redemption and of a consent consumption, and an outbox drained
//! by both, with a crashed worker's claims redelivered, loses nothing.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use opus_core::consent::{ConsentKind, ConsentStatus};
use opus_core::payment::PaymentStatus;
use opus_core::seal::{SealContext, Sealer};
use opus_core::store::{
    AuthorizationCodeRecord, CodeRedemption, ConsentRecord, OutboxMessage, PaymentRecord,
    TokenHash, Topic,
};
use opus_core::{BrandId, ClientId, ConsentId, GrantId, MessageId, PaymentId, Storage, Timestamp};
use opus_testkit::{ManualClock, TestKeyCustody};

const PER_REPLICA: usize = 50;

fn t(secs: u64) -> Timestamp {
    Timestamp::from_unix_seconds(1_800_000_000)
        .unwrap()
        .saturating_add(Duration::from_secs(secs))
}

/// Runs `work(replica)` on two threads, each with its own runtime and its own
/// store connected to `schema`, started together.
fn on_two_replicas<T, F, Fut>(url: &str, schema: &str, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(usize, opus_store::PostgresStore) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = T>,
{
    let work = Arc::new(work);
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|replica| {
            let (work, barrier) = (work.clone(), barrier.clone());
            let (url, schema) = (url.to_owned(), schema.to_owned());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let store = connect(&url, &schema).await;
                    barrier.wait();
                    work(replica, store).await
                })
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

async fn connect(url: &str, schema: &str) -> opus_store::PostgresStore {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let options: PgConnectOptions = url.parse().unwrap();
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(options.options([("search_path", schema)]))
        .await
        .unwrap();
    opus_store::PostgresStore::from_pool(pool).await.unwrap()
}

struct Setup {
    url: String,
    schema: String,
}

fn setup() -> Option<Setup> {
    let url = support::postgres_url()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let schema = rt.block_on(async {
        let store = support::postgres_store(&url, 1).await;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(store.pool())
            .await
            .unwrap();
        schema
    });
    Some(Setup { url, schema })
}

fn block<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

#[test]
fn code_redemption_has_one_winner_across_replicas() {
    let Some(s) = setup() else { return };
    let brand = BrandId::new("banco-azul").unwrap();
    let grant = GrantId::random();
    block(async {
        let store = connect(&s.url, &s.schema).await;
        let storage = Storage::from_backend(Arc::new(store));
        let sealer = Sealer::open_or_create(
            Arc::new(TestKeyCustody::new("r")),
            storage.data_keys.clone(),
            Arc::new(ManualClock::new()),
        )
        .await
        .unwrap();
        storage
            .grants
            .put_code(&AuthorizationCodeRecord {
                brand: brand.clone(),
                code: TokenHash::of("shared-code"),
                grant_id: grant,
                client_id: ClientId::new("tpp").unwrap(),
                consent_id: None,
                created_at: t(0),
                expires_at: t(60),
                grant: sealer
                    .seal(&SealContext::new("code", &brand, "c"), b"{}")
                    .unwrap(),
            })
            .await
            .unwrap();
    });
    let results = on_two_replicas(&s.url, &s.schema, move |_, store| {
        let brand = BrandId::new("banco-azul").unwrap();
        async move {
            let store = Arc::new(store);
            let tasks: Vec<_> = (0..PER_REPLICA)
                .map(|_| {
                    let (store, brand) = (store.clone(), brand.clone());
                    tokio::spawn(async move {
                        use opus_core::store::GrantStore;
                        store
                            .redeem_code(&brand, &TokenHash::of("shared-code"), t(1))
                            .await
                            .unwrap()
                    })
                })
                .collect();
            let mut out = Vec::new();
            for task in tasks {
                out.push(task.await.unwrap());
            }
            out
        }
    });
    let all: Vec<CodeRedemption> = results.into_iter().flatten().collect();
    assert_eq!(all.len(), 2 * PER_REPLICA);
    assert_eq!(
        all.iter()
            .filter(|r| matches!(r, CodeRedemption::Redeemed(_)))
            .count(),
        1,
        "one token set"
    );
    assert!(all.iter().all(|r| match r {
        CodeRedemption::Redeemed(_) => true,
        CodeRedemption::AlreadyRedeemed { grant_id } => *grant_id == grant,
        _ => false,
    }));
}

#[test]
fn consent_consumption_has_one_winner_across_replicas() {
    let Some(s) = setup() else { return };
    let brand = BrandId::new("banco-azul").unwrap();
    let consent_id = ConsentId::new("urn:bancoazul:shared").unwrap();
    let consent = block(async {
        let store = connect(&s.url, &s.schema).await;
        let storage = Storage::from_backend(Arc::new(store));
        let sealer = Sealer::open_or_create(
            Arc::new(TestKeyCustody::new("r")),
            storage.data_keys.clone(),
            Arc::new(ManualClock::new()),
        )
        .await
        .unwrap();
        let record = ConsentRecord {
            brand: brand.clone(),
            id: consent_id.clone(),
            kind: ConsentKind::Payment,
            client_id: ClientId::new("tpp").unwrap(),
            status: ConsentStatus::Authorised,
            version: 0,
            created_at: t(0),
            status_updated_at: t(0),
            expires_at: Some(t(3600)),
            subject: None,
            business_entity: None,
            body: sealer
                .seal(
                    &SealContext::new("consent", &brand, consent_id.as_str()),
                    b"{}",
                )
                .unwrap(),
        };
        storage.consents.insert_consent(&record, &[]).await.unwrap()
    });
    let results = on_two_replicas(&s.url, &s.schema, move |replica, store| {
        let consent = consent.clone();
        async move {
            let store = Arc::new(store);
            let tasks: Vec<_> = (0..PER_REPLICA)
                .map(|i| {
                    let (store, consent) = (store.clone(), consent.clone());
                    tokio::spawn(async move {
                        use opus_core::store::PaymentStore;
                        let payment = PaymentRecord {
                            brand: consent.brand.clone(),
                            id: PaymentId::new(format!("r{replica}-p{i}")).unwrap(),
                            consent_id: consent.id.clone(),
                            client_id: consent.client_id.clone(),
                            status: PaymentStatus::Rcvd,
                            version: 0,
                            created_at: t(2),
                            status_updated_at: t(2),
                            scheduled_for: None,
                            body: consent.body.clone(),
                        };
                        let consumed = ConsentRecord {
                            status: ConsentStatus::Consumed,
                            ..consent.clone()
                        };
                        store
                            .create_consuming(&consumed, consent.version, &[payment], &[])
                            .await
                            .is_ok()
                    })
                })
                .collect();
            let mut wins = 0;
            for task in tasks {
                wins += usize::from(task.await.unwrap());
            }
            wins
        }
    });
    assert_eq!(
        results.iter().sum::<usize>(),
        1,
        "the consent is consumed exactly once"
    );
    let payments = block(async {
        use opus_core::store::PaymentStore;
        connect(&s.url, &s.schema)
            .await
            .list_payments_by_consent(&brand, &consent_id)
            .await
            .unwrap()
    });
    assert_eq!(payments.len(), 1);
}

#[test]
fn outbox_drained_by_two_replicas_loses_nothing_even_when_a_worker_dies() {
    let Some(s) = setup() else { return };
    const MESSAGES: usize = 300;
    let topic = Topic::new("pcm").unwrap();
    let brand = BrandId::new("banco-azul").unwrap();
    let ids: Vec<MessageId> = (0..MESSAGES).map(|_| MessageId::random()).collect();
    let crashed: HashSet<MessageId> = block(async {
        use opus_core::store::Outbox;
        let store = connect(&s.url, &s.schema).await;
        let messages: Vec<OutboxMessage> = ids
            .iter()
            .map(|id| OutboxMessage {
                id: *id,
                brand: brand.clone(),
                topic: topic.clone(),
                payload: b"{}".to_vec(),
                created_at: t(0),
                available_at: t(0),
            })
            .collect();
        store.enqueue(&messages).await.unwrap();
        // A worker claims ten messages and dies without acking them.
        store
            .claim(&topic, 10, t(1), t(31))
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.message.id)
            .collect()
    });
    assert_eq!(crashed.len(), 10);
    // Both replicas drain with four workers each, until nothing is due; all
    // eight workers share one clock, so they move to the later time together.
    let phase = Arc::new(tokio::sync::Barrier::new(8));
    let drained = on_two_replicas(&s.url, &s.schema, move |_, store| {
        let phase = phase.clone();
        async move {
            let store = Arc::new(store);
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let (store, phase) = (store.clone(), phase.clone());
                    tokio::spawn(async move {
                        use opus_core::store::Outbox;
                        let topic = Topic::new("pcm").unwrap();
                        let mut acked = Vec::new();
                        // First at t=2 (the dead worker's lease still holds), then after it lapsed.
                        for now in [t(2), t(40)] {
                            phase.wait().await;
                            loop {
                                let batch = store
                                    .claim(
                                        &topic,
                                        7,
                                        now,
                                        now.saturating_add(Duration::from_secs(30)),
                                    )
                                    .await
                                    .unwrap();
                                if batch.is_empty() {
                                    break;
                                }
                                for claimed in batch {
                                    match store.ack(&claimed.message.id, claimed.lease).await {
                                        Ok(()) => {
                                            acked.push((claimed.message.id, claimed.attempts))
                                        }
                                        // Fenced: the lease lapsed and another worker owns it now.
                                        Err(opus_core::StoreError::Conflict) => {}
                                        Err(e) => panic!("ack: {e}"),
                                    }
                                }
                            }
                        }
                        acked
                    })
                })
                .collect();
            let mut all = Vec::new();
            for w in workers {
                all.extend(w.await.unwrap());
            }
            all
        }
    });
    let acked: Vec<(MessageId, u32)> = drained.into_iter().flatten().collect();
    let mut seen: HashMap<MessageId, u32> = HashMap::new();
    for (id, attempts) in &acked {
        assert!(
            seen.insert(*id, *attempts).is_none(),
            "a message was acked twice"
        );
    }
    assert_eq!(seen.len(), MESSAGES, "every message delivered");
    assert_eq!(
        ids.iter().collect::<HashSet<_>>(),
        seen.keys().collect::<HashSet<_>>()
    );
    for id in &crashed {
        assert_eq!(
            seen[id], 2,
            "the dead worker's messages were redelivered as a second attempt"
        );
    }
    let pending = block(async {
        use opus_core::store::Outbox;
        connect(&s.url, &s.schema)
            .await
            .pending(&Topic::new("pcm").unwrap())
            .await
            .unwrap()
    });
    assert_eq!(pending, 0);
}
