//! Events through NATS JetStream: relayed from the outbox, received by a
//! durable subscriber — also what was published while it was stopped —
//! and de-duplicated by event id. Needs `OPUS_NATS_URL`.
#![cfg(feature = "nats")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::pull};
use futures_util::StreamExt;
use opus_core::consent::{ConsentKind, ConsentStatus};
use opus_core::event::{DomainEvent, EventKind, EventSink};
use opus_core::store::Outbox;
use opus_core::{BrandId, ClientId, Clock, ConsentId, MessageId};
use opus_store::MemoryStore;
use opus_store::events::{NatsEventSink, OutboxEventRelay};
use opus_testkit::ManualClock;

fn nats_url() -> Option<String> {
    match std::env::var("OPUS_NATS_URL") {
        Ok(url) => Some(url),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but OPUS_NATS_URL is not set: the NATS tests must run in CI")
        }
        Err(_) => {
            eprintln!("skipping NATS tests: set OPUS_NATS_URL (e.g. nats://127.0.0.1:4222)");
            None
        }
    }
}

fn event(clock: &ManualClock, consent: &str) -> DomainEvent {
    DomainEvent {
        id: MessageId::random(),
        brand: BrandId::new("banco-azul").unwrap(),
        occurred_at: clock.now(),
        kind: EventKind::ConsentStatusChanged {
            consent_id: ConsentId::new(format!("urn:bancoazul:{consent}")).unwrap(),
            consent_kind: ConsentKind::Data,
            client_id: ClientId::new("tpp").unwrap(),
            from: ConsentStatus::Authorised,
            to: ConsentStatus::Rejected,
        },
    }
}

async fn next(consumer: &jetstream::consumer::Consumer<pull::Config>) -> Vec<DomainEvent> {
    let mut batch = consumer
        .fetch()
        .max_messages(10)
        .expires(Duration::from_secs(2))
        .messages()
        .await
        .unwrap();
    let mut events = Vec::new();
    while let Some(message) = batch.next().await {
        let message = message.unwrap();
        events.push(serde_json::from_slice(&message.payload).unwrap());
        message.ack().await.unwrap();
    }
    events
}

#[tokio::test]
async fn a_subscriber_restarted_receives_what_it_missed() {
    let Some(url) = nats_url() else { return };
    let run = uuid::Uuid::new_v4().simple().to_string();
    let prefix = format!("opus_t_{run}");
    let stream_name = format!("OPUS_T_{run}");
    let client = async_nats::connect(&url).await.unwrap();
    let js = jetstream::new(client);
    let sink = Arc::new(NatsEventSink::new(js.clone(), &prefix));
    sink.ensure_stream(&stream_name).await.unwrap();

    // An event goes outbox → relay → JetStream.
    let clock = Arc::new(ManualClock::new());
    let store = Arc::new(MemoryStore::new());
    let relay = OutboxEventRelay::new(store.clone(), sink.clone(), clock.clone()).unwrap();
    let first = event(&clock, "c1");
    store
        .enqueue(&[first.outbox_message().unwrap()])
        .await
        .unwrap();
    assert_eq!(relay.run_once().await.unwrap().delivered, 1);

    // A durable subscriber reads it, then stops.
    let config = pull::Config {
        durable_name: Some("business".into()),
        ..Default::default()
    };
    let stream = js.get_stream(&stream_name).await.unwrap();
    let consumer = stream
        .get_or_create_consumer("business", config.clone())
        .await
        .unwrap();
    assert_eq!(next(&consumer).await, vec![first.clone()]);
    drop(consumer);

    // While it is down: a new event, and the first one again (a redelivery).
    let second = event(&clock, "c2");
    store
        .enqueue(&[second.outbox_message().unwrap()])
        .await
        .unwrap();
    assert_eq!(relay.run_once().await.unwrap().delivered, 1);
    sink.publish(&first).await.unwrap();

    // Restarted under the same durable name, it gets exactly what it missed.
    let consumer = stream
        .get_or_create_consumer("business", config)
        .await
        .unwrap();
    assert_eq!(next(&consumer).await, vec![second]);
    let mut stream = js.get_stream(&stream_name).await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        2,
        "the duplicate was dropped by event id"
    );
    js.delete_stream(&stream_name).await.unwrap();
}
