use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_type: String,
    pub title: String,
    pub body: String,
    pub category: String,
    pub state: String,
    pub submitter_id: i64,
    pub submitted_by: i64,
    pub sector_id: Option<i64>,
    pub name_withheld: bool,
    pub receiving_unit_id: i64,
    pub receiving_unit_path: String,
    pub handling_unit_id: Option<i64>,
    pub handling_unit_path: Option<String>,
    pub department_id: Option<i64>,
    pub due_on: Option<String>,
    pub assigned_at: Option<i64>,
    pub answered_at: Option<i64>,
    pub answer: Option<String>,
    pub satisfaction: Option<String>,
    pub reopened: i32,
    pub merged_into: Option<i64>,
    pub overdue_at: Option<i64>,
    /// The due date a reminder went out for (once per due date).
    pub reminded_for: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub closed_at: Option<i64>,
    /// A research report's topic and team.
    pub topic_id: Option<i64>,
    pub team_id: Option<i64>,
    /// Working days from submission to the answer, and whether it came by the due date.
    pub answer_days: Option<i32>,
    pub answered_on_time: Option<bool>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
