//! Any bytes read as a CSV directory file: a table or a clear error, never a panic, and every
//! row no wider than the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongxin_tabular::{Format, Limits, read};

fuzz_target!(|bytes: &[u8]| {
    if let Ok(table) = read(bytes, Format::Csv, &Limits::default()) {
        assert!(table.rows.iter().all(|r| r.cells.len() == table.headers.len()));
        assert!(table.rows.windows(2).all(|w| w[0].line < w[1].line));
    }
});
