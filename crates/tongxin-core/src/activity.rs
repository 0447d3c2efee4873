//! Activities, attendance and campaign coverage: the states an activity goes through, what an
//! invitee's attendance can be, and coverage arithmetic.

use crate::error::{Field, Invalid, Reason};

/// Where an activity is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActivityState {
    Planned,
    Held,
    /// Held, and its minutes are written.
    Summarized,
    Cancelled,
}

impl ActivityState {
    pub const ALL: [ActivityState; 4] = [
        ActivityState::Planned,
        ActivityState::Held,
        ActivityState::Summarized,
        ActivityState::Cancelled,
    ];

    pub fn key(self) -> &'static str {
        match self {
            ActivityState::Planned => "planned",
            ActivityState::Held => "held",
            ActivityState::Summarized => "summarized",
            ActivityState::Cancelled => "cancelled",
        }
    }

    pub fn parse(key: &str) -> Result<ActivityState, Invalid> {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == key.trim())
            .ok_or_else(|| Invalid::new(Field::Named("state"), Reason::NotAChoice))
    }

    /// The states reachable from this one: planned -> held -> summarized, and planned ->
    /// cancelled. Nothing leaves cancelled or summarized.
    pub fn can_become(self, next: ActivityState) -> bool {
        matches!(
            (self, next),
            (ActivityState::Planned, ActivityState::Held)
                | (ActivityState::Planned, ActivityState::Cancelled)
                | (ActivityState::Held, ActivityState::Summarized)
        )
    }

    /// Whether attendance can still be recorded (not for a cancelled activity).
    pub fn takes_attendance(self) -> bool {
        !matches!(self, ActivityState::Cancelled)
    }
}

/// An invitee's answer and attendance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attendance {
    Invited,
    Confirmed,
    Attended,
    Absent,
    /// Absent with the organizer's leave.
    Excused,
}

impl Attendance {
    pub const ALL: [Attendance; 5] = [
        Attendance::Invited,
        Attendance::Confirmed,
        Attendance::Attended,
        Attendance::Absent,
        Attendance::Excused,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Attendance::Invited => "invited",
            Attendance::Confirmed => "confirmed",
            Attendance::Attended => "attended",
            Attendance::Absent => "absent",
            Attendance::Excused => "excused",
        }
    }

    pub fn parse(key: &str) -> Result<Attendance, Invalid> {
        Self::ALL
            .into_iter()
            .find(|s| s.key() == key.trim())
            .ok_or_else(|| Invalid::new(Field::Named("status"), Reason::NotAChoice))
    }
}

/// How many of a target population were reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    pub targeted: u64,
    pub reached: u64,
}

impl Coverage {
    pub fn add(&mut self, other: Coverage) {
        self.targeted += other.targeted;
        self.reached += other.reached;
    }

    pub fn unreached(self) -> u64 {
        self.targeted.saturating_sub(self.reached)
    }

    /// Reached per mille of targeted, rounded half up (`None` for an empty population): whole
    /// numbers keep the figures exact for display as a percentage with one decimal. A
    /// population not wholly reached never reads 100% (1,999 of 2,000 is 99.9%, not 100.0%).
    pub fn per_mille(self) -> Option<u64> {
        (self.targeted > 0).then(|| {
            let rounded = (self.reached * 2000 + self.targeted) / (2 * self.targeted);
            if self.reached < self.targeted {
                rounded.min(999)
            } else {
                rounded
            }
        })
    }

    /// `12.5%`-style text, or `—` for an empty population.
    pub fn percent_text(self) -> String {
        match self.per_mille() {
            Some(pm) => format!("{}.{}%", pm / 10, pm % 10),
            None => "—".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_move_forward_only() {
        use ActivityState::*;
        assert!(Planned.can_become(Held));
        assert!(Planned.can_become(Cancelled));
        assert!(Held.can_become(Summarized));
        assert!(!Cancelled.can_become(Held));
        assert!(!Held.can_become(Cancelled));
        assert!(!Summarized.can_become(Planned));
    }

    #[test]
    fn coverage_rounds_half_up_per_mille() {
        let c = Coverage {
            targeted: 3,
            reached: 1,
        };
        assert_eq!(c.per_mille(), Some(333));
        assert_eq!(c.percent_text(), "33.3%");
        assert_eq!(Coverage::default().percent_text(), "—");
        let text = |reached, targeted| Coverage { targeted, reached }.percent_text();
        // Half up: 1/7 = 14.2857…% and 2/3 = 66.66…%.
        assert_eq!(text(1, 7), "14.3%");
        assert_eq!(text(2, 3), "66.7%");
        assert_eq!(text(1, 2000), "0.1%");
        // Nearly all is not all.
        assert_eq!(text(1999, 2000), "99.9%");
        assert_eq!(text(2000, 2000), "100.0%");
    }
}
