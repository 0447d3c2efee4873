//! The inbox: each account's notifications as a page (`/notifications`) and as JSON
//! (`/api/v1/me/notifications`), and how a notification is written in the reader's language.

pub mod api;
pub mod pages;
pub mod settings;

pub use tongxin_jobs::notice_text;
