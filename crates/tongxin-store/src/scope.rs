//! The scoping layer: who is asking, and the one condition that confines a query to their
//! subtree. Every business query in this crate takes an [`Actor`] and filters with
//! [`Actor::subtree`]; a record outside it is reported as [`StoreError::NotFound`].

use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, PrimaryKeyTrait, QueryFilter};
use tongxin_core::{Field, Invalid, Reason, Role, UnitPath};

use crate::entity::{activity, campaign, material, organization, person, saved_filter, unit};
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

/// A table whose rows are filed under a unit and carry a copy of its path, so that the scope
/// condition is one range on an indexed column of the row itself.
pub(crate) trait UnitScoped: EntityTrait {
    /// The column holding the copy of the unit's path.
    fn unit_path() -> Self::Column;
}

macro_rules! unit_scoped {
    ($($module:ident),*) => {$(
        impl UnitScoped for $module::Entity {
            fn unit_path() -> Self::Column {
                $module::Column::UnitPath
            }
        }
    )*};
}

unit_scoped!(
    person,
    organization,
    activity,
    campaign,
    material,
    saved_filter
);

/// One row of a scoped table, if it lies in the actor's subtree; otherwise not found, so a
/// record outside the subtree cannot be told from one that does not exist.
pub(crate) async fn find_scoped<E, C>(conn: &C, actor: &Actor, id: i64) -> Result<E::Model>
where
    E: UnitScoped,
    E::PrimaryKey: PrimaryKeyTrait<ValueType = i64>,
    C: ConnectionTrait,
{
    E::find_by_id(id)
        .filter(actor.subtree(E::unit_path()))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// The unit a record is being filed under: it must be in the actor's subtree and active; a
/// refusal names `field`.
pub(crate) async fn filing_unit<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    unit_id: i64,
    field: Field,
) -> Result<unit::Model> {
    let unit = unit::Entity::find_by_id(unit_id)
        .filter(actor.subtree(unit::Column::Path))
        .one(conn)
        .await?
        .ok_or_else(|| Invalid::new(field, Reason::NotFound))?;
    if unit.archived_at.is_some() {
        return Err(Invalid::new(field, Reason::Archived).into());
    }
    Ok(unit)
}
