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
        Script::Traditional => converter(&TO_TRADITIONAL, BuiltinConfig::S2twp),
    };
    let Some(converter) = converter else {
        return text.to_owned();
    };
    if script == Script::Simplified {
        return converter.convert(text);
    }
    // OpenCC reads 明了 as one word (明瞭, "clear") even where 明 ends a verb and 了 is the
    // particle (指明了方向): a mark between them keeps them apart, then goes.
    let mut marked = text.to_owned();
    for verb in VERBS_ENDING_IN_MING {
        marked = marked.replace(&format!("{verb}了"), &format!("{verb}{APART}了"));
    }
    converter.convert(&marked).replace(APART, "")
}

/// A private-use character no text carries, which the dictionaries leave alone.
const APART: char = '\u{E000}';

/// Words ending in 明 after which 了 is the aspect particle, not the 了 of 明了 ("clear").
const VERBS_ENDING_IN_MING: [&str; 21] = [
    "指明", "表明", "说明", "证明", "查明", "阐明", "申明", "声明", "标明", "注明", "载明", "写明",
    "讲明", "点明", "言明", "探明", "辨明", "验明", "挑明", "问明", "分明",
];

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

    /// The characters one Simplified form stands for several Traditional ones: 了/瞭,
    /// 着/著, 后/後, 发/髮/發, 面/麵, 里/裡.
    #[test]
    fn one_simplified_character_many_traditional() {
        for (simplified, traditional) in [
            ("指明了方向", "指明了方向"),
            ("表明了态度", "表明了態度"),
            ("简单明了", "簡單明瞭"),
            ("沿着方向着力", "沿著方向著力"),
            ("以后再说", "以後再說"),
            ("皇后", "皇后"),
            ("头发和理发", "頭髮和理髮"),
            ("发展", "發展"),
            ("面条", "麵條"),
            ("里面", "裡面"),
        ] {
            assert_eq!(to_script(simplified, Script::Traditional), traditional);
        }
    }
}
