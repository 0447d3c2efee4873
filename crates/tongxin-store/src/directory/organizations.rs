//! Organizations of the directory and the affiliations that link people to them, confined to
//! the actor's subtree like people.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, Order, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{affiliation, organization, person, sector};
use crate::error::{Result, StoreError};
use crate::like;
use crate::page::{Page, PageRequest, Walk, along, capped_count};
use crate::units::unit_names;

/// The kinds of organization the directory keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganizationKind {
    /// A democratic party's local committee.
    PartyCommittee,
    Association,
    Chamber,
    Enterprise,
    School,
    Venue,
    Other,
}

impl OrganizationKind {
    pub const ALL: [OrganizationKind; 7] = [
        OrganizationKind::PartyCommittee,
        OrganizationKind::Association,
        OrganizationKind::Chamber,
        OrganizationKind::Enterprise,
        OrganizationKind::School,
        OrganizationKind::Venue,
        OrganizationKind::Other,
    ];

    pub fn key(self) -> &'static str {
        match self {
            OrganizationKind::PartyCommittee => "party_committee",
            OrganizationKind::Association => "association",
            OrganizationKind::Chamber => "chamber",
            OrganizationKind::Enterprise => "enterprise",
            OrganizationKind::School => "school",
            OrganizationKind::Venue => "venue",
            OrganizationKind::Other => "other",
        }
    }

    pub fn parse(key: &str) -> Result<Self, Invalid> {
        Self::ALL
            .into_iter()
            .find(|k| k.key() == key.trim())
            .ok_or_else(|| Invalid::new(Field::Named("kind"), Reason::NotFound))
    }
}

/// An organization to create or replace, already validated.
#[derive(Debug, Clone)]
pub struct OrganizationInput {
    pub unit_id: i64,
    pub name: String,
    pub kind: OrganizationKind,
    pub sector_id: Option<i64>,
    pub address: Option<String>,
    /// Latitude and longitude, both or neither.
    pub coordinates: Option<(f64, f64)>,
    pub is_venue: bool,
}

/// An organization as shown.
#[derive(Debug, Clone)]
pub struct OrganizationView {
    pub id: i64,
    pub unit_id: i64,
    pub unit_name: String,
    pub name: String,
    pub kind: OrganizationKind,
    pub sector: Option<(i64, String)>,
    pub address: Option<String>,
    pub coordinates: Option<(f64, f64)>,
    pub is_venue: bool,
    pub archived: bool,
}

/// A person's position in an organization.
#[derive(Debug, Clone)]
pub struct AffiliationView {
    pub id: i64,
    pub person_id: i64,
    pub person_name: String,
    pub organization_id: i64,
    pub organization_name: String,
    /// Whether the actor may open the organization's own page (it may be filed elsewhere).
    pub organization_openable: bool,
    pub position: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
}

/// Filters of the organization list.
#[derive(Debug, Clone, Default)]
pub struct OrganizationQuery {
    /// Substring of the name.
    pub q: Option<String>,
    pub kind: Option<OrganizationKind>,
    pub sector_id: Option<i64>,
    pub venues_only: bool,
    pub include_archived: bool,
    /// Only this unit's subtree (within the actor's).
    pub unit_id: Option<i64>,
    /// Z to A instead of A to Z.
    pub reversed: bool,
}

fn date_text(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

/// How a page of organizations is read: by name, or through the subtree's index.
pub(crate) const ORGANIZATION_WALK: Walk = Walk {
    table: "organizations",
    order: "idx_organizations_name_order",
    subtree: "idx_organizations_unit_path",
};

impl Store {
    async fn find_organization<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> Result<organization::Model> {
        access::find::<organization::Entity, _>(conn, actor, id).await
    }

    async fn organization_views(
        &self,
        rows: Vec<organization::Model>,
    ) -> Result<Vec<OrganizationView>> {
        let units = unit_names(&self.db, rows.iter().map(|r| r.unit_id)).await?;
        let sectors: HashMap<i64, String> =
            access::unguarded::<sector::Entity>(Unguarded::Reference)
                .filter(sector::Column::Id.is_in(rows.iter().filter_map(|r| r.sector_id)))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        Ok(rows
            .into_iter()
            .map(|o| OrganizationView {
                unit_name: units.get(&o.unit_id).cloned().unwrap_or_default(),
                sector: o
                    .sector_id
                    .and_then(|id| sectors.get(&id).map(|n| (id, n.clone()))),
                kind: OrganizationKind::parse(&o.kind).unwrap_or(OrganizationKind::Other),
                coordinates: o.latitude.zip(o.longitude),
                id: o.id,
                unit_id: o.unit_id,
                name: o.name,
                address: o.address,
                is_venue: o.is_venue,
                archived: o.archived_at.is_some(),
            })
            .collect())
    }

    /// One organization of the actor's subtree.
    pub async fn organization(&self, actor: &Actor, id: i64) -> Result<OrganizationView> {
        actor.require_staff_area()?;
        let model = self.find_organization(&self.db, actor, id).await?;
        let mut views = self.organization_views(vec![model]).await?;
        views.pop().ok_or(StoreError::NotFound)
    }

    /// Organizations of the actor's subtree, by name.
    pub async fn organizations(
        &self,
        actor: &Actor,
        query: &OrganizationQuery,
        page: PageRequest,
    ) -> Result<Page<OrganizationView>> {
        actor.require_staff_area()?;
        let mut select = access::visible::<organization::Entity>(actor);
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(like::contains(organization::Column::Name, q));
        }
        if let Some(kind) = query.kind {
            select = select.filter(organization::Column::Kind.eq(kind.key()));
        }
        if let Some(sector_id) = query.sector_id {
            select = select.filter(organization::Column::SectorId.eq(sector_id));
        }
        if query.venues_only {
            select = select.filter(organization::Column::IsVenue.eq(true));
        }
        if !query.include_archived {
            select = select.filter(organization::Column::ArchivedAt.is_null());
        }
        if let Some(unit_id) = query.unit_id {
            let path = self.subtree_of(actor, unit_id).await?;
            select = select
                .filter(organization::Column::UnitPath.gte(path.as_str()))
                .filter(organization::Column::UnitPath.lt(path.upper_bound()));
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let direction = along(Order::Asc, query.reversed);
        let ordered = select
            .order_by(organization::Column::Name, direction.clone())
            .order_by(organization::Column::Id, direction)
            .offset(page.offset())
            .limit(page.per_page);
        let statement = ORGANIZATION_WALK.statement(ordered.clone(), total, self.engine());
        let rows = ordered.from_raw_sql(statement).all(&self.db).await?;
        Ok(Page::new(self.organization_views(rows).await?, total, page))
    }

    async fn organization_columns<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        input: &OrganizationInput,
    ) -> Result<organization::ActiveModel> {
        let unit = filing_unit(conn, actor, input.unit_id, Field::Unit).await?;
        if let Some(sector_id) = input.sector_id
            && access::unguarded_by_id::<sector::Entity>(Unguarded::Reference, sector_id)
                .one(conn)
                .await?
                .is_none()
        {
            return Err(Invalid::new(Field::Sector, Reason::NotFound).into());
        }
        Ok(organization::ActiveModel {
            unit_id: Set(unit.id),
            unit_path: Set(unit.path),
            name: Set(input.name.clone()),
            kind: Set(input.kind.key().to_owned()),
            sector_id: Set(input.sector_id),
            address: Set(input.address.clone()),
            latitude: Set(input.coordinates.map(|c| c.0)),
            longitude: Set(input.coordinates.map(|c| c.1)),
            is_venue: Set(input.is_venue),
            ..Default::default()
        })
    }

    /// Adds an organization to a unit of the actor's subtree.
    pub async fn create_organization(
        &self,
        actor: &Actor,
        now: Timestamp,
        input: &OrganizationInput,
    ) -> Result<OrganizationView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let mut model = self.organization_columns(&tx, actor, input).await?;
        model.archived_at = Set(None);
        model.created_at = Set(now.micros());
        model.updated_at = Set(now.micros());
        let created = model.insert(&tx).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("organization.create")
                .target("organization", created.id, &created.name)
                .unit(&created.unit_path),
        )
        .await?;
        tx.commit().await?;
        self.organization(actor, created.id).await
    }

    /// Replaces an organization's details.
    pub async fn update_organization(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        input: &OrganizationInput,
    ) -> Result<OrganizationView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let current = self.find_organization(&tx, actor, id).await?;
        let mut model = self.organization_columns(&tx, actor, input).await?;
        model.id = Set(id);
        model.updated_at = Set(now.micros());
        let updated = model.update(&tx).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("organization.update")
                .target("organization", id, &updated.name)
                .unit(&updated.unit_path)
                .detail(json!({ "name": [current.name, updated.name] })),
        )
        .await?;
        tx.commit().await?;
        self.organization(actor, id).await
    }

    /// Archives or restores an organization.
    pub async fn set_organization_archived(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        archived: bool,
    ) -> Result<OrganizationView> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let current = self.find_organization(&tx, actor, id).await?;
        organization::ActiveModel {
            id: Set(id),
            archived_at: Set(archived.then_some(now.micros())),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        let action = if archived {
            "organization.archive"
        } else {
            "organization.restore"
        };
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new(action)
                .target("organization", id, &current.name)
                .unit(&current.unit_path),
        )
        .await?;
        tx.commit().await?;
        self.organization(actor, id).await
    }

    /// Links a person to an organization with a position and period; both must be in the
    /// actor's subtree.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_affiliation(
        &self,
        actor: &Actor,
        now: Timestamp,
        person_id: i64,
        organization_id: i64,
        position: Option<String>,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
    ) -> Result<AffiliationView> {
        actor.require_editor()?;
        if let (Some(since), Some(until)) = (since, until)
            && until < since
        {
            return Err(Invalid::new(Field::Named("until"), Reason::DateFormat).into());
        }
        let tx = self.begin_write().await?;
        let person = access::find::<person::Entity, _>(&tx, actor, person_id).await?;
        let org = self
            .find_organization(&tx, actor, organization_id)
            .await
            .map_err(|_| Invalid::new(Field::Named("organization"), Reason::NotFound))?;
        let created = affiliation::ActiveModel {
            person_id: Set(person.id),
            organization_id: Set(org.id),
            position: Set(position),
            since: Set(date_text(since)),
            until: Set(date_text(until)),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("affiliation.create")
                .target("person", person.id, &person.name)
                .unit(&person.unit_path)
                .detail(json!({ "organization": org.id, "position": created.position })),
        )
        .await?;
        tx.commit().await?;
        Ok(AffiliationView {
            id: created.id,
            person_id: person.id,
            person_name: person.name,
            organization_id: org.id,
            organization_name: org.name,
            organization_openable: true,
            position: created.position,
            since: created.since,
            until: created.until,
        })
    }

    /// Removes an affiliation of a person of the actor's subtree.
    pub async fn remove_affiliation(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<()> {
        actor.require_editor()?;
        let tx = self.begin_write().await?;
        let link = access::find_to_change::<affiliation::Entity, _>(&tx, actor, id).await?;
        let person = access::find::<person::Entity, _>(&tx, actor, link.person_id).await?;
        access::delete_rows::<affiliation::Entity>(Unguarded::PartsOf)
            .filter(affiliation::Column::Id.eq(id))
            .exec(&tx)
            .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("affiliation.remove")
                .target("person", person.id, &person.name)
                .unit(&person.unit_path)
                .detail(json!({ "organization": link.organization_id })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Affiliations of a person, or the members of an organization, that the actor may see: a
    /// person's posts show the organization's name wherever it is filed; an organization lists
    /// only its members the actor may see.
    pub async fn affiliations(
        &self,
        actor: &Actor,
        of: AffiliationsOf,
    ) -> Result<Vec<AffiliationView>> {
        actor.require_staff_area()?;
        let select = match of {
            AffiliationsOf::Person(id) => {
                self.find_person_scoped(actor, id).await?;
                access::visible::<affiliation::Entity>(actor)
                    .filter(affiliation::Column::PersonId.eq(id))
            }
            AffiliationsOf::Organization(id) => {
                self.find_organization(&self.db, actor, id).await?;
                access::visible::<affiliation::Entity>(actor)
                    .filter(affiliation::Column::OrganizationId.eq(id))
            }
        };
        let links = select
            .order_by_asc(affiliation::Column::Id)
            .all(&self.db)
            .await?;
        let people: HashMap<i64, String> = access::unguarded::<person::Entity>(Unguarded::Labels)
            .filter(person::Column::Id.is_in(links.iter().map(|l| l.person_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        let orgs: HashMap<i64, String> =
            access::unguarded::<organization::Entity>(Unguarded::Labels)
                .filter(organization::Column::Id.is_in(links.iter().map(|l| l.organization_id)))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|o| (o.id, o.name))
                .collect();
        let openable: HashSet<i64> = access::visible::<organization::Entity>(actor)
            .select_only()
            .column(organization::Column::Id)
            .filter(organization::Column::Id.is_in(orgs.keys().copied()))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(links
            .into_iter()
            .filter_map(|l| {
                Some(AffiliationView {
                    person_name: people.get(&l.person_id)?.clone(),
                    organization_name: orgs.get(&l.organization_id).cloned().unwrap_or_default(),
                    organization_openable: openable.contains(&l.organization_id),
                    id: l.id,
                    person_id: l.person_id,
                    organization_id: l.organization_id,
                    position: l.position,
                    since: l.since,
                    until: l.until,
                })
            })
            .collect())
    }
}

/// Whose affiliations to list.
#[derive(Debug, Clone, Copy)]
pub enum AffiliationsOf {
    Person(i64),
    Organization(i64),
}
