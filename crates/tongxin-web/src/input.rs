//! Turning submitted fields into validated store inputs, shared by the pages and the API so
//! both refuse the same things with the same messages. Every refused field is collected, so a
//! form can show them all at once.

use tongxin_core::{
    Field, Invalid, Password, Reason, Role, UnitCode, UnitName, Username, parse_name,
};
use tongxin_store::{Actor, NewAccount, NewUnit, Store, StoreError};

use crate::error::AppError;

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
}

/// A new unit below `parent_id`.
pub fn new_unit(parent_id: i64, code: &str, name: &str) -> Result<NewUnit, Vec<Invalid>> {
    let mut checks = Checks::default();
    let code = checks.check(UnitCode::parse(code));
    let name = checks.check(UnitName::parse(name));
    match (code, name) {
        (Some(code), Some(name)) => Ok(NewUnit {
            parent_id,
            code,
            name,
        }),
        _ => Err(checks.into_inner()),
    }
}

/// The fields of a new account as submitted.
pub struct AccountFields<'a> {
    pub unit_code: &'a str,
    pub username: &'a str,
    /// Empty or missing: the user name is used.
    pub display_name: Option<&'a str>,
    pub role: &'a str,
    pub password: &'a str,
}

/// A new account, with its unit looked up by code in the actor's subtree.
pub async fn new_account(
    store: &Store,
    actor: &Actor,
    fields: &AccountFields<'_>,
) -> Result<Result<NewAccount, Vec<Invalid>>, AppError> {
    let mut checks = Checks::default();
    let username = checks.check(Username::parse(fields.username));
    let display_name = match fields.display_name.filter(|n| !n.trim().is_empty()) {
        None => Some(fields.username.trim().to_owned()),
        Some(name) => checks.check(parse_name(Field::DisplayName, name)),
    };
    let role = checks.check(Role::parse(fields.role));
    let password = checks.check(Password::parse(fields.password));
    let unit = match store.unit_by_code(actor, fields.unit_code).await {
        Ok(unit) => Some(unit),
        Err(StoreError::NotFound) => {
            let reason = if fields.unit_code.trim().is_empty() {
                Reason::Required
            } else {
                Reason::NotFound
            };
            checks.check(Err(Invalid::new(Field::Unit, reason)))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(match (username, display_name, role, password, unit) {
        (Some(username), Some(display_name), Some(role), Some(password), Some(unit)) => {
            Ok(NewAccount {
                unit_id: unit.id,
                username,
                display_name,
                role,
                password,
            })
        }
        _ => Err(checks.into_inner()),
    })
}
