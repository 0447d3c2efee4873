//! The directory file (DESIGN.md §4, "Directory import/export columns"). Importing: headers in
//! Chinese or English, any column order, every problem reported by line and column in the
//! user's language, all-or-nothing. Exporting: the same columns, masked where the user may not
//! reveal, safe to open in a spreadsheet.
//!
//! Shared by the API and the `tongxin import people` / `tongxin export people` commands.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tongxin_core::{Field, Invalid, PERSON_FIELDS, Reason, Timestamp, person_field};
use tongxin_store::{
    Actor, Export, ExportRow, PersonInput, SectorFieldView, SectorView, SensitiveField, Store,
    UnitQuery,
};
use tongxin_tabular::{Format, Limits, Row, TableError};

use crate::error::{AppError, invalid_message};
use crate::i18n::{Catalog, Lang};
use crate::input::{self, MembershipFields, PersonFields};

/// Columns a file must have.
const REQUIRED: [&str; 2] = ["person_name", "unit"];

/// One problem, located in the file.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Line in the file (the header is line 1); 0 for the file as a whole.
    pub line: usize,
    /// The column as headed in the file, if the problem is in one.
    pub column: String,
    pub code: &'static str,
    pub message: String,
    /// For a duplicate ID number: the person already on record, when visible.
    pub existing: Option<i64>,
}

/// What an import found and did.
#[derive(Debug, Clone)]
pub struct Report {
    pub rows: usize,
    pub problems: Vec<Problem>,
    /// Whether the rows were kept.
    pub committed: bool,
}

/// What to import, and how.
pub struct ImportRequest<'a> {
    pub bytes: &'a [u8],
    pub format: Format,
    pub limits: Limits,
    /// Check everything, keep nothing.
    pub dry_run: bool,
    /// The language of the report's messages.
    pub lang: Lang,
}

/// How far an import has got, for a progress display: rows read from the file so far.
#[derive(Debug, Default)]
pub struct ImportProgress {
    rows: AtomicUsize,
}

impl ImportProgress {
    pub fn rows(&self) -> usize {
        self.rows.load(Ordering::Relaxed)
    }
}

/// Files from this size (some 30,000 rows) rebuild the directory's indexes once at the end
/// rather than row by row.
const LARGE_IMPORT_BYTES: usize = 4 * 1024 * 1024;

/// Rows checked and written per round trip to the store.
const CHUNK_ROWS: usize = 2_000;

/// Reads, checks and (unless `dry_run`) imports a directory file, a chunk of rows at a time:
/// memory stays bounded whatever the file's length, and nothing is kept unless every row is
/// clean.
pub async fn import_people(
    store: &Store,
    actor: &Actor,
    now: Timestamp,
    catalog: &Catalog,
    request: ImportRequest<'_>,
    progress: &ImportProgress,
) -> Result<Report, AppError> {
    let lang = request.lang;
    let say = |invalid: &Invalid| invalid_message(catalog, lang, invalid);
    let file_report = |rows, error: &TableError| Report {
        rows,
        problems: vec![file_problem(error, catalog, lang)],
        committed: false,
    };
    let mut sheet = match tongxin_tabular::open(request.bytes, request.format, &request.limits) {
        Ok(sheet) => sheet,
        Err(error) => return Ok(file_report(0, &error)),
    };
    let sector_list = store.sectors(actor, false).await?;
    let columns = match map_header(&sheet.headers, &sector_list, &say) {
        Ok(columns) => columns,
        Err(problems) => {
            return Ok(Report {
                rows: 0,
                problems,
                committed: false,
            });
        }
    };
    let headers = std::mem::take(&mut sheet.headers);
    let reader = RowReader {
        columns: &columns,
        headers: &headers,
        units: all_units(store, actor).await?,
        sectors: sector_list
            .iter()
            .flat_map(|s| [(s.name.clone(), s.id), (s.code.clone(), s.id)])
            .collect(),
        catalog,
        lang,
        today: now.date(),
    };

    let mut import = store.begin_people_import(actor, now).await?;
    if request.bytes.len() >= LARGE_IMPORT_BYTES {
        import.defer_indexes().await?;
    }
    let mut problems = Vec::new();
    let mut rows = 0;
    let mut chunk = Vec::with_capacity(CHUNK_ROWS);
    let mut broken = false;
    loop {
        let next = sheet.next();
        let end = next.is_none();
        match next {
            Some(Ok(row)) => {
                rows += 1;
                match reader.person(&row) {
                    Ok(person) => chunk.push((row.line, person)),
                    Err(refused) => {
                        problems.extend(refused);
                        import.stop_writing();
                    }
                }
            }
            Some(Err(error)) => {
                // A broken file: report where, and read no further.
                problems.push(file_problem(&error, catalog, lang));
                import.stop_writing();
                broken = true;
            }
            None => {}
        }
        if chunk.len() == CHUNK_ROWS || end || broken {
            import.add(&chunk).await?;
            chunk.clear();
            progress.rows.store(rows, Ordering::Relaxed);
        }
        if end || broken {
            break;
        }
    }
    if rows == 0 && problems.is_empty() {
        problems.push(file_problem(&TableError::Empty, catalog, lang));
    }
    // The database's own checks (duplicates, scope, enabled fields) on the rows that passed;
    // nothing is kept unless every row of the file is clean.
    let outcome = import
        .finish(request.dry_run || !problems.is_empty())
        .await?;
    for refusal in outcome.refused {
        problems.push(Problem {
            line: refusal.line,
            column: reader.header_of(&refusal.invalid),
            code: refusal.invalid.reason.key(),
            message: say(&refusal.invalid),
            existing: refusal.existing,
        });
    }
    problems.sort_by_key(|p| p.line);
    Ok(Report {
        rows,
        committed: outcome.committed && problems.is_empty(),
        problems,
    })
}

/// Turns the rows of a file into people, with the file's columns and the caller's units and
/// sectors at hand.
struct RowReader<'a> {
    columns: &'a [(usize, Column)],
    headers: &'a [String],
    units: HashMap<String, i64>,
    sectors: HashMap<String, i64>,
    catalog: &'a Catalog,
    lang: Lang,
    today: chrono::NaiveDate,
}

impl RowReader<'_> {
    /// The column a refusal is about: a sector field's is headed by its label.
    fn header_of(&self, invalid: &Invalid) -> String {
        if let Some(label) = &invalid.label {
            return label.clone();
        }
        let key = invalid.field.key();
        self.columns
            .iter()
            .find(|(_, c)| *c == Column::Standard(key))
            .map(|(i, _)| self.headers.get(*i).cloned().unwrap_or_default())
            .unwrap_or_else(|| {
                self.catalog
                    .get(self.lang, &format!("field.{key}"))
                    .to_owned()
            })
    }

    /// One row as a person, or every problem found in it.
    fn person(&self, row: &Row) -> Result<PersonInput, Vec<Problem>> {
        let cell = |key: &'static str| {
            self.columns
                .iter()
                .find(|(_, c)| *c == Column::Standard(key))
                .and_then(|(i, _)| row.cells.get(*i))
                .map(|c| c.trim().to_owned())
                .unwrap_or_default()
        };
        let mut problems = Vec::new();
        let mut refuse = |invalid: Invalid| {
            problems.push(Problem {
                line: row.line,
                column: self.header_of(&invalid),
                code: invalid.reason.key(),
                message: invalid_message(self.catalog, self.lang, &invalid),
                existing: None,
            });
        };
        let unit_code = cell("unit");
        let unit_id = match self.units.get(&unit_code) {
            Some(id) => *id,
            None => {
                let reason = if unit_code.is_empty() {
                    Reason::Required
                } else {
                    Reason::NotFound
                };
                refuse(Invalid::new(Field::Unit, reason));
                0
            }
        };
        let mut memberships = Vec::new();
        for name in input::split_tags(&cell("sector")) {
            match self.sectors.get(&name) {
                Some(id) => memberships.push(MembershipFields {
                    sector_id: *id,
                    ..MembershipFields::default()
                }),
                None => refuse(Invalid::new(Field::Sector, Reason::NotFound)),
            }
        }
        // A value in a sector's own column puts the person in that sector.
        for (i, column) in self.columns {
            let Column::SectorValue { sector_id, key } = column else {
                continue;
            };
            let value = row.cells.get(*i).map_or("", |c| c.trim());
            if value.is_empty() {
                continue;
            }
            let at = match memberships.iter().position(|m| m.sector_id == *sector_id) {
                Some(at) => at,
                None => {
                    memberships.push(MembershipFields {
                        sector_id: *sector_id,
                        ..MembershipFields::default()
                    });
                    memberships.len() - 1
                }
            };
            memberships[at].values.insert(key.clone(), value.to_owned());
        }
        let fields = PersonFields {
            unit_id,
            name: cell("person_name"),
            gender: cell("gender"),
            birth_date: cell("birth_date"),
            education: cell("education"),
            occupation: cell("occupation"),
            title: cell("title"),
            employer: cell("employer"),
            political_affiliation: cell("political_affiliation"),
            address: cell("address"),
            notes: cell("notes"),
            id_number: cell("id_number").to_ascii_uppercase(),
            phone: cell("phone"),
            ethnicity: cell("ethnicity"),
            religion: cell("religion"),
            sectors: memberships,
            tags: input::split_tags(&cell("tags")),
        };
        let parsed = input::person(&fields, self.today);
        if let Err(invalid) = &parsed {
            invalid.iter().cloned().for_each(&mut refuse);
        }
        match parsed {
            Ok(person) if problems.is_empty() => Ok(person),
            _ => Err(problems),
        }
    }
}

/// What a column of an import holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    /// One of the person's fields ([`PERSON_FIELDS`]), by key.
    Standard(&'static str),
    /// A sector's own field, headed `界别·字段` (sector name or code, field label or key).
    SectorValue { sector_id: i64, key: String },
}

/// The header of a sector's own field, as templates write it.
pub fn sector_field_header(sector: &SectorView, field: &SectorFieldView) -> String {
    format!("{}·{}", sector.name, field.label)
}

/// Finds the sector field a header such as `民主党派·党派` or `mzdp·party` names.
fn sector_column(header: &str, sectors: &[SectorView]) -> Option<Column> {
    let (sector_part, field_part) = header.split_once('·')?;
    let (sector_part, field_part) = (sector_part.trim(), field_part.trim());
    let sector = sectors
        .iter()
        .find(|s| s.name == sector_part || s.code.eq_ignore_ascii_case(sector_part))?;
    let field = sector
        .active_fields()
        .find(|f| f.label == field_part || f.key == field_part)?;
    Some(Column::SectorValue {
        sector_id: sector.id,
        key: field.key.clone(),
    })
}

/// Column index -> what it holds, or the header's problems.
fn map_header(
    headers: &[String],
    sectors: &[SectorView],
    say: &impl Fn(&Invalid) -> String,
) -> Result<Vec<(usize, Column)>, Vec<Problem>> {
    let mut columns = Vec::new();
    let mut problems = Vec::new();
    let header_problem = |column: &str, invalid: Invalid| Problem {
        line: 1,
        column: column.to_owned(),
        code: invalid.reason.key(),
        message: say(&invalid),
        existing: None,
    };
    for (i, header) in headers.iter().enumerate() {
        let known = PERSON_FIELDS
            .iter()
            .find(|f| header == f.header_zh || header.eq_ignore_ascii_case(f.header_en))
            .map(|f| Column::Standard(f.key))
            .or_else(|| sector_column(header, sectors));
        match known {
            Some(column) if columns.iter().any(|(_, c)| *c == column) => {
                problems.push(header_problem(
                    header,
                    Invalid::new(Field::Named("column"), Reason::RepeatedColumn),
                ))
            }
            Some(column) => columns.push((i, column)),
            None => problems.push(header_problem(
                header,
                Invalid::new(Field::Named("column"), Reason::UnknownColumn),
            )),
        }
    }
    for key in REQUIRED {
        if !columns.iter().any(|(_, c)| *c == Column::Standard(key)) {
            let zh = person_field(key).map(|f| f.header_zh).unwrap_or(key);
            problems.push(header_problem(
                zh,
                Invalid::new(Field::Named("column"), Reason::Required),
            ));
        }
    }
    if problems.is_empty() {
        Ok(columns)
    } else {
        Err(problems)
    }
}

/// Unit codes of the actor's subtree.
async fn all_units(store: &Store, actor: &Actor) -> Result<HashMap<String, i64>, AppError> {
    let mut units = HashMap::new();
    let mut page = 1;
    loop {
        let batch = store
            .units(
                actor,
                &UnitQuery::default(),
                tongxin_store::PageRequest::new(
                    Some(page),
                    Some(tongxin_store::PageRequest::MAX_PER_PAGE),
                ),
            )
            .await?;
        let done = batch.items.len() < batch.per_page as usize;
        units.extend(batch.items.into_iter().map(|u| (u.code, u.id)));
        if done {
            return Ok(units);
        }
        page += 1;
    }
}

fn file_problem(error: &TableError, catalog: &Catalog, lang: Lang) -> Problem {
    let (code, line, n) = match error {
        TableError::TooLarge { limit, .. } => ("too_large", 0, (*limit / 1024 / 1024).to_string()),
        TableError::Empty => ("empty", 0, String::new()),
        TableError::MixedEncodings { line } => ("mixed_encodings", *line, String::new()),
        TableError::Unreadable { line } => ("unreadable", *line, String::new()),
        TableError::BrokenRow { line, .. } => ("broken_row", *line, String::new()),
        TableError::ZipBomb { .. } => ("zip_bomb", 0, String::new()),
        TableError::BadWorkbook(_) => ("bad_workbook", 0, String::new()),
    };
    let detail = match error {
        TableError::BrokenRow { message, .. } | TableError::BadWorkbook(message) => message.clone(),
        _ => String::new(),
    };
    Problem {
        line,
        column: String::new(),
        code,
        message: catalog.format(
            lang,
            &format!("import.{code}"),
            &[("n", &n), ("line", &line.to_string()), ("detail", &detail)],
        ),
        existing: None,
    }
}

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

/// Writes an export as an XLSX workbook to `path`. Rows go to a constant-memory worksheet
/// (spilled to temporary files in `tempdir`), so a large export never sits in memory. Cells are
/// written as text, which a spreadsheet never evaluates.
pub async fn write_xlsx(
    store: &Store,
    mut export: Export,
    tempdir: &std::path::Path,
    path: &std::path::Path,
) -> Result<(), AppError> {
    let failed = |e: rust_xlsxwriter::XlsxError| AppError::internal("xlsx export", e);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    workbook.set_tempdir(tempdir).map_err(failed)?;
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(failed)?;
    let mut row: u32 = 0;
    let mut write = |sheet: &mut rust_xlsxwriter::Worksheet, cells: &[String]| {
        for (col, cell) in cells.iter().enumerate() {
            let col = u16::try_from(col).unwrap_or(u16::MAX);
            sheet.write_string(row, col, cell).map_err(failed)?;
        }
        row += 1;
        Ok::<(), AppError>(())
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
    // Compressing a large workbook takes a while: off the async threads.
    tokio::task::spawn_blocking(move || workbook.save(&path))
        .await
        .map_err(|e| AppError::internal("xlsx export", e))?
        .map_err(failed)
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

/// The headers of an import template: the common columns (ethnicity and religion only when
/// enabled) and, for a sector, its own fields.
pub fn template_header(sector: Option<&SectorView>, enabled: &[SensitiveField]) -> Vec<String> {
    let offered = |key: &str| match SensitiveField::parse(key) {
        Some(field) if field.needs_enabling() => enabled.contains(&field),
        _ => true,
    };
    let mut header: Vec<String> = PERSON_FIELDS
        .iter()
        .filter(|f| offered(f.key))
        .map(|f| f.header_zh.to_owned())
        .collect();
    if let Some(sector) = sector {
        header.extend(
            sector
                .active_fields()
                .map(|field| sector_field_header(sector, field)),
        );
    }
    header
}

/// An import template as an XLSX workbook: the header row, and for single-choice fields a
/// drop-down of the choices (where the list fits Excel's 255-character limit).
pub fn template_xlsx(
    sector: Option<&SectorView>,
    enabled: &[SensitiveField],
) -> Result<Vec<u8>, AppError> {
    let failed = |e: rust_xlsxwriter::XlsxError| AppError::internal("xlsx template", e);
    let header = template_header(sector, enabled);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (col, title) in header.iter().enumerate() {
        let col = u16::try_from(col).unwrap_or(u16::MAX);
        sheet
            .write_string_with_format(0, col, title, &bold)
            .map_err(failed)?;
        sheet.set_column_width(col, 14).map_err(failed)?;
    }
    if let Some(sector) = sector {
        for field in sector.active_fields() {
            let Some(col) = header
                .iter()
                .position(|h| *h == sector_field_header(sector, field))
                .and_then(|c| u16::try_from(c).ok())
            else {
                continue;
            };
            let fits = field
                .choices
                .iter()
                .map(|c| c.chars().count() + 1)
                .sum::<usize>()
                < 255;
            if field.kind == tongxin_core::FieldKind::Choice && fits {
                let validation = rust_xlsxwriter::DataValidation::new()
                    .allow_list_strings(&field.choices)
                    .map_err(failed)?;
                sheet
                    .add_data_validation(1, col, 100_000, col, &validation)
                    .map_err(failed)?;
            }
        }
    }
    workbook.save_to_buffer().map_err(failed)
}

/// An import template as CSV: UTF-8 with a BOM, so Excel opens it in Chinese.
pub fn template_csv(sector: Option<&SectorView>, enabled: &[SensitiveField]) -> Vec<u8> {
    let mut bytes = tongxin_tabular::UTF8_BOM.to_vec();
    bytes.extend(tongxin_tabular::csv_lines(&[template_header(
        sector, enabled,
    )]));
    bytes
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
