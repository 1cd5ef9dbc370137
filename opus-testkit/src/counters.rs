//! A [`CounterStore`] that remembers, for tests, every count it reached and
//! every call it refused: the holder-side evidence that a client stayed
//! within the operational limits.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use opus_core::store::{CounterKey, CounterOutcome, CounterStore, StoreError};

/// Wraps a counter store; see the module docs.
pub struct RecordingCounters {
    inner: Arc<dyn CounterStore>,
    seen: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    highest: BTreeMap<String, (CounterKey, u64)>,
    refused: Vec<CounterKey>,
}

impl std::fmt::Debug for RecordingCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordingCounters").finish_non_exhaustive()
    }
}

impl RecordingCounters {
    /// Records what `inner` counts.
    pub fn new(inner: Arc<dyn CounterStore>) -> Self {
        Self {
            inner,
            seen: Mutex::default(),
        }
    }

    /// Every counter used, with the highest count it reached.
    pub fn highest(&self) -> Vec<(CounterKey, u64)> {
        self.lock().highest.values().cloned().collect()
    }

    /// The calls refused because their limit was reached (the 423s).
    pub fn refused(&self) -> Vec<CounterKey> {
        self.lock().refused.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl CounterStore for RecordingCounters {
    async fn try_increment(
        &self,
        key: &CounterKey,
        limit: u64,
    ) -> Result<CounterOutcome, StoreError> {
        let outcome = self.inner.try_increment(key, limit).await?;
        let mut seen = self.lock();
        match outcome {
            CounterOutcome::Counted(n) => {
                let entry = seen
                    .highest
                    .entry(key.canonical())
                    .or_insert_with(|| (key.clone(), 0));
                entry.1 = entry.1.max(n);
            }
            _ => seen.refused.push(key.clone()),
        }
        Ok(outcome)
    }

    async fn refund(&self, key: &CounterKey) -> Result<(), StoreError> {
        self.inner.refund(key).await
    }

    async fn count(&self, key: &CounterKey) -> Result<u64, StoreError> {
        self.inner.count(key).await
    }
}
