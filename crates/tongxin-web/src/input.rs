//! Turning submitted fields into validated store inputs, shared by the pages and the API so
//! both refuse the same things with the same messages. Every refused field is collected, so a
//! form can show them all at once.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use tongxin_core::sector_field::{parse_choices, parse_field_key};
use tongxin_core::{
    Checks, Field, FieldKind, Invalid, MobilePhone, Password, Reason, Role, Timestamp, UnitCode,
    UnitName, Username, parse_name, parse_optional_text,
};
use tongxin_store::{
    ActivityInput, Actor, CampaignInput, NewAccount, NewUnit, ProposalField, ProposedChange,
    SectorFieldInput, Store, StoreError,
};

use crate::error::AppError;

/// A new unit below `parent_id`.
pub fn new_unit(parent_id: i64, code: &str, name: &str) -> Result<NewUnit, Vec<Invalid>> {
    let mut checks = Checks::default();
    let code = checks.check(UnitCode::parse(code));
    let name = checks.check(UnitName::parse(name));
    match (code, name) {
        (Some(code), Some(name)) => Ok(NewUnit {
            parent_id,
            code,
            name,
        }),
        _ => Err(checks.into_inner()),
    }
}

/// The fields of a new account as submitted.
pub struct AccountFields<'a> {
    pub unit_code: &'a str,
    pub username: &'a str,
    /// Empty or missing: the user name is used.
    pub display_name: Option<&'a str>,
    pub role: &'a str,
    pub password: &'a str,
}

/// A new account, with its unit looked up by code in the actor's subtree.
pub async fn new_account(
    store: &Store,
    actor: &Actor,
    fields: &AccountFields<'_>,
) -> Result<Result<NewAccount, Vec<Invalid>>, AppError> {
    let mut checks = Checks::default();
    let username = checks.check(Username::parse(fields.username));
    let display_name = match fields.display_name.filter(|n| !n.trim().is_empty()) {
        None => Some(fields.username.trim().to_owned()),
        Some(name) => checks.check(parse_name(Field::DisplayName, name)),
    };
    let role = checks.check(Role::parse(fields.role));
    let password = checks.check(Password::parse(fields.password));
    let unit = match store.unit_by_code(actor, fields.unit_code).await {
        Ok(unit) => Some(unit),
        Err(StoreError::NotFound) => {
            let reason = if fields.unit_code.trim().is_empty() {
                Reason::Required
            } else {
                Reason::NotFound
            };
            checks.check(Err(Invalid::new(Field::Unit, reason)))
        }
        Err(e) => return Err(e.into()),
    };
    Ok(match (username, display_name, role, password, unit) {
        (Some(username), Some(display_name), Some(role), Some(password), Some(unit)) => {
            Ok(NewAccount {
                unit_id: unit.id,
                username,
                display_name,
                role,
                password,
            })
        }
        _ => Err(checks.into_inner()),
    })
}

/// A sector field's definition as submitted; `choices` one per line or separated by `、；,`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SectorFieldFields {
    pub key: String,
    pub label: String,
    pub kind: String,
    pub required: bool,
    pub choices: String,
}

/// Validates a new sector field: its fixed key and kind, and its definition.
pub fn new_sector_field(
    fields: &SectorFieldFields,
) -> Result<(String, FieldKind, SectorFieldInput), Vec<Invalid>> {
    let mut checks = Checks::default();
    let key = checks.check(parse_field_key(&fields.key));
    let kind = checks.check(FieldKind::parse(&fields.kind));
    // Only choice fields keep choices; the others ignore whatever was typed.
    let takes_choices = kind.is_some_and(FieldKind::has_choices);
    let definition = definition(&mut checks, fields, takes_choices);
    match (key, kind, definition) {
        (Some(key), Some(kind), Some(definition)) if checks.is_empty() => {
            Ok((key, kind, definition))
        }
        _ => Err(checks.into_inner()),
    }
}

/// Validates the changeable part of an existing field's definition. The store refuses an
/// empty list of choices for a choice field and ignores choices for the others.
pub fn sector_field_definition(
    fields: &SectorFieldFields,
) -> Result<SectorFieldInput, Vec<Invalid>> {
    let mut checks = Checks::default();
    let takes_choices = !fields.choices.trim().is_empty();
    match definition(&mut checks, fields, takes_choices) {
        Some(definition) if checks.is_empty() => Ok(definition),
        _ => Err(checks.into_inner()),
    }
}

fn definition(
    checks: &mut Checks,
    fields: &SectorFieldFields,
    takes_choices: bool,
) -> Option<SectorFieldInput> {
    let label = checks.check(parse_name(Field::Named("field_label"), &fields.label));
    let choices = if takes_choices {
        checks.check(parse_choices(FieldKind::Choices, &fields.choices))
    } else {
        Some(Vec::new())
    };
    Some(SectorFieldInput {
        label: label?,
        required: fields.required,
        choices: choices?,
    })
}

/// The changes a member proposes, by field key: a value, or empty to clear the field. A phone
/// left empty is kept (members see it masked and cannot clear it).
pub fn proposed_changes(
    submitted: &BTreeMap<String, String>,
) -> Result<Vec<ProposedChange>, Vec<Invalid>> {
    let mut checks = Checks::default();
    let mut changes = Vec::new();
    for (key, raw) in submitted {
        let Some(field) = ProposalField::parse(key) else {
            checks.check::<()>(Err(Invalid::new(Field::Named("field"), Reason::NotFound)));
            continue;
        };
        let change = match field {
            ProposalField::Phone if raw.trim().is_empty() => continue,
            ProposalField::Phone => checks
                .check(MobilePhone::parse(raw))
                .map(ProposedChange::Phone),
            _ => checks
                .check(parse_optional_text(
                    Field::Named(field.key()),
                    raw,
                    tongxin_core::MAX_TEXT_CHARS,
                ))
                .map(|text| ProposedChange::Text(field, text)),
        };
        changes.extend(change);
    }
    if checks.is_empty() {
        Ok(changes)
    } else {
        Err(checks.into_inner())
    }
}

/// The fields of an activity as submitted by a form or the API, still text.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct ActivityFields {
    pub kind_id: String,
    pub unit_code: String,
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub venue_id: String,
    pub place: String,
    pub campaign_id: String,
    pub agenda: String,
}

/// An optional id: blank is none, anything else must be a number.
fn optional_id(field: Field, raw: &str) -> Result<Option<i64>, Invalid> {
    match raw.trim() {
        "" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| Invalid::new(field, Reason::NotFound)),
    }
}

fn time(field: Field, raw: &str) -> Result<Timestamp, Invalid> {
    if raw.trim().is_empty() {
        return Err(Invalid::new(field, Reason::Required));
    }
    Timestamp::parse_local(raw).ok_or_else(|| Invalid::new(field, Reason::DateFormat))
}

/// An activity to plan in `unit_id` (resolved from the unit code by the caller).
pub fn activity(
    fields: &ActivityFields,
    unit_id: Result<i64, Reason>,
    material_ids: Vec<i64>,
) -> Result<ActivityInput, Vec<Invalid>> {
    let mut checks = Checks::default();
    let kind_id = checks
        .check(optional_id(Field::Named("kind"), &fields.kind_id))
        .flatten();
    if kind_id.is_none() && checks.is_empty() {
        checks.check::<()>(Err(Invalid::new(Field::Named("kind"), Reason::Required)));
    }
    let title = checks.check(parse_name(Field::Named("activity_title"), &fields.title));
    let starts_at = checks.check(time(Field::Named("starts_at"), &fields.starts_at));
    let ends_at = checks.check(time(Field::Named("ends_at"), &fields.ends_at));
    if let (Some(s), Some(e)) = (starts_at, ends_at)
        && e <= s
    {
        checks.check::<()>(Err(Invalid::new(
            Field::Named("ends_at"),
            Reason::EndsBeforeStart,
        )));
    }
    let venue_id = checks
        .check(optional_id(Field::Named("venue"), &fields.venue_id))
        .flatten();
    let place = checks
        .check(parse_optional_text(
            Field::Named("place"),
            &fields.place,
            200,
        ))
        .flatten();
    let campaign_id = checks
        .check(optional_id(Field::Named("campaign"), &fields.campaign_id))
        .flatten();
    let agenda = checks
        .check(parse_optional_text(
            Field::Named("agenda"),
            &fields.agenda,
            5000,
        ))
        .flatten();
    let unit_id = checks.check(unit_id.map_err(|reason| Invalid::new(Field::Unit, reason)));
    match (kind_id, unit_id, title, starts_at, ends_at) {
        (Some(kind_id), Some(unit_id), Some(title), Some(starts_at), Some(ends_at))
            if checks.is_empty() =>
        {
            Ok(ActivityInput {
                kind_id,
                unit_id,
                title,
                starts_at,
                ends_at,
                venue_id,
                place,
                campaign_id,
                agenda,
                material_ids,
            })
        }
        _ => Err(checks.into_inner()),
    }
}

/// The fields of a campaign as submitted, still text.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
pub struct CampaignFields {
    pub unit_code: String,
    pub title: String,
    pub starts_on: String,
    pub ends_on: String,
    pub description: String,
    pub target_unit_code: String,
    pub tags: String,
}

fn date(field: Field, raw: &str) -> Result<NaiveDate, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(Invalid::new(field, Reason::Required));
    }
    ["%Y-%m-%d", "%Y/%m/%d"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
        .ok_or_else(|| Invalid::new(field, Reason::DateFormat))
}

/// A campaign run by `unit_id` for the people of `target_unit_id` (both resolved by the
/// caller), of `sector_ids` and `material_ids` (checked by the store).
pub fn campaign(
    fields: &CampaignFields,
    unit_id: Result<i64, Reason>,
    target_unit_id: Result<i64, Reason>,
    sector_ids: Vec<i64>,
    material_ids: Vec<i64>,
) -> Result<CampaignInput, Vec<Invalid>> {
    let mut checks = Checks::default();
    let title = checks.check(parse_name(Field::Named("campaign_title"), &fields.title));
    let starts_on = checks.check(date(Field::Named("starts_on"), &fields.starts_on));
    let ends_on = checks.check(date(Field::Named("ends_on"), &fields.ends_on));
    if let (Some(s), Some(e)) = (starts_on, ends_on)
        && e < s
    {
        checks.check::<()>(Err(Invalid::new(
            Field::Named("ends_on"),
            Reason::EndsBeforeStart,
        )));
    }
    let description = checks
        .check(parse_optional_text(
            Field::Named("description"),
            &fields.description,
            5000,
        ))
        .flatten();
    let unit_id = checks.check(unit_id.map_err(|reason| Invalid::new(Field::Unit, reason)));
    let target_unit_id = checks
        .check(target_unit_id.map_err(|reason| Invalid::new(Field::Named("target_unit"), reason)));
    match (unit_id, target_unit_id, title, starts_on, ends_on) {
        (Some(unit_id), Some(target_unit_id), Some(title), Some(starts_on), Some(ends_on))
            if checks.is_empty() =>
        {
            Ok(CampaignInput {
                unit_id,
                title,
                starts_on,
                ends_on,
                description,
                target_unit_id,
                sector_ids,
                tags: tongxin_store::split_tags(&fields.tags),
                material_ids,
            })
        }
        _ => Err(checks.into_inner()),
    }
}
