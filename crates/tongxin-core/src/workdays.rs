//! Working days under China's official calendar: weekends off, public holidays off, and the
//! make-up working days (调休) that the State Council sets on some weekends each year.
//!
//! A case's due date is counted in working days from its assignment; the calendar is data the
//! top administrator keeps (seeded for 2026 and 2027 by [`SEEDED`]), so this module only does
//! the arithmetic.

use std::collections::BTreeMap;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

/// How the official calendar marks one date, against what its weekday would say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayMark {
    /// A public holiday, or a weekday taken off in exchange for a make-up day.
    Off,
    /// A weekend day worked to make up for a bridged holiday.
    Work,
}

impl DayMark {
    pub fn as_str(self) -> &'static str {
        match self {
            DayMark::Off => "off",
            DayMark::Work => "work",
        }
    }

    pub fn parse(text: &str) -> Option<DayMark> {
        match text {
            "off" => Some(DayMark::Off),
            "work" => Some(DayMark::Work),
            _ => None,
        }
    }
}

/// The longest run of consecutive days off the arithmetic will step over before giving up:
/// a calendar marking a whole year off is a mistake, not a reason to loop.
const MAX_DAYS_OFF_IN_A_ROW: u32 = 60;

/// The dates whose status differs from their weekday's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCalendar {
    marks: BTreeMap<NaiveDate, DayMark>,
}

impl WorkCalendar {
    pub fn new(marks: impl IntoIterator<Item = (NaiveDate, DayMark)>) -> WorkCalendar {
        WorkCalendar {
            marks: marks.into_iter().collect(),
        }
    }

    /// The calendar seeded into a new database: 2026 and 2027.
    pub fn seeded() -> WorkCalendar {
        WorkCalendar::new(seeded_marks())
    }

    pub fn marks(&self) -> impl Iterator<Item = (NaiveDate, DayMark)> + '_ {
        self.marks.iter().map(|(d, m)| (*d, *m))
    }

    /// Whether people work on `date`.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.marks.get(&date) {
            Some(DayMark::Off) => false,
            Some(DayMark::Work) => true,
            None => !matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
        }
    }

    /// The `n`th working day after `from` (`from` itself never counts: a case assigned on a
    /// Friday with one day to answer is due on Monday). `n = 0` gives `from`. `None` when the
    /// calendar has an implausibly long run of days off.
    pub fn add_working_days(&self, from: NaiveDate, n: u32) -> Option<NaiveDate> {
        let mut date = from;
        let mut left = n;
        let mut off_in_a_row = 0;
        while left > 0 {
            date = date.checked_add_days(Days::new(1))?;
            if self.is_working_day(date) {
                left -= 1;
                off_in_a_row = 0;
            } else {
                off_in_a_row += 1;
                if off_in_a_row > MAX_DAYS_OFF_IN_A_ROW {
                    return None;
                }
            }
        }
        Some(date)
    }

    /// Working days after `from` up to and including `to` (0 when `to` is not after `from`):
    /// the inverse of [`WorkCalendar::add_working_days`], used for handling times.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let mut count = 0;
        let mut date = from;
        while date < to {
            let Some(next) = date.checked_add_days(Days::new(1)) else {
                break;
            };
            date = next;
            if self.is_working_day(date) {
                count += 1;
            }
        }
        count
    }

    /// What an answer counts for: the working days it took from submission, and whether it
    /// came by the due date (`None` when there was none).
    pub fn answer_figures(
        &self,
        submitted: NaiveDate,
        answered: NaiveDate,
        due: Option<NaiveDate>,
    ) -> (i32, Option<bool>) {
        let days = self.working_days_between(submitted, answered);
        (
            i32::try_from(days).unwrap_or(i32::MAX),
            due.map(|due| answered <= due),
        )
    }
}

/// How close a case or task is to its due date, as lists colour it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deadline {
    /// More than [`AMBER_WORKING_DAYS`] working days left.
    Green,
    /// Due within [`AMBER_WORKING_DAYS`] working days (or today).
    Amber,
    /// Past its due date.
    Red,
}

/// Working days before the due date from which a deadline shows amber and its reminder goes out.
pub const AMBER_WORKING_DAYS: u32 = 3;

impl Deadline {
    pub fn as_str(self) -> &'static str {
        match self {
            Deadline::Green => "green",
            Deadline::Amber => "amber",
            Deadline::Red => "red",
        }
    }

    /// The status of something due on `due`, seen on `today`.
    pub fn of(calendar: &WorkCalendar, due: NaiveDate, today: NaiveDate) -> Deadline {
        if today > due {
            Deadline::Red
        } else if calendar.working_days_between(today, due) <= AMBER_WORKING_DAYS {
            Deadline::Amber
        } else {
            Deadline::Green
        }
    }
}

/// A span of days off (inclusive) and the make-up working days that go with it.
struct Holiday {
    off: (u32, u32, u32, u32),
    work: &'static [(u32, u32)],
}

/// (year, holidays): the 2026 arrangement as the State Council published it; 2027 laid out from
/// the statutory holidays in the same pattern, to be checked against the State Council's notice
/// when it appears (the administrator edits the calendar; OPERATIONS.md says so).
const SEEDED: [(i32, &[Holiday]); 2] = [
    (
        2026,
        &[
            // New Year: 1–3 January, 4 January (Sunday) worked.
            Holiday {
                off: (1, 1, 1, 3),
                work: &[(1, 4)],
            },
            // Spring Festival: 15–23 February; 14 and 28 February (Saturdays) worked.
            Holiday {
                off: (2, 15, 2, 23),
                work: &[(2, 14), (2, 28)],
            },
            // Qingming: 4–6 April.
            Holiday {
                off: (4, 4, 4, 6),
                work: &[],
            },
            // Labour Day: 1–5 May; 9 May (Saturday) worked.
            Holiday {
                off: (5, 1, 5, 5),
                work: &[(5, 9)],
            },
            // Dragon Boat: 19–21 June.
            Holiday {
                off: (6, 19, 6, 21),
                work: &[],
            },
            // Mid-Autumn: 25–27 September.
            Holiday {
                off: (9, 25, 9, 27),
                work: &[],
            },
            // National Day: 1–7 October; 20 September (Sunday) and 10 October (Saturday) worked.
            Holiday {
                off: (10, 1, 10, 7),
                work: &[(9, 20), (10, 10)],
            },
        ],
    ),
    (
        2027,
        &[
            Holiday {
                off: (1, 1, 1, 3),
                work: &[],
            },
            // Spring Festival (New Year's Day falls on 6 February).
            Holiday {
                off: (2, 5, 2, 13),
                work: &[(2, 14)],
            },
            Holiday {
                off: (4, 3, 4, 5),
                work: &[],
            },
            Holiday {
                off: (5, 1, 5, 5),
                work: &[(4, 25), (5, 8)],
            },
            Holiday {
                off: (6, 9, 6, 11),
                work: &[(6, 12)],
            },
            Holiday {
                off: (9, 15, 9, 17),
                work: &[(9, 18)],
            },
            Holiday {
                off: (10, 1, 10, 7),
                work: &[(9, 26), (10, 9)],
            },
        ],
    ),
];

fn seeded_marks() -> Vec<(NaiveDate, DayMark)> {
    let mut marks = Vec::new();
    for (year, holidays) in SEEDED {
        for holiday in holidays {
            let (from_month, from_day, to_month, to_day) = holiday.off;
            let (Some(mut date), Some(last)) = (
                NaiveDate::from_ymd_opt(year, from_month, from_day),
                NaiveDate::from_ymd_opt(year, to_month, to_day),
            ) else {
                continue;
            };
            while date <= last {
                marks.push((date, DayMark::Off));
                let Some(next) = date.checked_add_days(Days::new(1)) else {
                    break;
                };
                date = next;
            }
            for (month, day) in holiday.work {
                if let Some(date) = NaiveDate::from_ymd_opt(year, *month, *day) {
                    marks.push((date, DayMark::Work));
                }
            }
        }
    }
    marks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn working_days_across_holidays_and_make_up_days() {
        let calendar = WorkCalendar::seeded();
        // (from, n, due)
        let cases = [
            // An ordinary week: Monday + 4 = Friday.
            ("2026-03-02", 4, "2026-03-06"),
            // Friday + 1 skips the weekend.
            ("2026-03-06", 1, "2026-03-09"),
            ("2026-03-06", 0, "2026-03-06"),
            // New Year: 31 Dec 2025 + 1 → 1–3 Jan off, 4 Jan (Sunday) worked.
            ("2025-12-31", 1, "2026-01-04"),
            ("2025-12-31", 2, "2026-01-05"),
            // Spring Festival: Friday 13 Feb + 1 = Saturday 14 Feb (make-up day).
            ("2026-02-13", 1, "2026-02-14"),
            // + 2 jumps 15–23 Feb off to Tuesday 24 Feb.
            ("2026-02-13", 2, "2026-02-24"),
            // Saturday 28 Feb is worked: Friday 27 + 1.
            ("2026-02-27", 1, "2026-02-28"),
            // Qingming 4–6 April: Friday 3 April + 1 = Tuesday 7 April.
            ("2026-04-03", 1, "2026-04-07"),
            // Labour Day: 30 April + 1 = 6 May; + 3 = Saturday 9 May (worked).
            ("2026-04-30", 1, "2026-05-06"),
            ("2026-04-30", 3, "2026-05-08"),
            ("2026-04-30", 4, "2026-05-09"),
            // National Day with 20 September and 10 October worked.
            ("2026-09-18", 1, "2026-09-20"),
            ("2026-09-30", 1, "2026-10-08"),
            ("2026-10-09", 1, "2026-10-10"),
            ("2026-10-09", 2, "2026-10-12"),
            // Fifteen working days across National Day.
            ("2026-09-21", 15, "2026-10-19"),
        ];
        for (from, n, due) in cases {
            assert_eq!(
                calendar.add_working_days(d(from), n),
                Some(d(due)),
                "{from} + {n}"
            );
            assert_eq!(
                calendar.working_days_between(d(from), d(due)),
                n,
                "{from} .. {due}"
            );
        }
    }

    #[test]
    fn marks_override_the_weekday() {
        let calendar = WorkCalendar::seeded();
        assert!(!calendar.is_working_day(d("2026-10-01")), "a Thursday off");
        assert!(
            calendar.is_working_day(d("2026-10-10")),
            "a Saturday worked"
        );
        assert!(!calendar.is_working_day(d("2026-10-11")), "a plain Sunday");
        let plain = WorkCalendar::default();
        assert!(plain.is_working_day(d("2026-10-01")));
    }

    #[test]
    fn deadlines_count_working_days() {
        let calendar = WorkCalendar::seeded();
        let due = d("2026-10-09");
        assert_eq!(Deadline::of(&calendar, due, d("2026-10-10")), Deadline::Red);
        assert_eq!(Deadline::of(&calendar, due, due), Deadline::Amber);
        // 30 September to 9 October: only 8 and 9 October are worked.
        assert_eq!(
            Deadline::of(&calendar, due, d("2026-09-30")),
            Deadline::Amber
        );
        assert_eq!(
            Deadline::of(&calendar, due, d("2026-09-24")),
            Deadline::Green
        );
    }

    #[test]
    fn a_calendar_of_nothing_but_days_off_gives_up() {
        let start = d("2026-01-01");
        let calendar = WorkCalendar::new((0..400).filter_map(|i| {
            start
                .checked_add_days(Days::new(i))
                .map(|date| (date, DayMark::Off))
        }));
        assert_eq!(calendar.add_working_days(start, 1), None);
    }
}
