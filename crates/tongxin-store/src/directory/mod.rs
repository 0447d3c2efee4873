//! The directory: people and their protected fields, organizations and posts, sectors and
//! their fields, members' proposed changes, and bulk import and export.

pub(crate) mod access_log;
pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod organizations;
pub(crate) mod people;
pub(crate) mod population;
pub(crate) mod probes;
pub(crate) mod proposals;
pub(crate) mod sectors;
