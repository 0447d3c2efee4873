//! A person as typed into a form, an API body or a row of a file: text fields checked and
//! turned into a [`PersonInput`], every refused field collected so all can be shown at once.
//! The pages, the API and the import read people through this one definition.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use tongxin_core::{
    Checks, Field, Gender, IdNumber, Invalid, MAX_TEXT_CHARS, MobilePhone, Reason,
    parse_birth_date, parse_name, parse_optional_text,
};

use super::PersonInput;
use crate::directory::sectors::Membership;

/// Longest note, in characters.
const MAX_NOTES: usize = 2000;

/// A sector membership as submitted.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct MembershipFields {
    pub sector_id: i64,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub role: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub since: String,
    /// Values of the sector's own fields, by field key; the store checks them.
    #[serde(default)]
    pub values: BTreeMap<String, String>,
}

/// The fields of a person as submitted by a form or the API; empty strings (or JSON nulls, as
/// the API shows absent values) mean "not given".
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct PersonFields {
    pub unit_id: i64,
    #[serde(deserialize_with = "null_as_empty")]
    pub name: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub gender: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub birth_date: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub education: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub occupation: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub title: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub employer: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub political_affiliation: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub address: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub notes: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub id_number: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub phone: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub ethnicity: String,
    #[serde(deserialize_with = "null_as_empty")]
    pub religion: String,
    pub sectors: Vec<MembershipFields>,
    pub tags: Vec<String>,
}

/// Reads a JSON null as an empty string, so a record read from the API can be sent back.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    use serde::Deserialize;
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// Splits a tag list typed as `党外;青年、专家` into tags.
pub fn split_tags(raw: &str) -> Vec<String> {
    raw.split([';', '；', '、', ',', '，'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

impl PersonFields {
    /// Validates every field, collecting all that are refused.
    pub fn parse(&self, today: NaiveDate) -> Result<PersonInput, Vec<Invalid>> {
        let fields = self;
        let mut checks = Checks::default();
        let name = checks.check(parse_name(Field::Named("person_name"), &fields.name));
        let optional = |raw: &str| !raw.trim().is_empty();
        let gender = if optional(&fields.gender) {
            checks.check(Gender::parse(&fields.gender)).map(Some)
        } else {
            Some(None)
        };
        let birth_date = if optional(&fields.birth_date) {
            checks
                .check(parse_birth_date(&fields.birth_date, today))
                .map(Some)
        } else {
            Some(None)
        };
        let id_number = if optional(&fields.id_number) {
            checks
                .check(IdNumber::parse(&fields.id_number, today))
                .map(Some)
        } else {
            Some(None)
        };
        let phone = if optional(&fields.phone) {
            checks.check(MobilePhone::parse(&fields.phone)).map(Some)
        } else {
            Some(None)
        };
        let mut text = |key: &'static str, raw: &str, max: usize| {
            checks
                .check(parse_optional_text(Field::Named(key), raw, max))
                .flatten()
        };
        let education = text("education", &fields.education, MAX_TEXT_CHARS);
        let occupation = text("occupation", &fields.occupation, MAX_TEXT_CHARS);
        let title = text("title", &fields.title, MAX_TEXT_CHARS);
        let employer = text("employer", &fields.employer, MAX_TEXT_CHARS);
        let political_affiliation = text(
            "political_affiliation",
            &fields.political_affiliation,
            MAX_TEXT_CHARS,
        );
        let address = text("address", &fields.address, MAX_TEXT_CHARS);
        let notes = text("notes", &fields.notes, MAX_NOTES);
        let ethnicity = text("ethnicity", &fields.ethnicity, MAX_TEXT_CHARS);
        let religion = text("religion", &fields.religion, MAX_TEXT_CHARS);
        let mut sectors = Vec::new();
        for m in &fields.sectors {
            let role = checks
                .check(parse_optional_text(
                    Field::Named("sector_role"),
                    &m.role,
                    MAX_TEXT_CHARS,
                ))
                .flatten();
            let since = if optional(&m.since) {
                checks
                    .check(parse_birth_date(&m.since, today).map_err(|_| {
                        Invalid::new(Field::Named("sector_since"), Reason::DateFormat)
                    }))
                    .map(Some)
            } else {
                Some(None)
            };
            sectors.push(Membership {
                sector_id: m.sector_id,
                role,
                since: since.flatten(),
                values: m.values.clone(),
            });
        }
        let mut tags = Vec::new();
        for tag in &fields.tags {
            if let Some(tag) = checks
                .check(parse_optional_text(Field::Named("tags"), tag, 50))
                .flatten()
            {
                tags.push(tag);
            }
        }
        match (name, gender, birth_date, id_number, phone) {
            (Some(name), Some(gender), Some(birth_date), Some(id_number), Some(phone)) => {
                let invalid = checks.into_inner();
                if !invalid.is_empty() {
                    return Err(invalid);
                }
                Ok(PersonInput {
                    unit_id: fields.unit_id,
                    name,
                    gender,
                    birth_date,
                    education,
                    occupation,
                    title,
                    employer,
                    political_affiliation,
                    address,
                    notes,
                    id_number,
                    phone,
                    ethnicity,
                    religion,
                    sectors,
                    tags,
                    keep_unset_protected: false,
                    clear_protected: Vec::new(),
                })
            }
            _ => Err(checks.into_inner()),
        }
    }
}
