use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "materials")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    /// Copy of the owning unit's path: the scope condition.
    pub unit_path: String,
    pub title: String,
    pub file_name: String,
    /// `txt`, `html` or `docx`.
    pub kind: String,
    /// The uploaded file as it came.
    pub attachment_id: i64,
    /// The repaired text in the script it was written in.
    pub body: String,
    /// The same text in Simplified Chinese: what search reads.
    pub body_simplified: String,
    pub repairs: i32,
    pub archived_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
