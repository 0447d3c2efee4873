use sea_orm::entity::prelude::*;

/// One change to one field of a person's record, proposed by the person from the member
/// portal and decided by staff of the person's unit.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person_proposals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub person_id: i64,
    /// The member account that proposed it.
    pub proposed_by: i64,
    pub proposer_name: String,
    pub field: String,
    /// The value on record when proposed (a phone number masked).
    pub old_value: Option<String>,
    /// The value proposed (a phone number sealed).
    pub new_value: Option<String>,
    /// `pending`, `approved`, `rejected` or `withdrawn`.
    pub status: String,
    pub created_at: i64,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
