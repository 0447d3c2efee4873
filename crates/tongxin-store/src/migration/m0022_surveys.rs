//! Surveys: a short questionnaire published to a target population (a unit's subtree, and
//! optionally sectors and tags, as campaigns target), answered once by each member.
//!
//! Results are kept as counts per choice (`survey_counts`, created with the survey) and, per
//! text question, the texts in one list in a random order (`survey_texts`); who answered is in
//! `survey_takers`. An anonymous survey keeps nothing else, so no row, order or time links an
//! answer to its person; a named one also keeps each person's answers (`survey_responses`).

use sea_orm_migration::{prelude::*, schema::*};

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
                    .table("surveys")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    .col(string_len("title", 200))
                    .col(text_null("intro"))
                    .col(boolean("anonymous"))
                    .col(big_integer("target_unit_id"))
                    .col(path_column(backend, "target_unit_path", false))
                    // Answers are taken until the end of this day, unless closed earlier.
                    .col(string_len("closes_on", 10))
                    .col(big_integer_null("closed_at"))
                    .col(big_integer("created_by"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(&mut fk("fk_surveys_unit", ("surveys", "unit_id"), "units"))
                    .foreign_key(&mut fk(
                        "fk_surveys_target",
                        ("surveys", "target_unit_id"),
                        "units",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_surveys_unit_path",
            "surveys",
            &["unit_path"],
            false,
        )
        .await?;
        index(
            manager,
            "idx_surveys_target_path",
            "surveys",
            &["target_unit_path"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("survey_sectors")
                    .col(big_integer("survey_id"))
                    .col(big_integer("sector_id"))
                    .primary_key(Index::create().col("survey_id").col("sector_id"))
                    .foreign_key(&mut fk(
                        "fk_survey_sectors_survey",
                        ("survey_sectors", "survey_id"),
                        "surveys",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("survey_tags")
                    .col(big_integer("survey_id"))
                    .col(string_len("tag", 50))
                    .primary_key(Index::create().col("survey_id").col("tag"))
                    .foreign_key(&mut fk(
                        "fk_survey_tags_survey",
                        ("survey_tags", "survey_id"),
                        "surveys",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("survey_questions")
                    .col(big_pk_auto("id"))
                    .col(big_integer("survey_id"))
                    .col(integer("position"))
                    // `single`, `multiple` or `text`.
                    .col(string_len("kind", 16))
                    .col(text("prompt"))
                    // JSON: the choices, in order.
                    .col(text("choices"))
                    .col(boolean("required"))
                    .foreign_key(&mut fk(
                        "fk_survey_questions_survey",
                        ("survey_questions", "survey_id"),
                        "surveys",
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_survey_questions_survey",
            "survey_questions",
            &["survey_id", "position"],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table("survey_counts")
                    .col(big_integer("question_id"))
                    .col(integer("choice"))
                    .col(big_integer("n"))
                    .primary_key(Index::create().col("question_id").col("choice"))
                    .foreign_key(&mut fk(
                        "fk_survey_counts_question",
                        ("survey_counts", "question_id"),
                        "survey_questions",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("survey_texts")
                    .col(big_integer("question_id").primary_key())
                    // JSON: the texts given, in a random order.
                    .col(text("answers"))
                    .foreign_key(&mut fk(
                        "fk_survey_texts_question",
                        ("survey_texts", "question_id"),
                        "survey_questions",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("survey_takers")
                    .col(big_integer("survey_id"))
                    .col(big_integer("person_id"))
                    .primary_key(Index::create().col("survey_id").col("person_id"))
                    .foreign_key(&mut fk(
                        "fk_survey_takers_survey",
                        ("survey_takers", "survey_id"),
                        "surveys",
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("survey_responses")
                    .col(big_integer("survey_id"))
                    .col(big_integer("person_id"))
                    // JSON: the answers, by question id.
                    .col(text("answers"))
                    .col(big_integer("submitted_at"))
                    .primary_key(Index::create().col("survey_id").col("person_id"))
                    .foreign_key(&mut fk(
                        "fk_survey_responses_survey",
                        ("survey_responses", "survey_id"),
                        "surveys",
                    ))
                    .to_owned(),
            )
            .await
    }
}
