//! The audit log's page.

pub(crate) mod pages;
