//! The direct channel: cases (suggestions, opinion reports, research reports, messages to
//! leadership, supervision findings), each carried by its type's workflow.
//!
//! `case_types` holds each type's workflow as JSON and its default handling time, seeded from
//! the defaults; `work_calendar` the official holidays and make-up working days, seeded for
//! 2026 and 2027; `departments` the outside departments a case can be handed to. A case keeps
//! copies of its receiving and handling units' paths so the access layer can test either with
//! one range; `case_events` is its timeline, written with every change.

use sea_orm_migration::{prelude::*, schema::*};
use tongxin_core::{CaseType, WorkCalendar};

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
                    .table("case_types")
                    .col(string_len("code", 32).primary_key())
                    .col(integer("default_days"))
                    .col(text("workflow"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;
        for case_type in CaseType::ALL {
            let workflow = serde_json::to_string(&case_type.default_workflow())
                .map_err(|e| DbErr::Custom(e.to_string()))?;
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table("case_types")
                        .columns(["code", "default_days", "workflow", "updated_at"])
                        .values_panic([
                            case_type.as_str().into(),
                            <i32 as TryFrom<u32>>::try_from(case_type.default_days())
                                .unwrap_or(i32::MAX)
                                .into(),
                            workflow.into(),
                            0i64.into(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("work_calendar")
                    // `2026-10-01`.
                    .col(string_len("day", 10).primary_key())
                    // `off` or `work`.
                    .col(string_len("mark", 8))
                    .to_owned(),
            )
            .await?;
        let seeded: Vec<_> = WorkCalendar::seeded().marks().collect();
        for chunk in seeded.chunks(100) {
            let mut insert = Query::insert()
                .into_table("work_calendar")
                .columns(["day", "mark"])
                .to_owned();
            for (day, mark) in chunk {
                insert.values_panic([day.to_string().into(), mark.as_str().into()]);
            }
            manager.exec_stmt(insert).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("departments")
                    .col(big_pk_auto("id"))
                    .col(string_len("name", 100).unique_key())
                    .col(big_integer_null("archived_at"))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("cases")
                    .col(big_pk_auto("id"))
                    .col(string_len("case_type", 32))
                    .col(string_len("title", 200))
                    .col(text("body"))
                    .col(string_len("category", 32))
                    .col(string_len("state", 32))
                    // The person who submitted it, and the account that entered it (the
                    // member, or staff on their behalf).
                    .col(big_integer("submitter_id"))
                    .col(big_integer("submitted_by"))
                    // The submitter's sector when submitted, for counts per sector.
                    .col(big_integer_null("sector_id"))
                    .col(boolean("name_withheld").default(false))
                    .col(big_integer("receiving_unit_id"))
                    .col(path_column(backend, "receiving_unit_path", false))
                    .col(big_integer_null("handling_unit_id"))
                    .col(path_column(backend, "handling_unit_path", true))
                    .col(big_integer_null("department_id"))
                    // `2026-12-18`, in the deployment's calendar.
                    .col(string_len_null("due_on", 10))
                    .col(big_integer_null("assigned_at"))
                    .col(big_integer_null("answered_at"))
                    .col(text_null("answer"))
                    .col(string_len_null("satisfaction", 16))
                    .col(integer("reopened").default(0))
                    .col(big_integer_null("merged_into"))
                    // Marked by the nightly deadline job.
                    .col(big_integer_null("overdue_at"))
                    .col(string_len_null("reminded_for", 10))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .col(big_integer_null("closed_at"))
                    .foreign_key(&mut fk(
                        "fk_cases_submitter",
                        ("cases", "submitter_id"),
                        "people",
                    ))
                    .foreign_key(&mut fk(
                        "fk_cases_receiving_unit",
                        ("cases", "receiving_unit_id"),
                        "units",
                    ))
                    .foreign_key(&mut fk(
                        "fk_cases_handling_unit",
                        ("cases", "handling_unit_id"),
                        "units",
                    ))
                    .foreign_key(&mut fk(
                        "fk_cases_department",
                        ("cases", "department_id"),
                        "departments",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_cases_receiving",
            "cases",
            &["receiving_unit_path"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_cases_handling",
            "cases",
            &["handling_unit_path"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_cases_submitter",
            "cases",
            &["submitter_id"],
            false,
        )
        .await?;
        index(manager, "idx_cases_due", "cases", &["due_on", "id"], false).await?;
        index(
            manager,
            "idx_cases_created",
            "cases",
            &["created_at", "id"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_cases_similar",
            "cases",
            &["category", "state"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("case_cosubmitters")
                    .col(big_integer("case_id"))
                    .col(big_integer("person_id"))
                    .primary_key(Index::create().col("case_id").col("person_id"))
                    .foreign_key(&mut fk(
                        "fk_case_cosubmitters_case",
                        ("case_cosubmitters", "case_id"),
                        "cases",
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_cosubmitters_person",
                        ("case_cosubmitters", "person_id"),
                        "people",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_cosubmitters_person",
            "case_cosubmitters",
            &["person_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("case_events")
                    .col(big_pk_auto("id"))
                    .col(big_integer("case_id"))
                    .col(big_integer("at"))
                    .col(big_integer_null("actor_id"))
                    .col(string_len("actor_name", 100))
                    .col(string_len("actor_unit", 100))
                    // A transition's action, or `submit`, `reply`, `note`, `extension`, …
                    .col(string_len("action", 32))
                    .col(string_len_null("from_state", 32))
                    .col(string_len_null("to_state", 32))
                    .col(text_null("body"))
                    // Internal notes are never shown to the submitter.
                    .col(boolean("internal").default(false))
                    // JSON: what else the step recorded (the handler, the due date, a rating).
                    .col(text_null("detail"))
                    .foreign_key(&mut fk(
                        "fk_case_events_case",
                        ("case_events", "case_id"),
                        "cases",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_events_case",
            "case_events",
            &["case_id", "id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("case_files")
                    .col(big_pk_auto("id"))
                    .col(big_integer("case_id"))
                    .col(big_integer("attachment_id"))
                    .col(string_len("file_name", 200))
                    // Internal files go with internal notes.
                    .col(boolean("internal").default(false))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk(
                        "fk_case_files_case",
                        ("case_files", "case_id"),
                        "cases",
                    ))
                    .foreign_key(&mut fk(
                        "fk_case_files_attachment",
                        ("case_files", "attachment_id"),
                        "attachments",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_files_case",
            "case_files",
            &["case_id"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("case_extensions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("case_id"))
                    .col(big_integer("requested_by"))
                    .col(big_integer("requested_at"))
                    .col(string_len("due_on", 10))
                    .col(text("reason"))
                    // `pending`, `approved` or `rejected`.
                    .col(string_len("state", 16))
                    .col(big_integer_null("decided_by"))
                    .col(big_integer_null("decided_at"))
                    .foreign_key(&mut fk(
                        "fk_case_extensions_case",
                        ("case_extensions", "case_id"),
                        "cases",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_case_extensions_case",
            "case_extensions",
            &["case_id", "state"],
            false,
        )
        .await
    }
}
