use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sector_fields")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub sector_id: i64,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    /// JSON array of strings; empty for fields without choices.
    pub choices: String,
    pub position: i32,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
