use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "people")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub unit_id: i64,
    /// Copy of the unit's path, rewritten with it on moves: the scope condition.
    pub unit_path: String,
    pub name: String,
    pub name_pinyin: String,
    pub name_initials: String,
    /// Orders the directory syllable by syllable (`tongxin_text::PinyinKeys::sort`).
    pub name_sort: String,
    pub gender: Option<String>,
    pub birth_date: Option<String>,
    pub education: Option<String>,
    pub occupation: Option<String>,
    pub title: Option<String>,
    pub employer: Option<String>,
    pub political_affiliation: Option<String>,
    pub address: Option<String>,
    pub notes: Option<String>,
    pub id_number_sealed: Option<String>,
    pub id_number_index: Option<String>,
    pub phone_sealed: Option<String>,
    pub phone_index: Option<String>,
    pub phone_tail_index: Option<String>,
    pub ethnicity_sealed: Option<String>,
    pub religion_sealed: Option<String>,
    /// Incremented on every change; an edit based on an older version is refused.
    pub version: i32,
    pub archived_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
