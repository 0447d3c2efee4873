//! The directory: people, organizations, sectors, members' proposals, and the directory
//! file (import, export, templates).

pub(crate) mod api;
pub mod file;
pub(crate) mod import_jobs;
pub(crate) mod pages;
