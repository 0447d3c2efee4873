//! Tables from files: a header row and data rows of text cells, read from CSV (any encoding
//! Chinese Excel writes) or XLSX, with limits that stop oversized files and zip bombs before
//! they are unpacked.
//!
//! What lives here: turning bytes into rows. What must not: knowing what the columns mean.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use calamine::{Data, Reader, Xlsx};
use tongxin_text::document::{ArchiveError, check_unpacked_size};
use tongxin_text::encoding::{DecodeError, decode};

/// The kinds of file accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    /// The format named by a file name's extension.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".csv") || lower.ends_with(".txt") {
            Some(Format::Csv)
        } else if lower.ends_with(".xlsx") {
            Some(Format::Xlsx)
        } else {
            None
        }
    }

    /// `csv` or `xlsx`, as a stored job names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    /// The format [`Format::as_str`] named.
    pub fn parse(name: &str) -> Option<Format> {
        [Format::Csv, Format::Xlsx]
            .into_iter()
            .find(|f| f.as_str() == name)
    }

    /// The format of the bytes themselves: XLSX files are zip archives.
    pub fn sniff(bytes: &[u8]) -> Format {
        if bytes.starts_with(b"PK\x03\x04") {
            Format::Xlsx
        } else {
            Format::Csv
        }
    }
}

/// How much a file may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Largest total size of an XLSX archive's unpacked parts, in bytes.
    pub max_unpacked: u64,
    /// Rows and columns an XLSX sheet may use: a value beyond them refuses the sheet.
    pub max_rows: u32,
    pub max_columns: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 50 * 1024 * 1024,
            max_unpacked: 500 * 1024 * 1024,
            max_rows: 1_048_576,
            max_columns: 256,
        }
    }
}

/// A row of cells; `line` is its row number in the file as a user sees it (the header is 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
}

/// A header row and the rows below it (blank rows skipped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// Why a file could not be read as a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("the file is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
    #[error("the file is empty")]
    Empty,
    #[error("line {line}: the file mixes text encodings")]
    MixedEncodings { line: usize },
    #[error("line {line}: the text encoding could not be recognised")]
    Unreadable { line: usize },
    #[error("line {line}: {message}")]
    BrokenRow { line: usize, message: String },
    #[error("the workbook would unpack to over {limit} bytes (a zip bomb?)")]
    ZipBomb { limit: u64 },
    #[error(
        "cell {cell} lies beyond the {max_rows} rows and {max_columns} columns a sheet may use"
    )]
    SheetTooLarge {
        cell: String,
        max_rows: u32,
        max_columns: u32,
    },
    #[error("not a readable XLSX workbook: {0}")]
    BadWorkbook(String),
}

/// Reads a whole table in `format` from `bytes`. For large files prefer [`open`], which
/// yields the rows one at a time.
pub fn read(bytes: &[u8], format: Format, limits: &Limits) -> Result<Table, TableError> {
    let mut sheet = open(bytes, format, limits)?;
    let rows = sheet.by_ref().collect::<Result<Vec<Row>, TableError>>()?;
    Ok(Table {
        headers: sheet.headers,
        rows,
    })
}

/// A table being read: its header, then its rows on demand (blank rows skipped). A CSV file's
/// rows are parsed as they are asked for, so memory does not grow with the file.
pub struct Sheet<'a> {
    pub headers: Vec<String>,
    rows: RowSource<'a>,
}

enum RowSource<'a> {
    Csv(CsvRows<'a>),
    Listed(std::vec::IntoIter<Row>),
}

impl Iterator for Sheet<'_> {
    type Item = Result<Row, TableError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let row = match &mut self.rows {
                RowSource::Csv(rows) => rows.next()?,
                RowSource::Listed(rows) => Ok(rows.next()?),
            };
            match row {
                Ok(row) if row.cells.iter().all(|c| c.trim().is_empty()) => continue,
                other => return Some(other),
            }
        }
    }
}

/// Opens a table in `format` from `bytes`: checks the limits, detects the encoding and reads
/// the header row.
pub fn open<'a>(bytes: &'a [u8], format: Format, limits: &Limits) -> Result<Sheet<'a>, TableError> {
    if bytes.len() > limits.max_bytes {
        return Err(TableError::TooLarge {
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(TableError::Empty);
    }
    let rows = match format {
        Format::Csv => RowSource::Csv(CsvRows::new(bytes)?),
        Format::Xlsx => RowSource::Listed(read_xlsx(bytes, limits)?.into_iter()),
    };
    let mut sheet = Sheet {
        headers: Vec::new(),
        rows,
    };
    let header = sheet.next().ok_or(TableError::Empty)??;
    sheet.headers = header
        .cells
        .into_iter()
        .map(|h| h.trim().to_owned())
        .collect();
    Ok(sheet)
}

/// The records of a decoded CSV text, with the line each starts on.
struct CsvRows<'a> {
    reader: csv::Reader<Cursor<Cow<'a, [u8]>>>,
    record: csv::StringRecord,
    /// Newlines counted up to `counted_to` (a byte offset), so each line number costs only
    /// the bytes since the previous record.
    counted_to: usize,
    line: usize,
}

impl<'a> CsvRows<'a> {
    fn new(bytes: &'a [u8]) -> Result<CsvRows<'a>, TableError> {
        let (text, _) = decode(bytes).map_err(|e| match e {
            DecodeError::MixedEncodings { line } => TableError::MixedEncodings { line },
            DecodeError::Unreadable { line } => TableError::Unreadable { line },
        })?;
        let text: Cow<'a, [u8]> = match text {
            Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
            Cow::Owned(text) => Cow::Owned(text.into_bytes()),
        };
        Ok(CsvRows {
            reader: csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(false)
                .from_reader(Cursor::new(text)),
            record: csv::StringRecord::new(),
            counted_to: 0,
            line: 1,
        })
    }

    /// The line of the record starting at byte `offset` (records only move forward).
    fn line_at(&mut self, position: Option<&csv::Position>) -> usize {
        let text: &[u8] = self.reader.get_ref().get_ref();
        let mut offset = position
            .map(|p| usize::try_from(p.byte()).unwrap_or(0))
            .unwrap_or(0)
            .min(text.len());
        // A record's position can include the blank lines skipped before it.
        while matches!(text.get(offset), Some(b'\n' | b'\r')) {
            offset += 1;
        }
        if offset > self.counted_to {
            self.line += line_breaks(&text[self.counted_to..offset]);
            self.counted_to = offset;
        }
        self.line
    }
}

/// Line breaks in `bytes` as the CSV reader sees them: `\n`, `\r\n`, or a lone `\r`.
fn line_breaks(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|(i, b)| **b == b'\n' || (**b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
        .count()
}

impl Iterator for CsvRows<'_> {
    type Item = Result<Row, TableError>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut record = std::mem::take(&mut self.record);
        let read = self.reader.read_record(&mut record);
        let item = match read {
            Ok(false) => None,
            Ok(true) => {
                let line = self.line_at(record.position());
                Some(Ok(Row {
                    line,
                    cells: record.iter().map(str::to_owned).collect(),
                }))
            }
            Err(e) => {
                let line = self.line_at(e.position());
                let message = match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} cells where the header has {expected_len}"),
                    other => format!("{other:?}"),
                };
                Some(Err(TableError::BrokenRow { line, message }))
            }
        };
        self.record = record;
        item
    }
}

/// Checks an XLSX archive's declared unpacked size before any part is inflated.
fn check_archive(bytes: &[u8], limits: &Limits) -> Result<(), TableError> {
    check_unpacked_size(bytes, limits.max_unpacked).map_err(|e| match e {
        ArchiveError::Unreadable(why) => TableError::BadWorkbook(why),
        ArchiveError::TooLarge { limit } => TableError::ZipBomb { limit },
    })
}

/// Reads the first sheet cell by cell, keeping only the cells that hold something, so memory
/// follows what the file contains and not the rectangle it claims (a sheet with values in `A1`
/// and `XFD1048576` would otherwise be 17 billion cells). A value beyond the limits' rows or
/// columns refuses the sheet.
fn read_xlsx(bytes: &[u8], limits: &Limits) -> Result<Vec<Row>, TableError> {
    check_archive(bytes, limits)?;
    let bad = |e: calamine::XlsxError| TableError::BadWorkbook(e.to_string());
    let mut workbook: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes)).map_err(bad)?;
    let first = workbook
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| TableError::BadWorkbook("the workbook has no sheet".into()))?;
    let mut cells = workbook.worksheet_cells_reader(&first).map_err(bad)?;
    let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    while let Some(cell) = cells.next_cell().map_err(bad)? {
        let value = Data::from(cell.get_value().clone());
        if value == Data::Empty {
            continue;
        }
        let (row, column) = cell.get_position();
        if row >= limits.max_rows || column >= limits.max_columns {
            return Err(TableError::SheetTooLarge {
                cell: cell_name(row, column),
                max_rows: limits.max_rows,
                max_columns: limits.max_columns,
            });
        }
        rows.entry(row)
            .or_default()
            .push((column, cell_text(&value)));
    }
    Ok(rows
        .into_iter()
        .map(|(row, values)| {
            let width = values
                .iter()
                .map(|(c, _)| *c as usize + 1)
                .max()
                .unwrap_or(0);
            let mut cells = vec![String::new(); width];
            for (column, text) in values {
                if let Some(slot) = cells.get_mut(column as usize) {
                    *slot = text;
                }
            }
            Row {
                line: row as usize + 1,
                cells,
            }
        })
        .collect())
}

/// A cell's name as a spreadsheet shows it (`XFD1048576`), from its 0-based row and column.
fn cell_name(row: u32, column: u32) -> String {
    let mut letters = Vec::new();
    let mut n = column + 1;
    while n > 0 {
        let rest = (n - 1) % 26;
        letters.push(char::from(b'A' + rest as u8));
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect::<String>() + &(row + 1).to_string()
}

/// A cell as text: dates as `YYYY-MM-DD`, whole numbers without a decimal point (so long
/// numbers typed into Excel read back as typed, where Excel kept them). A number of 16 digits
/// or more was rounded by the spreadsheet (it keeps 15): it reads in scientific notation, as
/// the spreadsheet shows it, so that an ID number typed into a number cell is recognised as
/// one whose last digits are lost rather than mistaken for a typo.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.abs() >= 1e15 => format!("{f:E}"),
        Data::Float(f) if f.fract() == 0.0 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::DateTime(d) => d
            .as_datetime()
            .map(|t| t.date().format("%Y-%m-%d").to_string())
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

/// The byte-order mark that makes Excel read a CSV file as UTF-8.
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A cell made safe to open in a spreadsheet: text that starts like a formula (`=`, `+`, `-`,
/// `@`, tab or carriage return) is prefixed with `'` so it stays text.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// CSV lines for `rows` (each cell neutralised), to append to a file or a response.
pub fn csv_lines(rows: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing into memory cannot fail.
        let _ = writer.write_record(row.iter().map(|c| neutralise(c).into_owned()));
    }
    writer.into_inner().unwrap_or_default()
}

/// Reads at most `limit` bytes from `reader`, refusing larger input.
pub fn read_limited(reader: impl Read, limit: usize) -> Result<Vec<u8>, TableError> {
    let mut bytes = Vec::new();
    let read = reader
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| TableError::BadWorkbook(e.to_string()))?;
    if read > limit {
        return Err(TableError::TooLarge { size: read, limit });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_a_broken_row_names_the_line() {
        let text = "姓名,单位代码\n张伟,150105\n李娜\n";
        let err = read(text.as_bytes(), Format::Csv, &Limits::default());
        assert!(
            matches!(err, Err(TableError::BrokenRow { line: 3, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn csv_rows_keep_their_line_numbers() {
        let text = "姓名,单位代码\n\n张伟,150105\n";
        let table = read(text.as_bytes(), Format::Csv, &Limits::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.headers, vec!["姓名", "单位代码"]);
        assert_eq!(table.rows[0].line, 3);
    }

    #[test]
    fn line_numbers_follow_any_line_ending() {
        // A lone CR (old Mac files) ends a line too; found by fuzzing.
        for text in [
            "a,b\r1,2\r\r3,4\r",
            "a,b\r\n1,2\r\n\r\n3,4\r\n",
            "a,b\n1,2\n\n3,4",
        ] {
            let table = read(text.as_bytes(), Format::Csv, &Limits::default())
                .unwrap_or_else(|e| panic!("{e}"));
            let lines: Vec<usize> = table.rows.iter().map(|r| r.line).collect();
            assert_eq!(lines, vec![2, 4], "{text:?}");
        }
    }

    #[test]
    fn empty_and_oversized_files_are_refused() {
        assert_eq!(
            read(b"  \n", Format::Csv, &Limits::default()),
            Err(TableError::Empty)
        );
        let limits = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        assert!(matches!(
            read(b"a,b\n1,2\n", Format::Csv, &limits),
            Err(TableError::TooLarge { .. })
        ));
    }

    #[test]
    fn zip_bombs_are_refused_before_unpacking() {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer
            .start_file("xl/worksheets/sheet1.xml", options)
            .unwrap_or_else(|e| panic!("{e}"));
        writer
            .write_all(&vec![b' '; 4 * 1024 * 1024])
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = writer
            .finish()
            .unwrap_or_else(|e| panic!("{e}"))
            .into_inner();
        assert!(
            bytes.len() < 64 * 1024,
            "highly compressed: {}",
            bytes.len()
        );
        let limits = Limits {
            max_bytes: 1024 * 1024,
            max_unpacked: 1024 * 1024,
            ..Limits::default()
        };
        assert_eq!(
            read(&bytes, Format::Xlsx, &limits),
            Err(TableError::ZipBomb { limit: 1024 * 1024 })
        );
    }

    /// A 6 KB workbook with values in A1 and XFD1048576 claims 17 billion cells: it is refused by
    /// its far corner, without the rectangle ever being allocated.
    #[test]
    fn a_sheet_beyond_the_limits_is_refused_cell_by_cell() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write(0, 0, "姓名").unwrap_or_else(|e| panic!("{e}"));
        sheet
            .write(1_048_575, 16_383, "x")
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = book.save_to_buffer().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            read(&bytes, Format::Xlsx, &Limits::default()),
            Err(TableError::SheetTooLarge {
                cell: "XFD1048576".into(),
                max_rows: 1_048_576,
                max_columns: 256,
            })
        );
    }

    /// Far-apart values within the limits cost only themselves.
    #[test]
    fn sparse_sheets_keep_only_their_values() {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        for (column, header) in ["姓名", "单位代码"].iter().enumerate() {
            sheet
                .write(0, u16::try_from(column).unwrap_or(0), *header)
                .unwrap_or_else(|e| panic!("{e}"));
        }
        sheet
            .write(1, 1, "150102")
            .unwrap_or_else(|e| panic!("{e}"));
        sheet
            .write(999_999, 0, "张伟")
            .unwrap_or_else(|e| panic!("{e}"));
        let bytes = book.save_to_buffer().unwrap_or_else(|e| panic!("{e}"));
        let table =
            read(&bytes, Format::Xlsx, &Limits::default()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(table.headers, ["姓名", "单位代码"]);
        assert_eq!(
            table.rows,
            [
                Row {
                    line: 2,
                    cells: vec![String::new(), "150102".into()],
                },
                Row {
                    line: 1_000_000,
                    cells: vec!["张伟".into()],
                },
            ]
        );
    }

    #[test]
    fn cells_are_named_as_spreadsheets_name_them() {
        assert_eq!(cell_name(0, 0), "A1");
        assert_eq!(cell_name(9, 25), "Z10");
        assert_eq!(cell_name(0, 26), "AA1");
        assert_eq!(cell_name(1_048_575, 16_383), "XFD1048576");
    }

    #[test]
    fn exported_cells_cannot_become_formulas() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("-5"), "'-5");
        assert_eq!(neutralise("张伟"), "张伟");
        let lines = csv_lines(&[vec!["@SUM(A1)".into(), "a,b".into()]]);
        assert_eq!(String::from_utf8_lossy(&lines), "'@SUM(A1),\"a,b\"\n");
    }

    #[test]
    fn garbage_is_not_a_workbook() {
        let err = read(b"PK\x03\x04garbage", Format::Xlsx, &Limits::default());
        assert!(matches!(err, Err(TableError::BadWorkbook(_))), "{err:?}");
    }
}
