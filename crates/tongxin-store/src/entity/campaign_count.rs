use sea_orm::entity::prelude::*;

/// Coverage counters of one campaign in one unit (not its subtree) for one sector, or for
/// everyone at sector 0.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_counts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub sector_id: i64,
    pub targeted: i64,
    pub reached: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
