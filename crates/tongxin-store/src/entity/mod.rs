//! SeaORM entities, one per table. Only this crate sees them; other crates get plain views.

pub mod audit_entry;
pub mod audit_head;
pub mod session;
pub mod unit;
pub mod user;
