use sea_orm::entity::prelude::*;

/// Serialized as is into audit archive files.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Position in the chain, 1, 2, 3 … without gaps.
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<i64>,
    pub actor_name: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<i64>,
    pub target_label: Option<String>,
    /// Path of the unit the event concerns; scopes who may read the row.
    pub unit_path: Option<String>,
    pub ip: Option<String>,
    /// JSON object with event details (old and new values).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
