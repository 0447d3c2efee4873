use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unit_channels")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub unit_path: String,
    /// `wecom`, `dingtalk`, `feishu` or `webhook`.
    pub kind: String,
    pub name: String,
    /// The address, sealed: it carries the robot's key.
    pub url_sealed: String,
    /// Scheme and host, shown in place of the address.
    pub url_hint: String,
    pub secret_sealed: Option<String>,
    /// JSON array of event kinds.
    pub events: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
