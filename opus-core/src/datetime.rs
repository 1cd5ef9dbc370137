//! Dates and date-times in the exact forms the OFB specs use.
//!
//! * [`Timestamp`]: an instant in UTC. On the wire it is
//!   `YYYY-MM-DDTHH:MM:SSZ` (RFC 3339, UTC, no fractions, at most 20
//!   characters), the form of `meta.requestDateTime`, `creationDateTime`,
//!   `expirationDateTime` and the rest. Metrics reports need milliseconds:
//!   see [`Timestamp::to_rfc3339_millis`].
//! * [`Date`]: a calendar date, `YYYY-MM-DD`. Payment dates are dates in
//!   Brasília time ([`Timestamp::date_in_brasilia`]).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset, format_description::well_known::Rfc3339};

use crate::id::InvalidValue;

/// An instant, always in UTC.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Timestamp(OffsetDateTime);

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Timestamp = Timestamp(OffsetDateTime::UNIX_EPOCH);

    /// Wraps an instant, converting it to UTC.
    pub fn from_offset_date_time(value: OffsetDateTime) -> Self {
        Self(value.to_offset(UtcOffset::UTC))
    }

    /// The instant `secs` seconds after the Unix epoch (a JWT NumericDate).
    ///
    /// # Errors
    /// [`InvalidValue`] outside the years -9999 to 9999.
    pub fn from_unix_seconds(secs: i64) -> Result<Self, InvalidValue> {
        OffsetDateTime::from_unix_timestamp(secs)
            .map(Self)
            .map_err(|_| InvalidValue::new("timestamp", "out of range"))
    }

    /// The instant `millis` milliseconds after the Unix epoch.
    ///
    /// # Errors
    /// [`InvalidValue`] outside the years -9999 to 9999.
    pub fn from_unix_millis(millis: i64) -> Result<Self, InvalidValue> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .map(Self)
            .map_err(|_| InvalidValue::new("timestamp", "out of range"))
    }

    /// Seconds since the Unix epoch, rounded down (a JWT NumericDate).
    pub fn unix_seconds(&self) -> i64 {
        self.0.unix_timestamp()
    }

    /// Milliseconds since the Unix epoch, rounded down.
    pub fn unix_millis(&self) -> i64 {
        // Years ±9999 keep this well inside i64.
        i64::try_from(self.0.unix_timestamp_nanos().div_euclid(1_000_000)).unwrap_or(i64::MAX)
    }

    /// The underlying `time` value.
    pub const fn as_offset_date_time(&self) -> OffsetDateTime {
        self.0
    }

    /// This instant plus `duration`, saturating at the end of the range.
    pub fn saturating_add(self, duration: Duration) -> Self {
        match time::Duration::try_from(duration) {
            Ok(d) => self.0.checked_add(d).map_or(Self::max_value(), Self),
            Err(_) => Self::max_value(),
        }
    }

    /// This instant minus `duration`, saturating at the start of the range.
    pub fn saturating_sub(self, duration: Duration) -> Self {
        match time::Duration::try_from(duration) {
            Ok(d) => self.0.checked_sub(d).map_or(Self::min_value(), Self),
            Err(_) => Self::min_value(),
        }
    }

    /// The time from `earlier` to `self`, or zero when `earlier` is later.
    pub fn duration_since(&self, earlier: Timestamp) -> Duration {
        Duration::try_from(self.0 - earlier.0).unwrap_or(Duration::ZERO)
    }

    /// This instant rounded down to the whole second, as it goes on the wire.
    pub fn truncated_to_seconds(&self) -> Self {
        Self(self.0.replace_nanosecond(0).unwrap_or(self.0))
    }

    /// RFC 3339 with milliseconds, `YYYY-MM-DDTHH:MM:SS.sssZ` (PCM reports).
    pub fn to_rfc3339_millis(&self) -> String {
        let d = self.0;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second(),
            d.millisecond()
        )
    }

    /// The calendar date in Brasília (UTC−03:00, no daylight saving since 2019),
    /// the time zone of payment dates and of the operational-limit month.
    pub fn date_in_brasilia(&self) -> Date {
        let offset = UtcOffset::from_hms(-3, 0, 0).unwrap_or(UtcOffset::UTC);
        Date(self.0.to_offset(offset).date())
    }

    /// Parses the OFB date-time pattern
    /// `^(\d{4})-(1[0-2]|0?[1-9])-(3[01]|[12][0-9]|0?[1-9])T(?:[01]\d|2[0123]):(?:[012345]\d):(?:[012345]\d)Z$`.
    ///
    /// # Errors
    /// [`InvalidValue`] for anything else, including fractions, offsets other
    /// than `Z` and impossible dates (`2023-02-30`).
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        let invalid = || InvalidValue::new("date-time", "must be YYYY-MM-DDTHH:MM:SSZ");
        let (date, time) = value.split_once('T').ok_or_else(invalid)?;
        let time = time.strip_suffix('Z').ok_or_else(invalid)?;
        let date = parse_date_parts(date).ok_or_else(invalid)?;
        let mut parts = time.split(':');
        let mut field = |max: u8| -> Option<u8> {
            let p = parts.next()?;
            (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
                .filter(|v| *v <= max)
        };
        let (h, m, s) = (
            field(23).ok_or_else(invalid)?,
            field(59).ok_or_else(invalid)?,
            field(59).ok_or_else(invalid)?,
        );
        if parts.next().is_some() {
            return Err(invalid());
        }
        let time = time::Time::from_hms(h, m, s).map_err(|_| invalid())?;
        Ok(Self(date.with_time(time).assume_utc()))
    }

    /// Parses any RFC 3339 date-time (with fractions or an offset), for
    /// values outside the OFB APIs such as PCM responses.
    ///
    /// # Errors
    /// [`InvalidValue`] when `value` is not RFC 3339.
    pub fn parse_rfc3339(value: &str) -> Result<Self, InvalidValue> {
        OffsetDateTime::parse(value, &Rfc3339)
            .map(Self::from_offset_date_time)
            .map_err(|_| InvalidValue::new("date-time", "not RFC 3339"))
    }

    fn max_value() -> Self {
        Self(time::PrimitiveDateTime::MAX.assume_utc())
    }

    fn min_value() -> Self {
        Self(time::PrimitiveDateTime::MIN.assume_utc())
    }
}

/// `YYYY-MM-DD`, also accepting the one-digit months and days the OFB date
/// patterns (`(1[0-2]|0?[1-9])`) admit.
fn parse_date_parts(value: &str) -> Option<time::Date> {
    let mut parts = value.split('-');
    let year = parts.next()?;
    let month = parts.next()?;
    let day = parts.next()?;
    if parts.next().is_some()
        || year.len() != 4
        || !(1..=2).contains(&month.len())
        || !(1..=2).contains(&day.len())
        || !year
            .bytes()
            .chain(month.bytes())
            .chain(day.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
    time::Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
}

impl fmt::Display for Timestamp {
    /// The OFB wire form, `YYYY-MM-DDTHH:MM:SSZ` (fractions are dropped).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            d.year(),
            u8::from(d.month()),
            d.day(),
            d.hour(),
            d.minute(),
            d.second()
        )
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({})", self.to_rfc3339_millis())
    }
}

impl TryFrom<String> for Timestamp {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Timestamp> for String {
    fn from(value: Timestamp) -> String {
        value.to_string()
    }
}

/// A calendar date, `YYYY-MM-DD` on the wire.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date(time::Date);

impl Date {
    /// A date from its parts.
    ///
    /// # Errors
    /// [`InvalidValue`] for an impossible date.
    pub fn from_calendar_date(year: i32, month: u8, day: u8) -> Result<Self, InvalidValue> {
        time::Month::try_from(month)
            .ok()
            .and_then(|m| time::Date::from_calendar_date(year, m, day).ok())
            .map(Self)
            .ok_or(InvalidValue::new("date", "impossible date"))
    }

    /// Parses `YYYY-MM-DD` (strictly two-digit month and day).
    ///
    /// # Errors
    /// [`InvalidValue`] for any other form or an impossible date.
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        if value.len() != 10 {
            return Err(InvalidValue::new("date", "must be YYYY-MM-DD"));
        }
        parse_date_parts(value)
            .map(Self)
            .ok_or(InvalidValue::new("date", "must be YYYY-MM-DD"))
    }

    /// The underlying `time` value.
    pub const fn as_time_date(&self) -> time::Date {
        self.0
    }

    /// The year.
    pub fn year(&self) -> i32 {
        self.0.year()
    }

    /// Days from `self` to `other` (negative when `other` is earlier).
    pub fn days_until(&self, other: Date) -> i64 {
        i64::from(other.0.to_julian_day()) - i64::from(self.0.to_julian_day())
    }

    /// This date moved by `days` (negative: earlier), or `None` outside the
    /// calendar's range.
    pub fn add_days(&self, days: i64) -> Option<Date> {
        self.0.checked_add(time::Duration::days(days)).map(Self)
    }

    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        u8::from(self.0.month())
    }

    /// The day of the month.
    pub fn day(&self) -> u8 {
        self.0.day()
    }

    /// The next day, if representable.
    pub fn next_day(&self) -> Option<Date> {
        self.0.next_day().map(Self)
    }

    /// Days since the last Sunday (0 on a Sunday, 6 on a Saturday).
    pub fn days_from_sunday(&self) -> u8 {
        self.0.weekday().number_days_from_sunday()
    }

    /// How many days the date's month has.
    pub fn days_in_month(&self) -> u8 {
        self.0.month().length(self.0.year())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.0.year(),
            u8::from(self.0.month()),
            self.0.day()
        )
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl TryFrom<String> for Date {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Date> for String {
    fn from(value: Date) -> String {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_date_time_format() {
        let ts = Timestamp::from_unix_millis(1_621_585_800_123).unwrap();
        assert_eq!(ts.to_string(), "2021-05-21T08:30:00Z");
        assert!(ts.to_string().len() <= 20);
        assert_eq!(ts.to_rfc3339_millis(), "2021-05-21T08:30:00.123Z");
        assert_eq!(
            serde_json::to_string(&ts).unwrap(),
            "\"2021-05-21T08:30:00Z\""
        );
    }

    #[test]
    fn parses_only_the_spec_pattern() {
        let ts = Timestamp::parse("2021-05-21T08:30:00Z").unwrap();
        assert_eq!(ts.unix_seconds(), 1_621_585_800);
        assert_eq!(
            Timestamp::parse("2021-5-1T08:30:00Z").unwrap().to_string(),
            "2021-05-01T08:30:00Z"
        );
        for bad in [
            "2021-05-21T08:30:00.000Z",
            "2021-05-21T08:30:00+00:00",
            "2021-05-21 08:30:00Z",
            "2021-05-21T24:00:00Z",
            "2021-05-21T08:60:00Z",
            "2021-02-30T08:30:00Z",
            "2021-13-01T08:30:00Z",
            "2021-05-21T8:30:00Z",
            "21-05-21T08:30:00Z",
            "2021-05-21T08:30Z",
            "",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn brasilia_dates() {
        // 02:00 UTC is still the previous day in Brasília.
        let ts = Timestamp::parse("2026-11-29T02:00:00Z").unwrap();
        assert_eq!(ts.date_in_brasilia().to_string(), "2026-11-28");
        let ts = Timestamp::parse("2026-11-29T03:00:00Z").unwrap();
        assert_eq!(ts.date_in_brasilia().to_string(), "2026-11-29");
    }

    #[test]
    fn dates() {
        assert_eq!(Date::parse("2024-02-29").unwrap().to_string(), "2024-02-29");
        assert!(Date::parse("2023-02-29").is_err());
        assert!(Date::parse("2024-2-29").is_err());
        assert_eq!(
            Date::parse("2024-12-31")
                .unwrap()
                .next_day()
                .unwrap()
                .to_string(),
            "2025-01-01"
        );
    }

    #[test]
    fn arithmetic_saturates() {
        let ts = Timestamp::parse("2021-05-21T08:30:00Z").unwrap();
        let later = ts.saturating_add(Duration::from_secs(300));
        assert_eq!(later.to_string(), "2021-05-21T08:35:00Z");
        assert_eq!(later.duration_since(ts), Duration::from_secs(300));
        assert_eq!(ts.duration_since(later), Duration::ZERO);
        let far = ts.saturating_add(Duration::from_secs(u64::MAX));
        assert!(far > later);
    }

    proptest! {
        #[test]
        fn wire_form_round_trips(secs in -62_135_596_800i64..253_402_300_799) {
            let ts = Timestamp::from_unix_seconds(secs).unwrap();
            prop_assert_eq!(Timestamp::parse(&ts.to_string()), Ok(ts));
        }
    }
}
