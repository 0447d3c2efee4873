//! Writing the directory out: the same columns an import reads, masked wherever the
//! export's reader may not reveal, and safe to open in a spreadsheet.

use tongxin_core::PERSON_FIELDS;
use tongxin_store::{Export, ExportRow, Store};

use crate::ExchangeError;

/// The columns an export writes, in order (the data standard's first thirteen).
const EXPORT_COLUMNS: usize = 13;

/// The header row of an export, in Chinese (as the data standard names the columns), with
/// the sector's own fields when the export is of one sector.
pub fn export_header(export: &Export) -> Vec<String> {
    PERSON_FIELDS
        .iter()
        .take(EXPORT_COLUMNS)
        .map(|f| f.header_zh.to_owned())
        .chain(export.field_headers().map(str::to_owned))
        .collect()
}

/// One person as the cells of an export row, in [`export_header`] order.
pub fn export_cells(row: &ExportRow) -> Vec<String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        row.name.clone(),
        match row.gender {
            Some(tongxin_core::Gender::Male) => "男".to_owned(),
            Some(tongxin_core::Gender::Female) => "女".to_owned(),
            None => String::new(),
        },
        text(&row.birth_date),
        text(&row.id_number),
        text(&row.phone),
        row.unit_code.clone(),
        row.sectors.join("、"),
        text(&row.employer),
        text(&row.title),
        text(&row.political_affiliation),
        text(&row.education),
        row.tags.join("、"),
        text(&row.notes),
    ]
    .into_iter()
    .chain(row.field_values.iter().map(text))
    .collect()
}

/// Writes an export as CSV (UTF-8 with a BOM, so a spreadsheet opens it in Chinese), a batch at
/// a time.
pub async fn write_csv(
    store: &Store,
    mut export: Export,
    out: &mut impl std::io::Write,
) -> Result<(), ExchangeError> {
    out.write_all(tongxin_tabular::UTF8_BOM)?;
    out.write_all(&tongxin_tabular::csv_lines(&[export_header(&export)]))?;
    loop {
        let rows = store.next_export_batch(&mut export).await?;
        if rows.is_empty() {
            break;
        }
        let cells: Vec<Vec<String>> = rows.iter().map(export_cells).collect();
        out.write_all(&tongxin_tabular::csv_lines(&cells))?;
    }
    Ok(out.flush()?)
}

/// Writes an export as an XLSX workbook to `path`. Rows go to a constant-memory worksheet
/// (spilled to temporary files in `tempdir`), so a large export never sits in memory. Cells are
/// written as text, which a spreadsheet never evaluates.
pub async fn write_xlsx(
    store: &Store,
    mut export: Export,
    tempdir: &std::path::Path,
    path: &std::path::Path,
) -> Result<(), ExchangeError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.set_tempdir(tempdir)?;
    let sheet = workbook.add_worksheet_with_constant_memory()?;
    let mut row: u32 = 0;
    let mut write = |sheet: &mut rust_xlsxwriter::Worksheet, cells: &[String]| {
        for (col, cell) in cells.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet.write_string(row, col, cell)?;
        }
        row += 1;
        Ok::<(), ExchangeError>(())
    };
    write(sheet, &export_header(&export))?;
    loop {
        let rows = store.next_export_batch(&mut export).await?;
        if rows.is_empty() {
            break;
        }
        for person in &rows {
            write(sheet, &export_cells(person))?;
        }
    }
    let path = path.to_owned();
    // Compressing a large workbook takes a while: off the async threads. The file is readable
    // by its owner alone (it may hold ID numbers in clear) and goes if writing it fails.
    tokio::task::spawn_blocking(move || {
        let written = private_file(&path)
            .map_err(ExchangeError::from)
            .and_then(|mut file| {
                workbook
                    .save_to_writer(&mut file)
                    .map_err(ExchangeError::from)
            });
        if written.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        written
    })
    .await??;
    Ok(())
}

/// A new file (or an emptied one) that only its owner may read or write.
fn private_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}
