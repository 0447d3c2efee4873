use sea_orm::entity::prelude::*;

/// The single row that records the end of the audit chain. Appending updates it first, which
/// serializes appenders on both engines and lets `check` notice a removed last row.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_head")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i16,
    pub seq: i64,
    pub hash: String,
    /// The chain's hashes are keyed (HMAC-SM3); false only for a chain written before the key
    /// that did not verify when the store opened.
    pub keyed: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
