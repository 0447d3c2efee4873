//! Who is asking: the account, its role, its unit's place in the tree and, for a member, the
//! person record it is linked to.

use sea_orm::{ColumnTrait, Condition};
use tongxin_core::{Role, UnitPath};

use crate::accounts::SecondFactorRule;
use crate::entity::{unit, user};
use crate::error::{Result, StoreError};

/// The authenticated caller of a store operation. Only the store creates actors (from a session,
/// or as the system for command-line work), so a handler cannot widen its own scope.
#[derive(Debug, Clone)]
pub struct Actor {
    user_id: Option<i64>,
    username: String,
    display_name: String,
    role: Role,
    unit_id: Option<i64>,
    unit_name: String,
    unit_path: UnitPath,
    person_id: Option<i64>,
    ip: Option<String>,
    must_change_password: bool,
    /// A duty role whose second factor is required and not yet set up.
    must_enrol_second_factor: bool,
    may_export_clear: bool,
}

impl Actor {
    /// The system itself, acting on the whole tree (command line, demo loader).
    pub fn system(label: &str) -> Actor {
        Actor {
            user_id: None,
            username: label.to_owned(),
            display_name: label.to_owned(),
            role: Role::Admin,
            unit_id: None,
            unit_name: String::new(),
            unit_path: UnitPath::whole_tree(),
            person_id: None,
            ip: None,
            must_change_password: false,
            must_enrol_second_factor: false,
            may_export_clear: true,
        }
    }

    /// Someone not yet authenticated (a login attempt), named by what they typed.
    pub(crate) fn anonymous(attempted: &str, ip: Option<String>) -> Actor {
        let name: String = attempted.chars().take(32).collect();
        Actor {
            user_id: None,
            username: name.clone(),
            display_name: name,
            role: Role::Member,
            unit_id: None,
            unit_name: String::new(),
            unit_path: UnitPath::whole_tree(),
            person_id: None,
            ip,
            must_change_password: false,
            must_enrol_second_factor: false,
            may_export_clear: false,
        }
    }

    /// The holder of an account filed under `unit`.
    pub(crate) fn of_account(
        account: &user::Model,
        unit: &unit::Model,
        ip: Option<String>,
        second_factor: SecondFactorRule,
    ) -> Actor {
        let role = Role::parse(&account.role).unwrap_or(Role::Member);
        Actor {
            user_id: Some(account.id),
            username: account.username.clone(),
            display_name: account.display_name.clone(),
            role,
            unit_id: Some(unit.id),
            unit_name: unit.name.clone(),
            unit_path: UnitPath::from_stored(unit.path.clone()),
            person_id: account.person_id,
            ip,
            must_change_password: account.must_change_password,
            must_enrol_second_factor: second_factor.requires(role)
                && account.totp_enrolled_at.is_none(),
            may_export_clear: account.may_export_clear,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// The same actor shown under another name (a member under their person's name).
    pub(crate) fn named(mut self, name: String) -> Actor {
        self.display_name = name;
        self
    }

    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// The unit at the top of this actor's subtree (`None` for the system).
    pub fn unit_id(&self) -> Option<i64> {
        self.unit_id
    }

    pub fn unit_name(&self) -> &str {
        &self.unit_name
    }

    pub fn unit_path(&self) -> &UnitPath {
        &self.unit_path
    }

    /// The person record the actor's account is linked to (a member's own record).
    pub fn person_id(&self) -> Option<i64> {
        self.person_id
    }

    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
    }

    /// Someone else set this account's password: the holder must choose their own first.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password
    }

    /// A second factor is required of this account's role and not yet set up: the holder sets
    /// it up before anything else.
    pub fn must_enrol_second_factor(&self) -> bool {
        self.must_enrol_second_factor
    }

    /// Given the right to export protected fields in clear (the system always has it).
    pub fn may_export_clear(&self) -> bool {
        self.may_export_clear
    }

    /// The same actor, seen from another address (a session used from a new connection).
    pub fn with_ip(mut self, ip: Option<String>) -> Actor {
        self.ip = ip;
        self
    }

    /// Whether the actor's subtree is a whole tree (a top unit, or the system): such
    /// administrators keep what the whole network shares, like the sector list.
    pub fn at_top(&self) -> bool {
        self.unit_path.ids().len() <= 1
    }

    /// Whether a unit with this path lies in the actor's subtree.
    pub fn covers(&self, path: &UnitPath) -> bool {
        self.unit_path.contains(path)
    }

    /// `column` (a materialized path) lies in the actor's subtree: one range condition that a
    /// B-tree index on the column answers.
    pub(super) fn subtree<C: ColumnTrait>(&self, column: C) -> Condition {
        Condition::all()
            .add(column.gte(self.unit_path.as_str()))
            .add(column.lt(self.unit_path.upper_bound()))
    }

    /// Refuses all but those who manage accounts (system and security administrators).
    pub(crate) fn require_account_manager(&self) -> Result<()> {
        if self.role.manages_accounts() {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Refuses to let anyone but the security administrator give, take or touch an account
    /// of a privileged role (三员分立: the system administrator cannot raise an account to
    /// its own rank, nor manage the security administrator or the auditor).
    pub(crate) fn require_may_manage(&self, role: Role) -> Result<()> {
        if self.may_manage(role) {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Whether the actor may give this role, or manage an account that holds it.
    pub fn may_manage(&self, role: Role) -> bool {
        self.role.manages_accounts() && (self.role == Role::Security || !role.is_privileged())
    }

    /// Refuses all but the auditor.
    pub(crate) fn require_auditor(&self) -> Result<()> {
        if self.role.reads_audit() {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Refuses all but the security administrator.
    pub(crate) fn require_security(&self) -> Result<()> {
        if self.role == Role::Security {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Refuses unless the actor administers their subtree.
    pub(crate) fn require_admin(&self) -> Result<()> {
        if self.role.administers() {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Refuses all but administrators of a top unit (or the system), who keep what the whole
    /// network shares: the sector list, the activity kinds.
    pub(crate) fn require_top_admin(&self) -> Result<()> {
        self.require_admin()?;
        if !self.at_top() {
            return Err(StoreError::Forbidden);
        }
        Ok(())
    }

    /// Refuses all but administrators and staff, who keep the work records.
    pub(crate) fn require_editor(&self) -> Result<()> {
        if matches!(self.role, Role::Admin | Role::Staff) {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }

    /// Refuses members, who have no business in the staff areas.
    pub(crate) fn require_staff_area(&self) -> Result<()> {
        if self.role.works_in_tree() {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
    }
}
