use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind_id: i64,
    pub unit_id: i64,
    /// Copy of the organizing unit's path: the scope condition.
    pub unit_path: String,
    pub title: String,
    pub starts_at: i64,
    pub ends_at: i64,
    /// A venue from the directory, or else `place` as free text.
    pub venue_id: Option<i64>,
    pub place: Option<String>,
    pub campaign_id: Option<i64>,
    pub agenda: Option<String>,
    /// One of `tongxin_core::ActivityState`'s keys.
    pub state: String,
    pub cancel_reason: Option<String>,
    pub minutes: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
