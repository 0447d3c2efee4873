//! Store errors: what callers can act on (not found, invalid input) and everything else.

use sea_orm::DbErr;
use tongxin_core::{Invalid, Timestamp};

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
    #[error("database error: {0}")]
    Db(DbErr),
    /// SQLite's write lock stayed taken (by a long import) past the busy timeout; worth
    /// retrying later.
    #[error("the database is busy")]
    Busy,
    /// A person with this ID number is already on record; `existing` is their id when the
    /// caller may see them.
    #[error("a person with this ID number already exists")]
    DuplicatePerson { existing: Option<i64> },
    /// The record changed since the caller read it; `changes` says how.
    #[error("the record was changed by someone else meanwhile")]
    Conflict {
        changes: Vec<crate::people::HistoryEntry>,
    },
    #[error("{0}")]
    Sealed(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        // SQLITE_BUSY reaches us only as text through SeaORM's error.
        if e.to_string().contains("database is locked") {
            StoreError::Busy
        } else {
            StoreError::Db(e)
        }
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
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for LoginError {
    fn from(e: DbErr) -> Self {
        LoginError::Store(StoreError::from(e))
    }
}
