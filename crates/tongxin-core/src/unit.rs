//! The unit tree: codes, names, levels and the materialized path that makes "this subtree" a
//! single indexed range condition.

use std::fmt;

use crate::error::{Field, Invalid, Reason};

/// A unit's code: a GB/T 2260 division code (6, 9 or 12 digits) or, for networks that are not
/// administrative divisions, any code of ASCII letters, digits and `-`, up to 32 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitCode(String);

impl UnitCode {
    pub const MAX_LEN: usize = 32;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        parse_code(Field::UnitCode, raw).map(UnitCode)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnitCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A code of ASCII letters, digits and `-`, up to 32 characters: units, sectors.
pub(crate) fn parse_code(field: Field, raw: &str) -> Result<String, Invalid> {
    let code = raw.trim();
    if code.is_empty() {
        return Err(Invalid::new(field, Reason::Required));
    }
    if code.len() > UnitCode::MAX_LEN {
        return Err(Invalid::new(
            field,
            Reason::TooLong {
                max: UnitCode::MAX_LEN,
            },
        ));
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        return Err(Invalid::new(field, Reason::UnitCodeFormat));
    }
    Ok(code.to_owned())
}

/// A sector's code, e.g. `minzhu` or `S01`; imports may name sectors by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SectorCode(String);

impl SectorCode {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        parse_code(Field::SectorCode, raw).map(SectorCode)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit's display name, e.g. `赛罕区` or `敕勒川路街道`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName(String);

impl UnitName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        crate::parse_name(Field::UnitName, raw).map(UnitName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The four levels of the network, top to bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum UnitLevel {
    /// 市级: the city-level department at the top.
    City = 1,
    /// 县级: districts, counties, banners.
    County = 2,
    /// 乡级: townships, towns, sumu, streets.
    Township = 3,
    /// 村级: villages, gacha, communities.
    Village = 4,
}

impl UnitLevel {
    pub fn from_number(n: i16) -> Option<Self> {
        match n {
            1 => Some(UnitLevel::City),
            2 => Some(UnitLevel::County),
            3 => Some(UnitLevel::Township),
            4 => Some(UnitLevel::Village),
            _ => None,
        }
    }

    pub fn number(self) -> i16 {
        self as i16
    }

    /// The level of a unit created directly under one of this level, if there is one.
    pub fn child(self) -> Option<Self> {
        Self::from_number(self.number() + 1)
    }

    /// Stable identifier, used for translation keys (`level.county`) and the API.
    pub fn key(self) -> &'static str {
        match self {
            UnitLevel::City => "city",
            UnitLevel::County => "county",
            UnitLevel::Township => "township",
            UnitLevel::Village => "village",
        }
    }
}

/// A unit's position in the tree: the ids from the root down to the unit, as `/1/5/23/`.
///
/// Every descendant's path starts with its ancestor's path, so a subtree is the half-open range
/// `[path, upper_bound)` under bytewise ordering, which any B-tree index answers directly.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnitPath(String);

impl UnitPath {
    /// The path of a unit at the top of the tree.
    pub fn root(id: i64) -> Self {
        UnitPath(format!("/{id}/"))
    }

    /// The path that contains every unit: the scope of the system itself (command line, demo).
    pub fn whole_tree() -> Self {
        UnitPath("/".to_owned())
    }

    /// Wraps a path read back from storage.
    pub fn from_stored(path: String) -> Self {
        UnitPath(path)
    }

    /// The path of a child with the given id.
    pub fn child(&self, id: i64) -> Self {
        UnitPath(format!("{}{id}/", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this unit or lies below it.
    pub fn contains(&self, other: &UnitPath) -> bool {
        other.0.starts_with(&self.0)
    }

    /// The ids from the root down to this unit.
    pub fn ids(&self) -> Vec<i64> {
        self.0
            .split('/')
            .filter(|s| !s.is_empty())
            .filter_map(|s| s.parse().ok())
            .collect()
    }

    /// The paths of this unit's ancestors, from the root, and of the unit itself: what
    /// concerns a unit includes what targets any unit above it.
    pub fn lineage(&self) -> Vec<String> {
        let mut current = String::from("/");
        self.ids()
            .into_iter()
            .map(|id| {
                current.push_str(&format!("{id}/"));
                current.clone()
            })
            .collect()
    }

    /// The exclusive upper bound of this subtree: the path with its final `/` replaced by `0`,
    /// the next byte after `/`. No descendant path reaches it, and no outside path falls below it.
    pub fn upper_bound(&self) -> String {
        let mut upper = self.0.clone();
        upper.pop();
        upper.push('0');
        upper
    }
}

impl fmt::Display for UnitPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_accept_division_codes_and_refuse_others() {
        assert_eq!(
            UnitCode::parse(" 150105 ").map(|c| c.0),
            Ok("150105".into())
        );
        assert_eq!(
            UnitCode::parse("15 01").map(|c| c.0),
            Err(Invalid::new(Field::UnitCode, Reason::UnitCodeFormat))
        );
        assert_eq!(
            UnitCode::parse("").map(|c| c.0),
            Err(Invalid::new(Field::UnitCode, Reason::Required))
        );
    }

    #[test]
    fn names_are_trimmed_and_limited_to_100_characters() {
        assert_eq!(
            UnitName::parse(" 赛罕区 ").map(|n| n.0),
            Ok("赛罕区".into())
        );
        let long: String = "村".repeat(101);
        assert_eq!(
            UnitName::parse(&long).map(|n| n.0),
            Err(Invalid::new(Field::UnitName, Reason::TooLong { max: 100 }))
        );
        assert!(UnitName::parse(&"村".repeat(100)).is_ok());
    }

    #[test]
    fn subtree_range_contains_descendants_only() {
        let p = UnitPath::root(1).child(5);
        let upper = p.upper_bound();
        let inside = ["/1/5/", "/1/5/7/", "/1/5/99/1234/"];
        let outside = ["/1/50/", "/1/51/", "/1/4/", "/1/", "/2/5/", "/1/6/"];
        for path in inside {
            assert!(path >= p.as_str() && path < upper.as_str(), "{path}");
            assert!(p.contains(&UnitPath::from_stored(path.into())));
        }
        for path in outside {
            assert!(!(path >= p.as_str() && path < upper.as_str()), "{path}");
            assert!(!p.contains(&UnitPath::from_stored(path.into())));
        }
    }

    #[test]
    fn ids_follow_the_path() {
        assert_eq!(UnitPath::root(1).child(5).child(9).ids(), vec![1, 5, 9]);
    }
}
