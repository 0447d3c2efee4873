use sea_orm::entity::prelude::*;

/// How many of an activity's invitees are in each state: kept in the transaction of every
/// change to its invitations, so a list of activities reads one row per activity rather than
/// counting invitations (a township's batch invites thousands).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_tallies")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub activity_id: i64,
    pub invited: i64,
    pub confirmed: i64,
    pub attended: i64,
    pub absent: i64,
    pub excused: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
