//! The audit log's page and its export.

pub(crate) mod export;
pub(crate) mod pages;
