//! The storage suite must fail backends that break the contract: each
//! broken port below is a classic bug, and the matching contract test has to
//! catch it.

// Test helpers outside #[test] functions: a failed expectation must panic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use async_trait::async_trait;
use opus_core::envelope::Page;
use opus_core::store::{
    ConsentFilter, ConsentRecord, ConsentStore, CounterKey, CounterOutcome, CounterStore,
    OutboxMessage, ReplayGuard, ReplayScope, StoreError, Window,
};
use opus_core::{BrandId, ConsentId, Jti, Storage, Timestamp};
use opus_store::MemoryStore;
use opus_testkit::conformance::{run, storage};

/// Check-then-act: reads the version, yields, then writes with whatever
/// version is current — not atomic.
struct RacyConsents(Arc<MemoryStore>);

#[async_trait]
impl ConsentStore for RacyConsents {
    async fn insert_consent(
        &self,
        r: &ConsentRecord,
        o: &[OutboxMessage],
    ) -> Result<ConsentRecord, StoreError> {
        self.0.insert_consent(r, o).await
    }
    async fn get_consent(
        &self,
        b: &BrandId,
        id: &ConsentId,
    ) -> Result<Option<ConsentRecord>, StoreError> {
        self.0.get_consent(b, id).await
    }
    async fn update_consent(
        &self,
        r: &ConsentRecord,
        expected: u64,
        o: &[OutboxMessage],
    ) -> Result<ConsentRecord, StoreError> {
        let seen = self
            .0
            .get_consent(&r.brand, &r.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if seen.version != expected {
            return Err(StoreError::Conflict);
        }
        tokio::task::yield_now().await;
        let current = self
            .0
            .get_consent(&r.brand, &r.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        self.0.update_consent(r, current.version, o).await
    }
    async fn list_consents(
        &self,
        f: &ConsentFilter,
        w: Window,
    ) -> Result<Page<ConsentRecord>, StoreError> {
        self.0.list_consents(f, w).await
    }
}

/// Forgets every `jti`.
struct ForgetfulReplay;

#[async_trait]
impl ReplayGuard for ForgetfulReplay {
    async fn insert_jti(
        &self,
        _: &ReplayScope,
        _: &Jti,
        _: Timestamp,
        _: Timestamp,
    ) -> Result<(), StoreError> {
        Ok(())
    }
    async fn purge_expired_jtis(&self, _: Timestamp) -> Result<u64, StoreError> {
        Ok(0)
    }
}

/// Counts past the limit.
struct LimitlessCounters(Arc<MemoryStore>);

#[async_trait]
impl CounterStore for LimitlessCounters {
    async fn try_increment(
        &self,
        k: &CounterKey,
        _limit: u64,
    ) -> Result<CounterOutcome, StoreError> {
        self.0.try_increment(k, u64::MAX).await
    }
    async fn refund(&self, k: &CounterKey) -> Result<(), StoreError> {
        self.0.refund(k).await
    }
    async fn count(&self, k: &CounterKey) -> Result<u64, StoreError> {
        self.0.count(k).await
    }
}

fn broken(patch: impl FnOnce(&mut Storage, Arc<MemoryStore>)) -> Storage {
    let backend = Arc::new(MemoryStore::new());
    let mut storage = Storage::from_backend(backend.clone());
    patch(&mut storage, backend);
    storage
}

fn fails<F: std::future::Future<Output = ()>>(body: F) -> bool {
    catch_unwind(AssertUnwindSafe(|| run(body))).is_err()
}

#[test]
fn a_non_atomic_compare_and_set_is_caught() {
    // Races are probabilistic for a racy backend: a few rounds make a miss vanishingly rare.
    let caught = (0..5).any(|_| {
        fails(async {
            let s = broken(|s, b| s.consents = Arc::new(RacyConsents(b)));
            storage::consent_concurrent_transitions_exactly_one_wins(s).await;
        })
    });
    assert!(caught, "the race test let a check-then-act backend through");
}

#[test]
fn a_replay_guard_that_forgets_is_caught() {
    assert!(fails(async {
        storage::jti_replay_is_refused(broken(|s, _| s.replay = Arc::new(ForgetfulReplay))).await;
    }));
    assert!(fails(async {
        storage::jti_concurrent_use_exactly_one_accepted(broken(|s, _| {
            s.replay = Arc::new(ForgetfulReplay)
        }))
        .await;
    }));
}

#[test]
fn a_counter_without_limit_is_caught() {
    assert!(fails(async {
        storage::counter_never_exceeds_its_limit(broken(|s, b| {
            s.counters = Arc::new(LimitlessCounters(b))
        }))
        .await;
    }));
}

#[test]
fn the_correct_backend_passes_the_same_bodies() {
    assert!(!fails(async {
        storage::consent_concurrent_transitions_exactly_one_wins(broken(|_, _| {})).await;
    }));
}
