//! Accounts: user names, roles and the password policy.

use std::fmt;

use crate::error::{Field, Invalid, Reason};

/// A login name: 3 to 32 characters of lowercase ASCII letters, digits, `.`, `_` and `-`,
/// starting with a letter or digit. Stored lowercased so `Admin` and `admin` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(Invalid::new(Field::Username, Reason::Required));
        }
        if name.len() < Self::MIN_LEN {
            return Err(Invalid::new(
                Field::Username,
                Reason::TooShort { min: Self::MIN_LEN },
            ));
        }
        if name.len() > Self::MAX_LEN {
            return Err(Invalid::new(
                Field::Username,
                Reason::TooLong { max: Self::MAX_LEN },
            ));
        }
        let valid_char =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
        let starts_well = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if !starts_well || !name.chars().all(valid_char) {
            return Err(Invalid::new(Field::Username, Reason::UsernameFormat));
        }
        Ok(Username(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an account may do inside its unit's subtree (DESIGN.md §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The system administrator: units, shared reference data, and the work accounts (staff,
    /// leaders, members) of their subtree.
    Admin,
    /// Work records.
    Staff,
    /// Reads everything, endorses.
    Leader,
    /// Own record and the member portal.
    Member,
    /// The security administrator: every account of their subtree, its role, lockouts and the
    /// right to export in clear; never the directory.
    Security,
    /// The auditor: reads and exports the audit log; changes nothing.
    Auditor,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Staff,
        Role::Leader,
        Role::Member,
        Role::Security,
        Role::Auditor,
    ];

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "admin" => Ok(Role::Admin),
            "staff" => Ok(Role::Staff),
            "leader" => Ok(Role::Leader),
            "member" => Ok(Role::Member),
            "security" => Ok(Role::Security),
            "auditor" => Ok(Role::Auditor),
            "" => Err(Invalid::new(Field::Role, Reason::Required)),
            _ => Err(Invalid::new(Field::Role, Reason::UnknownRole)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Leader => "leader",
            Role::Member => "member",
            Role::Security => "security",
            Role::Auditor => "auditor",
        }
    }

    /// Create, rename, move and archive units; keep the shared reference data at the top.
    pub fn administers(self) -> bool {
        self == Role::Admin
    }

    /// List and manage accounts of their subtree (the system administrator only those of the
    /// work roles; see [`Role::is_privileged`]).
    pub fn manages_accounts(self) -> bool {
        matches!(self, Role::Admin | Role::Security)
    }

    /// One of the three duties kept apart (三员): only the security administrator gives these
    /// roles, and the system administrator manages no account that holds one.
    pub fn is_privileged(self) -> bool {
        matches!(self, Role::Admin | Role::Security | Role::Auditor)
    }

    /// Read the audit log.
    pub fn reads_audit(self) -> bool {
        self == Role::Auditor
    }

    /// Browse the directory, activities and the other work areas (members use the portal;
    /// the security administrator and the auditor have their own areas).
    pub fn works_in_tree(self) -> bool {
        matches!(self, Role::Admin | Role::Staff | Role::Leader)
    }
}

/// A new password: 10 to 128 characters. Long passphrases beat composition rules.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let n = raw.chars().count();
        if n == 0 {
            return Err(Invalid::new(Field::Password, Reason::Required));
        }
        if n < Self::MIN_CHARS {
            return Err(Invalid::new(
                Field::Password,
                Reason::TooShort {
                    min: Self::MIN_CHARS,
                },
            ));
        }
        if n > Self::MAX_CHARS {
            return Err(Invalid::new(
                Field::Password,
                Reason::TooLong {
                    max: Self::MAX_CHARS,
                },
            ));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_checked() {
        assert_eq!(Username::parse(" Admin ").map(|u| u.0), Ok("admin".into()));
        assert_eq!(
            Username::parse("张三").map(|u| u.0),
            Err(Invalid::new(Field::Username, Reason::UsernameFormat))
        );
        assert_eq!(
            Username::parse("ab").map(|u| u.0),
            Err(Invalid::new(Field::Username, Reason::TooShort { min: 3 }))
        );
        assert_eq!(
            Username::parse(".abc").map(|u| u.0),
            Err(Invalid::new(Field::Username, Reason::UsernameFormat))
        );
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert_eq!(
            Role::parse("root"),
            Err(Invalid::new(Field::Role, Reason::UnknownRole))
        );
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(Password::parse("123456789").is_err());
        assert!(Password::parse("correct horse").is_ok());
    }
}
