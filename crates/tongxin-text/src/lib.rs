//! Chinese text: the keys that let people find a name by pinyin or initials, sort by pinyin,
//! and match any two or more consecutive characters.
//!
//! Also: Simplified/Traditional conversion, repair of text mangled by converters, and the text
//! of uploaded documents.
//!
//! What lives here: pure functions over strings and bytes (including detecting the encoding of
//! files saved by Chinese Excel). What must not: I/O, databases, HTTP.

pub mod document;
pub mod encoding;
pub mod repair;
pub mod script;

use pinyin::ToPinyin;

/// Surnames whose reading as a surname differs from the character's most common reading.
/// Only the first character of a name is read this way.
const SURNAME_READINGS: [(char, &str); 14] = [
    ('单', "shan"),
    ('曾', "zeng"),
    ('解', "xie"),
    ('仇', "qiu"),
    ('朴', "piao"),
    ('区', "ou"),
    ('查', "zha"),
    ('乐', "yue"),
    ('盖', "ge"),
    ('缪', "miao"),
    ('翟', "zhai"),
    ('覃', "qin"),
    ('尉', "yu"),
    ('种', "chong"),
];

/// The pinyin keys of a name: full pinyin without tones or spaces (`zhangwei`) and initials
/// (`zw`), which a search matches as prefixes, and the key the directory sorts by.
/// Characters without a reading (Latin letters, digits) are kept, lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinyinKeys {
    pub full: String,
    pub initials: String,
    /// Compared bytewise, orders names syllable by syllable: 巴 (ba) before 白 (bai) whatever
    /// follows, where the run-together `full` would put 白鹤 (baihe) before 巴雅 (baya).
    /// Syllables are joined by [`SYLLABLE_BREAK`] and the name follows after
    /// [`SYLLABLE_END`], so names read alike sort together by character.
    pub sort: String,
}

/// Between two syllables of a sort key: below every letter and digit, so a syllable that is
/// a prefix of another (ba, bai) sorts first.
const SYLLABLE_BREAK: char = '-';
/// After a sort key's last syllable: below the break, so a name that is a prefix of another
/// in pinyin (巴, 巴白) sorts first.
const SYLLABLE_END: char = ' ';

pub fn pinyin_keys(name: &str) -> PinyinKeys {
    let mut full = String::with_capacity(name.len() * 2);
    let mut initials = String::new();
    let mut sort = String::with_capacity(name.len() * 3);
    for (i, (c, reading)) in name.chars().zip(name.to_pinyin()).enumerate() {
        let surname = (i == 0)
            .then(|| SURNAME_READINGS.iter().find(|(s, _)| *s == c))
            .flatten()
            .map(|(_, r)| *r);
        let lower;
        let syllable = match surname.or_else(|| reading.map(|p| p.plain())) {
            Some(syllable) => syllable,
            None if c.is_alphanumeric() => {
                lower = c.to_lowercase().collect::<String>();
                &lower
            }
            None => continue,
        };
        full.push_str(syllable);
        initials.extend(syllable.chars().next());
        if !sort.is_empty() {
            sort.push(SYLLABLE_BREAK);
        }
        sort.push_str(syllable);
    }
    sort.push(SYLLABLE_END);
    sort.push_str(name);
    PinyinKeys {
        full,
        initials,
        sort,
    }
}

/// Every pair of consecutive characters of `text` (ignoring spaces), once each: the index that
/// finds a name by any substring of two or more characters.
pub fn bigrams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut grams: Vec<String> = chars.windows(2).map(|w| w.iter().collect()).collect();
    grams.sort();
    grams.dedup();
    grams
}

/// What a search box query looks like, deciding which index answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QueryKind {
    /// Contains Chinese characters: a substring of a name.
    Hanzi(String),
    /// Exactly four digits: the end of a phone number.
    PhoneTail(String),
    /// ASCII letters: full pinyin or initials, matched as a prefix.
    Pinyin(String),
    /// Anything else: a plain substring.
    Other(String),
}

/// Trims, drops inner spaces and classifies a search query.
pub fn classify_query(raw: &str) -> QueryKind {
    let q: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if q.chars().any(is_han) {
        QueryKind::Hanzi(q)
    } else if q.len() == 4 && q.chars().all(|c| c.is_ascii_digit()) {
        QueryKind::PhoneTail(q)
    } else if !q.is_empty() && q.chars().all(|c| c.is_ascii_alphabetic()) {
        QueryKind::Pinyin(q.to_ascii_lowercase())
    } else {
        QueryKind::Other(q)
    }
}

/// Whether `c` is a CJK unified ideograph (the basic block and extension A).
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_full_pinyin_and_initials() {
        assert_eq!(
            pinyin_keys("张伟"),
            PinyinKeys {
                full: "zhangwei".into(),
                initials: "zw".into(),
                sort: "zhang-wei 张伟".into(),
            }
        );
        assert_eq!(pinyin_keys("乌兰其其格").initials, "wlqqg");
        assert_eq!(pinyin_keys("曾国藩").full, "zengguofan", "surname reading");
        assert_eq!(pinyin_keys("单田芳").full, "shantianfang");
        assert_eq!(pinyin_keys("李A").full, "lia");
    }

    #[test]
    fn names_sort_syllable_by_syllable() {
        let sorted = |mut names: Vec<&'static str>| {
            names.sort_by_key(|n| pinyin_keys(n).sort);
            names
        };
        // Run together, baihe < baya and duan < du…: each pair came out the wrong way round.
        assert_eq!(
            sorted(vec!["白鹤", "宝玉", "巴雅"]),
            ["巴雅", "白鹤", "宝玉"]
        );
        assert_eq!(sorted(vec!["段誉", "杜甫"]), ["杜甫", "段誉"]);
        assert_eq!(sorted(vec!["方芳", "范冰"]), ["范冰", "方芳"]);
        assert_eq!(
            sorted(vec!["巴白", "巴"]),
            ["巴", "巴白"],
            "a shorter name first"
        );
        assert_eq!(
            sorted(vec!["张伟", "章伟", "张伟"]),
            ["张伟", "张伟", "章伟"],
            "names read alike kept together by character"
        );
    }

    #[test]
    fn bigrams_cover_every_two_character_substring() {
        assert_eq!(bigrams("欧阳娜娜"), vec!["娜娜", "欧阳", "阳娜"]);
        assert!(bigrams("王").is_empty());
    }

    #[test]
    fn queries_are_classified() {
        assert_eq!(classify_query(" 张 伟 "), QueryKind::Hanzi("张伟".into()));
        assert_eq!(classify_query("5678"), QueryKind::PhoneTail("5678".into()));
        assert_eq!(
            classify_query("ZhangWei"),
            QueryKind::Pinyin("zhangwei".into())
        );
        assert_eq!(classify_query("150102"), QueryKind::Other("150102".into()));
    }
}
