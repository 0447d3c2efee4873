//! Any bytes read as an XLSX workbook, with small limits so that archives claiming to unpack
//! large are refused before they are inflated: a table or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tongxin_tabular::{Format, Limits, read};

fuzz_target!(|bytes: &[u8]| {
    let limits = Limits {
        max_bytes: 1024 * 1024,
        max_unpacked: 4 * 1024 * 1024,
    };
    let _ = read(bytes, Format::Xlsx, &limits);
});
