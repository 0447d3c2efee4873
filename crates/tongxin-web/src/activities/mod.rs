//! Activities: planning, invitations, attendance, check-in, photos, the calendar.

pub(crate) mod api;
pub(crate) mod calendar_pages;
pub(crate) mod pages;
