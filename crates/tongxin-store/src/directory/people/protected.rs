//! Protected fields: which sensitive fields are enabled, and revealing one in clear (audited).

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};
use serde_json::json;
use tongxin_core::{Field, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::audit::{self, Event};
use crate::crypto::SealedAt;
use crate::directory::access_log::{self, AccessKind};
use crate::entity::sensitive_field;
use crate::error::{Result, StoreError};

/// A protected field of a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SensitiveField {
    IdNumber,
    Phone,
    Ethnicity,
    Religion,
}

impl SensitiveField {
    pub const ALL: [SensitiveField; 4] = [
        SensitiveField::IdNumber,
        SensitiveField::Phone,
        SensitiveField::Ethnicity,
        SensitiveField::Religion,
    ];

    pub fn key(self) -> &'static str {
        match self {
            SensitiveField::IdNumber => "id_number",
            SensitiveField::Phone => "phone",
            SensitiveField::Ethnicity => "ethnicity",
            SensitiveField::Religion => "religion",
        }
    }

    /// Where the field's sealed value is stored for the person `row`.
    pub(crate) fn sealed_at(self, row: i64) -> SealedAt<'static> {
        let column = match self {
            SensitiveField::IdNumber => "people.id_number",
            SensitiveField::Phone => "people.phone",
            SensitiveField::Ethnicity => "people.ethnicity",
            SensitiveField::Religion => "people.religion",
        };
        SealedAt { column, row }
    }

    pub fn parse(key: &str) -> Option<SensitiveField> {
        Self::ALL.into_iter().find(|f| f.key() == key)
    }

    /// Ethnicity and religion are collected only after an administrator enables them.
    pub fn needs_enabling(self) -> bool {
        matches!(self, SensitiveField::Ethnicity | SensitiveField::Religion)
    }

    pub(crate) fn core_field(self) -> Field {
        match self {
            SensitiveField::IdNumber => Field::IdNumber,
            SensitiveField::Phone => Field::Phone,
            SensitiveField::Ethnicity => Field::Named("ethnicity"),
            SensitiveField::Religion => Field::Named("religion"),
        }
    }
}

impl Store {
    /// Optional sensitive fields an administrator has enabled, with the recorded purpose.
    pub async fn enabled_sensitive_fields(&self) -> Result<Vec<(SensitiveField, String)>> {
        Ok(
            access::unguarded::<sensitive_field::Entity>(Unguarded::Reference)
                .all(&self.db)
                .await?
                .into_iter()
                .filter_map(|m| SensitiveField::parse(&m.field).map(|f| (f, m.purpose)))
                .collect(),
        )
    }

    /// Enables (with a purpose) or disables collecting ethnicity or religion. Only top-unit
    /// administrators decide this, and the decision is audited.
    pub async fn set_sensitive_field(
        &self,
        actor: &Actor,
        now: Timestamp,
        field: SensitiveField,
        purpose: Option<String>,
    ) -> Result<()> {
        actor.require_admin()?;
        if !actor.at_top() || !field.needs_enabling() {
            return Err(StoreError::Forbidden);
        }
        let tx = self.begin_write().await?;
        access::delete_rows::<sensitive_field::Entity>(Unguarded::Reference)
            .filter(sensitive_field::Column::Field.eq(field.key()))
            .exec(&tx)
            .await?;
        let action = match &purpose {
            Some(purpose) => {
                sensitive_field::ActiveModel {
                    field: Set(field.key().to_owned()),
                    purpose: Set(purpose.clone()),
                    enabled_by: Set(actor.username().to_owned()),
                    enabled_at: Set(now.micros()),
                }
                .insert(&tx)
                .await?;
                "sensitive_field.enable"
            }
            None => "sensitive_field.disable",
        };
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new(action)
                .unit(actor.unit_path().as_str())
                .detail(json!({ "field": field.key(), "purpose": purpose })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The clear value of a protected field, for administrators and staff; every reveal is
    /// audited with the field and the person.
    pub async fn reveal_person_field(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        field: SensitiveField,
    ) -> Result<Option<String>> {
        let model = self.find_person(&self.db, actor, id).await?;
        actor.require_editor()?;
        let value = self.sealed_value(&model, field)?;
        let tx = self.begin_write().await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("person.reveal")
                .target("person", model.id, &model.name)
                .unit(&model.unit_path)
                .detail(json!({ "field": field.key() })),
        )
        .await?;
        access_log::record(
            &tx,
            now,
            actor,
            AccessKind::Reveal,
            &[model.id],
            Some(field.key()),
        )
        .await?;
        tx.commit().await?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::SensitiveField;
    use tongxin_core::PERSON_FIELDS;

    #[test]
    fn the_protected_fields_are_those_the_person_fields_list_marks() {
        let marked: Vec<&str> = PERSON_FIELDS
            .iter()
            .filter(|f| f.protected)
            .map(|f| f.key)
            .collect();
        let sealed: Vec<&str> = SensitiveField::ALL.iter().map(|f| f.key()).collect();
        assert_eq!(sealed, marked);
    }
}
