//! Domain events: from the outbox to an [`EventSink`].
//!
//! State changes write their events into the outbox in the same transaction
//! (topic [`opus_core::event::EVENTS_TOPIC`]); an [`OutboxEventRelay`] claims
//! them and hands them to a sink, acking on success, retrying with
//! exponential backoff while the sink is unavailable, and dead-lettering an
//! event the sink refuses. Delivery is at-least-once; the event id is stable
//! so receivers (and JetStream) drop duplicates.
//!
//! Sinks: [`InProcessEventSink`] (a broadcast channel, the embedded
//! default) and, with the `nats` feature, `NatsEventSink` (JetStream).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use opus_core::Clock;
use opus_core::event::{DomainEvent, EVENTS_TOPIC, EventError, EventSink};
use opus_core::store::{
    Delivery, DeliveryPolicy, Outbox, StoreError, Topic, deliver_once, retry_backoff,
};
use tokio::sync::broadcast;

/// Events to subscribers in the same process (a broadcast channel; a slow
/// subscriber that falls behind by more than the capacity misses events).
#[derive(Debug, Clone)]
pub struct InProcessEventSink {
    sender: broadcast::Sender<DomainEvent>,
}

impl InProcessEventSink {
    /// A sink buffering up to `capacity` events per subscriber.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Self { sender }
    }

    /// A new subscriber, receiving events published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.sender.subscribe()
    }
}

#[async_trait]
impl EventSink for InProcessEventSink {
    async fn publish(&self, event: &DomainEvent) -> Result<(), EventError> {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.sender.send(event.clone());
        Ok(())
    }
}

/// What one relay pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RelayPass {
    /// Events handed to the sink and acked.
    pub delivered: usize,
    /// Events given back for a later attempt.
    pub retried: usize,
    /// Events dead-lettered (refused by the sink, unreadable, or out of attempts).
    pub dead_lettered: usize,
}

/// Moves events from the outbox to a sink.
pub struct OutboxEventRelay {
    outbox: Arc<dyn Outbox>,
    sink: Arc<dyn EventSink>,
    clock: Arc<dyn Clock>,
    topic: Topic,
    batch: u32,
    lease: Duration,
    max_attempts: u32,
}

impl std::fmt::Debug for OutboxEventRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxEventRelay")
            .field("batch", &self.batch)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

impl OutboxEventRelay {
    /// A relay claiming up to 100 events at a time under a 30-second lease,
    /// dead-lettering after 20 attempts.
    ///
    /// # Errors
    /// Never in practice (the events topic is a valid constant).
    pub fn new(
        outbox: Arc<dyn Outbox>,
        sink: Arc<dyn EventSink>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, opus_core::InvalidValue> {
        Ok(Self {
            outbox,
            sink,
            clock,
            topic: Topic::new(EVENTS_TOPIC)?,
            batch: 100,
            lease: Duration::from_secs(30),
            max_attempts: 20,
        })
    }

    /// The delay before attempt `attempts + 1`: 1 s doubling up to 5 minutes.
    pub fn backoff(attempts: u32) -> Duration {
        retry_backoff(attempts)
    }

    /// Claims due events once and delivers them.
    ///
    /// # Errors
    /// [`StoreError`] when the outbox fails.
    pub async fn run_once(&self) -> Result<RelayPass, StoreError> {
        let policy = DeliveryPolicy {
            topic: self.topic.clone(),
            batch: self.batch,
            lease: self.lease,
            max_attempts: self.max_attempts,
        };
        let pass = deliver_once(
            self.outbox.as_ref(),
            &policy,
            self.clock.now(),
            |message| async move {
                let id = message.message.id;
                let event = serde_json::from_slice::<DomainEvent>(&message.message.payload);
                let outcome = match &event {
                    Ok(event) => self.sink.publish(event).await,
                    Err(_) => Err(EventError::Rejected("unreadable event payload".into())),
                };
                Ok(match outcome {
                    Ok(()) => Delivery::Done,
                    Err(EventError::Unavailable(e)) => {
                        tracing::debug!(event = %id, error = %e, attempts = message.attempts, "event sink unavailable; retrying");
                        Delivery::Retry
                    }
                    Err(e) => {
                        tracing::warn!(event = %id, error = %e, "event dead-lettered");
                        Delivery::Give
                    }
                })
            },
        )
        .await?;
        Ok(RelayPass {
            delivered: pass.delivered,
            retried: pass.retried,
            dead_lettered: pass.dead_lettered,
        })
    }

    /// Runs passes every `interval` until `shutdown` completes. Outbox
    /// failures are logged and retried on the next pass.
    pub async fn run(&self, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.run_once().await {
                tracing::warn!(error = %e, "event relay pass failed");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {}
                () = &mut shutdown => return,
            }
        }
    }
}

#[cfg(feature = "nats")]
pub use nats::NatsEventSink;

#[cfg(feature = "nats")]
mod nats {
    use async_nats::jetstream;
    use async_trait::async_trait;
    use opus_core::event::{DomainEvent, EventError, EventSink};

    /// Publishes events to NATS JetStream on `<prefix>.<brand>.<type>`, with
    /// the event id as `Nats-Msg-Id` so the stream drops duplicates, and waits
    /// for the stream's acknowledgement (the event is stored when `publish`
    /// returns `Ok`).
    #[derive(Clone)]
    pub struct NatsEventSink {
        jetstream: jetstream::Context,
        prefix: String,
    }

    impl std::fmt::Debug for NatsEventSink {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("NatsEventSink")
                .field("prefix", &self.prefix)
                .finish_non_exhaustive()
        }
    }

    impl NatsEventSink {
        /// Connects to `url` and publishes under `prefix`.
        ///
        /// # Errors
        /// [`EventError::Unavailable`] when NATS cannot be reached.
        pub async fn connect(url: &str, prefix: &str) -> Result<Self, EventError> {
            let client = async_nats::connect(url)
                .await
                .map_err(|e| EventError::Unavailable(Box::new(e)))?;
            Ok(Self::new(jetstream::new(client), prefix))
        }

        /// Publishes through an existing JetStream context.
        pub fn new(jetstream: jetstream::Context, prefix: &str) -> Self {
            Self {
                jetstream,
                prefix: prefix.trim_end_matches('.').to_owned(),
            }
        }

        /// Creates the stream `name` over `<prefix>.>` if it does not exist.
        ///
        /// # Errors
        /// [`EventError::Unavailable`] when JetStream refuses.
        pub async fn ensure_stream(&self, name: &str) -> Result<(), EventError> {
            self.jetstream
                .get_or_create_stream(jetstream::stream::Config {
                    name: name.to_owned(),
                    subjects: vec![format!("{}.>", self.prefix)],
                    ..Default::default()
                })
                .await
                .map(|_| ())
                .map_err(|e| EventError::Unavailable(Box::new(e)))
        }

        /// The subject an event goes to.
        pub fn subject(&self, event: &DomainEvent) -> String {
            let kind = serde_json::to_value(&event.kind)
                .ok()
                .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "event".to_owned());
            format!("{}.{}.{kind}", self.prefix, event.brand)
        }
    }

    #[async_trait]
    impl EventSink for NatsEventSink {
        async fn publish(&self, event: &DomainEvent) -> Result<(), EventError> {
            let payload =
                serde_json::to_vec(event).map_err(|e| EventError::Rejected(Box::new(e)))?;
            let mut headers = async_nats::HeaderMap::new();
            headers.insert("Nats-Msg-Id", event.id.to_string().as_str());
            let ack = self
                .jetstream
                .publish_with_headers(self.subject(event), headers, payload.into())
                .await
                .map_err(|e| EventError::Unavailable(Box::new(e)))?;
            ack.await
                .map_err(|e| EventError::Unavailable(Box::new(e)))?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MemoryStore;
    use opus_core::consent::{ConsentKind, ConsentStatus};
    use opus_core::event::EventKind;
    use opus_core::{BrandId, ClientId, ConsentId, MessageId, Timestamp};
    use std::sync::Mutex;

    struct Flaky {
        outcomes: Mutex<Vec<Result<(), EventError>>>,
        seen: Mutex<Vec<MessageId>>,
    }

    #[async_trait]
    impl EventSink for Flaky {
        async fn publish(&self, event: &DomainEvent) -> Result<(), EventError> {
            self.seen.lock().unwrap().push(event.id);
            self.outcomes.lock().unwrap().pop().unwrap_or(Ok(()))
        }
    }

    struct FixedClock(Mutex<Timestamp>);

    impl Clock for FixedClock {
        fn now(&self) -> Timestamp {
            *self.0.lock().unwrap()
        }
    }

    fn event(at: Timestamp) -> DomainEvent {
        DomainEvent {
            id: MessageId::random(),
            brand: BrandId::new("banco-azul").unwrap(),
            occurred_at: at,
            kind: EventKind::ConsentStatusChanged {
                consent_id: ConsentId::new("urn:bancoazul:c1").unwrap(),
                consent_kind: ConsentKind::Data,
                client_id: ClientId::new("tpp").unwrap(),
                from: ConsentStatus::AwaitingAuthorisation,
                to: ConsentStatus::Authorised,
            },
        }
    }

    #[tokio::test]
    async fn retries_with_backoff_then_delivers_and_dead_letters_refusals() {
        let t0 = Timestamp::from_unix_seconds(1_800_000_000).unwrap();
        let clock = Arc::new(FixedClock(Mutex::new(t0)));
        let store = Arc::new(MemoryStore::new());
        let (a, b) = (event(t0), event(t0));
        store.enqueue(&[a.outbox_message().unwrap()]).await.unwrap();
        // Outcomes are popped from the end: unavailable, then ok.
        let sink = Arc::new(Flaky {
            outcomes: Mutex::new(vec![Ok(()), Err(EventError::Unavailable("down".into()))]),
            seen: Mutex::new(Vec::new()),
        });
        let relay = OutboxEventRelay::new(store.clone(), sink.clone(), clock.clone()).unwrap();
        assert_eq!(
            relay.run_once().await.unwrap(),
            RelayPass {
                retried: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            relay.run_once().await.unwrap(),
            RelayPass::default(),
            "backing off"
        );
        *clock.0.lock().unwrap() = t0.saturating_add(OutboxEventRelay::backoff(1));
        assert_eq!(
            relay.run_once().await.unwrap(),
            RelayPass {
                delivered: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            *sink.seen.lock().unwrap(),
            vec![a.id, a.id],
            "same id on redelivery"
        );

        store.enqueue(&[b.outbox_message().unwrap()]).await.unwrap();
        sink.outcomes
            .lock()
            .unwrap()
            .push(Err(EventError::Rejected("no".into())));
        assert_eq!(
            relay.run_once().await.unwrap(),
            RelayPass {
                dead_lettered: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            store
                .pending(&Topic::new(EVENTS_TOPIC).unwrap())
                .await
                .unwrap(),
            0
        );
        assert_eq!(OutboxEventRelay::backoff(30), Duration::from_secs(300));
    }

    #[tokio::test]
    async fn in_process_subscribers_receive_events() {
        let sink = InProcessEventSink::new(16);
        let mut rx = sink.subscribe();
        let e = event(Timestamp::UNIX_EPOCH);
        sink.publish(&e).await.unwrap();
        assert_eq!(rx.recv().await.unwrap(), e);
    }
}
