//! The readers never panic, whatever the bytes: a corpus of awkward files and thousands of
//! seeded random mutations of valid CSV and XLSX files, each read under the default limits.
//! (A fuzzer would search further; this runs on the stable toolchain, in bounded time, in CI.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tongxin_tabular::{Format, Limits, read};

fn valid_csv() -> Vec<u8> {
    "姓名,性别,出生日期,身份证号,手机号,单位代码,界别\n\
     张伟,男,1980/1/1,11010519491231002X,13812345678,150105,民主党派\n\
     \"李,娜\",女,1990-05-06,,,150105001,\"工商联与商会;民主党派\"\n"
        .as_bytes()
        .to_vec()
}

fn valid_xlsx() -> Vec<u8> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["姓名", "出生日期", "单位代码"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    for row in 1..20u32 {
        sheet.write_string(row, 0, "巴特尔").unwrap();
        sheet
            .write_number(row, 1, 31_000.0 + f64::from(row))
            .unwrap();
        sheet.write_number(row, 2, 150105.0).unwrap();
    }
    workbook.save_to_buffer().unwrap()
}

/// Reads `bytes` both ways; a panic, or a table whose rows are wider than its header or out of
/// line order, fails the test with the input's description.
fn survives(bytes: &[u8], what: &str) {
    for format in [Format::Csv, Format::Xlsx] {
        let result = std::panic::catch_unwind(|| read(bytes, format, &Limits::default()));
        assert!(result.is_ok(), "{what} ({format:?}) panicked");
        if let (Ok(Ok(table)), Format::Csv) = (result, format) {
            let width = table.headers.len();
            assert!(
                table.rows.iter().all(|r| r.cells.len() == width),
                "{what}: width"
            );
            assert!(
                table.rows.windows(2).all(|w| w[0].line < w[1].line),
                "{what}: line numbers"
            );
        }
    }
}

#[test]
fn awkward_files_are_refused_or_read_without_panicking() {
    let (gbk, _, _) = encoding_rs::GB18030.encode("姓名,单位代码\n张伟,150105\n");
    let corpus: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("BOM only", vec![0xEF, 0xBB, 0xBF]),
        ("UTF-16 BOM with an odd byte", vec![0xFF, 0xFE, 0x41]),
        ("NUL bytes", vec![0; 64]),
        ("unbalanced quote", b"a,b\n\"c,d\n".to_vec()),
        ("CR only line ends", b"a,b\r1,2\r".to_vec()),
        (
            "one huge cell",
            [b"a\n".as_slice(), &vec![b'x'; 2_000_000]].concat(),
        ),
        ("zip magic only", b"PK\x03\x04".to_vec()),
        ("GBK", gbk.into_owned()),
        ("truncated workbook", valid_xlsx()[..300].to_vec()),
    ];
    for (what, bytes) in corpus {
        survives(&bytes, what);
    }
}

#[test]
fn random_mutations_of_valid_files_never_panic() {
    let mut rng = ChaCha8Rng::seed_from_u64(20261130);
    let seeds = [valid_csv(), valid_xlsx()];
    for round in 0..1500 {
        let mut bytes = seeds[round % 2].clone();
        for _ in 0..rng.random_range(1..8) {
            if bytes.is_empty() {
                break;
            }
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..4) {
                0 => bytes[at] ^= 1 << rng.random_range(0..8),
                1 => bytes[at] = rng.random(),
                2 => bytes.truncate(at),
                _ => bytes.insert(at, rng.random()),
            }
        }
        survives(&bytes, &format!("mutation round {round}"));
    }
}
