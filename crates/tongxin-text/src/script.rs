//! Simplified and Traditional Chinese: OpenCC's dictionaries (through `ferrous-opencc`), built
//! once per process on first use.

use std::sync::OnceLock;

use ferrous_opencc::OpenCC;
use ferrous_opencc::config::BuiltinConfig;

/// A written form of Chinese.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Script {
    Simplified,
    Traditional,
}

impl Script {
    /// `zh-Hans` / `zh-Hant`, or the short `s` / `t`.
    pub fn parse(key: &str) -> Option<Script> {
        match key {
            "zh-Hans" | "s" | "simplified" => Some(Script::Simplified),
            "zh-Hant" | "t" | "traditional" => Some(Script::Traditional),
            _ => None,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            Script::Simplified => "zh-Hans",
            Script::Traditional => "zh-Hant",
        }
    }
}

fn converter(
    cell: &'static OnceLock<Option<OpenCC>>,
    config: BuiltinConfig,
) -> Option<&'static OpenCC> {
    cell.get_or_init(|| OpenCC::from_config(config).ok())
        .as_ref()
}

/// `text` written in `script`. Traditional text is read with Taiwan's variants too (`著` for
/// `着`), as web converters write them; Simplified text becomes OpenCC's standard Traditional.
/// The dictionaries are compiled into the binary, so a failure to
/// load them is a build defect; the text is then returned as it is rather than lost.
pub fn to_script(text: &str, script: Script) -> String {
    static TO_SIMPLIFIED: OnceLock<Option<OpenCC>> = OnceLock::new();
    static TO_TRADITIONAL: OnceLock<Option<OpenCC>> = OnceLock::new();
    let converter = match script {
        Script::Simplified => converter(&TO_SIMPLIFIED, BuiltinConfig::Tw2s),
        Script::Traditional => converter(&TO_TRADITIONAL, BuiltinConfig::S2t),
    };
    match converter {
        Some(c) => c.convert(text),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        assert_eq!(
            to_script("統一戰線工作", Script::Simplified),
            "统一战线工作"
        );
        assert_eq!(
            to_script("沿著方向著力", Script::Simplified),
            "沿着方向着力"
        );
        assert_eq!(
            to_script("统一战线工作", Script::Traditional),
            "統一戰線工作"
        );
    }
}
