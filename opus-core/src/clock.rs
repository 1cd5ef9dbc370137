//! Time, injected (architecture invariant 7).
//!
//! Everything that checks `exp`, `nbf`, consent expiry, limits or backoff
//! reads a [`Clock`]; nothing calls `SystemTime::now()` directly. Tests use
//! the manual clock of `opus-testkit` and move time instead of sleeping.

use std::fmt;

use crate::datetime::Timestamp;

/// A source of the current time.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's wall clock.
#[derive(Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_offset_date_time(time::OffsetDateTime::now_utc())
    }
}

impl fmt::Debug for SystemClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SystemClock")
    }
}
