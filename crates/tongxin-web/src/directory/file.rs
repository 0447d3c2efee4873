//! The directory file over HTTP: exports streamed as downloads, import templates, and small
//! tables (an attendance list) as CSV or XLSX. Reading and writing the file itself is
//! `tongxin_exchange`'s, shared with the command line.

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tongxin_exchange::{export_cells, export_header, template_csv, template_xlsx, write_xlsx};
use tongxin_store::{Actor, Export, SensitiveField, Store};

use crate::error::AppError;

/// An export as a CSV download (UTF-8 with a BOM, Chinese headers), streamed a batch at a
/// time so its size does not matter.
pub fn csv_response(store: Store, export: Export) -> Response {
    let mut head = tongxin_tabular::UTF8_BOM.to_vec();
    head.extend(tongxin_tabular::csv_lines(&[export_header(&export)]));
    let batches = futures_util::stream::unfold(Some(export), move |export| {
        let store = store.clone();
        async move {
            let mut export = export?;
            match store.next_export_batch(&mut export).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let cells: Vec<Vec<String>> = rows.iter().map(export_cells).collect();
                    Some((Ok(tongxin_tabular::csv_lines(&cells)), Some(export)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "export failed part-way");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(batches);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.csv\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

/// An export as an XLSX download: written to a temporary file that is streamed back and
/// removed, so neither the rows nor the workbook are held in memory.
pub async fn xlsx_response(
    store: &Store,
    export: Export,
    tempdir: &std::path::Path,
) -> Result<Response, AppError> {
    let path = tempdir.join(format!(
        "tongxin-export-{}.xlsx",
        tongxin_store::random_hex()
    ));
    write_xlsx(store, export, tempdir, &path).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|e| AppError::internal("xlsx export", e));
    // Once open, the file needs no name: it goes when the download ends.
    let _ = std::fs::remove_file(&path);
    let body = futures_util::stream::unfold(file?, |mut file| async move {
        let mut chunk = vec![0; 64 * 1024];
        match tokio::io::AsyncReadExt::read(&mut file, &mut chunk).await {
            Ok(0) => None,
            Ok(n) => {
                chunk.truncate(n);
                Some((Ok::<_, std::io::Error>(chunk), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, XLSX_TYPE.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.xlsx\"".to_owned(),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// A download of `bytes` as `file_name` (ASCII) with its content type.
pub fn download(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{file_name}\"");
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// The content type of XLSX workbooks.
pub const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Which template to download.
#[derive(Debug, serde::Deserialize)]
pub struct TemplateQuery {
    /// A sector whose own fields get columns; none for the common columns only.
    pub sector: Option<i64>,
    /// `csv`, or `xlsx` (the default).
    #[serde(default)]
    pub format: String,
}

/// The template download shared by the page and the API; an unknown sector is a 404.
pub async fn template_response(
    state: &crate::AppState,
    actor: &Actor,
    query: &TemplateQuery,
) -> Result<Response, AppError> {
    let sectors = state.store.sectors(actor, false).await?;
    let sector = match query.sector {
        Some(id) => Some(
            sectors
                .iter()
                .find(|s| s.id == id)
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let enabled: Vec<SensitiveField> = state
        .store
        .enabled_sensitive_fields()
        .await?
        .into_iter()
        .map(|(field, _)| field)
        .collect();
    // The file is named by the sector's code, which is ASCII.
    let stem = sector.map_or_else(|| "people".to_owned(), |s| format!("people-{}", s.code));
    match query.format.as_str() {
        "csv" => Ok(download(
            template_csv(sector, &enabled),
            "text/csv; charset=utf-8",
            &format!("{stem}.csv"),
        )),
        "" | "xlsx" => Ok(download(
            template_xlsx(sector, &enabled)?,
            XLSX_TYPE,
            &format!("{stem}.xlsx"),
        )),
        other => Err(AppError::Malformed {
            code: "bad_query",
            detail: format!("format={other}"),
        }),
    }
}

/// Whether a table download asks for XLSX (`?format=xlsx`) rather than CSV (none, empty or
/// `csv`); any other format is a clear 400.
pub fn wants_xlsx(format: Option<&str>) -> Result<bool, AppError> {
    match format {
        None | Some("" | "csv") => Ok(false),
        Some("xlsx") => Ok(true),
        Some(other) => Err(AppError::Malformed {
            code: "bad_query",
            detail: format!("format={other}"),
        }),
    }
}

/// A small table (an attendance list) as CSV with a BOM or as an XLSX workbook, in memory.
pub fn table_download(
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    xlsx: bool,
    file_stem: &str,
) -> Result<Response, AppError> {
    if !xlsx {
        let mut lines = vec![header];
        lines.extend(rows);
        let mut bytes = tongxin_tabular::UTF8_BOM.to_vec();
        bytes.extend(tongxin_tabular::csv_lines(&lines));
        return Ok(download(
            bytes,
            "text/csv; charset=utf-8",
            &format!("{file_stem}.csv"),
        ));
    }
    let failed = |e: rust_xlsxwriter::XlsxError| AppError::internal("xlsx table", e);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in header.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, title, &bold)
            .map_err(failed)?;
        sheet.set_column_width(col, 16).map_err(failed)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (col, cell) in row.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet
                .write_string(r, col, tongxin_tabular::neutralise(cell))
                .map_err(failed)?;
        }
    }
    let bytes = workbook.save_to_buffer().map_err(failed)?;
    Ok(download(bytes, XLSX_TYPE, &format!("{file_stem}.xlsx")))
}
