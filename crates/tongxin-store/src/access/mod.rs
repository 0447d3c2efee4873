//! The access layer: the one place that decides who may see and who may change each kind of
//! business record.
//!
//! Each kind declares its rules once, as data ([`Kind::declaration`]): grants of a reach (the
//! record's unit in the actor's subtree, its target meeting the actor's part of the tree, the
//! actor's own linked person, through a parent record, …) to some roles. A table implements
//! [`Guarded`] to turn each reach into a condition on its own columns; the gates below apply
//! the declaration:
//!
//! - [`visible`] selects only rows the actor may see (lists, lookups);
//! - [`find`] fetches one visible row, or answers not found, so a record outside the actor's
//!   reach cannot be told from one that does not exist;
//! - [`find_to_change`] also requires the right to change it (forbidden otherwise).
//!
//! The rest of the store may not call `find`, `find_by_id`, `update_many`, `delete_many` or
//! `delete_by_id` on an entity directly (clippy's `disallowed-methods`, configured in this
//! crate's `clippy.toml`): work that is not on behalf of a caller's view — counters, the audit
//! chain, sessions before there is an actor, names of rows already reached — goes through
//! [`unguarded`] and says why with an [`Unguarded`] reason.

mod actor;
mod rules;

use sea_orm::sea_query::{Expr, ExprTrait, IntoCondition};
use sea_orm::{
    Condition, ConnectionTrait, DeleteMany, EntityTrait, PaginatorTrait, PrimaryKeyTrait,
    QueryFilter, Select, UpdateMany,
};
use tongxin_core::{Field, Invalid, Reason};

pub use actor::Actor;
pub use rules::{Declaration, Grant, Kind, Position, Reach, Standing};
pub(crate) use rules::{Guarded, organizations_finding_people};

use crate::entity::unit;
use crate::error::{Result, StoreError};

/// Whether a condition is asked for seeing or for changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    See,
    Change,
}

/// The rows of `E` the actor may see or change: any grant of the declaration that names the
/// actor's role and whose reach holds.
pub(crate) fn allowed<E: Guarded>(actor: &Actor, mode: Mode) -> Condition {
    let declaration = E::KIND.declaration();
    let grants = match mode {
        Mode::See => declaration.see,
        Mode::Change => declaration.change,
    };
    let mut any = Condition::any();
    let mut granted = false;
    for grant in grants.iter().filter(|g| g.roles.contains(&actor.role())) {
        any = any.add(E::reach(actor, grant.reach, mode));
        granted = true;
    }
    if granted { any } else { nothing() }
}

/// Refuses an actor whose role no grant to see `E` names: such a caller is turned away
/// (forbidden) rather than shown an empty list.
pub(crate) fn require_role_sees<E: Guarded>(actor: &Actor) -> Result<()> {
    let named = E::KIND
        .declaration()
        .see
        .iter()
        .any(|g| g.roles.contains(&actor.role()));
    if named {
        Ok(())
    } else {
        Err(StoreError::Forbidden)
    }
}

/// A condition no row meets (an empty `any` must never be mistaken for "no condition").
pub(crate) fn nothing() -> Condition {
    Expr::val(1).eq(0).into_condition()
}

/// The rows of `E` the actor may see.
pub(crate) fn visible<E: Guarded>(actor: &Actor) -> Select<E> {
    #[allow(clippy::disallowed_methods)]
    E::find().filter(allowed::<E>(actor, Mode::See))
}

/// The rows of `E` the actor may change.
pub(crate) fn changeable<E: Guarded>(actor: &Actor) -> Select<E> {
    #[allow(clippy::disallowed_methods)]
    E::find().filter(allowed::<E>(actor, Mode::Change))
}

/// One row the actor may see, or not found.
pub(crate) async fn find<E, C>(
    conn: &C,
    actor: &Actor,
    id: <E::PrimaryKey as PrimaryKeyTrait>::ValueType,
) -> Result<E::Model>
where
    E: Guarded,
    C: ConnectionTrait,
{
    #[allow(clippy::disallowed_methods)]
    E::find_by_id(id)
        .filter(allowed::<E>(actor, Mode::See))
        .one(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// One row the actor may change: not found when they may not even see it, forbidden when
/// they may see but not change it.
pub(crate) async fn find_to_change<E, C>(
    conn: &C,
    actor: &Actor,
    id: <E::PrimaryKey as PrimaryKeyTrait>::ValueType,
) -> Result<E::Model>
where
    E: Guarded,
    <E::PrimaryKey as PrimaryKeyTrait>::ValueType: Clone,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let row = find::<E, C>(conn, actor, id.clone()).await?;
    #[allow(clippy::disallowed_methods)]
    let changeable = E::find_by_id(id)
        .filter(allowed::<E>(actor, Mode::Change))
        .count(conn)
        .await?
        > 0;
    if changeable {
        Ok(row)
    } else {
        Err(StoreError::Forbidden)
    }
}

/// Why a query reads or writes rows without an actor's rule: each use names one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unguarded {
    /// Names and labels of rows the caller already reached through a guarded record (the unit
    /// of a person shown, the sector of a membership listed).
    Labels,
    /// Shared reference data everyone working in the tree reads (sectors, their fields,
    /// activity kinds, the enabled sensitive fields).
    Reference,
    /// Rows that belong to a guarded record just found or changed and carry no rule of their
    /// own (a person's sectors, tags, history and name pieces; an activity's materials).
    PartsOf,
    /// The kept coverage counters and targets, rewritten alongside the change that moves them.
    Counters,
    /// A unit move rewrites the copies of the moved subtree's paths on every table that keeps
    /// one, after the move itself was checked.
    PathCopies,
    /// A key that must be unique across the whole network (unit codes, usernames, ID
    /// numbers), checked before it is written.
    Uniqueness,
    /// Signing in and sessions: there is no actor yet, or the session is the actor.
    Sessions,
    /// The hash-chained audit log, appended to and verified as one chain.
    AuditChain,
    /// The integrity check and the command line's whole-network work.
    System,
    /// A signed check-in link is the authority: the member's scope is their own record.
    SignedLink,
    /// An account's own audited answers, counted to limit how many more it may get.
    Limits,
    /// Sizes that choose a query's plan (how many names hold a bigram) and are never shown.
    Planning,
    /// Tallies over a subtree the actor was checked to reach with the subtree grant of the
    /// records counted (a city's case figures): counts only, never the rows, read in the
    /// one pass an index serves.
    Figures,
}

/// All rows of `E`, for work that is not a caller's view: `why` says which.
pub(crate) fn unguarded<E: EntityTrait>(_why: Unguarded) -> Select<E> {
    #[allow(clippy::disallowed_methods)]
    E::find()
}

/// One row of `E` by id, for work that is not a caller's view: `why` says which.
pub(crate) fn unguarded_by_id<E: EntityTrait>(
    _why: Unguarded,
    id: <E::PrimaryKey as PrimaryKeyTrait>::ValueType,
) -> Select<E> {
    #[allow(clippy::disallowed_methods)]
    E::find_by_id(id)
}

/// An update of many rows of `E`, whose selection the caller has already checked or which is
/// not a caller's view: `why` says which.
pub(crate) fn update_rows<E: EntityTrait>(_why: Unguarded) -> UpdateMany<E> {
    #[allow(clippy::disallowed_methods)]
    E::update_many()
}

/// A deletion of many rows of `E`, as [`update_rows`].
pub(crate) fn delete_rows<E: EntityTrait>(_why: Unguarded) -> DeleteMany<E> {
    #[allow(clippy::disallowed_methods)]
    E::delete_many()
}

/// The unit a record is being filed under: it must be in the actor's subtree and active; a
/// refusal names `field`.
pub(crate) async fn filing_unit<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    unit_id: i64,
    field: Field,
) -> Result<unit::Model> {
    let unit = match find::<unit::Entity, C>(conn, actor, unit_id).await {
        Err(StoreError::NotFound) => return Err(Invalid::new(field, Reason::NotFound).into()),
        other => other?,
    };
    if unit.archived_at.is_some() {
        return Err(Invalid::new(field, Reason::Archived).into());
    }
    Ok(unit)
}
