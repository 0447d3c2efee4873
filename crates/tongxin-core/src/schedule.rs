//! When recurring work falls due: "every day at 08:00" and "every Monday at 08:00" in the
//! deployment's time zone.
//!
//! China keeps no daylight saving time, so a zone is a fixed offset from UTC; the names an
//! administrator is likely to write (`Asia/Shanghai`, `Asia/Urumqi`, …) are understood, and any
//! other offset can be given as `+08:00`.

use chrono::{
    Datelike, Duration, FixedOffset, NaiveDate, NaiveTime, Offset, TimeZone as _, Utc, Weekday,
};

use crate::Timestamp;

/// The deployment's time zone, as a fixed offset from UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone {
    offset_seconds: i32,
}

/// Zone names and their offsets in hours.
const NAMED: [(&str, i32); 9] = [
    ("Asia/Shanghai", 8),
    ("Asia/Chongqing", 8),
    ("Asia/Harbin", 8),
    ("Asia/Hong_Kong", 8),
    ("Asia/Macau", 8),
    ("Asia/Taipei", 8),
    ("Asia/Urumqi", 6),
    ("Etc/UTC", 0),
    ("UTC", 0),
];

impl TimeZone {
    /// China Standard Time, the default.
    pub const SHANGHAI: TimeZone = TimeZone {
        offset_seconds: 8 * 3600,
    };

    /// Reads `Asia/Shanghai`, `UTC` or an offset like `+08:00`; `None` for anything else.
    pub fn parse(text: &str) -> Option<TimeZone> {
        let text = text.trim();
        if let Some((_, hours)) = NAMED.iter().find(|(name, _)| *name == text) {
            return Some(TimeZone {
                offset_seconds: hours * 3600,
            });
        }
        let (sign, rest) = match text.as_bytes().first()? {
            b'+' => (1, &text[1..]),
            b'-' => (-1, &text[1..]),
            _ => return None,
        };
        let (hours, minutes) = rest.split_once(':')?;
        let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
        if !(0..=14).contains(&hours) || !(0..60).contains(&minutes) {
            return None;
        }
        Some(TimeZone {
            offset_seconds: sign * (hours * 3600 + minutes * 60),
        })
    }

    /// The calendar date at `t` in this zone.
    pub fn date_of(self, t: Timestamp) -> NaiveDate {
        self.offset()
            .timestamp_micros(t.micros())
            .single()
            .map(|local| local.date_naive())
            .unwrap_or_default()
    }

    /// Midnight at the start of `date` in this zone.
    pub fn start_of(self, date: NaiveDate) -> Timestamp {
        self.offset()
            .from_local_datetime(&date.and_time(NaiveTime::MIN))
            .single()
            .map(|t| Timestamp(t.timestamp_micros()))
            .unwrap_or(Timestamp(0))
    }

    fn offset(self) -> FixedOffset {
        FixedOffset::east_opt(self.offset_seconds).unwrap_or_else(|| Utc.fix())
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        TimeZone::SHANGHAI
    }
}

/// How often a recurring job falls due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurrence {
    /// Every day at this local time.
    Daily { hour: u32, minute: u32 },
    /// Every week on this day at this local time.
    Weekly {
        weekday: Weekday,
        hour: u32,
        minute: u32,
    },
}

impl Recurrence {
    /// The latest occurrence at or before `now`, in `zone`.
    pub fn latest(self, now: Timestamp, zone: TimeZone) -> Timestamp {
        let offset = zone.offset();
        let local = offset.timestamp_micros(now.micros()).single();
        let Some(local) = local else {
            return now;
        };
        let (hour, minute) = match self {
            Recurrence::Daily { hour, minute } | Recurrence::Weekly { hour, minute, .. } => {
                (hour, minute)
            }
        };
        let at = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
        let mut date = local.date_naive();
        if local.time() < at {
            date -= Duration::days(1);
        }
        if let Recurrence::Weekly { weekday, .. } = self {
            let back =
                (7 + date.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
            date -= Duration::days(i64::from(back));
        }
        offset
            .from_local_datetime(&date.and_time(at))
            .single()
            .map(|t| Timestamp(t.timestamp_micros()))
            .unwrap_or(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 08:00 UTC, a Monday: 16:00 in Beijing.
    const MONDAY_4PM_CST: Timestamp = Timestamp(1_796_025_600_000_000);

    #[test]
    fn zones_read_by_name_or_offset() {
        assert_eq!(TimeZone::parse("Asia/Shanghai"), Some(TimeZone::SHANGHAI));
        assert_eq!(
            TimeZone::parse("Asia/Urumqi"),
            Some(TimeZone {
                offset_seconds: 6 * 3600
            })
        );
        assert_eq!(
            TimeZone::parse("-03:30"),
            Some(TimeZone {
                offset_seconds: -(3 * 3600 + 30 * 60)
            })
        );
        assert_eq!(TimeZone::parse("Mars/Olympus"), None);
        assert_eq!(TimeZone::parse("+25:00"), None);
    }

    #[test]
    fn a_daily_time_already_past_today_is_today_else_yesterday() {
        let zone = TimeZone::SHANGHAI;
        let at_eight = Recurrence::Daily { hour: 8, minute: 0 }.latest(MONDAY_4PM_CST, zone);
        assert_eq!(at_eight.display(), "2026-11-30 08:00:00");
        let at_six_pm = Recurrence::Daily {
            hour: 18,
            minute: 0,
        }
        .latest(MONDAY_4PM_CST, zone);
        assert_eq!(at_six_pm.display(), "2026-11-29 18:00:00");
    }

    #[test]
    fn a_weekly_time_falls_on_its_weekday() {
        let zone = TimeZone::SHANGHAI;
        let monday = Recurrence::Weekly {
            weekday: Weekday::Mon,
            hour: 8,
            minute: 0,
        };
        assert_eq!(
            monday.latest(MONDAY_4PM_CST, zone).display(),
            "2026-11-30 08:00:00"
        );
        let friday = Recurrence::Weekly {
            weekday: Weekday::Fri,
            hour: 17,
            minute: 30,
        };
        assert_eq!(
            friday.latest(MONDAY_4PM_CST, zone).display(),
            "2026-11-27 17:30:00"
        );
        // Monday 17:00 has not come yet at 16:00: a week before.
        let later_monday = Recurrence::Weekly {
            weekday: Weekday::Mon,
            hour: 17,
            minute: 0,
        };
        assert_eq!(
            later_monday.latest(MONDAY_4PM_CST, zone).display(),
            "2026-11-23 17:00:00"
        );
    }

    #[test]
    fn the_zone_moves_the_occurrence() {
        let utc = TimeZone::parse("UTC").unwrap_or_default();
        let at_eight = Recurrence::Daily { hour: 8, minute: 0 }.latest(MONDAY_4PM_CST, utc);
        assert_eq!(at_eight, MONDAY_4PM_CST);
    }
}
