use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub account_id: i64,
    pub kind: String,
    /// What the event is about (`activity:12`).
    pub subject: String,
    pub link: String,
    /// JSON object: the values the message is written from.
    pub params: String,
    /// How many events this row stands for.
    pub merged: i32,
    /// The order of the newest event merged in.
    pub event_order: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub read_at: Option<i64>,
    pub digest_pending: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
