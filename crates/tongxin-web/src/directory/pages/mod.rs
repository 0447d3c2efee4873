//! The directory's pages.

pub(crate) mod batch;
pub(crate) mod export;
pub(crate) mod organizations;
pub(crate) mod people;
pub(crate) mod proposals;
pub(crate) mod sectors;
