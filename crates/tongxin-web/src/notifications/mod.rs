//! The inbox: each account's notifications as a page (`/notifications`) and as JSON
//! (`/api/v1/me/notifications`), and how a notification is written in the reader's language.

pub mod api;
pub mod pages;

use tongxin_i18n::{Catalog, Lang};
use tongxin_store::NotificationView;

/// What a notification says: `notice.<kind>` (for an import, `notice.import_<outcome>`)
/// filled from its values, and how many events it stands for when more than one.
pub fn notice_text(catalog: &Catalog, lang: Lang, notice: &NotificationView) -> String {
    let params: Vec<(String, String)> = notice
        .params
        .as_object()
        .map(|object| {
            object
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (key.clone(), text)
                })
                .collect()
        })
        .unwrap_or_default();
    let outcome = params
        .iter()
        .find(|(key, _)| key == "outcome")
        .map(|(_, value)| value.as_str());
    let key = match outcome {
        Some(outcome) => format!("notice.import_{outcome}"),
        None => format!("notice.{}", notice.kind.replace('.', "_")),
    };
    let pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let mut text = catalog.format(lang, &key, &pairs);
    if notice.merged > 1 {
        text.push(' ');
        text.push_str(&catalog.format(lang, "notice.merged", &[("n", &notice.merged.to_string())]));
    }
    text
}
