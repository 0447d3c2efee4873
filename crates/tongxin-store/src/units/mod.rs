//! The unit tree: reading a subtree, and creating, renaming, moving, archiving and restoring
//! units, each with its audit row in the same transaction.

pub(crate) mod people_counts;

use std::collections::HashMap;

use sea_orm::sea_query::{BinOper, Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp, UnitCode, UnitLevel, UnitName, UnitPath};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::campaigns::coverage;
use crate::entity::{
    activity, campaign, campaign_target, material, organization, person, saved_filter, unit, user,
};
use crate::error::{Result, StoreError};
use crate::like;
use crate::page::{Page, PageRequest, capped_count};

use people_counts::Deltas;

/// A unit as shown to callers.
#[derive(Debug, Clone)]
pub struct UnitView {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub level: UnitLevel,
    pub path: UnitPath,
    pub archived: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A unit a picker offers: its code, name, and the names of the units above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitChoice {
    pub code: String,
    pub name: String,
    pub above: String,
}

/// The most units spelled out in pinyin for one picker request.
const PINYIN_SCAN: u64 = 20_000;

impl From<unit::Model> for UnitView {
    fn from(m: unit::Model) -> Self {
        UnitView {
            id: m.id,
            parent_id: m.parent_id,
            code: m.code,
            name: m.name,
            level: UnitLevel::from_number(m.level).unwrap_or(UnitLevel::Village),
            path: UnitPath::from_stored(m.path),
            archived: m.archived_at.is_some(),
            created_at: Timestamp::from_micros(m.created_at),
            updated_at: Timestamp::from_micros(m.updated_at),
        }
    }
}

/// A child unit with the counts shown in the tree.
#[derive(Debug, Clone)]
pub struct UnitSummary {
    pub unit: UnitView,
    pub active_children: u64,
    pub accounts: u64,
}

/// Filters for unit lists.
#[derive(Debug, Clone, Default)]
pub struct UnitQuery {
    /// Substring of the name or code.
    pub q: Option<String>,
    /// Only direct children of this unit.
    pub parent_id: Option<i64>,
    /// Only units of this level.
    pub level: Option<UnitLevel>,
    /// Include archived units.
    pub include_archived: bool,
}

/// A unit to create.
#[derive(Debug, Clone)]
pub struct NewUnit {
    pub parent_id: i64,
    pub code: UnitCode,
    pub name: UnitName,
}

/// A unit with the units below it, for creating a whole tree at once.
#[derive(Debug, Clone)]
pub struct UnitSeed {
    pub code: UnitCode,
    pub name: UnitName,
    pub children: Vec<UnitSeed>,
}

/// A change to an existing unit.
#[derive(Debug, Clone)]
pub enum UnitChange {
    Rename(UnitName),
    Move { parent_id: i64 },
    Archive,
    Restore,
}

#[derive(FromQueryResult)]
struct CountByKey {
    key: i64,
    n: i64,
}

impl Store {
    /// One unit of the actor's subtree.
    pub async fn unit(&self, actor: &Actor, id: i64) -> Result<UnitView> {
        access::require_role_sees::<unit::Entity>(actor)?;
        self.find_unit(&self.db, actor, id)
            .await?
            .map(UnitView::from)
            .ok_or(StoreError::NotFound)
    }

    /// Looks a unit up by id within the actor's subtree.
    async fn find_unit<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> Result<Option<unit::Model>> {
        Ok(access::visible::<unit::Entity>(actor)
            .filter(unit::Column::Id.eq(id))
            .one(conn)
            .await?)
    }

    /// Looks a unit up by code within the actor's subtree.
    pub async fn unit_by_code(&self, actor: &Actor, code: &str) -> Result<UnitView> {
        access::visible::<unit::Entity>(actor)
            .filter(unit::Column::Code.eq(code.trim()))
            .one(&self.db)
            .await?
            .map(UnitView::from)
            .ok_or(StoreError::NotFound)
    }

    /// Units of the actor's subtree, ordered by code.
    pub async fn units(
        &self,
        actor: &Actor,
        query: &UnitQuery,
        page: PageRequest,
    ) -> Result<Page<UnitView>> {
        access::require_role_sees::<unit::Entity>(actor)?;
        let mut select = access::visible::<unit::Entity>(actor);
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(
                Condition::any()
                    .add(like::contains(unit::Column::Name, q))
                    .add(like::starts_with(unit::Column::Code, q)),
            );
        }
        if let Some(parent) = query.parent_id {
            select = select.filter(unit::Column::ParentId.eq(parent));
        }
        if let Some(level) = query.level {
            select = select.filter(unit::Column::Level.eq(level.number()));
        }
        if !query.include_archived {
            select = select.filter(unit::Column::ArchivedAt.is_null());
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let items = select
            .order_by_asc(unit::Column::Code)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?
            .into_iter()
            .map(UnitView::from)
            .collect();
        Ok(Page::new(items, total, page))
    }

    /// Units of the actor's subtree a picker offers for what was typed: a name's part, a code's
    /// start, or the name's pinyin (full or initials, `saihan` or `shq`), each with the names
    /// of the units above it within the tree, at most `limit`, by code.
    pub async fn unit_choices(
        &self,
        actor: &Actor,
        typed: &str,
        limit: usize,
    ) -> Result<Vec<UnitChoice>> {
        access::require_role_sees::<unit::Entity>(actor)?;
        let typed = typed.trim();
        if typed.is_empty() {
            return Ok(Vec::new());
        }
        let select = access::visible::<unit::Entity>(actor)
            .filter(unit::Column::ArchivedAt.is_null())
            .order_by_asc(unit::Column::Code);
        let spelled = typed.to_ascii_lowercase();
        let matches: Vec<unit::Model> = if spelled.chars().all(|c| c.is_ascii_lowercase()) {
            // Units carry no pinyin column: a subtree's units are few enough (thousands) to
            // spell out here, and a picker asks for twenty.
            select
                .limit(PINYIN_SCAN)
                .all(&self.db)
                .await?
                .into_iter()
                .filter(|u| {
                    let keys = tongxin_text::pinyin_keys(&u.name);
                    keys.full.contains(&spelled) || keys.initials.starts_with(&spelled)
                })
                .take(limit)
                .collect()
        } else {
            select
                .filter(
                    Condition::any()
                        .add(like::contains(unit::Column::Name, typed))
                        .add(like::starts_with(unit::Column::Code, typed)),
                )
                .limit(u64::try_from(limit).unwrap_or(u64::MAX))
                .all(&self.db)
                .await?
        };
        let above: Vec<i64> = matches
            .iter()
            .flat_map(|u| UnitPath::from_stored(u.path.clone()).ids())
            .collect();
        let names = unit_names(&self.db, above).await?;
        Ok(matches
            .into_iter()
            .map(|u| {
                let path = UnitPath::from_stored(u.path.clone());
                let lineage: Vec<&str> = path
                    .ids()
                    .iter()
                    .filter(|id| **id != u.id)
                    .filter_map(|id| names.get(id).map(String::as_str))
                    .collect();
                UnitChoice {
                    code: u.code,
                    name: u.name,
                    above: lineage.join(" › "),
                }
            })
            .collect())
    }

    /// The direct children of a unit, with how many active children and accounts each has.
    pub async fn children(&self, actor: &Actor, id: i64) -> Result<Vec<UnitSummary>> {
        let parent = self.unit(actor, id).await?;
        let children: Vec<unit::Model> = access::unguarded::<unit::Entity>(Unguarded::Labels)
            .filter(unit::Column::ParentId.eq(parent.id))
            .order_by_asc(unit::Column::ArchivedAt.is_not_null())
            .order_by_asc(unit::Column::Code)
            .all(&self.db)
            .await?;
        let ids: Vec<i64> = children.iter().map(|c| c.id).collect();
        let grandchildren = count_by(
            &self.db,
            access::unguarded::<unit::Entity>(Unguarded::Labels)
                .select_only()
                .column_as(unit::Column::ParentId, "key")
                .column_as(unit::Column::Id.count(), "n")
                .filter(unit::Column::ParentId.is_in(ids.clone()))
                .filter(unit::Column::ArchivedAt.is_null())
                .group_by(unit::Column::ParentId),
        )
        .await?;
        let accounts = count_by(
            &self.db,
            access::unguarded::<user::Entity>(Unguarded::Sessions)
                .select_only()
                .column_as(user::Column::UnitId, "key")
                .column_as(user::Column::Id.count(), "n")
                .filter(user::Column::UnitId.is_in(ids))
                .group_by(user::Column::UnitId),
        )
        .await?;
        Ok(children
            .into_iter()
            .map(|c| UnitSummary {
                active_children: grandchildren.get(&c.id).copied().unwrap_or(0),
                accounts: accounts.get(&c.id).copied().unwrap_or(0),
                unit: c.into(),
            })
            .collect())
    }

    /// The units from the top of the actor's subtree down to `unit`, for breadcrumbs.
    pub async fn lineage(&self, actor: &Actor, unit: &UnitView) -> Result<Vec<UnitView>> {
        let ids = unit.path.ids();
        let mut units: Vec<UnitView> = access::visible::<unit::Entity>(actor)
            .filter(unit::Column::Id.is_in(ids))
            .all(&self.db)
            .await?
            .into_iter()
            .map(UnitView::from)
            .collect();
        units.sort_by_key(|u| u.path.as_str().len());
        Ok(units)
    }

    /// The path of the subtree a list is narrowed to: a unit the actor sees, or a refusal of
    /// the unit field (not found) for any other.
    pub(crate) async fn subtree_of(&self, actor: &Actor, unit_id: i64) -> Result<UnitPath> {
        let root = access::visible::<unit::Entity>(actor)
            .filter(unit::Column::Id.eq(unit_id))
            .one(&self.db)
            .await?
            .ok_or_else(|| Invalid::new(Field::Unit, Reason::NotFound))?;
        Ok(UnitPath::from_stored(root.path))
    }

    /// The breadcrumb of a record filed under `unit_id`: the units the actor sees from the top
    /// of their subtree down to that unit (empty if it lies outside).
    pub async fn lineage_of(&self, actor: &Actor, unit_id: i64) -> Result<Vec<UnitView>> {
        let Some(unit) = access::unguarded_by_id::<unit::Entity>(Unguarded::Labels, unit_id)
            .one(&self.db)
            .await?
        else {
            return Ok(Vec::new());
        };
        self.lineage(actor, &UnitView::from(unit)).await
    }

    /// Creates a unit one level below its parent.
    pub async fn create_unit(
        &self,
        actor: &Actor,
        now: Timestamp,
        new: NewUnit,
    ) -> Result<UnitView> {
        actor.require_admin()?;
        let tx = self.begin_write().await?;
        let parent = self
            .find_unit(&tx, actor, new.parent_id)
            .await?
            .ok_or_else(|| Invalid::new(Field::Parent, Reason::NotFound))?;
        if parent.archived_at.is_some() {
            return Err(Invalid::new(Field::Parent, Reason::Archived).into());
        }
        let level = UnitLevel::from_number(parent.level)
            .and_then(UnitLevel::child)
            .ok_or_else(|| Invalid::new(Field::Parent, Reason::TooDeep))?;
        let parent_path = UnitPath::from_stored(parent.path);
        let seed = UnitSeed {
            code: new.code,
            name: new.name,
            children: Vec::new(),
        };
        let created = insert_unit(&tx, now, Some(parent.id), &parent_path, &seed, level).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("unit.create")
                .target("unit", created.id, &created.name)
                .unit(&created.path)
                .detail(
                    json!({ "code": created.code, "name": created.name, "parent_id": parent.id }),
                ),
        )
        .await?;
        tx.commit().await?;
        Ok(created.into())
    }

    /// Creates a whole new tree (the demo city, or a new installation's unit list) in one
    /// transaction with one audit row. Only the system may create top units.
    pub async fn create_tree(
        &self,
        actor: &Actor,
        now: Timestamp,
        root: &UnitSeed,
    ) -> Result<UnitView> {
        if actor.unit_id().is_some() {
            return Err(StoreError::Forbidden);
        }
        let tx = self.begin_write().await?;
        let top = insert_unit(
            &tx,
            now,
            None,
            &UnitPath::whole_tree(),
            root,
            UnitLevel::City,
        )
        .await?;
        let mut pending: Vec<(unit::Model, &UnitSeed)> = vec![(top.clone(), root)];
        let mut count = 1u64;
        while let Some((parent, seed)) = pending.pop() {
            if seed.children.is_empty() {
                continue;
            }
            let level = UnitLevel::from_number(parent.level)
                .and_then(UnitLevel::child)
                .ok_or_else(|| Invalid::new(Field::Parent, Reason::TooDeep))?;
            let parent_path = UnitPath::from_stored(parent.path.clone());
            for child in &seed.children {
                let created =
                    insert_unit(&tx, now, Some(parent.id), &parent_path, child, level).await?;
                count += 1;
                pending.push((created, child));
            }
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("unit.create_tree")
                .target("unit", top.id, &top.name)
                .unit(&top.path)
                .detail(json!({ "code": top.code, "units": count })),
        )
        .await?;
        tx.commit().await?;
        Ok(top.into())
    }

    /// Renames, moves, archives or restores a unit of the actor's subtree.
    pub async fn change_unit(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        change: UnitChange,
    ) -> Result<UnitView> {
        self.change_unit_all(actor, now, id, &[change]).await
    }

    /// Applies several changes to one unit atomically (an API `PATCH` that renames and moves):
    /// either all of them happen, each with its audit row, or none.
    pub async fn change_unit_all(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        changes: &[UnitChange],
    ) -> Result<UnitView> {
        actor.require_admin()?;
        let tx = self.begin_write().await?;
        let mut current = self
            .find_unit(&tx, actor, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        for change in changes {
            current = self.apply_change(&tx, actor, now, current, change).await?;
        }
        tx.commit().await?;
        Ok(current.into())
    }

    async fn apply_change<C: ConnectionTrait>(
        &self,
        tx: &C,
        actor: &Actor,
        now: Timestamp,
        current: unit::Model,
        change: &UnitChange,
    ) -> Result<unit::Model> {
        let id = current.id;
        let label = current.name.clone();
        let (action, detail) = match change {
            UnitChange::Rename(name) => {
                let detail = json!({ "name": [current.name, name.as_str()] });
                unit::ActiveModel {
                    id: Set(id),
                    name: Set(name.as_str().to_owned()),
                    updated_at: Set(now.micros()),
                    ..Default::default()
                }
                .update(tx)
                .await?;
                ("unit.rename", detail)
            }
            UnitChange::Move { parent_id } => {
                let detail = self
                    .move_subtree(tx, actor, now, &current, *parent_id)
                    .await?;
                ("unit.move", detail)
            }
            UnitChange::Archive => {
                ensure_can_archive(tx, &current).await?;
                unit::ActiveModel {
                    id: Set(id),
                    archived_at: Set(Some(now.micros())),
                    updated_at: Set(now.micros()),
                    ..Default::default()
                }
                .update(tx)
                .await?;
                ("unit.archive", json!({}))
            }
            UnitChange::Restore => {
                if let Some(parent_id) = current.parent_id {
                    let parent =
                        access::unguarded_by_id::<unit::Entity>(Unguarded::Labels, parent_id)
                            .one(tx)
                            .await?;
                    if parent.is_some_and(|p| p.archived_at.is_some()) {
                        return Err(Invalid::new(Field::Parent, Reason::Archived).into());
                    }
                }
                unit::ActiveModel {
                    id: Set(id),
                    archived_at: Set(None),
                    updated_at: Set(now.micros()),
                    ..Default::default()
                }
                .update(tx)
                .await?;
                ("unit.restore", json!({}))
            }
        };
        let updated = access::unguarded_by_id::<unit::Entity>(Unguarded::Labels, id)
            .one(tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        audit::append(
            tx,
            &self.keys,
            now,
            actor,
            Event::new(action)
                .target("unit", id, label)
                .unit(&updated.path)
                .detail(detail),
        )
        .await?;
        Ok(updated)
    }

    /// Re-parents `unit` and rewrites the paths of its whole subtree in one statement.
    async fn move_subtree<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        unit: &unit::Model,
        new_parent_id: i64,
    ) -> Result<serde_json::Value> {
        let old_parent_id = unit
            .parent_id
            .ok_or_else(|| Invalid::new(Field::Parent, Reason::RootUnit))?;
        if actor.unit_id() == Some(unit.id) {
            return Err(Invalid::new(Field::Parent, Reason::RootUnit).into());
        }
        let parent = self
            .find_unit(conn, actor, new_parent_id)
            .await?
            .ok_or_else(|| Invalid::new(Field::Parent, Reason::NotFound))?;
        let old_path = UnitPath::from_stored(unit.path.clone());
        if old_path.contains(&UnitPath::from_stored(parent.path.clone())) {
            return Err(Invalid::new(Field::Parent, Reason::Cycle).into());
        }
        if parent.archived_at.is_some() {
            return Err(Invalid::new(Field::Parent, Reason::Archived).into());
        }
        if parent.level + 1 != unit.level {
            return Err(Invalid::new(Field::Parent, Reason::LevelMismatch).into());
        }
        let new_path = UnitPath::from_stored(parent.path).child(unit.id);
        // The subtree's people leave the counts of the units above it and join the new ones'.
        if let [moved] = people_counts::of_units(conn, &[unit.id]).await?[..] {
            let signed = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            let (active, archived) = (signed(moved.active), signed(moved.archived));
            let above = |path: &UnitPath| {
                let mut ids = path.ids();
                ids.pop();
                ids
            };
            let mut deltas = Deltas::default();
            deltas.add_to(&above(&old_path), -active, -archived);
            deltas.add_to(&above(&new_path), active, archived);
            deltas.apply(conn).await?;
        }
        rewrite_prefix::<unit::Entity, _>(conn, unit::Column::Path, &old_path, &new_path).await?;
        rewrite_path_copies(conn, &old_path, &new_path).await?;
        // The subtree may have entered or left campaigns' target populations.
        coverage::recount_all(conn, now).await?;
        access::update_rows::<unit::Entity>(Unguarded::Labels)
            .col_expr(unit::Column::UpdatedAt, Expr::val(now.micros()))
            .filter(unit::Column::Path.gte(new_path.as_str()))
            .filter(unit::Column::Path.lt(new_path.upper_bound()))
            .exec(conn)
            .await?;
        unit::ActiveModel {
            id: Set(unit.id),
            parent_id: Set(Some(parent.id)),
            ..Default::default()
        }
        .update(conn)
        .await?;
        Ok(json!({ "parent_id": [old_parent_id, parent.id] }))
    }
}

async fn ensure_code_free<C: ConnectionTrait>(conn: &C, code: &UnitCode) -> Result<()> {
    let taken = access::unguarded::<unit::Entity>(Unguarded::Labels)
        .filter(unit::Column::Code.eq(code.as_str()))
        .count(conn)
        .await?
        > 0;
    if taken {
        return Err(Invalid::new(Field::UnitCode, Reason::Taken).into());
    }
    Ok(())
}

async fn ensure_can_archive<C: ConnectionTrait>(conn: &C, unit: &unit::Model) -> Result<()> {
    let children = access::unguarded::<unit::Entity>(Unguarded::Labels)
        .filter(unit::Column::ParentId.eq(unit.id))
        .filter(unit::Column::ArchivedAt.is_null())
        .count(conn)
        .await?;
    if children > 0 {
        return Err(
            Invalid::new(Field::Unit, Reason::HasActiveChildren { count: children }).into(),
        );
    }
    let accounts = access::unguarded::<user::Entity>(Unguarded::Sessions)
        .filter(user::Column::UnitId.eq(unit.id))
        .filter(user::Column::DisabledAt.is_null())
        .count(conn)
        .await?;
    if accounts > 0 {
        return Err(
            Invalid::new(Field::Unit, Reason::HasActiveAccounts { count: accounts }).into(),
        );
    }
    Ok(())
}

/// Inserts a unit under `parent_path`, refusing a code that is already used. The path contains
/// the new id, which is known only after the insert, so the row first carries a placeholder
/// path that is unique because the code is.
async fn insert_unit<C: ConnectionTrait>(
    conn: &C,
    now: Timestamp,
    parent_id: Option<i64>,
    parent_path: &UnitPath,
    seed: &UnitSeed,
    level: UnitLevel,
) -> Result<unit::Model> {
    ensure_code_free(conn, &seed.code).await?;
    let (code, name) = (&seed.code, &seed.name);
    let inserted = unit::ActiveModel {
        parent_id: Set(parent_id),
        code: Set(code.as_str().to_owned()),
        name: Set(name.as_str().to_owned()),
        level: Set(level.number()),
        path: Set(format!("{}new:{}/", parent_path, code)),
        archived_at: Set(None),
        created_at: Set(now.micros()),
        updated_at: Set(now.micros()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    let path = parent_path.child(inserted.id);
    Ok(unit::ActiveModel {
        id: Set(inserted.id),
        path: Set(path.as_str().to_owned()),
        ..Default::default()
    }
    .update(conn)
    .await?)
}

/// Rewrites every path in `column` that starts with `old` to start with `new` instead, in one
/// statement: the materialized paths of a moved subtree (units, and the copies on people).
async fn rewrite_prefix<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    column: E::Column,
    old: &UnitPath,
    new: &UnitPath,
) -> Result<()> {
    // An INTEGER argument, as PostgreSQL has no substr(text, bigint).
    let keep_from = i32::try_from(old.as_str().len() + 1).unwrap_or(i32::MAX);
    access::update_rows::<E>(Unguarded::PathCopies)
        .col_expr(
            column,
            Expr::val(new.as_str()).binary(
                BinOper::Custom("||"),
                Func::cust("substr").arg(Expr::col(column)).arg(keep_from),
            ),
        )
        .filter(column.gte(old.as_str()))
        .filter(column.lt(old.upper_bound()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Rewrites every copy of a moved subtree's paths kept on the records filed under its units.
/// A table that copies a unit path must be added here.
async fn rewrite_path_copies<C: ConnectionTrait>(
    conn: &C,
    old: &UnitPath,
    new: &UnitPath,
) -> Result<()> {
    rewrite_prefix::<person::Entity, _>(conn, person::Column::UnitPath, old, new).await?;
    rewrite_prefix::<organization::Entity, _>(conn, organization::Column::UnitPath, old, new)
        .await?;
    rewrite_prefix::<activity::Entity, _>(conn, activity::Column::UnitPath, old, new).await?;
    rewrite_prefix::<campaign::Entity, _>(conn, campaign::Column::UnitPath, old, new).await?;
    rewrite_prefix::<campaign::Entity, _>(conn, campaign::Column::TargetUnitPath, old, new).await?;
    rewrite_prefix::<material::Entity, _>(conn, material::Column::UnitPath, old, new).await?;
    rewrite_prefix::<saved_filter::Entity, _>(conn, saved_filter::Column::UnitPath, old, new)
        .await?;
    rewrite_prefix::<campaign_target::Entity, _>(conn, campaign_target::Column::UnitPath, old, new)
        .await
}

/// The names of some units by id, for views that show where records are filed.
pub(crate) async fn unit_names<C: ConnectionTrait>(
    conn: &C,
    ids: impl IntoIterator<Item = i64>,
) -> Result<HashMap<i64, String>> {
    Ok(access::unguarded::<unit::Entity>(Unguarded::Labels)
        .select_only()
        .column(unit::Column::Id)
        .column(unit::Column::Name)
        .filter(unit::Column::Id.is_in(ids.into_iter().collect::<Vec<_>>()))
        .into_tuple()
        .all(conn)
        .await?
        .into_iter()
        .collect())
}

/// Runs a `key, COUNT(*) AS n … GROUP BY key` query into a map.
async fn count_by<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    select: Select<E>,
) -> Result<HashMap<i64, u64>> {
    Ok(select
        .into_model::<CountByKey>()
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.key, u64::try_from(r.n).unwrap_or(0)))
        .collect())
}
