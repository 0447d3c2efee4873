//! SeaORM entities, one per table. Only this crate sees them; other crates get plain views.

pub mod affiliation;
pub mod audit_entry;
pub mod audit_head;
pub mod name_gram;
pub mod organization;
pub mod person;
pub mod person_history;
pub mod person_proposal;
pub mod person_sector;
pub mod person_tag;
pub mod sector;
pub mod sector_field;
pub mod sensitive_field;
pub mod session;
pub mod unit;
pub mod user;
