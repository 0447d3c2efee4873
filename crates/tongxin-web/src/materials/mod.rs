//! The study-material library.

pub(crate) mod api;
pub(crate) mod pages;
