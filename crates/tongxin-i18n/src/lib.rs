//! Translations: every user-facing string comes from `locales/*.toml`, embedded in the binary.
//!
//! Keys are dotted paths (`nav.units`); values may hold `{name}` placeholders. Chinese is the
//! default language; a missing English key falls back to Chinese and then to the key itself,
//! and a test keeps the two files' key sets identical.
//!
//! Its own crate because the command line speaks the same words as the pages without
//! depending on the web.

use std::collections::HashMap;

use tongxin_core::Invalid;

/// A language the product speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// The BCP 47 tag, used in `<html lang>`, the cookie and the switcher.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "zh-CN" | "zh" => Some(Lang::ZhCn),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The preferred language of an `Accept-Language` header: English only if it comes first.
    pub fn from_accept_language(header: &str) -> Lang {
        let first = header
            .split(',')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if first.starts_with("en") {
            Lang::En
        } else {
            Lang::ZhCn
        }
    }

    /// The translation key of the language's own name, for the switcher (the same in every
    /// language file: a language is offered in its own words).
    pub fn name_key(self) -> &'static str {
        match self {
            Lang::ZhCn => "language.zh_cn",
            Lang::En => "language.en",
        }
    }
}

const ZH_CN: &str = include_str!("../locales/zh-CN.toml");
const EN: &str = include_str!("../locales/en.toml");

/// All translations, loaded once at start-up.
#[derive(Debug)]
pub struct Catalog {
    zh: HashMap<String, String>,
    en: HashMap<String, String>,
}

impl Catalog {
    /// Parses the embedded translation files. They are compiled in and checked by tests, so a
    /// parse failure is a build defect; it is reported rather than panicking all the same.
    pub fn load() -> Result<Catalog, String> {
        Ok(Catalog {
            zh: flatten(ZH_CN).map_err(|e| format!("locales/zh-CN.toml: {e}"))?,
            en: flatten(EN).map_err(|e| format!("locales/en.toml: {e}"))?,
        })
    }

    /// The text for `key` in `lang`. A missing key (which the tests rule out for static keys)
    /// is logged and shows as nothing rather than as a raw key.
    pub fn get(&self, lang: Lang, key: &str) -> &str {
        self.lookup(lang, key).unwrap_or_else(|| {
            tracing::warn!(key, "missing translation");
            ""
        })
    }

    /// The text for `key`, if the catalog has it.
    pub fn lookup(&self, lang: Lang, key: &str) -> Option<&str> {
        let primary = match lang {
            Lang::ZhCn => &self.zh,
            Lang::En => &self.en,
        };
        primary
            .get(key)
            .or_else(|| self.zh.get(key))
            .map(String::as_str)
    }

    /// The text for `key` with each `{name}` replaced by its value.
    pub fn format(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        let mut text = self.get(lang, key).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

/// "名称不能超过 100 个字符。" — a refused value as a sentence naming the field.
pub fn invalid_message(catalog: &Catalog, lang: Lang, invalid: &Invalid) -> String {
    // A field named at run time is quoted as named; catalogue labels are capitalised for
    // forms and read in lower case inside an English sentence.
    let field = match (&invalid.label, lang) {
        (Some(label), Lang::ZhCn) => format!("「{label}」"),
        (Some(label), Lang::En) => format!("“{label}”"),
        (None, Lang::En) => catalog
            .get(lang, &format!("field.{}", invalid.field.key()))
            .to_lowercase(),
        (None, Lang::ZhCn) => catalog
            .get(lang, &format!("field.{}", invalid.field.key()))
            .to_owned(),
    };
    let n = invalid
        .reason
        .count()
        .map(|n| n.to_string())
        .unwrap_or_default();
    let ids = invalid
        .reason
        .ids()
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(catalog.get(lang, "common.list_separator"));
    catalog.format(
        lang,
        &format!("invalid.{}", invalid.reason.key()),
        &[
            ("field", &field),
            ("n", &n),
            ("ids", &ids),
            ("detail", invalid.reason.detail()),
        ],
    )
}

fn flatten(source: &str) -> Result<HashMap<String, String>, toml::de::Error> {
    fn walk(prefix: &str, table: &toml::Table, out: &mut HashMap<String, String>) {
        for (key, value) in table {
            let full = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(inner) => walk(&full, inner, out),
                toml::Value::String(text) => {
                    out.insert(full, text.clone());
                }
                // Only strings are translations; anything else is left out and caught by the
                // test that compares the two files' keys.
                _ => {}
            }
        }
    }
    let table: toml::Table = toml::from_str(source)?;
    let mut out = HashMap::new();
    walk("", &table, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn keys(map: &HashMap<String, String>) -> BTreeSet<&str> {
        map.keys().map(String::as_str).collect()
    }

    /// The templates and code of the given crates of the workspace, file by file.
    fn sources(crates: &[&str]) -> Vec<(std::path::PathBuf, String)> {
        fn collect(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
            for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{dir:?}: {e}")) {
                let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
                if path.is_dir() {
                    collect(&path, out);
                } else {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    out.push((path, text));
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut out = Vec::new();
        for krate in crates {
            for dir in ["templates", "src"] {
                let dir = root.join(krate).join(dir);
                if dir.is_dir() {
                    collect(&dir, &mut out);
                }
            }
        }
        out
    }

    /// The audit page names every action the store records in words (`action.*`), never by
    /// its code.
    #[test]
    fn every_audit_action_has_words() {
        let catalog = Catalog::load().unwrap_or_else(|e| panic!("{e}"));
        let mut missing = Vec::new();
        for (file, text) in sources(&["tongxin-store"]) {
            for piece in text.split("Event::new(\"").skip(1) {
                let Some(action) = piece.split('"').next() else {
                    continue;
                };
                let key = format!("action.{}", action.replace('.', "_"));
                for (lang, words) in [("zh-CN", &catalog.zh), ("en", &catalog.en)] {
                    if !words.contains_key(&key) {
                        missing.push(format!("{}: {key} ({lang})", file.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "actions without words: {missing:#?}");
    }

    #[test]
    fn both_languages_have_the_same_keys() {
        let catalog = Catalog::load().unwrap_or_else(|e| panic!("{e}"));
        let zh = keys(&catalog.zh);
        let en = keys(&catalog.en);
        let only_zh: Vec<_> = zh.difference(&en).collect();
        let only_en: Vec<_> = en.difference(&zh).collect();
        assert!(only_zh.is_empty(), "missing in en.toml: {only_zh:?}");
        assert!(only_en.is_empty(), "missing in zh-CN.toml: {only_en:?}");
    }

    /// Every `t("…")`-style key used in the templates and code of the crates that show words
    /// exists in the catalog.
    #[test]
    fn every_key_used_exists() {
        let catalog = Catalog::load().unwrap_or_else(|e| panic!("{e}"));
        // The code and templates of every crate that shows words (the store's audit actions
        // look like keys but are not shown through the catalogue).
        let sources = sources(&["tongxin-web", "tongxin-exchange", "tongxin"]);
        let mut missing = Vec::new();
        for (file, text) in &sources {
            for marker in ["t(\"", "tn(\"", "tf(\"", "key: \""] {
                for piece in text.split(marker).skip(1) {
                    let Some(key) = piece.split('"').next() else {
                        continue;
                    };
                    let looks_like_key = key.contains('.')
                        && !key.ends_with('.')
                        && key.starts_with(|c: char| c.is_ascii_lowercase())
                        && key.chars().all(|c| {
                            c.is_ascii_lowercase() || c.is_ascii_digit() || "._".contains(c)
                        });
                    if !looks_like_key {
                        continue;
                    }
                    if !catalog.zh.contains_key(key) {
                        missing.push(format!("{}: {key}", file.display()));
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys missing from the catalog: {missing:#?}"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let catalog = Catalog::load().unwrap_or_else(|e| panic!("{e}"));
        let text = catalog.format(
            Lang::En,
            "invalid.too_long",
            &[("field", "Name"), ("n", "100")],
        );
        assert!(text.contains("Name") && text.contains("100"), "{text}");
    }

    #[test]
    fn accept_language_prefers_chinese_unless_english_comes_first() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9"), Lang::En);
        assert_eq!(Lang::from_accept_language("zh-CN,en;q=0.8"), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(""), Lang::ZhCn);
    }
}
