use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub failed_logins: i32,
    pub locked_until: Option<i64>,
    pub disabled_at: Option<i64>,
    /// For a member account: the member's own person record.
    pub person_id: Option<i64>,
    /// Secret in the URL of this account's calendar feed; set on first use.
    pub calendar_token: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set when someone else set the password (creation, reset): the holder must choose their
    /// own before doing anything else.
    pub must_change_password: bool,
    /// Given by the security administrator: may export protected fields in clear.
    pub may_export_clear: bool,
    /// The TOTP secret, sealed; pending until `totp_enrolled_at` is set.
    pub totp_secret: Option<String>,
    pub totp_enrolled_at: Option<i64>,
    /// The last TOTP time step accepted: each code is good once.
    pub totp_last_step: Option<i64>,
    /// JSON list of keyed hashes of the unused recovery codes.
    pub recovery_codes: Option<String>,
    /// Where notifications by e-mail go.
    pub email: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::unit::Entity",
        from = "Column::UnitId",
        to = "super::unit::Column::Id"
    )]
    Unit,
}

impl Related<super::unit::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Unit.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
