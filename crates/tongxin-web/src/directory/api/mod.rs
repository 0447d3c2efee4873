//! The directory's API.

pub(crate) mod organizations;
pub(crate) mod people;
pub(crate) mod proposals;
pub(crate) mod sectors;
