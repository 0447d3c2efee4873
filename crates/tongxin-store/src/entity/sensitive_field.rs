use sea_orm::entity::prelude::*;

/// An optional sensitive field (ethnicity, religion) an administrator has enabled, and why.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sensitive_fields")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub field: String,
    pub purpose: String,
    pub enabled_by: String,
    pub enabled_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
