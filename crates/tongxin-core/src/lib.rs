//! Tongxin's domain: the types and rules every other crate agrees on.
//!
//! What lives here: validated newtypes (unit codes, names, user names, roles), the unit tree's
//! path arithmetic, activity states and coverage arithmetic, the clock abstraction and the
//! validation error vocabulary.
//! What must not: I/O of any kind (no database, no HTTP, no files) and no wall-clock reads
//! outside [`clock::SystemClock`].

pub mod account;
pub mod activity;
pub mod clock;
pub mod error;
pub mod files;
pub mod person;
pub mod person_field;
pub mod schedule;
pub mod sector_field;
pub mod unit;
pub mod workdays;
pub mod workflow;

pub use account::{Password, Role, Username};
pub use activity::{ActivityState, Attendance, Coverage};
pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use error::{Checks, Field, Invalid, Reason};
pub use person::{
    Gender, HistoryEntry, IdNumber, MobilePhone, id_check_character, mask_id_number, mask_phone,
    parse_birth_date,
};
pub use person_field::{PERSON_FIELDS, PersonField, person_field};
pub use schedule::{Recurrence, TimeZone};
pub use sector_field::FieldKind;
pub use unit::{SectorCode, UnitCode, UnitLevel, UnitName, UnitPath};
pub use workdays::{AMBER_WORKING_DAYS, DayMark, Deadline, WorkCalendar};
pub use workflow::{
    CaseType, Effect, InstructionLevel, Outcome, Party, Satisfaction, Workflow, WorkflowFault,
};

/// Longest name (of a unit, a person's display name) accepted anywhere, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// Longest free-text field (titles, employers, addresses, roles), in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// Trims `raw` and checks it is a non-empty name of at most [`MAX_NAME_CHARS`] characters.
pub fn parse_name(field: Field, raw: &str) -> Result<String, Invalid> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(Invalid::new(field, Reason::Required));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Invalid::new(
            field,
            Reason::TooLong {
                max: MAX_NAME_CHARS,
            },
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new(field, Reason::ControlCharacters));
    }
    Ok(name.to_owned())
}

/// An optional free-text field: empty means absent; otherwise at most `max` characters.
pub fn parse_optional_text(field: Field, raw: &str, max: usize) -> Result<Option<String>, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > max {
        return Err(Invalid::new(field, Reason::TooLong { max }));
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(Invalid::new(field, Reason::ControlCharacters));
    }
    Ok(Some(text.to_owned()))
}
