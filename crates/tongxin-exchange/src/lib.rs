//! Files in and out of the directory: importing a directory file, exporting people, and the
//! templates to fill in. The web's pages and API and the `tongxin import` / `tongxin export`
//! commands both work through this crate, so neither depends on the other.

mod export;
mod import;
mod template;

pub use export::{export_cells, export_header, write_csv, write_xlsx};
pub use import::{ImportProgress, ImportRequest, Problem, Report, import_people};
pub use template::{sector_field_header, template_csv, template_header, template_xlsx};

use tongxin_store::StoreError;

/// Why a file could not be read or written. Problems in a file's contents are not errors:
/// they are the [`Report`]'s.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("writing the workbook failed")]
    Workbook(#[from] rust_xlsxwriter::XlsxError),
    #[error("the workbook writer stopped")]
    Stopped(#[from] tokio::task::JoinError),
}
