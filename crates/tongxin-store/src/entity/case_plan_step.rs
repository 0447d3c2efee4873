use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "case_plan_steps")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub case_id: i64,
    pub title: String,
    pub due_on: String,
    pub created_at: i64,
    pub done_at: Option<i64>,
    pub evidence: Option<String>,
    pub file_id: Option<i64>,
    pub checked: Option<String>,
    pub check_note: Option<String>,
    pub checked_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
