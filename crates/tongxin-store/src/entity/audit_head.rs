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
    /// The last row moved to an archive file (0: none); the chain left starts after it.
    pub archived_seq: i64,
    /// That row's hash, which the first row left links to.
    pub archived_hash: Option<String>,
    /// HMAC-SM3 of the two above under the audit key.
    pub archived_mac: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
