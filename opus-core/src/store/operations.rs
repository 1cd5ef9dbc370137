//! Operations: the outage registry behind the status and outages APIs,
//! and the per-day call statistics behind the admin metrics API and the
//! availability and latency figures.

use async_trait::async_trait;

use crate::datetime::{Date, Timestamp};
use crate::id::BrandId;

use super::StoreError;

/// An outage, planned or not, of some or all endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutageRecord {
    /// The brand.
    pub brand: BrandId,
    /// Its id (unique within the brand); writing it again replaces it.
    pub id: String,
    /// Announced in advance (`SCHEDULED_OUTAGE`), or not.
    pub scheduled: bool,
    /// Only `endpoints` are affected (`PARTIAL_FAILURE`), not the whole API.
    pub partial: bool,
    /// When it starts (or started).
    pub starts_at: Timestamp,
    /// When it ends (ended); `None` while unresolved.
    pub ends_at: Option<Timestamp>,
    /// What to tell participants (Portuguese, as the APIs show it).
    pub explanation: String,
    /// The affected endpoints (templates), when partial.
    pub endpoints: Vec<String>,
}

/// Upper bounds (milliseconds) of the latency buckets; a last bucket
/// holds everything slower.
pub const LATENCY_BUCKETS_MS: [u32; 11] = [10, 25, 50, 100, 250, 500, 1000, 1500, 2000, 4000, 8000];

/// The bucket of a duration.
pub fn latency_bucket(duration_ms: u32) -> usize {
    LATENCY_BUCKETS_MS
        .iter()
        .position(|bound| duration_ms <= *bound)
        .unwrap_or(LATENCY_BUCKETS_MS.len())
}

/// One call served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSample {
    /// The brand.
    pub brand: BrandId,
    /// The endpoint template.
    pub endpoint: String,
    /// When it was received.
    pub at: Timestamp,
    /// How long it took.
    pub duration_ms: u32,
    /// The status answered.
    pub status: u16,
}

/// One endpoint's calls on one day (Brasília).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyCallStats {
    /// The endpoint template.
    pub endpoint: String,
    /// The day.
    pub day: Date,
    /// Calls.
    pub invocations: u64,
    /// Calls answered 5xx.
    pub errors: u64,
    /// Calls refused for the rate (429).
    pub rejections: u64,
    /// The sum of their durations.
    pub duration_ms_sum: u64,
    /// The most calls within one second.
    pub peak_per_second: u64,
    /// Calls per latency bucket ([`LATENCY_BUCKETS_MS`], then the rest).
    pub latency: [u64; 12],
}

/// Storage of outages and call statistics.
#[async_trait]
pub trait OperationsStore: Send + Sync + 'static {
    /// Writes an outage (a new one, or a new state of one with the same id).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn put_outage(&self, outage: &OutageRecord) -> Result<(), StoreError>;

    /// The outages of `brand` in effect at any time within `[from, to)`
    /// (unresolved ones included), earliest first.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn list_outages(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OutageRecord>, StoreError>;

    /// Counts one call (atomically, from any number of replicas).
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn record_call(&self, sample: &CallSample) -> Result<(), StoreError>;

    /// The statistics of `brand` for the days `from..=to`, by endpoint then day.
    ///
    /// # Errors
    /// [`StoreError`] when the backend fails.
    async fn call_stats(
        &self,
        brand: &BrandId,
        from: Date,
        to: Date,
    ) -> Result<Vec<DailyCallStats>, StoreError>;
}
