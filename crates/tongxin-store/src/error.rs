//! Store errors: what callers can act on (not found, invalid input) and everything else.

use sea_orm::{DbErr, RuntimeErr};
use tongxin_core::{Field, Invalid, Reason, Timestamp};

use crate::crypto::SealError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record does not exist, or lies outside the caller's subtree (indistinguishable).
    #[error("not found")]
    NotFound,
    /// The caller's role may not do this inside their subtree.
    #[error("not permitted for this role")]
    Forbidden,
    #[error("invalid input: {0}")]
    Invalid(#[from] Invalid),
    #[error("database error")]
    Db(#[source] DbErr),
    /// SQLite's write lock stayed taken (by a long import) past the busy timeout; worth
    /// retrying later.
    #[error("the database is busy")]
    Busy,
    /// A person with this ID number is already on record; `existing` is their id when the
    /// caller may see them (unknown when a simultaneous write got there first).
    #[error("a person with this ID number already exists")]
    DuplicatePerson { existing: Option<i64> },
    /// The account was told "on record elsewhere" too often this hour; writes and imports
    /// carrying ID numbers wait (see `directory::probes`).
    #[error("too many ID numbers on record elsewhere this hour")]
    TooManyProbes,
    /// A unique key without a field of its own refused the write: the same thing was written
    /// by a simultaneous request. `key` names the constraint.
    #[error("already exists ({key})")]
    Duplicate { key: String, source: DbErr },
    /// The record changed since the caller read it; `changes` says how.
    #[error("the record was changed by someone else meanwhile")]
    Conflict {
        changes: Vec<tongxin_core::HistoryEntry>,
    },
    /// The workflow does not let this actor take this step from the record's state now;
    /// `allowed` are the steps it does allow them.
    #[error("not allowed now; allowed: {allowed:?}")]
    NotAllowedNow { allowed: Vec<String> },
    #[error(transparent)]
    Sealed(#[from] SealError),
    /// A stored value that this version cannot read (`what` says which).
    #[error("unreadable stored value: {what}")]
    Corrupt { what: String },
    /// The database URL or schema name is not one Tongxin can use.
    #[error("{0}")]
    Settings(String),
    #[error("cannot connect to the database")]
    Connect(#[source] sqlx::Error),
    /// A backup could not be taken, or a restore did not verify (the message says why).
    #[error("{0}")]
    Backup(String),
    /// An audit archive could not be written, or does not verify (the message says why).
    #[error("{0}")]
    Archive(String),
    /// The view of a record could not be written to its access log (the message says why).
    #[error("the read could not be recorded: {0}")]
    AccessLog(String),
    #[error("password hashing failed: {0}")]
    Hash(argon2::password_hash::Error),
    #[error("a blocking task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        if let Some(key) = unique_key(&e) {
            return refusal_of_unique_key(key, e);
        }
        // SQLITE_BUSY reaches us only as text through SeaORM's error.
        if e.to_string().contains("database is locked") {
            StoreError::Busy
        } else {
            StoreError::Db(e)
        }
    }
}

/// The unique key a write broke, if that is why it failed: PostgreSQL names the constraint
/// (`units_code_key`), SQLite the columns (`UNIQUE constraint failed: units.code`).
fn unique_key(e: &DbErr) -> Option<String> {
    let (DbErr::Exec(RuntimeErr::SqlxError(sqlx)) | DbErr::Query(RuntimeErr::SqlxError(sqlx))) = e
    else {
        return None;
    };
    let database = sqlx.as_database_error()?;
    if database.kind() != sqlx::error::ErrorKind::UniqueViolation {
        return None;
    }
    let key = database.constraint().map(str::to_owned).or_else(|| {
        database
            .message()
            .strip_prefix("UNIQUE constraint failed: ")
            .map(str::to_owned)
    });
    Some(key.unwrap_or_else(|| database.message().to_owned()))
}

/// The refusal a unique key means: the same answer the check before the write gives, so a
/// request that loses a race hears what it would have heard a moment later.
fn refusal_of_unique_key(key: String, source: DbErr) -> StoreError {
    let taken = |field| StoreError::Invalid(Invalid::new(field, Reason::Taken));
    match key.as_str() {
        "units_code_key" | "units.code" => taken(Field::UnitCode),
        "users_username_key" | "users.username" => taken(Field::Username),
        "idx_users_person" | "users.person_id" => taken(Field::Username),
        "sectors_code_key" | "sectors.code" => taken(Field::SectorCode),
        "idx_sector_fields_key" | "sector_fields.sector_id, sector_fields.key" => {
            taken(Field::Named("field_key"))
        }
        "activity_kinds_code_key" | "activity_kinds.code" => taken(Field::Named("kind_code")),
        "people_id_number_index_key" | "people.id_number_index" => {
            StoreError::DuplicatePerson { existing: None }
        }
        _ => StoreError::Duplicate { key, source },
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Why a login was refused. The first two are shown to the user in the same words, so the
/// form does not reveal which user names exist.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("account locked until {until:?}")]
    Locked { until: Timestamp },
    #[error("account disabled")]
    Disabled,
    /// An API token for an account whose password someone else set: the holder changes it on
    /// the web first.
    #[error("the password must be changed first")]
    PasswordChangeRequired,
    /// An API token for an account with a second factor, asked without its code.
    #[error("a code from the authenticator app is required")]
    SecondFactorRequired,
    /// An API token for an account whose role needs a second factor it has not set up: the
    /// holder sets it up on the web first.
    #[error("a second factor must be set up first")]
    SecondFactorSetupRequired,
    /// A web login waiting for its code, past its few minutes or gone.
    #[error("the login waiting for a code has expired")]
    SecondFactorExpired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LoginError {
    /// A wrong password, or a refused account: what login limits count (not a database
    /// failure, nor a right password that must be changed first).
    pub fn is_failed_attempt(&self) -> bool {
        matches!(
            self,
            LoginError::BadCredentials | LoginError::Locked { .. } | LoginError::Disabled
        )
    }
}

impl From<DbErr> for LoginError {
    fn from(e: DbErr) -> Self {
        LoginError::Store(StoreError::from(e))
    }
}
