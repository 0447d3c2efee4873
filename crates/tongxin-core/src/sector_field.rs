//! A sector's own fields (界别扩展字段): typed, optionally required values that one sector keeps
//! about its members beyond the common record (a democratic party's 党派, an association's
//! 会员类别 …). Definitions and values are checked here; storing them is the store's business.

use chrono::NaiveDate;

use crate::{Field, Invalid, Reason, parse_optional_text};

/// Longest text value, label or choice, in characters.
const MAX_VALUE_CHARS: usize = 200;
/// Most choices a choice field may offer.
const MAX_CHOICES: usize = 100;

/// What kind of value a sector field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Number,
    Date,
    /// One of a fixed list.
    Choice,
    /// Any number of a fixed list.
    Choices,
}

impl FieldKind {
    pub const ALL: [FieldKind; 5] = [
        FieldKind::Text,
        FieldKind::Number,
        FieldKind::Date,
        FieldKind::Choice,
        FieldKind::Choices,
    ];

    /// Stable identifier, stored and used as the translation key suffix.
    pub fn key(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Number => "number",
            FieldKind::Date => "date",
            FieldKind::Choice => "choice",
            FieldKind::Choices => "choices",
        }
    }

    pub fn parse(raw: &str) -> Result<FieldKind, Invalid> {
        FieldKind::ALL
            .into_iter()
            .find(|k| k.key() == raw.trim())
            .ok_or_else(|| Invalid::new(Field::Named("field_kind"), Reason::NotFound))
    }

    /// Whether the field offers a fixed list of choices.
    pub fn has_choices(self) -> bool {
        matches!(self, FieldKind::Choice | FieldKind::Choices)
    }
}

/// Splits a list of choices or chosen values typed as `民革；民盟、民建` or one per line.
pub fn split_list(raw: &str) -> Vec<String> {
    raw.split([';', '；', '、', ',', '，', '\n', '\r'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A field key: a lower-case ASCII identifier of at most 32 characters, stable across renames.
pub fn parse_field_key(raw: &str) -> Result<String, Invalid> {
    let key = raw.trim();
    let field = Field::Named("field_key");
    if key.is_empty() {
        return Err(Invalid::new(field, Reason::Required));
    }
    let mut chars = key.chars();
    let well_formed = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && key.len() <= 32;
    if !well_formed {
        return Err(Invalid::new(field, Reason::FieldKeyFormat));
    }
    Ok(key.to_owned())
}

/// The choices of a choice field: at least one, none repeated, each a short text.
pub fn parse_choices(kind: FieldKind, raw: &str) -> Result<Vec<String>, Invalid> {
    let field = Field::Named("field_choices");
    if !kind.has_choices() {
        return Ok(Vec::new());
    }
    let choices = split_list(raw);
    if choices.is_empty() {
        return Err(Invalid::new(field, Reason::Required));
    }
    if choices.len() > MAX_CHOICES {
        return Err(Invalid::new(field, Reason::TooLong { max: MAX_CHOICES }));
    }
    for (i, choice) in choices.iter().enumerate() {
        parse_optional_text(field, choice, MAX_VALUE_CHARS)?;
        if choices[..i].contains(choice) {
            return Err(Invalid::new(field, Reason::Repeated));
        }
    }
    Ok(choices)
}

/// Checks one value of a field and returns it in its stored form (`None` when empty).
/// `label` names the field in the refusal, since sector fields are named by their sector.
pub fn parse_field_value(
    kind: FieldKind,
    choices: &[String],
    label: &str,
    raw: &str,
) -> Result<Option<String>, Invalid> {
    let refuse = |reason| Invalid::labelled(Field::Named("sector_field"), reason, label);
    let Some(text) = parse_optional_text(Field::Named("sector_field"), raw, MAX_VALUE_CHARS)
        .map_err(|e| refuse(e.reason))?
    else {
        return Ok(None);
    };
    let value = match kind {
        FieldKind::Text => text,
        FieldKind::Number => {
            let number = text.replace([',', '，'], "");
            let digits = number.strip_prefix('-').unwrap_or(&number);
            let mut parts = digits.splitn(2, '.');
            let whole = parts.next().unwrap_or_default();
            let fraction = parts.next();
            let is_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            if !is_digits(whole) || fraction.is_some_and(|f| !is_digits(f)) {
                return Err(refuse(Reason::NumberFormat));
            }
            number
        }
        FieldKind::Date => {
            let normalised = text.replace(['/', '.'], "-");
            NaiveDate::parse_from_str(&normalised, "%Y-%m-%d")
                .map_err(|_| refuse(Reason::DateFormat))?
                .format("%Y-%m-%d")
                .to_string()
        }
        FieldKind::Choice => {
            if !choices.contains(&text) {
                return Err(refuse(Reason::NotAChoice));
            }
            text
        }
        FieldKind::Choices => {
            let picked = split_list(&text);
            if picked.iter().any(|p| !choices.contains(p)) {
                return Err(refuse(Reason::NotAChoice));
            }
            // In the order the field lists them, each once.
            let ordered: Vec<&str> = choices
                .iter()
                .filter(|c| picked.contains(c))
                .map(String::as_str)
                .collect();
            ordered.join("、")
        }
    };
    Ok(Some(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parties() -> Vec<String> {
        ["民革", "民盟", "民建"].map(str::to_owned).to_vec()
    }

    #[test]
    fn values_are_checked_by_kind_and_normalised() {
        let value = |kind, raw| parse_field_value(kind, &parties(), "党派", raw);
        assert_eq!(value(FieldKind::Text, "  "), Ok(None));
        assert_eq!(
            value(FieldKind::Number, "1,200.5"),
            Ok(Some("1200.5".into()))
        );
        assert_eq!(value(FieldKind::Number, "-3"), Ok(Some("-3".into())));
        assert_eq!(
            value(FieldKind::Number, "12a").map_err(|e| e.reason),
            Err(Reason::NumberFormat)
        );
        assert_eq!(
            value(FieldKind::Number, "1.").map_err(|e| e.reason),
            Err(Reason::NumberFormat)
        );
        assert_eq!(
            value(FieldKind::Date, "2018/6/1"),
            Ok(Some("2018-06-01".into()))
        );
        assert_eq!(
            value(FieldKind::Date, "2018-02-30").map_err(|e| e.reason),
            Err(Reason::DateFormat)
        );
        assert_eq!(value(FieldKind::Choice, "民盟"), Ok(Some("民盟".into())));
        let refused = value(FieldKind::Choice, "民进");
        assert_eq!(
            refused.as_ref().map_err(|e| &e.reason),
            Err(&Reason::NotAChoice)
        );
        assert_eq!(refused.err().and_then(|e| e.label), Some("党派".to_owned()));
        assert_eq!(
            value(FieldKind::Choices, "民建；民革、民建"),
            Ok(Some("民革、民建".into()))
        );
    }

    #[test]
    fn definitions_are_checked() {
        assert_eq!(parse_field_key("party_2"), Ok("party_2".to_owned()));
        for bad in ["2party", "Party", "党派", "a-b", ""] {
            assert!(parse_field_key(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_choices(FieldKind::Choice, "民革\n民盟"),
            Ok(vec!["民革".into(), "民盟".into()])
        );
        assert_eq!(parse_choices(FieldKind::Text, "ignored"), Ok(Vec::new()));
        assert_eq!(
            parse_choices(FieldKind::Choices, "甲、甲").map_err(|e| e.reason),
            Err(Reason::Repeated)
        );
        assert_eq!(
            parse_choices(FieldKind::Choice, " ").map_err(|e| e.reason),
            Err(Reason::Required)
        );
    }
}
