//! Units: the tree, its pages and its API.

pub(crate) mod api;
pub(crate) mod pages;
