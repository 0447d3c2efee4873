//! The people a campaign has not reached yet: a page of them for the coverage page, and the
//! whole list of a subtree as an audited export, each with what staff need to reach them —
//! their sectors, a masked phone, and whether a batch already invites them.

use std::collections::{BTreeSet, HashMap};

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use serde_json::json;
use tongxin_core::{ActivityState, Attendance, Field, Invalid, Reason, Timestamp, UnitPath};

use super::UNREACHED_INDEX;
use crate::SensitiveField;
use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::directory::access_log::{self, AccessKind};
use crate::entity::{activity, campaign, campaign_target, invitation, person};
use crate::error::Result;
use crate::page::{Page, PageRequest, Total, with_index};
use crate::units::unit_names;

/// The most people one export of the unreached may hold: a county's remainder fits; the whole
/// city early in a campaign is narrowed to a unit first.
pub const UNREACHED_EXPORT_MAX: u64 = 20_000;

/// Rows looked up per statement when an export enriches thousands of people.
const CHUNK: usize = 500;

/// A person of a campaign's target not reached yet.
#[derive(Debug, Clone)]
pub struct UnreachedPerson {
    pub person_id: i64,
    pub name: String,
    pub unit_name: String,
    pub sectors: Vec<String>,
    pub phone_masked: Option<String>,
    pub joined_at: Timestamp,
    /// The latest batch of the campaign that invites the person and is not cancelled; `None`
    /// when no batch has been planned for them yet.
    pub batch: Option<UnreachedBatch>,
}

/// A batch a not-yet-reached person is invited to, and how they answered.
#[derive(Debug, Clone)]
pub struct UnreachedBatch {
    pub activity_id: i64,
    pub title: String,
    pub starts_at: Timestamp,
    pub status: Attendance,
}

impl Store {
    /// One page of the people of `unit_id`'s subtree (default: the visible part of the target)
    /// the campaign has not reached, in unit order.
    pub async fn unreached(
        &self,
        actor: &Actor,
        campaign_id: i64,
        unit_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<UnreachedPerson>> {
        actor.require_staff_area()?;
        let model = access::find::<campaign::Entity, _>(&self.db, actor, campaign_id).await?;
        let at = self.coverage_unit(actor, &model, unit_id).await?;
        let path = UnitPath::from_stored(at.path);
        let total = Total::exact(
            self.coverage_of(&self.db, campaign_id, &path)
                .await?
                .unreached(),
        );
        let select = unreached_targets(campaign_id, &path)
            .offset(page.offset())
            .limit(page.per_page);
        let rows = self.read_unreached(select).await?;
        let items = self.describe_unreached(actor, campaign_id, rows).await?;
        Ok(Page::new(items, total, page))
    }

    /// Every person of the subtree the campaign has not reached, for a spreadsheet: refused
    /// past [`UNREACHED_EXPORT_MAX`], audited and entered in each person's access log.
    pub async fn unreached_export(
        &self,
        actor: &Actor,
        now: Timestamp,
        campaign_id: i64,
        unit_id: Option<i64>,
    ) -> Result<(String, Vec<UnreachedPerson>)> {
        actor.require_staff_area()?;
        let model = access::find::<campaign::Entity, _>(&self.db, actor, campaign_id).await?;
        let at = self.coverage_unit(actor, &model, unit_id).await?;
        let path = UnitPath::from_stored(at.path);
        let count = self
            .coverage_of(&self.db, campaign_id, &path)
            .await?
            .unreached();
        if count > UNREACHED_EXPORT_MAX {
            return Err(Invalid::new(
                Field::Unit,
                Reason::TooMany {
                    max: UNREACHED_EXPORT_MAX,
                },
            )
            .into());
        }
        let rows = self
            .read_unreached(unreached_targets(campaign_id, &path).limit(UNREACHED_EXPORT_MAX))
            .await?;
        let items = self.describe_unreached(actor, campaign_id, rows).await?;
        let tx = self.begin_write().await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("campaign.unreached_export")
                .target("campaign", campaign_id, &model.title)
                .unit(path.as_str())
                .detail(json!({ "rows": items.len(), "unit": at.code })),
        )
        .await?;
        let exported: Vec<i64> = items.iter().map(|p| p.person_id).collect();
        access_log::record(&tx, now, actor, AccessKind::Export, &exported, None).await?;
        tx.commit().await?;
        Ok((model.title, items))
    }

    async fn read_unreached(
        &self,
        select: Select<campaign_target::Entity>,
    ) -> Result<Vec<campaign_target::Model>> {
        // The index of the unreached alone, in this order: a nearly covered city's page would
        // otherwise walk thousands of reached targets to find fifty.
        let statement = with_index(
            select.clone(),
            self.engine(),
            "campaign_targets",
            UNREACHED_INDEX,
        );
        Ok(select.from_raw_sql(statement).all(&self.db).await?)
    }

    /// Names, units, sectors, masked phones and batches of the given targets, in their order;
    /// people the actor may not see are left out.
    async fn describe_unreached(
        &self,
        actor: &Actor,
        campaign_id: i64,
        rows: Vec<campaign_target::Model>,
    ) -> Result<Vec<UnreachedPerson>> {
        let units = unit_names(&self.db, rows.iter().map(|r| r.unit_id)).await?;
        let mut items = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(CHUNK) {
            let ids: Vec<i64> = chunk.iter().map(|r| r.person_id).collect();
            let people: HashMap<i64, person::Model> = access::visible::<person::Entity>(actor)
                .filter(person::Column::Id.is_in(ids.iter().copied()))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect();
            let sectors = self.sectors_of(&ids).await?;
            let invited = invitations_to(&self.db, actor, campaign_id, &ids).await?;
            for row in chunk {
                let Some(person) = people.get(&row.person_id) else {
                    continue;
                };
                items.push(UnreachedPerson {
                    person_id: row.person_id,
                    name: person.name.clone(),
                    unit_name: units.get(&row.unit_id).cloned().unwrap_or_default(),
                    sectors: sectors.get(&row.person_id).cloned().unwrap_or_default(),
                    phone_masked: self.masked(person, SensitiveField::Phone)?,
                    joined_at: Timestamp(row.joined_at),
                    batch: invited.get(&row.person_id).cloned(),
                });
            }
        }
        Ok(items)
    }
}

/// The campaign's not-yet-reached targets in a subtree, in unit order.
fn unreached_targets(campaign_id: i64, path: &UnitPath) -> Select<campaign_target::Entity> {
    access::unguarded::<campaign_target::Entity>(Unguarded::Counters)
        .filter(campaign_target::Column::CampaignId.eq(campaign_id))
        .filter(campaign_target::Column::UnitPath.gte(path.as_str()))
        .filter(campaign_target::Column::UnitPath.lt(path.upper_bound()))
        .filter(campaign_target::Column::ReachedAt.is_null())
        .order_by_asc(campaign_target::Column::UnitPath)
        .order_by_asc(campaign_target::Column::PersonId)
}

/// For each of `people` invited to one of the campaign's batches that the actor sees and that
/// are not cancelled, the latest such batch. Read from the people's side (a page's worth,
/// through the invitations' person index) and then their few activities by id: a campaign
/// may have a hundred thousand batches, which neither a list of ids nor a subquery should
/// gather per page.
async fn invitations_to<C: ConnectionTrait>(
    conn: &C,
    actor: &Actor,
    campaign_id: i64,
    people: &[i64],
) -> Result<HashMap<i64, UnreachedBatch>> {
    let invitations = access::unguarded::<invitation::Entity>(Unguarded::PartsOf)
        .filter(invitation::Column::PersonId.is_in(people.iter().copied()))
        .all(conn)
        .await?;
    let mut latest: HashMap<i64, UnreachedBatch> = HashMap::new();
    if invitations.is_empty() {
        return Ok(latest);
    }
    let activities: BTreeSet<i64> = invitations.iter().map(|i| i.activity_id).collect();
    let batches: HashMap<i64, activity::Model> = access::visible::<activity::Entity>(actor)
        .filter(activity::Column::Id.is_in(activities))
        .filter(activity::Column::CampaignId.eq(campaign_id))
        .filter(activity::Column::State.ne(ActivityState::Cancelled.key()))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    for i in invitations {
        let Some(batch) = batches.get(&i.activity_id) else {
            continue;
        };
        let candidate = UnreachedBatch {
            activity_id: batch.id,
            title: batch.title.clone(),
            starts_at: Timestamp(batch.starts_at),
            status: Attendance::parse(&i.status).unwrap_or(Attendance::Invited),
        };
        match latest.get(&i.person_id) {
            Some(kept) if kept.starts_at >= candidate.starts_at => {}
            _ => {
                latest.insert(i.person_id, candidate);
            }
        }
    }
    Ok(latest)
}
