//! A clock that moves only when told to.

use std::sync::Mutex;
use std::time::Duration;

use opus_core::{Clock, Timestamp};

/// A controllable [`Clock`]: tests move time instead of sleeping.
///
/// ```
/// use std::time::Duration;
/// use opus_core::{Clock, Timestamp};
/// use opus_testkit::ManualClock;
///
/// let clock = ManualClock::at(Timestamp::parse("2026-01-01T00:00:00Z")?);
/// clock.advance(Duration::from_secs(61 * 60));
/// assert_eq!(clock.now().to_string(), "2026-01-01T01:01:00Z");
/// # Ok::<(), opus_core::InvalidValue>(())
/// ```
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn at(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// A clock at a fixed, realistic instant (2026-11-29T12:00:00Z).
    pub fn new() -> Self {
        Self::at(Timestamp::from_unix_seconds(1_795_953_600).unwrap_or(Timestamp::UNIX_EPOCH))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.saturating_add(by);
    }

    /// Sets the clock (backwards too, to test clock skew).
    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
