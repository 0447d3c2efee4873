//! Accounts and sessions: signing in, tokens, passwords, account administration.

pub(crate) mod api;
pub(crate) mod auth_api;
pub(crate) mod auth_pages;
pub(crate) mod pages;
pub(crate) mod second_factor;
pub(crate) mod throttle;
