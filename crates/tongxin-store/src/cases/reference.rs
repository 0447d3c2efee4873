//! What the whole network shares for its cases, kept by a top administrator: each type's
//! workflow and handling time, the official working calendar, the outside departments a case
//! can be handed to.

use chrono::{Datelike, NaiveDate};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder,
};
use serde_json::json;
use tongxin_core::{
    CaseType, DayMark, Field, Invalid, Reason, Timestamp, WorkCalendar, Workflow, parse_name,
};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::entity::{case_type, department, work_day};
use crate::error::{Result, StoreError};

/// Longest handling time a type may give, in working days.
pub const MAX_DEFAULT_DAYS: u32 = 250;

/// A case type as configured.
#[derive(Debug, Clone)]
pub struct CaseTypeView {
    pub case_type: CaseType,
    pub default_days: u32,
    pub workflow: Workflow,
}

/// An outside department a case can be handed to.
#[derive(Debug, Clone)]
pub struct DepartmentView {
    pub id: i64,
    pub name: String,
}

/// Reads a type's stored row; a workflow this version cannot read is a fault, not a default.
fn type_view(row: case_type::Model) -> Result<CaseTypeView> {
    let case_type = CaseType::parse(&row.code).ok_or_else(|| StoreError::Corrupt {
        what: format!("case type {}", row.code),
    })?;
    let workflow: Workflow =
        serde_json::from_str(&row.workflow).map_err(|_| StoreError::Corrupt {
            what: format!("workflow of case type {}", row.code),
        })?;
    Ok(CaseTypeView {
        case_type,
        default_days: u32::try_from(row.default_days).unwrap_or(0),
        workflow,
    })
}

pub(crate) async fn load_type<C: ConnectionTrait>(
    conn: &C,
    case_type: CaseType,
) -> Result<CaseTypeView> {
    let row = access::unguarded_by_id::<case_type::Entity>(
        Unguarded::Reference,
        case_type.as_str().to_owned(),
    )
    .one(conn)
    .await?
    .ok_or_else(|| StoreError::Corrupt {
        what: format!("case type {} is missing", case_type.as_str()),
    })?;
    type_view(row)
}

/// Every case type, in the order of [`CaseType::ALL`].
pub(crate) async fn load_types<C: ConnectionTrait>(conn: &C) -> Result<Vec<CaseTypeView>> {
    let rows = access::unguarded::<case_type::Entity>(Unguarded::Reference)
        .all(conn)
        .await?;
    let mut views = rows
        .into_iter()
        .map(type_view)
        .collect::<Result<Vec<_>>>()?;
    views.sort_by_key(|v| CaseType::ALL.iter().position(|t| *t == v.case_type));
    Ok(views)
}

pub(crate) async fn load_calendar<C: ConnectionTrait>(conn: &C) -> Result<WorkCalendar> {
    let rows = access::unguarded::<work_day::Entity>(Unguarded::Reference)
        .all(conn)
        .await?;
    Ok(WorkCalendar::new(rows.into_iter().filter_map(|r| {
        Some((
            NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok()?,
            DayMark::parse(&r.mark)?,
        ))
    })))
}

impl Store {
    /// Every case type with its workflow: reference data for whoever is signed in.
    pub async fn case_types(&self) -> Result<Vec<CaseTypeView>> {
        load_types(&self.db).await
    }

    /// Replaces a type's workflow and handling time (top administrators). A workflow that
    /// strands cases is refused whole, naming the fault; so is one without a state that a case
    /// of this type is in now.
    pub async fn update_case_type(
        &self,
        actor: &Actor,
        now: Timestamp,
        case_type: CaseType,
        default_days: u32,
        workflow: &Workflow,
    ) -> Result<CaseTypeView> {
        actor.require_top_admin()?;
        if default_days == 0 || default_days > MAX_DEFAULT_DAYS {
            return Err(Invalid::new(Field::Named("default_days"), Reason::OutOfRange).into());
        }
        workflow.check().map_err(|fault| fault.invalid())?;
        let tx = self.begin_write().await?;
        let in_use = super::states_in_use(&tx, case_type).await?;
        if let Some(lost) = in_use.iter().find(|s| workflow.state(s).is_none()) {
            return Err(Invalid::new(
                Field::Named("workflow"),
                Reason::Workflow {
                    fault: "workflow_state_in_use",
                    detail: lost.clone(),
                },
            )
            .into());
        }
        let text = serde_json::to_string(workflow).map_err(|e| StoreError::Corrupt {
            what: e.to_string(),
        })?;
        case_type::ActiveModel {
            code: Set(case_type.as_str().to_owned()),
            default_days: Set(i32::try_from(default_days).unwrap_or(i32::MAX)),
            workflow: Set(text),
            updated_at: Set(now.micros()),
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("case_type.update")
                .target("case_type", 0, case_type.as_str())
                .detail(
                    json!({ "default_days": default_days, "states": workflow.states.len(),
                                "transitions": workflow.transitions.len() }),
                ),
        )
        .await?;
        tx.commit().await?;
        load_type(&self.db, case_type).await
    }

    /// The official calendar's marks in `year`.
    pub async fn work_calendar(&self, year: i32) -> Result<Vec<(NaiveDate, DayMark)>> {
        Ok(load_calendar(&self.db)
            .await?
            .marks()
            .filter(|(d, _)| d.year() == year)
            .collect())
    }

    /// The whole calendar, for due-date arithmetic.
    pub async fn working_calendar(&self) -> Result<WorkCalendar> {
        load_calendar(&self.db).await
    }

    /// Replaces the marks of `year` (top administrators): the State Council publishes each
    /// year's arrangement in the autumn before.
    pub async fn set_work_calendar(
        &self,
        actor: &Actor,
        now: Timestamp,
        year: i32,
        marks: &[(NaiveDate, DayMark)],
    ) -> Result<()> {
        actor.require_top_admin()?;
        if marks.iter().any(|(d, _)| d.year() != year) {
            return Err(Invalid::new(Field::Named("day"), Reason::OutOfRange).into());
        }
        let tx = self.begin_write().await?;
        access::delete_rows::<work_day::Entity>(Unguarded::Reference)
            .filter(work_day::Column::Day.gte(format!("{year:04}-01-01")))
            .filter(work_day::Column::Day.lte(format!("{year:04}-12-31")))
            .exec(&tx)
            .await?;
        for (day, mark) in marks {
            work_day::ActiveModel {
                day: Set(day.to_string()),
                mark: Set(mark.as_str().to_owned()),
            }
            .insert(&tx)
            .await?;
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("calendar.update")
                .target("calendar", i64::from(year), year.to_string())
                .detail(json!({ "marks": marks.len() })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live outside departments, by name.
    pub async fn departments(&self, actor: &Actor) -> Result<Vec<DepartmentView>> {
        access::require_role_sees::<department::Entity>(actor)?;
        Ok(access::visible::<department::Entity>(actor)
            .filter(department::Column::ArchivedAt.is_null())
            .order_by_asc(department::Column::Name)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|d| DepartmentView {
                id: d.id,
                name: d.name,
            })
            .collect())
    }

    /// Adds an outside department (top administrators).
    pub async fn add_department(
        &self,
        actor: &Actor,
        now: Timestamp,
        name: &str,
    ) -> Result<DepartmentView> {
        actor.require_top_admin()?;
        let name = parse_name(Field::Named("department_name"), name)?;
        let tx = self.begin_write().await?;
        let taken = access::unguarded::<department::Entity>(Unguarded::Uniqueness)
            .filter(department::Column::Name.eq(&name))
            .one(&tx)
            .await?;
        let row = match taken {
            Some(row) if row.archived_at.is_none() => {
                return Err(Invalid::new(Field::Named("department_name"), Reason::Taken).into());
            }
            Some(row) => {
                let mut active: department::ActiveModel = row.into();
                active.archived_at = Set(None);
                active.update(&tx).await?
            }
            None => {
                department::ActiveModel {
                    name: Set(name),
                    archived_at: Set(None),
                    created_at: Set(now.micros()),
                    ..Default::default()
                }
                .insert(&tx)
                .await?
            }
        };
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("department.add").target("department", row.id, &row.name),
        )
        .await?;
        tx.commit().await?;
        Ok(DepartmentView {
            id: row.id,
            name: row.name,
        })
    }

    /// Archives an outside department: cases it handles keep it; new ones cannot name it.
    pub async fn archive_department(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<()> {
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<department::Entity, _>(&tx, actor, id).await?;
        if row.archived_at.is_some() {
            return Err(StoreError::NotFound);
        }
        let name = row.name.clone();
        let mut active: department::ActiveModel = row.into();
        active.archived_at = Set(Some(now.micros()));
        active.update(&tx).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("department.archive").target("department", id, name),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
