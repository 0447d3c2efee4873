//! Campaigns and their coverage.

pub(crate) mod api;
pub(crate) mod pages;
