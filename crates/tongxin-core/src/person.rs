//! People in the directory: the validated forms of their identifying fields, and how sensitive
//! values are masked for display.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use crate::clock::Timestamp;
use crate::error::{Field, Invalid, Reason};

/// A resident identity card number (GB 11643-1999): six region digits, the birth date as
/// `YYYYMMDD`, three sequence digits and a check character (`0`-`9` or `X`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// Weights of the first 17 characters for the ISO 7064 MOD 11-2 check character.
const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// The check character for each remainder 0..=10.
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The GB 11643 check character (ISO 7064 MOD 11-2) for the first 17 digits of an ID number,
/// or `None` if they are not 17 digits.
pub fn id_check_character(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .chars()
        .zip(ID_WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    ID_CHECK.get((sum % 11) as usize).copied()
}

impl IdNumber {
    /// Parses an ID number; `today` bounds the birth date (nobody is born tomorrow).
    pub fn parse(raw: &str, today: NaiveDate) -> Result<Self, Invalid> {
        let invalid = |reason| Invalid::new(Field::IdNumber, reason);
        let id: String = raw.trim().to_ascii_uppercase();
        if id.is_empty() {
            return Err(invalid(Reason::Required));
        }
        if in_scientific_notation(&id) {
            return Err(invalid(Reason::StoredAsNumber));
        }
        let chars: Vec<char> = id.chars().collect();
        let well_formed = chars.len() == 18
            && chars[..17].iter().all(char::is_ascii_digit)
            && (chars[17].is_ascii_digit() || chars[17] == 'X');
        if !well_formed {
            return Err(invalid(Reason::IdNumberFormat));
        }
        let birth = NaiveDate::parse_from_str(&id[6..14], "%Y%m%d")
            .ok()
            .filter(|d| *d <= today && d.year() >= 1900);
        if birth.is_none() || &id[0..2] == "00" {
            return Err(invalid(Reason::IdNumberBirthDate));
        }
        if Some(chars[17]) != id_check_character(&id[..17]) {
            return Err(invalid(Reason::IdNumberChecksum));
        }
        Ok(IdNumber(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The birth date the number encodes.
    pub fn birth_date(&self) -> Option<NaiveDate> {
        NaiveDate::parse_from_str(&self.0[6..14], "%Y%m%d").ok()
    }

    /// The gender the sequence digit encodes (odd: male).
    pub fn gender(&self) -> Gender {
        let digit = self.0[16..17].parse::<u32>().unwrap_or(0);
        if digit % 2 == 1 {
            Gender::Male
        } else {
            Gender::Female
        }
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", mask_id_number(&self.0))
    }
}

/// Whether `text` is a number in scientific notation (`1.50102E+17`), as a spreadsheet shows
/// and saves a long number it keeps as a number: only its first 15 digits survive.
fn in_scientific_notation(text: &str) -> bool {
    let Some((mantissa, exponent)) = text.split_once(['E', 'e']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    !whole.is_empty()
        && !exponent.is_empty()
        && [whole, fraction, exponent]
            .iter()
            .all(|part| part.chars().all(|c| c.is_ascii_digit()))
}

/// An 11-digit mainland mobile number. Spaces, dashes and a `+86`/`86` prefix are removed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct MobilePhone(String);

impl MobilePhone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let digits: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')'))
            .collect();
        if digits.is_empty() {
            return Err(Invalid::new(Field::Phone, Reason::Required));
        }
        if in_scientific_notation(&digits) {
            return Err(Invalid::new(Field::Phone, Reason::StoredAsNumber));
        }
        let digits = digits
            .strip_prefix("+86")
            .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
            .unwrap_or(&digits);
        let valid = digits.len() == 11
            && digits.chars().all(|c| c.is_ascii_digit())
            && digits.starts_with('1')
            && matches!(digits.as_bytes()[1], b'3'..=b'9');
        if !valid {
            return Err(Invalid::new(Field::Phone, Reason::PhoneFormat));
        }
        Ok(MobilePhone(digits.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last four digits, which the search box accepts.
    pub fn last_four(&self) -> &str {
        &self.0[7..]
    }
}

impl fmt::Debug for MobilePhone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MobilePhone({})", mask_phone(&self.0))
    }
}

/// `150102********1234`: region and last four kept, the birth date and sequence hidden.
pub fn mask_id_number(id: &str) -> String {
    mask_middle(id, 6, 4)
}

/// `138****5678`.
pub fn mask_phone(phone: &str) -> String {
    mask_middle(phone, 3, 4)
}

fn mask_middle(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..head].iter().collect();
    out.push_str(&"*".repeat(chars.len() - head - tail));
    out.extend(&chars[chars.len() - tail..]);
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gender {
    Male,
    Female,
}

impl Gender {
    /// Accepts `男`/`女`, `male`/`female`, `m`/`f`.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "男" | "male" | "m" => Ok(Gender::Male),
            "女" | "female" | "f" => Ok(Gender::Female),
            "" => Err(Invalid::new(Field::Gender, Reason::Required)),
            _ => Err(Invalid::new(Field::Gender, Reason::GenderValue)),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Gender::Male => "male",
            Gender::Female => "female",
        }
    }
}

/// A birth date as people and Excel write it: `1975-03-08`, `1975/3/8` or `1975.3.8`.
pub fn parse_birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::new(Field::BirthDate, Reason::Required));
    }
    let normalised = text.replace(['/', '.'], "-");
    NaiveDate::parse_from_str(&normalised, "%Y-%m-%d")
        .ok()
        .filter(|d| *d <= today && d.year() >= 1900)
        .ok_or_else(|| Invalid::new(Field::BirthDate, Reason::DateFormat))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or_default()
    }

    /// Builds a valid number from 17 digits by computing its check character.
    fn with_check(first17: &str) -> String {
        format!("{first17}{}", id_check_character(first17).unwrap_or('?'))
    }

    #[test]
    fn id_numbers_are_checked_by_gb_11643() {
        // The standard's own example.
        assert!(IdNumber::parse("11010519491231002X", today()).is_ok());
        let id = with_check("15010219800101123");
        let parsed = IdNumber::parse(&id.to_lowercase(), today());
        assert_eq!(parsed.as_ref().map(IdNumber::as_str), Ok(id.as_str()));
        let parsed = parsed.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.birth_date(), NaiveDate::from_ymd_opt(1980, 1, 1));
        assert_eq!(parsed.gender(), Gender::Male, "odd sequence digit");

        let mut wrong = id.clone();
        let last = if wrong.ends_with('1') { '2' } else { '1' };
        wrong.pop();
        wrong.push(last);
        assert_eq!(
            IdNumber::parse(&wrong, today()).map(|i| i.0),
            Err(Invalid::new(Field::IdNumber, Reason::IdNumberChecksum))
        );
        assert_eq!(
            IdNumber::parse(&with_check("15010219800231123"), today()).map(|i| i.0),
            Err(Invalid::new(Field::IdNumber, Reason::IdNumberBirthDate)),
            "February 31st"
        );
        assert_eq!(
            IdNumber::parse(&with_check("15010220301231123"), today()).map(|i| i.0),
            Err(Invalid::new(Field::IdNumber, Reason::IdNumberBirthDate)),
            "born in the future"
        );
        assert_eq!(
            IdNumber::parse("15010219800101", today()).map(|i| i.0),
            Err(Invalid::new(Field::IdNumber, Reason::IdNumberFormat))
        );
    }

    /// What a spreadsheet makes of an ID number or phone kept as a number is named as such,
    /// not as a typo in the check character.
    #[test]
    fn numbers_a_spreadsheet_rounded_are_named() {
        for shown in ["1.50102E+17", "1.50102199001011E17", "1.5e17", "2E+10"] {
            assert_eq!(
                IdNumber::parse(shown, today()).map(|i| i.0),
                Err(Invalid::new(Field::IdNumber, Reason::StoredAsNumber)),
                "{shown}"
            );
        }
        assert_eq!(
            MobilePhone::parse("1.38123E+10").map(|p| p.0),
            Err(Invalid::new(Field::Phone, Reason::StoredAsNumber))
        );
        for not_a_number in ["E17", "1.5E", "1.2.3E4", "15010219800101123E"] {
            assert_ne!(
                IdNumber::parse(not_a_number, today()).map(|i| i.0),
                Err(Invalid::new(Field::IdNumber, Reason::StoredAsNumber)),
                "{not_a_number}"
            );
        }
    }

    #[test]
    fn phones_are_mainland_mobiles() {
        assert_eq!(
            MobilePhone::parse("+86 138-1234-5678").map(|p| p.0),
            Ok("13812345678".into())
        );
        assert_eq!(
            MobilePhone::parse("13812345678").map(|p| p.last_four().to_owned()),
            Ok("5678".into())
        );
        for bad in [
            "1381234567",
            "23812345678",
            "12812345678",
            "138123456789",
            "0471-1234567",
        ] {
            assert_eq!(
                MobilePhone::parse(bad).map(|p| p.0),
                Err(Invalid::new(Field::Phone, Reason::PhoneFormat)),
                "{bad}"
            );
        }
    }

    #[test]
    fn masks_keep_only_what_identifies_nobody() {
        assert_eq!(mask_id_number("150102198001011234"), "150102********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn genders_and_dates_as_written_in_excel() {
        assert_eq!(Gender::parse("女"), Ok(Gender::Female));
        assert_eq!(Gender::parse("Male"), Ok(Gender::Male));
        assert_eq!(
            parse_birth_date("1975/3/8", today()),
            Ok(NaiveDate::from_ymd_opt(1975, 3, 8).unwrap_or_default())
        );
        assert!(parse_birth_date("1975-13-08", today()).is_err());
    }
}

/// One changed field of one change to a person record, as the history lists it and as an
/// edit based on an older version is told what changed meanwhile.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    pub version: i32,
    pub at: Timestamp,
    pub actor_name: String,
    pub field: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    /// The member who proposed the change, for an approved self-declared change.
    pub proposed_by: Option<String>,
}
