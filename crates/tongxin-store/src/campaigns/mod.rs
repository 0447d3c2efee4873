//! Study campaigns: a period, a target population (unit subtree × sectors × tags), the
//! activities held for it in batches, and coverage — who of the target attended at least one of
//! them — for every unit of the tree and by sector, read from the counters [`crate::campaigns::coverage`]
//! keeps.
//!
//! A campaign is filed under the unit that runs it, but it concerns its whole target: staff of a
//! county see a city campaign that targets their county, with the figures of their part only.

pub(crate) mod coverage;
mod unreached;

pub use unreached::{UNREACHED_EXPORT_MAX, UnreachedBatch, UnreachedPerson};

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::json;
use tongxin_core::{Coverage, Field, Invalid, Reason, Timestamp, UnitPath};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::activities::{ActivityInput, ActivityView, insert_invitations};
use crate::audit::{self, Event};
use crate::entity::{
    campaign, campaign_count, campaign_material, campaign_sector, campaign_tag, campaign_target,
    sector, unit,
};
use crate::error::{Result, StoreError};
use crate::page::{Page, PageRequest, capped_count};
use crate::units::UnitView;
use crate::units::unit_names;

/// A campaign to create or replace, already parsed.
#[derive(Debug, Clone)]
pub struct CampaignInput {
    pub unit_id: i64,
    pub title: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub description: Option<String>,
    pub target_unit_id: i64,
    pub sector_ids: Vec<i64>,
    pub tags: Vec<String>,
    pub material_ids: Vec<i64>,
}

/// A campaign as listed and shown; `coverage` is for the actor's part of the target.
#[derive(Debug, Clone)]
pub struct CampaignView {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub description: Option<String>,
    pub target_unit: (i64, String),
    pub sectors: Vec<(i64, String)>,
    pub tags: Vec<String>,
    pub archived: bool,
    /// Whether the actor's subtree holds the organizing unit (and so may edit it).
    pub editable: bool,
    pub coverage: Coverage,
}

/// Coverage of one unit's subtree.
#[derive(Debug, Clone)]
pub struct UnitCoverage {
    pub unit: UnitView,
    pub has_children: bool,
    pub coverage: Coverage,
}

/// Coverage of a campaign at one unit: the unit's whole subtree, each child's subtree, the
/// people filed at the unit itself, and each sector.
#[derive(Debug, Clone)]
pub struct CoverageReport {
    pub campaign: CampaignView,
    pub unit: UnitView,
    pub lineage: Vec<UnitView>,
    pub total: Coverage,
    pub own: Coverage,
    pub children: Vec<UnitCoverage>,
    pub sectors: Vec<(i64, String, Coverage)>,
}

fn date_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The part of a campaign's target the actor sees: the narrower of the two subtrees.
fn visible_part(actor: &Actor, target: &UnitPath) -> UnitPath {
    if actor.unit_path().contains(target) {
        target.clone()
    } else {
        actor.unit_path().clone()
    }
}

/// The partial index of a campaign's targets not reached yet, by unit path and person.
pub(crate) const UNREACHED_INDEX: &str = "idx_campaign_targets_unreached";

impl Store {
    /// Sums the counters of a campaign over a subtree, in the database: one row back rather
    /// than one per unit.
    async fn coverage_of<C: ConnectionTrait>(
        &self,
        conn: &C,
        campaign_id: i64,
        path: &UnitPath,
    ) -> Result<Coverage> {
        // PostgreSQL's SUM of BIGINT is NUMERIC: cast back.
        let sum =
            |column: &str| sea_orm::sea_query::Expr::cust(format!("CAST(SUM({column}) AS BIGINT)"));
        let row: Option<(Option<i64>, Option<i64>)> =
            access::unguarded::<campaign_count::Entity>(Unguarded::Counters)
                .select_only()
                .column_as(sum("targeted"), "targeted")
                .column_as(sum("reached"), "reached")
                .filter(campaign_count::Column::CampaignId.eq(campaign_id))
                .filter(campaign_count::Column::SectorId.eq(0))
                .filter(campaign_count::Column::UnitId.in_subquery(units_under(path)))
                .into_tuple()
                .one(conn)
                .await?;
        let (targeted, reached) = row.unwrap_or_default();
        Ok(Coverage {
            targeted: u64::try_from(targeted.unwrap_or(0)).unwrap_or(0),
            reached: u64::try_from(reached.unwrap_or(0)).unwrap_or(0),
        })
    }

    async fn campaign_views<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        rows: Vec<campaign::Model>,
    ) -> Result<Vec<CampaignView>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let units = unit_names(
            conn,
            rows.iter().flat_map(|r| [r.unit_id, r.target_unit_id]),
        )
        .await?;
        let sector_names: HashMap<i64, String> =
            access::unguarded::<sector::Entity>(Unguarded::Reference)
                .all(conn)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        let mut sectors: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
        for link in access::unguarded::<campaign_sector::Entity>(Unguarded::PartsOf)
            .filter(campaign_sector::Column::CampaignId.is_in(ids.clone()))
            .all(conn)
            .await?
        {
            sectors.entry(link.campaign_id).or_default().push((
                link.sector_id,
                sector_names
                    .get(&link.sector_id)
                    .cloned()
                    .unwrap_or_default(),
            ));
        }
        let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
        for link in access::unguarded::<campaign_tag::Entity>(Unguarded::PartsOf)
            .filter(campaign_tag::Column::CampaignId.is_in(ids))
            .all(conn)
            .await?
        {
            tags.entry(link.campaign_id).or_default().push(link.tag);
        }
        let mut views = Vec::with_capacity(rows.len());
        for c in rows {
            let target = UnitPath::from_stored(c.target_unit_path.clone());
            let part = visible_part(actor, &target);
            let coverage = if target.contains(&part) || part.contains(&target) {
                self.coverage_of(conn, c.id, &part).await?
            } else {
                Coverage::default()
            };
            views.push(CampaignView {
                unit_name: units.get(&c.unit_id).cloned().unwrap_or_default(),
                target_unit: (
                    c.target_unit_id,
                    units.get(&c.target_unit_id).cloned().unwrap_or_default(),
                ),
                sectors: sectors.remove(&c.id).unwrap_or_default(),
                tags: tags.remove(&c.id).unwrap_or_default(),
                archived: c.archived_at.is_some(),
                editable: actor.covers(&UnitPath::from_stored(c.unit_path.clone())),
                coverage,
                id: c.id,
                unit_id: c.unit_id,
                title: c.title,
                starts_on: c.starts_on,
                ends_on: c.ends_on,
                description: c.description,
            });
        }
        Ok(views)
    }

    /// The campaigns the actor sees, the latest first.
    pub async fn campaigns(
        &self,
        actor: &Actor,
        include_archived: bool,
        page: PageRequest,
    ) -> Result<Page<CampaignView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<campaign::Entity>(actor);
        if !include_archived {
            select = select.filter(campaign::Column::ArchivedAt.is_null());
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let rows = select
            .order_by_desc(campaign::Column::StartsOn)
            .order_by_desc(campaign::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        Ok(Page::new(
            self.campaign_views(&self.db, actor, rows).await?,
            total,
            page,
        ))
    }

    /// One campaign the actor sees.
    pub async fn campaign(&self, actor: &Actor, id: i64) -> Result<CampaignView> {
        actor.require_staff_area()?;
        let model = access::find::<campaign::Entity, _>(&self.db, actor, id).await?;
        let mut views = self.campaign_views(&self.db, actor, vec![model]).await?;
        views.pop().ok_or(StoreError::NotFound)
    }

    /// Checks a campaign's input and writes its columns and target lists.
    async fn write_campaign<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        now: Timestamp,
        id: Option<i64>,
        input: &CampaignInput,
    ) -> Result<campaign::Model> {
        if input.ends_on < input.starts_on {
            return Err(Invalid::new(Field::Named("ends_on"), Reason::EndsBeforeStart).into());
        }
        let unit = filing_unit(conn, actor, input.unit_id, Field::Unit).await?;
        let target = filing_unit(
            conn,
            actor,
            input.target_unit_id,
            Field::Named("target_unit"),
        )
        .await?;
        let mut sector_ids = input.sector_ids.clone();
        sector_ids.sort_unstable();
        sector_ids.dedup();
        let found = access::unguarded::<sector::Entity>(Unguarded::Reference)
            .filter(sector::Column::Id.is_in(sector_ids.clone()))
            .count(conn)
            .await?;
        if found != sector_ids.len() as u64 {
            return Err(Invalid::new(Field::Sector, Reason::NotFound).into());
        }
        self.check_materials(conn, actor, &input.material_ids)
            .await?;
        let mut model = campaign::ActiveModel {
            unit_id: Set(unit.id),
            unit_path: Set(unit.path),
            title: Set(input.title.clone()),
            starts_on: Set(date_text(input.starts_on)),
            ends_on: Set(date_text(input.ends_on)),
            description: Set(input.description.clone()),
            target_unit_id: Set(target.id),
            target_unit_path: Set(target.path),
            updated_at: Set(now.micros()),
            ..Default::default()
        };
        let saved = match id {
            Some(id) => {
                model.id = Set(id);
                model.update(conn).await?
            }
            None => {
                model.archived_at = Set(None);
                model.created_at = Set(now.micros());
                model.insert(conn).await?
            }
        };
        access::delete_rows::<campaign_sector::Entity>(Unguarded::PartsOf)
            .filter(campaign_sector::Column::CampaignId.eq(saved.id))
            .exec(conn)
            .await?;
        if !sector_ids.is_empty() {
            campaign_sector::Entity::insert_many(sector_ids.iter().map(|&sector_id| {
                campaign_sector::ActiveModel {
                    campaign_id: Set(saved.id),
                    sector_id: Set(sector_id),
                }
            }))
            .exec(conn)
            .await?;
        }
        access::delete_rows::<campaign_tag::Entity>(Unguarded::PartsOf)
            .filter(campaign_tag::Column::CampaignId.eq(saved.id))
            .exec(conn)
            .await?;
        let mut tags = input.tags.clone();
        tags.sort();
        tags.dedup();
        if !tags.is_empty() {
            campaign_tag::Entity::insert_many(tags.into_iter().map(|tag| {
                campaign_tag::ActiveModel {
                    campaign_id: Set(saved.id),
                    tag: Set(tag),
                }
            }))
            .exec(conn)
            .await?;
        }
        access::delete_rows::<campaign_material::Entity>(Unguarded::PartsOf)
            .filter(campaign_material::Column::CampaignId.eq(saved.id))
            .exec(conn)
            .await?;
        let mut materials = input.material_ids.clone();
        materials.sort_unstable();
        materials.dedup();
        if !materials.is_empty() {
            campaign_material::Entity::insert_many(materials.into_iter().map(|material_id| {
                campaign_material::ActiveModel {
                    campaign_id: Set(saved.id),
                    material_id: Set(material_id),
                }
            }))
            .exec(conn)
            .await?;
        }
        if coverage::target_size(conn, saved.id).await? == 0 {
            return Err(Invalid::new(Field::Named("target"), Reason::EmptyTarget).into());
        }
        coverage::recount(conn, saved.id, now).await?;
        Ok(saved)
    }

    /// Starts a campaign run by a unit of the actor's subtree for a target within it.
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        now: Timestamp,
        input: &CampaignInput,
    ) -> Result<CampaignView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let created = self.write_campaign(&tx, actor, now, None, input).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("campaign.create")
                .target("campaign", created.id, &created.title)
                .unit(&created.unit_path),
        )
        .await?;
        tx.commit().await?;
        self.campaign(actor, created.id).await
    }

    /// Replaces a campaign's details and target; coverage is recounted.
    pub async fn update_campaign(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        input: &CampaignInput,
    ) -> Result<CampaignView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let current = access::find_to_change::<campaign::Entity, _>(&tx, actor, id).await?;
        let updated = self
            .write_campaign(&tx, actor, now, Some(id), input)
            .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("campaign.update")
                .target("campaign", id, &updated.title)
                .unit(&updated.unit_path)
                .detail(json!({ "title": [current.title, updated.title] })),
        )
        .await?;
        tx.commit().await?;
        self.campaign(actor, id).await
    }

    /// Archives (coverage is no longer kept) or restores (recounted) a campaign.
    pub async fn set_campaign_archived(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        archived: bool,
    ) -> Result<CampaignView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let current = access::find_to_change::<campaign::Entity, _>(&tx, actor, id).await?;
        campaign::ActiveModel {
            id: Set(id),
            archived_at: Set(archived.then_some(now.micros())),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        if !archived {
            coverage::recount(&tx, id, now).await?;
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new(if archived {
                "campaign.archive"
            } else {
                "campaign.restore"
            })
            .target("campaign", id, &current.title)
            .unit(&current.unit_path),
        )
        .await?;
        tx.commit().await?;
        self.campaign(actor, id).await
    }

    /// The unit a coverage view is about: the one asked for (in the actor's subtree), or the
    /// visible part's top.
    async fn coverage_unit(
        &self,
        actor: &Actor,
        campaign: &campaign::Model,
        unit_id: Option<i64>,
    ) -> Result<unit::Model> {
        let target = UnitPath::from_stored(campaign.target_unit_path.clone());
        let select = match unit_id {
            Some(id) => access::visible::<unit::Entity>(actor).filter(unit::Column::Id.eq(id)),
            None => {
                let top = visible_part(actor, &target);
                access::visible::<unit::Entity>(actor).filter(unit::Column::Path.eq(top.as_str()))
            }
        };
        select
            .one(&self.db)
            .await?
            .ok_or_else(|| Invalid::new(Field::Unit, Reason::NotFound).into())
    }

    /// Coverage of a campaign at a unit, from the counters: no scan of people or attendance.
    pub async fn campaign_coverage(
        &self,
        actor: &Actor,
        campaign_id: i64,
        unit_id: Option<i64>,
    ) -> Result<CoverageReport> {
        actor.require_staff_area()?;
        let model = access::find::<campaign::Entity, _>(&self.db, actor, campaign_id).await?;
        let at = self.coverage_unit(actor, &model, unit_id).await?;
        let sums = branch_sums(&self.db, campaign_id, at.id).await?;
        let mut total = Coverage::default();
        let mut own = Coverage::default();
        let mut by_child: HashMap<i64, Coverage> = HashMap::new();
        let mut by_sector: BTreeMap<i64, Coverage> = BTreeMap::new();
        for sum in sums {
            if sum.sector_id != 0 {
                by_sector
                    .entry(sum.sector_id)
                    .or_default()
                    .add(sum.coverage);
                continue;
            }
            total.add(sum.coverage);
            match sum.branch {
                Some(child) => by_child.entry(child).or_default().add(sum.coverage),
                None => own.add(sum.coverage),
            }
        }
        let child_units: Vec<unit::Model> = access::unguarded::<unit::Entity>(Unguarded::Labels)
            .filter(unit::Column::ParentId.eq(at.id))
            .filter(unit::Column::ArchivedAt.is_null())
            .order_by_asc(unit::Column::Code)
            .all(&self.db)
            .await?;
        let parents: std::collections::HashSet<i64> =
            access::unguarded::<unit::Entity>(Unguarded::Labels)
                .select_only()
                .column(unit::Column::ParentId)
                .filter(unit::Column::ParentId.is_in(child_units.iter().map(|u| u.id)))
                .distinct()
                .into_tuple::<Option<i64>>()
                .all(&self.db)
                .await?
                .into_iter()
                .flatten()
                .collect();
        let children: Vec<UnitCoverage> = child_units
            .into_iter()
            .map(|u| UnitCoverage {
                has_children: parents.contains(&u.id),
                coverage: by_child.get(&u.id).copied().unwrap_or_default(),
                unit: UnitView::from(u),
            })
            .collect();
        let names: HashMap<i64, String> = access::unguarded::<sector::Entity>(Unguarded::Reference)
            .filter(sector::Column::Id.is_in(by_sector.keys().copied()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        let sectors = by_sector
            .into_iter()
            .map(|(id, c)| (id, names.get(&id).cloned().unwrap_or_default(), c))
            .collect();
        let unit_view = UnitView::from(at);
        let lineage = self.lineage(actor, &unit_view).await?;
        let campaign = self
            .campaign_views(&self.db, actor, vec![model])
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        Ok(CoverageReport {
            campaign,
            unit: unit_view,
            lineage,
            total,
            own,
            children,
            sectors,
        })
    }

    /// Plans the next batch: an activity of the campaign in `input.unit_id` that invites the
    /// people of that unit's subtree the campaign has not reached yet.
    pub async fn plan_next_batch(
        &self,
        actor: &Actor,
        now: Timestamp,
        campaign_id: i64,
        input: &ActivityInput,
    ) -> Result<(ActivityView, u64)> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        access::find::<campaign::Entity, _>(&tx, actor, campaign_id).await?;
        let unit = filing_unit(&tx, actor, input.unit_id, Field::Unit).await?;
        let path = UnitPath::from_stored(unit.path);
        let unreached: Vec<i64> = access::unguarded::<campaign_target::Entity>(Unguarded::Counters)
            .select_only()
            .column(campaign_target::Column::PersonId)
            .filter(campaign_target::Column::CampaignId.eq(campaign_id))
            .filter(campaign_target::Column::UnitPath.gte(path.as_str()))
            .filter(campaign_target::Column::UnitPath.lt(path.upper_bound()))
            .filter(campaign_target::Column::ReachedAt.is_null())
            .into_tuple()
            .all(&tx)
            .await?;
        if unreached.is_empty() {
            return Err(Invalid::new(Field::Named("target"), Reason::EmptyTarget).into());
        }
        let mut input = input.clone();
        input.campaign_id = Some(campaign_id);
        let created = self.insert_activity(&tx, actor, now, &input).await?;
        let invited = insert_invitations(&tx, created.id, &unreached, now).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("campaign.next_batch")
                .target("campaign", campaign_id, &created.title)
                .unit(&created.unit_path)
                .detail(json!({ "activity": created.id, "invited": invited })),
        )
        .await?;
        tx.commit().await?;
        Ok((self.activity(actor, created.id).await?, invited))
    }

    /// Materials attached to a campaign, as (id, title).
    pub async fn campaign_materials(&self, actor: &Actor, id: i64) -> Result<Vec<(i64, String)>> {
        actor.require_staff_area()?;
        access::find::<campaign::Entity, _>(&self.db, actor, id).await?;
        let links = access::unguarded::<campaign_material::Entity>(Unguarded::PartsOf)
            .filter(campaign_material::Column::CampaignId.eq(id))
            .all(&self.db)
            .await?;
        self.material_titles(links.iter().map(|l| l.material_id))
            .await
    }
}

/// `SELECT id FROM units` of a subtree, for `unit_id IN (…)` filters on the counters.
fn units_under(path: &UnitPath) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(unit::Column::Id)
        .from(unit::Entity)
        .and_where(unit::Column::Path.gte(path.as_str()))
        .and_where(unit::Column::Path.lt(path.upper_bound()))
        .to_owned()
}

/// A campaign's counters summed per sector over one branch below a unit (the subtree of one
/// of its children), or over the unit itself (`branch` none).
struct BranchSum {
    branch: Option<i64>,
    sector_id: i64,
    coverage: Coverage,
}

/// Sums a campaign's counters per child of `unit_id` and sector, in the database: a county's
/// page reads a row per child and sector rather than one per unit of its subtree.
async fn branch_sums<C: ConnectionTrait>(
    conn: &C,
    campaign_id: i64,
    unit_id: i64,
) -> Result<Vec<BranchSum>> {
    let backend = conn.get_database_backend();
    let mut bound = 0;
    let mut placeholder = || {
        bound += 1;
        match backend {
            DbBackend::Postgres => format!("${bound}"),
            _ => "?".to_owned(),
        }
    };
    let (parent, campaign, own_campaign, own_unit) =
        (placeholder(), placeholder(), placeholder(), placeholder());
    // A child's subtree is the path range [path, upper bound): the path with its last `/`
    // turned into `0`, as `UnitPath::upper_bound` does.
    let sql = format!(
        "SELECT ch.id AS branch, cc.sector_id, CAST(SUM(cc.targeted) AS BIGINT) AS targeted, \
         CAST(SUM(cc.reached) AS BIGINT) AS reached \
         FROM campaign_counts cc JOIN units u ON u.id = cc.unit_id \
         JOIN units ch ON ch.parent_id = {parent} AND u.path >= ch.path \
         AND u.path < substr(ch.path, 1, length(ch.path) - 1) || '0' \
         WHERE cc.campaign_id = {campaign} GROUP BY ch.id, cc.sector_id \
         UNION ALL \
         SELECT NULL AS branch, sector_id, targeted, reached FROM campaign_counts \
         WHERE campaign_id = {own_campaign} AND unit_id = {own_unit}"
    );
    let values: Vec<sea_orm::Value> = vec![
        unit_id.into(),
        campaign_id.into(),
        campaign_id.into(),
        unit_id.into(),
    ];
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
    rows.iter()
        .map(|row| {
            let count = |column: &str| -> Result<u64> {
                let n: Option<i64> = row.try_get("", column)?;
                Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
            };
            Ok(BranchSum {
                branch: row.try_get("", "branch")?,
                sector_id: row.try_get("", "sector_id")?,
                coverage: Coverage {
                    targeted: count("targeted")?,
                    reached: count("reached")?,
                },
            })
        })
        .collect()
}
