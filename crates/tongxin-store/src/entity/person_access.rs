use sea_orm::entity::prelude::*;

/// One read of a person's record: a view, a reveal of a protected field, or an export holding
/// the person's row. Written once, never changed.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_access")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    pub at: i64,
    /// `view`, `reveal`, `export` or `export_clear`.
    pub kind: String,
    /// The reading account; none for the command line.
    pub account_id: Option<i64>,
    /// The account's user name and name, and its unit's name, as they were at the time.
    pub account_name: String,
    pub display_name: String,
    pub unit_name: String,
    /// The field revealed, or the purpose stated for a clear export.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
