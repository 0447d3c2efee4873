use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "units")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub parent_id: Option<i64>,
    pub code: String,
    pub name: String,
    pub level: i16,
    /// Materialized path, `/1/5/23/`; see `tongxin_core::UnitPath`.
    pub path: String,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
/// Rows pointing at a unit name it (`belongs_to`); the unit names none of them back, so the
/// entities import downwards only.
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
