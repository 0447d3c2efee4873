//! The declarations: for each kind of record, who may see it and who may change it.

use sea_orm::sea_query::{Expr, ExprTrait, Func, IntoCondition, Query, SelectStatement};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
use tongxin_core::Role;

use super::{Actor, Mode, allowed, nothing};
use crate::entity::{
    activity, activity_kind, activity_material, activity_photo, affiliation, audit_entry, campaign,
    campaign_material, case, case_cosubmitter, department, invitation, job, material, notification,
    organization, person, person_access, person_proposal, research_topic, saved_filter, sector,
    sector_field, survey, unit, unit_channel, user,
};

/// The kinds of business record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Unit,
    Account,
    Sector,
    SectorField,
    ActivityKind,
    Person,
    Organization,
    Affiliation,
    Activity,
    Invitation,
    Photo,
    Campaign,
    Material,
    SavedFilter,
    Proposal,
    AuditEntry,
    PersonAccess,
    Job,
    Notification,
    Channel,
    Case,
    Department,
    ResearchTopic,
    Survey,
}

/// Where the actor must stand for a grant to hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The record's unit is the actor's or lies below it.
    Subtree,
    /// The subtree the record targets meets the actor's: the target lies in the actor's subtree,
    /// or the actor's unit lies in the target's subtree (a city campaign concerns a village).
    Target,
    /// The record is, or belongs to, the person the actor's account is linked to.
    Linked,
    /// Anywhere in the tree: reference data the whole network shares.
    Anywhere,
    /// The actor's unit is a top unit (or the actor is the system): keepers of what the whole
    /// network shares, and readers of rows that concern no unit.
    Top,
    /// Through its parent record of this kind: the same right on the parent.
    Via(Kind),
    /// Attached to a campaign or an activity the actor may see (materials).
    Attached,
    /// The record belongs to the actor's own account (an inbox, an import started).
    Own,
    /// The unit handling the record (a case handed to it) lies in the actor's subtree, wherever
    /// the record itself was filed.
    Handling,
}

/// Some roles, granted a reach.
#[derive(Debug, Clone, Copy)]
pub struct Grant {
    pub roles: &'static [Role],
    pub reach: Reach,
}

/// Who may see and who may change one kind of record: any grant that names the actor's role
/// and whose reach holds.
#[derive(Debug, Clone, Copy)]
pub struct Declaration {
    pub see: &'static [Grant],
    pub change: &'static [Grant],
}

const TREE: &[Role] = &[Role::Admin, Role::Staff, Role::Leader];
const EDITORS: &[Role] = &[Role::Admin, Role::Staff];
const ADMINS: &[Role] = &[Role::Admin];
const MEMBERS: &[Role] = &[Role::Member];
/// Those who manage accounts: the system administrator (work roles only) and the security
/// administrator.
const ACCOUNT_MANAGERS: &[Role] = &[Role::Admin, Role::Security];
/// Everyone who works with the unit tree, including the security administrator (who files
/// accounts into units) and the auditor (who reads what happened where).
const TREE_AND_OVERSEERS: &[Role] = &[
    Role::Admin,
    Role::Staff,
    Role::Leader,
    Role::Security,
    Role::Auditor,
];
const AUDITORS: &[Role] = &[Role::Auditor];
const EVERYONE: &[Role] = &Role::ALL;

const fn grant(roles: &'static [Role], reach: Reach) -> Grant {
    Grant { roles, reach }
}

/// Shared reference data: read by everyone who works in the tree, kept at the top.
const SHARED: Declaration = Declaration {
    see: &[grant(TREE, Reach::Anywhere)],
    change: &[grant(ADMINS, Reach::Top)],
};

impl Kind {
    pub const ALL: [Kind; 24] = [
        Kind::Unit,
        Kind::Account,
        Kind::Sector,
        Kind::SectorField,
        Kind::ActivityKind,
        Kind::Person,
        Kind::Organization,
        Kind::Affiliation,
        Kind::Activity,
        Kind::Invitation,
        Kind::Photo,
        Kind::Campaign,
        Kind::Material,
        Kind::SavedFilter,
        Kind::Proposal,
        Kind::AuditEntry,
        Kind::PersonAccess,
        Kind::Job,
        Kind::Notification,
        Kind::Channel,
        Kind::Case,
        Kind::Department,
        Kind::ResearchTopic,
        Kind::Survey,
    ];

    /// This kind's declaration: who may see it and who may change it.
    pub const fn declaration(self) -> Declaration {
        match self {
            Kind::Sector | Kind::SectorField | Kind::ActivityKind | Kind::Department => SHARED,
            Kind::Unit => {
                const {
                    Declaration {
                        see: &[grant(TREE_AND_OVERSEERS, Reach::Subtree)],
                        change: &[grant(ADMINS, Reach::Subtree)],
                    }
                }
            }
            // The system administrator changes only accounts of the work roles
            // (`Actor::require_may_manage`).
            Kind::Account => {
                const {
                    Declaration {
                        see: &[grant(ACCOUNT_MANAGERS, Reach::Subtree)],
                        change: &[grant(ACCOUNT_MANAGERS, Reach::Subtree)],
                    }
                }
            }
            Kind::Person => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Subtree), grant(MEMBERS, Reach::Linked)],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            Kind::Organization => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Subtree)],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            // Whoever may see the person sees the organization's name and the post; the
            // organization's own page and its other members stay with its declaration.
            Kind::Affiliation => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Via(Kind::Person))],
                        change: &[grant(EDITORS, Reach::Via(Kind::Person))],
                    }
                }
            }
            Kind::Activity => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Subtree), grant(MEMBERS, Reach::Linked)],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            Kind::Invitation => {
                const {
                    Declaration {
                        see: &[
                            grant(TREE, Reach::Via(Kind::Activity)),
                            grant(MEMBERS, Reach::Linked),
                        ],
                        change: &[
                            grant(EDITORS, Reach::Via(Kind::Activity)),
                            grant(MEMBERS, Reach::Linked),
                        ],
                    }
                }
            }
            Kind::Photo => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Via(Kind::Activity))],
                        change: &[grant(EDITORS, Reach::Via(Kind::Activity))],
                    }
                }
            }
            Kind::Campaign => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Subtree), grant(TREE, Reach::Target)],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            // Whoever may see a campaign or an activity may read the materials attached to it.
            Kind::Material => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Subtree), grant(TREE, Reach::Attached)],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            Kind::SavedFilter => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Subtree)],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            Kind::Proposal => {
                const {
                    Declaration {
                        see: &[
                            grant(TREE, Reach::Via(Kind::Person)),
                            grant(MEMBERS, Reach::Linked),
                        ],
                        change: &[grant(EDITORS, Reach::Via(Kind::Person))],
                    }
                }
            }
            Kind::AuditEntry => {
                const {
                    Declaration {
                        see: &[grant(AUDITORS, Reach::Subtree), grant(AUDITORS, Reach::Top)],
                        change: &[],
                    }
                }
            }
            // Who read a person's record is shown to that person; nobody changes it (the
            // reveals and exports among it are in the audit log for the auditor).
            Kind::PersonAccess => {
                const {
                    Declaration {
                        see: &[grant(MEMBERS, Reach::Linked)],
                        change: &[],
                    }
                }
            }
            // Administrators keep the jobs of their subtree (and at the top, the network's
            // own); whoever started a job follows it.
            Kind::Job => {
                const {
                    Declaration {
                        see: &[
                            grant(ADMINS, Reach::Subtree),
                            grant(ADMINS, Reach::Top),
                            grant(TREE, Reach::Own),
                        ],
                        change: &[grant(ADMINS, Reach::Subtree), grant(ADMINS, Reach::Top)],
                    }
                }
            }
            // A unit's robots and webhooks are its administrators' to keep.
            Kind::Channel => {
                const {
                    Declaration {
                        see: &[grant(ADMINS, Reach::Subtree)],
                        change: &[grant(ADMINS, Reach::Subtree)],
                    }
                }
            }
            // A case is seen by the receiving unit and those above it, by the handling unit and
            // those above it (wherever that is in the tree), and by its submitters; what each
            // may do to it beyond that is its workflow's to say (`cases::parties`).
            Kind::Case => {
                const {
                    Declaration {
                        see: &[
                            grant(TREE, Reach::Subtree),
                            grant(TREE, Reach::Handling),
                            grant(MEMBERS, Reach::Linked),
                        ],
                        change: &[
                            grant(EDITORS, Reach::Subtree),
                            grant(EDITORS, Reach::Handling),
                            grant(MEMBERS, Reach::Linked),
                        ],
                    }
                }
            }
            // A research topic is for the tree below the unit that published it (and read by
            // those above it); members where it meets their unit sign up for it.
            Kind::ResearchTopic => {
                const {
                    Declaration {
                        see: &[grant(TREE, Reach::Target), grant(MEMBERS, Reach::Target)],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            // A survey is read by those working where its publisher or its target lies, and by
            // the members it asks: those linked to a person under its target (the store then
            // narrows to its sectors and tags).
            Kind::Survey => {
                const {
                    Declaration {
                        see: &[
                            grant(TREE, Reach::Subtree),
                            grant(TREE, Reach::Target),
                            grant(MEMBERS, Reach::Linked),
                        ],
                        change: &[grant(EDITORS, Reach::Subtree)],
                    }
                }
            }
            // An inbox is its account's alone.
            Kind::Notification => {
                const {
                    Declaration {
                        see: &[grant(EVERYONE, Reach::Own)],
                        change: &[grant(EVERYONE, Reach::Own)],
                    }
                }
            }
        }
    }
}

/// Where an actor stands relative to a record, as the access test places them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// At the record's own unit.
    Own,
    /// Above the record's unit.
    Ancestor,
    /// Below the record's unit.
    Descendant,
    /// Beside it: neither above nor below.
    Sibling,
    /// At the record's unit, as the member linked to the record's person, or as the account
    /// the record belongs to.
    Owner,
}

/// An actor's standing for evaluating a declaration without a database.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    pub role: Role,
    pub position: Position,
    /// Whether the actor's unit is a top unit.
    pub at_top: bool,
    /// Whether the record is attached to a campaign or activity (materials).
    pub attached: bool,
    /// Whether the unit handling the record lies in the actor's subtree (cases).
    pub handling: bool,
}

impl Declaration {
    /// Whether someone standing so may see a record of this kind (the record's target, where
    /// it has one, being its own unit).
    pub fn may_see(&self, standing: Standing) -> bool {
        holds(self.see, standing, Mode::See)
    }

    /// Whether someone standing so may change a record of this kind.
    pub fn may_change(&self, standing: Standing) -> bool {
        self.may_see(standing) && holds(self.change, standing, Mode::Change)
    }
}

fn holds(grants: &[Grant], standing: Standing, mode: Mode) -> bool {
    grants
        .iter()
        .filter(|g| g.roles.contains(&standing.role))
        .any(|g| match g.reach {
            Reach::Subtree => matches!(standing.position, Position::Own | Position::Ancestor),
            // A member linked to the record's person stands at its unit.
            Reach::Target => matches!(
                standing.position,
                Position::Own | Position::Ancestor | Position::Descendant | Position::Owner
            ),
            Reach::Linked | Reach::Own => standing.position == Position::Owner,
            Reach::Anywhere => true,
            Reach::Top => standing.at_top,
            Reach::Via(parent) => match mode {
                Mode::See => parent.declaration().may_see(standing),
                Mode::Change => parent.declaration().may_change(standing),
            },
            Reach::Attached => standing.attached,
            Reach::Handling => standing.handling,
        })
}

/// A table whose rows the access layer guards: it turns each reach its kind's declaration uses
/// into a condition on its own columns.
pub(crate) trait Guarded: EntityTrait {
    const KIND: Kind;

    /// The condition for one reach; a reach the declaration does not use matches nothing.
    fn reach(actor: &Actor, reach: Reach, mode: Mode) -> Condition;
}

/// The ids of the rows of `P` the actor may see (or change).
fn allowed_ids<P: Guarded>(actor: &Actor, mode: Mode, id: P::Column) -> SelectStatement {
    #[allow(clippy::disallowed_methods)]
    P::find()
        .select_only()
        .column(id)
        .filter(allowed::<P>(actor, mode))
        .into_query()
}

/// The row of `P` that `reference` points at (by `P`'s `id`) is one the actor may see (or
/// change), asked per row with `EXISTS`. A statement reads few such rows (one organization's
/// members, one activity's invitations), while a list of every allowed id would be built whole
/// for each statement: a city's million people took two seconds.
fn allowed_at<P: Guarded, R: ColumnTrait>(
    actor: &Actor,
    mode: Mode,
    id: P::Column,
    reference: R,
) -> Condition {
    #[allow(clippy::disallowed_methods)]
    let mut rows = P::find()
        .select_only()
        .expr(Expr::val(1))
        .filter(allowed::<P>(actor, mode))
        .into_query();
    rows.and_where(Expr::col((P::default(), id)).equals((reference.entity_name(), reference)));
    Expr::exists(rows).into_condition()
}

/// The actor's linked person is `column`.
fn linked<C: ColumnTrait>(actor: &Actor, column: C) -> Condition {
    match actor.person_id() {
        Some(id) => column.eq(id).into_condition(),
        None => nothing(),
    }
}

fn top(actor: &Actor) -> Condition {
    if actor.at_top() {
        Condition::all()
    } else {
        nothing()
    }
}

macro_rules! filed_under_a_unit {
    ($($module:ident => $kind:ident),* $(,)?) => {$(
        impl Guarded for $module::Entity {
            const KIND: Kind = Kind::$kind;

            fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
                match reach {
                    Reach::Subtree => actor.subtree($module::Column::UnitPath),
                    _ => nothing(),
                }
            }
        }
    )*};
}

filed_under_a_unit!(
    organization => Organization,
    saved_filter => SavedFilter,
    unit_channel => Channel,
);

/// The actor's own account is `column`.
fn own<C: ColumnTrait>(actor: &Actor, column: C) -> Condition {
    match actor.user_id() {
        Some(id) => column.eq(id).into_condition(),
        None => nothing(),
    }
}

impl Guarded for job::Entity {
    const KIND: Kind = Kind::Job;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(job::Column::UnitPath),
            Reach::Top => top(actor),
            Reach::Own => own(actor, job::Column::OwnerId),
            _ => nothing(),
        }
    }
}

impl Guarded for notification::Entity {
    const KIND: Kind = Kind::Notification;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Own => own(actor, notification::Column::AccountId),
            _ => nothing(),
        }
    }
}

/// The organizations whose name finds people in a directory search: any live one, wherever
/// it is filed. The search lists only people the actor may see, never the organization, so
/// its name is all that crosses the tree.
pub(crate) fn organizations_finding_people() -> Condition {
    organization::Column::ArchivedAt.is_null().into_condition()
}

macro_rules! shared {
    ($($module:ident => $kind:ident),* $(,)?) => {$(
        impl Guarded for $module::Entity {
            const KIND: Kind = Kind::$kind;

            fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
                match reach {
                    Reach::Anywhere => Condition::all(),
                    Reach::Top => top(actor),
                    _ => nothing(),
                }
            }
        }
    )*};
}

shared!(
    sector => Sector,
    sector_field => SectorField,
    activity_kind => ActivityKind,
    department => Department,
);

impl Guarded for case::Entity {
    const KIND: Kind = Kind::Case;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(case::Column::ReceivingUnitPath),
            Reach::Handling => actor.subtree(case::Column::HandlingUnitPath),
            Reach::Linked => match actor.person_id() {
                Some(person_id) => Condition::any()
                    .add(case::Column::SubmitterId.eq(person_id))
                    .add(
                        case::Column::Id.in_subquery(
                            Query::select()
                                .column(case_cosubmitter::Column::CaseId)
                                .from(case_cosubmitter::Entity)
                                .and_where(case_cosubmitter::Column::PersonId.eq(person_id))
                                .to_owned(),
                        ),
                    ),
                None => nothing(),
            },
            _ => nothing(),
        }
    }
}

impl Guarded for unit::Entity {
    const KIND: Kind = Kind::Unit;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(unit::Column::Path),
            _ => nothing(),
        }
    }
}

impl Guarded for user::Entity {
    const KIND: Kind = Kind::Account;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => user::Column::UnitId
                .in_subquery(
                    Query::select()
                        .column(unit::Column::Id)
                        .from(unit::Entity)
                        .cond_where(actor.subtree(unit::Column::Path))
                        .to_owned(),
                )
                .into_condition(),
            _ => nothing(),
        }
    }
}

impl Guarded for person::Entity {
    const KIND: Kind = Kind::Person;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(person::Column::UnitPath),
            Reach::Linked => linked(actor, person::Column::Id),
            _ => nothing(),
        }
    }
}

impl Guarded for person_access::Entity {
    const KIND: Kind = Kind::PersonAccess;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Linked => linked(actor, person_access::Column::PersonId),
            _ => nothing(),
        }
    }
}

impl Guarded for affiliation::Entity {
    const KIND: Kind = Kind::Affiliation;

    fn reach(actor: &Actor, reach: Reach, mode: Mode) -> Condition {
        match reach {
            Reach::Via(Kind::Person) => allowed_at::<person::Entity, _>(
                actor,
                mode,
                person::Column::Id,
                affiliation::Column::PersonId,
            ),
            _ => nothing(),
        }
    }
}

impl Guarded for activity::Entity {
    const KIND: Kind = Kind::Activity;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(activity::Column::UnitPath),
            Reach::Linked => match actor.person_id() {
                Some(person_id) => activity::Column::Id
                    .in_subquery(
                        Query::select()
                            .column(invitation::Column::ActivityId)
                            .from(invitation::Entity)
                            .and_where(invitation::Column::PersonId.eq(person_id))
                            .to_owned(),
                    )
                    .into_condition(),
                None => nothing(),
            },
            _ => nothing(),
        }
    }
}

impl Guarded for invitation::Entity {
    const KIND: Kind = Kind::Invitation;

    fn reach(actor: &Actor, reach: Reach, mode: Mode) -> Condition {
        match reach {
            Reach::Via(Kind::Activity) => allowed_at::<activity::Entity, _>(
                actor,
                mode,
                activity::Column::Id,
                invitation::Column::ActivityId,
            ),
            Reach::Linked => linked(actor, invitation::Column::PersonId),
            _ => nothing(),
        }
    }
}

impl Guarded for activity_photo::Entity {
    const KIND: Kind = Kind::Photo;

    fn reach(actor: &Actor, reach: Reach, mode: Mode) -> Condition {
        match reach {
            Reach::Via(Kind::Activity) => allowed_at::<activity::Entity, _>(
                actor,
                mode,
                activity::Column::Id,
                activity_photo::Column::ActivityId,
            ),
            _ => nothing(),
        }
    }
}

impl Guarded for campaign::Entity {
    const KIND: Kind = Kind::Campaign;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(campaign::Column::UnitPath),
            Reach::Target => Condition::any()
                .add(actor.subtree(campaign::Column::TargetUnitPath))
                .add(campaign::Column::TargetUnitPath.is_in(actor.unit_path().lineage())),
            _ => nothing(),
        }
    }
}

impl Guarded for research_topic::Entity {
    const KIND: Kind = Kind::ResearchTopic;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(research_topic::Column::UnitPath),
            Reach::Target => Condition::any()
                .add(actor.subtree(research_topic::Column::UnitPath))
                .add(research_topic::Column::UnitPath.is_in(actor.unit_path().lineage())),
            _ => nothing(),
        }
    }
}

impl Guarded for survey::Entity {
    const KIND: Kind = Kind::Survey;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(survey::Column::UnitPath),
            Reach::Target => Condition::any()
                .add(actor.subtree(survey::Column::TargetUnitPath))
                .add(survey::Column::TargetUnitPath.is_in(actor.unit_path().lineage())),
            // The linked person's unit lies under the target: the target's path begins theirs.
            Reach::Linked => match actor.person_id() {
                Some(person_id) => {
                    let target = Expr::col((survey::Entity, survey::Column::TargetUnitPath));
                    let begins = Expr::expr(
                        Func::cust("substr")
                            .arg(Expr::col((person::Entity, person::Column::UnitPath)))
                            .arg(1i32)
                            .arg(Func::cust("length").arg(target.clone())),
                    )
                    .eq(target);
                    let mut rows = Query::select();
                    rows.expr(Expr::val(1))
                        .from(person::Entity)
                        .and_where(Expr::col((person::Entity, person::Column::Id)).eq(person_id))
                        .and_where(begins);
                    Expr::exists(rows).into_condition()
                }
                None => nothing(),
            },
            _ => nothing(),
        }
    }
}

impl Guarded for material::Entity {
    const KIND: Kind = Kind::Material;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(material::Column::UnitPath),
            Reach::Attached => Condition::any()
                .add(
                    material::Column::Id.in_subquery(
                        Query::select()
                            .column(campaign_material::Column::MaterialId)
                            .from(campaign_material::Entity)
                            .and_where(campaign_material::Column::CampaignId.in_subquery(
                                allowed_ids::<campaign::Entity>(
                                    actor,
                                    Mode::See,
                                    campaign::Column::Id,
                                ),
                            ))
                            .to_owned(),
                    ),
                )
                .add(
                    material::Column::Id.in_subquery(
                        Query::select()
                            .column(activity_material::Column::MaterialId)
                            .from(activity_material::Entity)
                            .and_where(activity_material::Column::ActivityId.in_subquery(
                                allowed_ids::<activity::Entity>(
                                    actor,
                                    Mode::See,
                                    activity::Column::Id,
                                ),
                            ))
                            .to_owned(),
                    ),
                ),
            _ => nothing(),
        }
    }
}

impl Guarded for person_proposal::Entity {
    const KIND: Kind = Kind::Proposal;

    fn reach(actor: &Actor, reach: Reach, mode: Mode) -> Condition {
        match reach {
            Reach::Via(Kind::Person) => allowed_at::<person::Entity, _>(
                actor,
                mode,
                person::Column::Id,
                person_proposal::Column::PersonId,
            ),
            Reach::Linked => linked(actor, person_proposal::Column::PersonId),
            _ => nothing(),
        }
    }
}

impl Guarded for audit_entry::Entity {
    const KIND: Kind = Kind::AuditEntry;

    fn reach(actor: &Actor, reach: Reach, _mode: Mode) -> Condition {
        match reach {
            Reach::Subtree => actor.subtree(audit_entry::Column::UnitPath),
            // Failed logins with unknown names, and the like.
            Reach::Top => top(actor).add(audit_entry::Column::UnitPath.is_null()),
            _ => nothing(),
        }
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{DbBackend, QueryTrait};

    use super::Kind;
    use crate::access::{Actor, visible};
    use crate::entity::{activity_photo, affiliation, invitation, person_proposal};

    /// A record reached through its person or activity asks about that one row (`EXISTS`):
    /// a list of every allowed id would be built for each statement (1.7 s for one person's
    /// affiliations as the city's administrator at a million people).
    #[test]
    fn records_reached_through_another_ask_per_row() {
        let actor = Actor::system("test");
        let statements = [
            visible::<affiliation::Entity>(&actor).build(DbBackend::Sqlite),
            visible::<person_proposal::Entity>(&actor).build(DbBackend::Sqlite),
            visible::<invitation::Entity>(&actor).build(DbBackend::Sqlite),
            visible::<activity_photo::Entity>(&actor).build(DbBackend::Sqlite),
        ];
        for statement in statements {
            let sql = statement.sql;
            assert!(sql.contains("EXISTS"), "{sql}");
            assert!(!sql.contains("_id\" IN (SELECT"), "{sql}");
        }
    }

    /// Every kind is declared by construction (the match in `Kind::declaration` is
    /// exhaustive); a kind nobody may see is a mistake.
    #[test]
    fn every_kind_is_seen_by_someone() {
        for kind in Kind::ALL {
            assert!(!kind.declaration().see.is_empty(), "{kind:?}");
        }
    }
}
