//! The validation vocabulary: which field was wrong and why.
//!
//! Messages are not built here; the web layer turns a [`Field`] and a [`Reason`] into a sentence
//! in the user's language from the translation files (`field.*` and `invalid.*` keys).

use std::fmt;

/// A form or API field that input can be wrong in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    UnitCode,
    UnitName,
    Parent,
    Unit,
    Username,
    DisplayName,
    Password,
    CurrentPassword,
    PasswordConfirm,
    Role,
    SectorCode,
    Sector,
    IdNumber,
    Phone,
    Gender,
    BirthDate,
    Body,
    /// Any other field, by its stable key (`education`, `employer`, …).
    Named(&'static str),
}

impl Field {
    /// Stable identifier, used as the translation key suffix and in JSON errors.
    pub fn key(self) -> &'static str {
        match self {
            Field::UnitCode => "code",
            Field::UnitName => "name",
            Field::Parent => "parent",
            Field::Unit => "unit",
            Field::Username => "username",
            Field::DisplayName => "display_name",
            Field::Password => "password",
            Field::CurrentPassword => "current_password",
            Field::PasswordConfirm => "password_confirm",
            Field::Role => "role",
            Field::SectorCode => "sector_code",
            Field::Sector => "sector",
            Field::IdNumber => "id_number",
            Field::Phone => "phone",
            Field::Gender => "gender",
            Field::BirthDate => "birth_date",
            Field::Body => "body",
            Field::Named(key) => key,
        }
    }
}

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    Required,
    TooLong {
        max: usize,
    },
    TooShort {
        min: usize,
    },
    ControlCharacters,
    UnitCodeFormat,
    UsernameFormat,
    UnknownRole,
    /// Another record already uses this value (unit code, user name).
    Taken,
    /// A unit cannot be moved under itself or one of its descendants.
    Cycle,
    /// The new parent is at a different level than the current one.
    LevelMismatch,
    /// Units cannot be nested deeper than the village level.
    TooDeep,
    /// The top unit of the tree has no parent to change.
    RootUnit,
    HasActiveChildren {
        count: u64,
    },
    HasActiveAccounts {
        count: u64,
    },
    /// The referenced unit is archived and takes no new children or accounts.
    Archived,
    /// The referenced record does not exist (or lies outside the caller's subtree).
    NotFound,
    /// An account cannot disable or demote itself.
    OwnAccount,
    /// Only accounts of the system administrator's and staff's roles work with the directory
    /// and may be given the right to export it in clear.
    NoClearExportForRole,
    /// The value does not match what is on record (the current password).
    Mismatch,
    /// A new password must differ from the current one (which someone else may know).
    SameAsCurrent,
    /// A file holds more ID numbers on record in other parts of the tree than an account may be
    /// told of in an hour; they are not listed.
    TooManyElsewhere {
        count: u64,
    },
    /// Not 18 characters of digits with a final digit or X.
    IdNumberFormat,
    /// The check character does not match (GB 11643).
    IdNumberChecksum,
    /// A spreadsheet kept a long number (an ID number) as a number, in scientific notation
    /// with its last digits lost: no typo to look for, the column must become text.
    StoredAsNumber,
    /// The encoded birth date does not exist or lies in the future.
    IdNumberBirthDate,
    /// Not an 11-digit mainland mobile number.
    PhoneFormat,
    /// Not 男/女 or male/female.
    GenderValue,
    /// Not a real date in a recognised format, or in the future.
    DateFormat,
    /// The same value appears earlier in the same file, on line `line`.
    DuplicateInFile {
        line: usize,
    },
    /// A number outside its valid range (coordinates).
    OutOfRange,
    /// A column the import does not know.
    UnknownColumn,
    /// A column appears twice in the header.
    RepeatedColumn,
    /// The optional sensitive field has not been enabled by an administrator.
    NotEnabled,
    /// Not a lower-case ASCII identifier (a sector field's key).
    FieldKeyFormat,
    /// Not a decimal number.
    NumberFormat,
    /// Not one of the field's choices.
    NotAChoice,
    /// The same entry appears twice in a list.
    Repeated,
    /// The request was decided already (a proposal approved or rejected).
    AlreadyDecided,
    /// An end (of an activity, a campaign) that is not after its start.
    EndsBeforeStart,
    /// The record's state does not allow this change (a cancelled activity cannot be held).
    WrongState,
    /// Not an http:// or https:// address with a host.
    UrlFormat,
    /// Not an e-mail address.
    EmailFormat,
    /// An address inside this network (loopback, private, link-local) while the
    /// administrator has not allowed internal targets.
    InternalTarget,
    /// The receiver could not be reached or refused the message; `detail` says how.
    Unreachable {
        detail: String,
    },
    /// A case workflow that would strand cases; `fault` is the message key
    /// ([`crate::WorkflowFault::key`]) and `detail` the state or action it names.
    Workflow {
        fault: &'static str,
        detail: String,
    },
    /// A due date before the record it is due for was submitted.
    DueBeforeSubmission,
    /// A rectification plan with steps not yet done (or, for the supervising side's
    /// confirmation, not yet checked and accepted).
    PlanUnfinished,
    /// Past the deadline (a research topic no longer takes reports or teams).
    PastDeadline,
    /// An activity cannot be marked as held before it starts.
    NotStarted,
    /// A campaign's target population that holds nobody.
    EmptyTarget,
    /// A check-in link past its validity.
    LinkExpired,
    /// A check-in link whose signature does not match: altered or made up.
    LinkForged,
    /// A check-in outside the activity's check-in window.
    OutsideWindow,
    /// The person is neither invited nor in the campaign's target population.
    NotInTarget,
    /// A file over the size limit, in MiB.
    FileTooLarge {
        max_mib: u64,
    },
    /// A file's extension is not one that is accepted here.
    UnknownFileKind,
    /// A `.docx` that is not a zip archive.
    NotADocx,
    /// An archive that would unpack to more than the limit.
    ZipBomb,
    /// The file's content is not what its extension says.
    ContentMismatch,
    /// The file could not be read (a damaged document, an unknown text encoding).
    Unreadable,
    /// A stored record (a saved filter) can no longer be read; using it would guess.
    Damaged,
    /// A person named by id who does not exist or lies outside the caller's subtree.
    UnknownPerson {
        id: u64,
    },
    /// More records than one request may touch.
    TooMany {
        max: u64,
    },
    /// People named by id whom the caller may not change (or who do not exist): a batch over
    /// them is refused whole.
    RefusedPeople {
        ids: Vec<u64>,
    },
}

impl Reason {
    /// Stable identifier, used as the translation key suffix and as the JSON error code.
    pub fn key(&self) -> &'static str {
        match self {
            Reason::Required => "required",
            Reason::TooLong { .. } => "too_long",
            Reason::TooShort { .. } => "too_short",
            Reason::ControlCharacters => "control_characters",
            Reason::UnitCodeFormat => "unit_code_format",
            Reason::UsernameFormat => "username_format",
            Reason::UnknownRole => "unknown_role",
            Reason::Taken => "taken",
            Reason::Cycle => "cycle",
            Reason::LevelMismatch => "level_mismatch",
            Reason::TooDeep => "too_deep",
            Reason::RootUnit => "root_unit",
            Reason::HasActiveChildren { .. } => "has_active_children",
            Reason::HasActiveAccounts { .. } => "has_active_accounts",
            Reason::Archived => "archived",
            Reason::NotFound => "not_found",
            Reason::OwnAccount => "own_account",
            Reason::NoClearExportForRole => "no_clear_export_for_role",
            Reason::Mismatch => "mismatch",
            Reason::SameAsCurrent => "same_as_current",
            Reason::TooManyElsewhere { .. } => "too_many_elsewhere",
            Reason::NotEnabled => "not_enabled",
            Reason::DuplicateInFile { .. } => "duplicate_in_file",
            Reason::UnknownColumn => "unknown_column",
            Reason::OutOfRange => "out_of_range",
            Reason::RepeatedColumn => "repeated_column",
            Reason::IdNumberFormat => "id_number_format",
            Reason::IdNumberChecksum => "id_number_checksum",
            Reason::StoredAsNumber => "stored_as_number",
            Reason::IdNumberBirthDate => "id_number_birth_date",
            Reason::PhoneFormat => "phone_format",
            Reason::GenderValue => "gender_value",
            Reason::DateFormat => "date_format",
            Reason::FieldKeyFormat => "field_key_format",
            Reason::NumberFormat => "number_format",
            Reason::NotAChoice => "not_a_choice",
            Reason::Repeated => "repeated",
            Reason::AlreadyDecided => "already_decided",
            Reason::EndsBeforeStart => "ends_before_start",
            Reason::WrongState => "wrong_state",
            Reason::UrlFormat => "url_format",
            Reason::EmailFormat => "email_format",
            Reason::InternalTarget => "internal_target",
            Reason::Unreachable { .. } => "unreachable",
            Reason::Workflow { fault, .. } => fault,
            Reason::DueBeforeSubmission => "due_before_submission",
            Reason::PlanUnfinished => "plan_unfinished",
            Reason::PastDeadline => "past_deadline",
            Reason::NotStarted => "not_started",
            Reason::EmptyTarget => "empty_target",
            Reason::LinkExpired => "link_expired",
            Reason::LinkForged => "link_forged",
            Reason::OutsideWindow => "outside_window",
            Reason::NotInTarget => "not_in_target",
            Reason::FileTooLarge { .. } => "file_too_large",
            Reason::UnknownFileKind => "unknown_file_kind",
            Reason::NotADocx => "not_a_docx",
            Reason::ZipBomb => "zip_bomb",
            Reason::ContentMismatch => "content_mismatch",
            Reason::Unreadable => "unreadable",
            Reason::Damaged => "damaged",
            Reason::UnknownPerson { .. } => "unknown_person",
            Reason::RefusedPeople { .. } => "refused_people",
            Reason::TooMany { .. } => "too_many",
        }
    }

    /// The number a message interpolates as `{n}`, if any.
    pub fn count(&self) -> Option<u64> {
        match self {
            Reason::TooLong { max } => Some(*max as u64),
            Reason::TooShort { min } => Some(*min as u64),
            Reason::HasActiveChildren { count } | Reason::HasActiveAccounts { count } => {
                Some(*count)
            }
            Reason::DuplicateInFile { line } => Some(*line as u64),
            Reason::FileTooLarge { max_mib } => Some(*max_mib),
            Reason::UnknownPerson { id } => Some(*id),
            Reason::TooMany { max } => Some(*max),
            Reason::TooManyElsewhere { count } => Some(*count),
            Reason::RefusedPeople { ids } => Some(ids.len() as u64),
            _ => None,
        }
    }

    /// What a message says as `{detail}`: how a receiver refused.
    pub fn detail(&self) -> &str {
        match self {
            Reason::Unreachable { detail } | Reason::Workflow { detail, .. } => detail,
            _ => "",
        }
    }

    /// The records a message names as `{ids}`.
    pub fn ids(&self) -> &[u64] {
        match self {
            Reason::RefusedPeople { ids } => ids,
            _ => &[],
        }
    }
}

/// A refused value: the field and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Invalid {
    pub field: Field,
    pub reason: Reason,
    /// The field's name as its owner gave it, for fields defined at run time (a sector's own
    /// fields); messages use it instead of the catalogue's name for `field`.
    pub label: Option<String>,
}

impl Invalid {
    pub fn new(field: Field, reason: Reason) -> Self {
        Invalid {
            field,
            reason,
            label: None,
        }
    }

    /// A refusal of a field named at run time.
    pub fn labelled(field: Field, reason: Reason, label: &str) -> Self {
        Invalid {
            field,
            reason,
            label: Some(label.to_owned()),
        }
    }
}

/// Collects the refused fields of input parsed field by field.
#[derive(Default)]
pub struct Checks(Vec<Invalid>);

impl Checks {
    /// Keeps the parsed value, or records why it was refused.
    pub fn check<T>(&mut self, parsed: Result<T, Invalid>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(invalid) => {
                self.0.push(invalid);
                None
            }
        }
    }

    pub fn into_inner(self) -> Vec<Invalid> {
        self.0
    }

    /// Whether nothing was refused so far.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field.key(), self.reason.key())
    }
}
