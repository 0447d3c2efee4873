use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaigns")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    /// Copy of the organizing unit's path: the scope condition.
    pub unit_path: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub description: Option<String>,
    pub target_unit_id: i64,
    /// Copy of the target unit's path, rewritten with it on moves.
    pub target_unit_path: String,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
