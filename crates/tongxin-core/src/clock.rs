//! Time, passed in rather than read: lockouts, session expiry and later deadlines are tested by
//! moving a [`ManualClock`] instead of waiting.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, FixedOffset, Utc};

/// An instant, as microseconds since the Unix epoch (UTC).
///
/// Stored as a plain integer so that both database engines compare, sort and hash it identically.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

/// China Standard Time, used for display (the product's users are in one time zone).
const CST_OFFSET_SECONDS: i32 = 8 * 3600;

impl Timestamp {
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    pub const fn micros(self) -> i64 {
        self.0
    }

    pub fn plus_minutes(self, minutes: i64) -> Self {
        self.plus_seconds(minutes.saturating_mul(60))
    }

    pub fn plus_seconds(self, seconds: i64) -> Self {
        Timestamp(self.0.saturating_add(seconds.saturating_mul(1_000_000)))
    }

    fn to_cst(self) -> Option<DateTime<FixedOffset>> {
        let offset = FixedOffset::east_opt(CST_OFFSET_SECONDS)?;
        DateTime::<Utc>::from_timestamp_micros(self.0).map(|t| t.with_timezone(&offset))
    }

    /// `2026-11-30 16:05:09` in China Standard Time.
    pub fn display(self) -> String {
        self.to_cst()
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    }

    /// `16:05` in China Standard Time.
    pub fn display_time(self) -> String {
        self.to_cst()
            .map(|t| t.format("%H:%M").to_string())
            .unwrap_or_default()
    }

    /// The calendar date in China Standard Time (ages, "born in the future").
    pub fn date(self) -> chrono::NaiveDate {
        self.to_cst().map(|t| t.date_naive()).unwrap_or_default()
    }

    /// Reads a time as people type it, in China Standard Time: `2026-12-05T14:30` (what a
    /// `datetime-local` input sends), `2026-12-05 14:30`, either with seconds; or RFC 3339 with
    /// an explicit offset, as APIs send it.
    pub fn parse_local(raw: &str) -> Option<Timestamp> {
        let raw = raw.trim();
        if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
            return Some(Timestamp(t.timestamp_micros()));
        }
        let offset = FixedOffset::east_opt(CST_OFFSET_SECONDS)?;
        [
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M:%S",
        ]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(raw, f).ok())
        .and_then(|t| t.and_local_timezone(offset).single())
        .map(|t| Timestamp(t.timestamp_micros()))
    }

    /// `2026-12-05T14:30` in China Standard Time: the value of a `datetime-local` input.
    pub fn local_input(self) -> String {
        self.to_cst()
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default()
    }

    /// `2026-12-05 14:30` in China Standard Time.
    pub fn display_minutes(self) -> String {
        self.to_cst()
            .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_default()
    }

    /// Midnight at the start of `date` in China Standard Time.
    pub fn start_of_day(date: chrono::NaiveDate) -> Timestamp {
        let offset = FixedOffset::east_opt(CST_OFFSET_SECONDS);
        offset
            .and_then(|o| date.and_hms_opt(0, 0, 0)?.and_local_timezone(o).single())
            .map(|t| Timestamp(t.timestamp_micros()))
            .unwrap_or(Timestamp(0))
    }

    /// Whole seconds since the epoch.
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// RFC 3339 in UTC with microseconds, for APIs and the audit hash.
    pub fn rfc3339(self) -> String {
        DateTime::<Utc>::from_timestamp_micros(self.0)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
            .unwrap_or_default()
    }
}

/// The source of "now" for every rule that depends on time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp(Utc::now().timestamp_micros())
    }
}

/// A clock that only moves when told to; for tests of time-dependent rules.
#[derive(Debug)]
pub struct ManualClock {
    micros: AtomicI64,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        ManualClock {
            micros: AtomicI64::new(start.0),
        }
    }

    /// Moves the clock forward by whole minutes.
    pub fn advance_minutes(&self, minutes: i64) {
        self.micros
            .fetch_add(minutes.saturating_mul(60_000_000), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.micros.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let clock = ManualClock::new(Timestamp(1_000));
        assert_eq!(clock.now(), Timestamp(1_000));
        clock.advance_minutes(15);
        assert_eq!(clock.now(), Timestamp(1_000 + 15 * 60_000_000));
    }

    #[test]
    fn displays_in_china_standard_time() {
        // 2026-11-29T08:00:00Z is 16:00 in Beijing.
        let t = Timestamp(1_795_939_200_000_000);
        assert_eq!(t.rfc3339(), "2026-11-29T08:00:00.000000Z");
        assert_eq!(t.display(), "2026-11-29 16:00:00");
    }
}
