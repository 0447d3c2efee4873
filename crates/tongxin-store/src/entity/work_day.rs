use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "work_calendar")]
pub struct Model {
    /// `2026-10-01`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    /// `off` or `work`.
    pub mark: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
