//! What follows from cases: leader instructions, adoption into policy and bulletin
//! publication (`case_outcomes`); the rectification plan of a supervision finding
//! (`case_plan_steps`); research topics the department publishes, the teams members form for
//! them, and the reports (cases) linked to a topic and a team; and an index covering what the
//! case statistics read.

use chrono::NaiveDate;
use sea_orm_migration::{prelude::*, schema::*};
use tongxin_core::{CaseType, DayMark, Effect, TimeZone, Timestamp, WorkCalendar, Workflow};

use super::m0001_foundation::path_column;
use super::m0006_activities::{fk, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table("case_outcomes")
                    .col(big_pk_auto("id"))
                    .col(big_integer("case_id"))
                    // `instruction`, `adoption` or `bulletin`.
                    .col(string_len("kind", 16))
                    // An instruction's level: `county`, `city`, `region` or `national`.
                    .col(string_len_null("level", 16))
                    .col(string_len("on_date", 10))
                    .col(text("summary"))
                    // The evidence: a reference (document number, bulletin issue) or a file.
                    .col(string_len_null("reference", 200))
                    .col(big_integer_null("file_id"))
                    .col(big_integer("recorded_by"))
                    .col(big_integer("recorded_at"))
                    .foreign_key(&mut fk(
                        "fk_case_outcomes_case",
                        ("case_outcomes", "case_id"),
                        "cases",
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_outcomes_file",
                        ("case_outcomes", "file_id"),
                        "case_files",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_outcomes_case",
            "case_outcomes",
            &["case_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("case_plan_steps")
                    .col(big_pk_auto("id"))
                    .col(big_integer("case_id"))
                    .col(string_len("title", 200))
                    .col(string_len("due_on", 10))
                    .col(big_integer("created_at"))
                    // Done by the rectifying unit, with evidence (a reference or a file).
                    .col(big_integer_null("done_at"))
                    .col(text_null("evidence"))
                    .col(big_integer_null("file_id"))
                    // The supervising side's check: `accepted` or `rejected`, with a note.
                    .col(string_len_null("checked", 16))
                    .col(text_null("check_note"))
                    .col(big_integer_null("checked_at"))
                    .foreign_key(&mut fk(
                        "fk_case_plan_steps_case",
                        ("case_plan_steps", "case_id"),
                        "cases",
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_plan_steps_file",
                        ("case_plan_steps", "file_id"),
                        "case_files",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_plan_steps_case",
            "case_plan_steps",
            &["case_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("research_topics")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(string_len("title", 200))
                    .col(text("body"))
                    // Reports are accepted until the end of this day.
                    .col(string_len("due_on", 10))
                    .col(big_integer("created_by"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk(
                        "fk_research_topics_unit",
                        ("research_topics", "unit_id"),
                        "units",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_research_topics_unit_path",
            "research_topics",
            &["unit_path"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("research_teams")
                    .col(big_pk_auto("id"))
                    .col(big_integer("topic_id"))
                    .col(string_len("name", 100))
                    // The member who formed the team.
                    .col(big_integer("lead_id"))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk(
                        "fk_research_teams_topic",
                        ("research_teams", "topic_id"),
                        "research_topics",
                    ))
                    .foreign_key(&mut fk(
                        "fk_research_teams_lead",
                        ("research_teams", "lead_id"),
                        "people",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_research_teams_name",
            "research_teams",
            &["topic_id", "name"],
            true,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("research_team_members")
                    .col(big_integer("team_id"))
                    .col(big_integer("person_id"))
                    // Copied from the team: one team per person and topic.
                    .col(big_integer("topic_id"))
                    .primary_key(Index::create().col("team_id").col("person_id"))
                    .foreign_key(&mut fk(
                        "fk_research_team_members_team",
                        ("research_team_members", "team_id"),
                        "research_teams",
                    ))
                    .foreign_key(&mut fk(
                        "fk_research_team_members_person",
                        ("research_team_members", "person_id"),
                        "people",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_research_team_members_topic_person",
            "research_team_members",
            &["topic_id", "person_id"],
            true,
        )
        .await?;
        for column in ["topic_id", "team_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("cases")
                        .add_column(big_integer_null(column))
                        .to_owned(),
                )
                .await?;
        }
        index(manager, "idx_cases_topic", "cases", &["topic_id"], false).await?;
        // How long the answer took, in working days, and whether it came by the due date: kept
        // with the answer so the statistics count them instead of reading every answered case.
        manager
            .alter_table(
                Table::alter()
                    .table("cases")
                    .add_column(integer_null("answer_days"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("cases")
                    .add_column(boolean_null("answered_on_time"))
                    .to_owned(),
            )
            .await?;
        keep_answer_figures(manager).await?;
        // The statistics group by these in index order, reading the index alone.
        index(
            manager,
            "idx_cases_figures",
            "cases",
            &[
                "case_type",
                "state",
                "category",
                "sector_id",
                "satisfaction",
                "receiving_unit_path",
                "closed_at",
                "created_at",
            ],
            false,
        )
        .await?;
        index(
            manager,
            "idx_cases_answers",
            "cases",
            &[
                "answered_on_time",
                "answer_days",
                "receiving_unit_path",
                "case_type",
                "created_at",
            ],
            false,
        )
        .await?;
        plan_supervision(manager).await
    }
}

/// Fills the answer figures of the cases answered before they were kept.
async fn keep_answer_figures(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let conn = manager.get_connection();
    let calendar = stored_calendar(manager).await?;
    let rows = conn
        .query_all(
            Query::select()
                .columns(["id", "created_at", "answered_at", "due_on"])
                .from("cases")
                .and_where(Expr::col("answered_at").is_not_null()),
        )
        .await?;
    for row in rows {
        let id: i64 = row.try_get("", "id")?;
        let created: i64 = row.try_get("", "created_at")?;
        let answered: i64 = row.try_get("", "answered_at")?;
        let due: Option<String> = row.try_get("", "due_on")?;
        let zone = TimeZone::SHANGHAI;
        let (days, on_time) = calendar.answer_figures(
            zone.date_of(Timestamp::from_micros(created)),
            zone.date_of(Timestamp::from_micros(answered)),
            due.as_deref()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
        );
        manager
            .exec_stmt(
                Query::update()
                    .table("cases")
                    .value("answer_days", days)
                    .value("answered_on_time", on_time)
                    .and_where(Expr::col("id").eq(id))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

/// The working calendar as stored (seeded by the previous migration, perhaps edited since).
async fn stored_calendar(manager: &SchemaManager<'_>) -> Result<WorkCalendar, DbErr> {
    let rows = manager
        .get_connection()
        .query_all(
            Query::select()
                .columns(["day", "mark"])
                .from("work_calendar"),
        )
        .await?;
    let mut marks = Vec::new();
    for row in rows {
        let day: String = row.try_get("", "day")?;
        let mark: String = row.try_get("", "mark")?;
        if let (Ok(day), Some(mark)) = (
            NaiveDate::parse_from_str(&day, "%Y-%m-%d"),
            DayMark::parse(&mark),
        ) {
            marks.push((day, mark));
        }
    }
    Ok(WorkCalendar::new(marks))
}

/// The supervision workflow's `plan` step now asks for a plan and its `verify` step for every
/// plan step checked; a workflow an administrator already replaced keeps its effects otherwise.
async fn plan_supervision(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let code = CaseType::Supervision.as_str();
    let row = manager
        .get_connection()
        .query_one(
            Query::select()
                .column("workflow")
                .from("case_types")
                .and_where(Expr::col("code").eq(code)),
        )
        .await?;
    let Some(row) = row else {
        return Ok(());
    };
    let text: String = row.try_get("", "workflow")?;
    let mut workflow: Workflow =
        serde_json::from_str(&text).map_err(|e| DbErr::Custom(e.to_string()))?;
    for transition in &mut workflow.transitions {
        match transition.action.as_str() {
            "plan" if transition.effect == Effect::None => transition.effect = Effect::Plan,
            "verify" if transition.effect == Effect::None => transition.effect = Effect::Verify,
            _ => {}
        }
    }
    let text = serde_json::to_string(&workflow).map_err(|e| DbErr::Custom(e.to_string()))?;
    manager
        .exec_stmt(
            Query::update()
                .table("case_types")
                .value("workflow", text)
                .and_where(Expr::col("code").eq(code))
                .to_owned(),
        )
        .await
}
