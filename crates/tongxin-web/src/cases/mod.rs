//! The direct channel's pages and API: cases from submission to the submitter's rating.

pub(crate) mod api;
pub(crate) mod follow_up;
pub(crate) mod pages;
pub(crate) mod portal;
pub(crate) mod research;
pub(crate) mod settings;
pub(crate) mod statistics;

use tongxin_i18n::{Catalog, Lang};

/// The name of a workflow step: its translation, or the code for one an administrator added.
pub(crate) fn action_label(catalog: &Catalog, lang: Lang, action: &str) -> String {
    catalog
        .lookup(lang, &format!("case_action.{action}"))
        .map_or_else(|| action.to_owned(), str::to_owned)
}

/// The name of a workflow state, as [`action_label`].
pub(crate) fn state_label(catalog: &Catalog, lang: Lang, state: &str) -> String {
    catalog
        .lookup(lang, &format!("case_state.{state}"))
        .map_or_else(|| state.to_owned(), str::to_owned)
}
