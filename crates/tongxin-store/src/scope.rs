//! The scoping layer: who is asking, and the one condition that confines a query to their
//! subtree. Every business query in this crate takes an [`Actor`] and filters with
//! [`Actor::subtree`]; a record outside it is reported as [`StoreError::NotFound`].

use sea_orm::{ColumnTrait, Condition};
use tongxin_core::{Role, UnitPath};

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
    ip: Option<String>,
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
            ip: None,
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
            ip,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn user(
        user_id: i64,
        username: String,
        display_name: String,
        role: Role,
        unit_id: i64,
        unit_name: String,
        unit_path: UnitPath,
        ip: Option<String>,
    ) -> Actor {
        Actor {
            user_id: Some(user_id),
            username,
            display_name,
            role,
            unit_id: Some(unit_id),
            unit_name,
            unit_path,
            ip,
        }
    }

    pub fn user_id(&self) -> Option<i64> {
        self.user_id
    }

    pub fn username(&self) -> &str {
        &self.username
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

    pub fn ip(&self) -> Option<&str> {
        self.ip.as_deref()
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
    pub(crate) fn subtree<C: ColumnTrait>(&self, column: C) -> Condition {
        Condition::all()
            .add(column.gte(self.unit_path.as_str()))
            .add(column.lt(self.unit_path.upper_bound()))
    }

    /// Refuses unless the actor administers their subtree.
    pub(crate) fn require_admin(&self) -> Result<()> {
        if self.role.administers() {
            Ok(())
        } else {
            Err(StoreError::Forbidden)
        }
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
