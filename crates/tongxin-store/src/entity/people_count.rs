use sea_orm::entity::prelude::*;

/// How many people a unit's whole subtree holds (the unit and every unit below it), live and
/// archived: kept in the transaction of every change that adds, archives, restores or moves
/// people, so a list's total is one row read rather than a count over the subtree.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "people_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
    pub active: i64,
    pub archived: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
