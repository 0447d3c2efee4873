//! Repairs the damage Simplified-to-Traditional web converters do to Chinese text:
//!
//! - a character followed by its pinyin in parentheses (`統(tǒng)`): the pinyin is dropped;
//! - the full-width comma turned into two ASCII commas (`格局,,堅持`): one `，` again;
//! - an ASCII comma pushed in front of `、` or `。` (`謀劃,、開展`): the comma is dropped;
//! - a lone ASCII comma between Chinese clauses: the full-width `，` it stood for.
//!
//! Parentheses that hold anything but pinyin (`(作者系…)`) are real text and stay. Characters the
//! converter lost (a `?` or `�` amid Chinese text) cannot be recovered; they are reported as
//! suspect spans for a person to read.

/// Repaired text and how many repairs were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    pub text: String,
    pub repairs: usize,
    /// Short excerpts around characters that were lost before the text reached us.
    pub suspects: Vec<String>,
}

/// At most this many suspect spans are reported.
const MAX_SUSPECTS: usize = 20;

/// Punctuation before which a converter's stray ASCII comma is dropped.
const CLOSING_PUNCTUATION: [char; 6] = ['、', '。', '；', '：', '！', '？'];

/// Repairs converter damage; text without it comes back unchanged with zero repairs.
pub fn repair_converted(text: &str) -> Repaired {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut repairs = 0;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if is_open_paren(c)
            && i > 0
            && crate::is_han(chars[i - 1])
            && let Some(len) = pinyin_annotation(&chars[i..])
        {
            repairs += 1;
            i += len;
            continue;
        }
        if c == ',' {
            let next = chars.get(i + 1).copied();
            if next == Some(',') {
                out.push('，');
                repairs += 1;
                i += 2;
                continue;
            }
            if next.is_some_and(|n| CLOSING_PUNCTUATION.contains(&n)) {
                repairs += 1;
                i += 1;
                continue;
            }
            let after_text = i > 0 && ends_clause(chars[i - 1]);
            if after_text && next.is_some_and(starts_clause) {
                out.push('，');
                repairs += 1;
                i += 1;
                continue;
            }
        }
        out.push(c);
        i += 1;
    }
    let suspects = suspect_spans(&out);
    Repaired {
        text: out,
        repairs,
        suspects,
    }
}

/// Excerpts around `?` or U+FFFD next to a Chinese character: where a converter or a wrong
/// encoding lost a character.
fn suspect_spans(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < chars.len() && spans.len() < MAX_SUSPECTS {
        let lost = matches!(chars[i], '?' | '\u{fffd}');
        let amid_han = (i > 0 && crate::is_han(chars[i - 1]))
            || chars.get(i + 1).is_some_and(|&c| crate::is_han(c));
        if lost && amid_han {
            let from = i.saturating_sub(6);
            let to = (i + 8).min(chars.len());
            spans.push(chars[from..to].iter().collect());
            i = to;
        } else {
            i += 1;
        }
    }
    spans
}

/// A Chinese character or the closing quote or bracket of Chinese text.
fn ends_clause(c: char) -> bool {
    crate::is_han(c) || "”’」』）》".contains(c)
}

/// A Chinese character or the opening quote or bracket of Chinese text.
fn starts_clause(c: char) -> bool {
    crate::is_han(c) || "“‘「『（《".contains(c)
}

fn is_open_paren(c: char) -> bool {
    c == '(' || c == '（'
}

fn is_close_paren(c: char) -> bool {
    c == ')' || c == '）'
}

/// Vowels with tone marks, as converters write pinyin readings.
const TONED_VOWELS: &str = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü";

/// The length (in chars, parentheses included) of a pinyin reading such as `(tǒng)` at the
/// start of `chars`, if that is what is there. A reading is one syllable of lowercase letters,
/// at most six long, carrying a tone mark unless it is at least two letters of plain ASCII.
fn pinyin_annotation(chars: &[char]) -> Option<usize> {
    let close = chars.iter().take(9).position(|&c| is_close_paren(c))?;
    let inner = &chars[1..close];
    if inner.is_empty() || inner.len() > 6 {
        return None;
    }
    let letters = inner
        .iter()
        .all(|&c| c.is_ascii_lowercase() || TONED_VOWELS.contains(c));
    let toned = inner.iter().any(|&c| TONED_VOWELS.contains(c));
    let has_vowel = inner
        .iter()
        .any(|&c| "aeiouv".contains(c) || TONED_VOWELS.contains(c));
    (letters && has_vowel && (toned || inner.len() >= 2)).then_some(close + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinyin_after_a_character_is_dropped() {
        let r = repair_converted("統(tǒng)戰(zhàn)工作");
        assert_eq!(r.text, "統戰工作");
        assert_eq!(r.repairs, 2);
    }

    #[test]
    fn commas_are_mended() {
        let r = repair_converted("格局,,堅持謀劃,、開展遵循,。組織,周密“維護”,以");
        assert_eq!(r.text, "格局，堅持謀劃、開展遵循。組織，周密“維護”，以");
        assert_eq!(r.repairs, 5);
    }

    #[test]
    fn lost_characters_are_reported_not_guessed() {
        let r = repair_converted("敢擔當?shù)慕y(tǒng)戰干部隊伍。Is it? Yes.");
        assert_eq!(r.suspects, vec!["敢擔當?shù)慕y("]);
    }

    #[test]
    fn real_parentheses_and_latin_text_stay() {
        for text in [
            "(作者系市委常委)",
            "鄉鎮(街道)",
            "GDP(國內生產總值)",
            "see (a, b), then c",
            "附件(一)",
            "2023(2)",
        ] {
            let r = repair_converted(text);
            assert_eq!(r.text, text);
            assert_eq!(r.repairs, 0);
            assert!(r.suspects.is_empty());
        }
    }
}
