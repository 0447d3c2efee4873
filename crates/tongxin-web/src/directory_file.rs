//! The directory file (DESIGN.md §4, "Directory import/export columns"). Importing: headers in
//! Chinese or English, any column order, every problem reported by line and column in the
//! user's language, all-or-nothing. Exporting: the same columns, masked where the user may not
//! reveal, safe to open in a spreadsheet.
//!
//! Shared by the API and the `tongxin import people` / `tongxin export people` commands.

use std::collections::HashMap;

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use tongxin_core::{Field, Invalid, Reason, Timestamp};
use tongxin_store::{Actor, Export, ExportRow, PersonInput, Store, UnitQuery};
use tongxin_tabular::{Format, Limits, Table, TableError};

use crate::error::{AppError, invalid_message};
use crate::i18n::{Catalog, Lang};
use crate::input::{self, MembershipFields, PersonFields};

/// The columns of the directory file: Chinese header, English header, and the field key that
/// names it in messages.
const COLUMNS: [(&str, &str, &str); 17] = [
    ("姓名", "name", "person_name"),
    ("性别", "gender", "gender"),
    ("出生日期", "birth_date", "birth_date"),
    ("身份证号", "id_number", "id_number"),
    ("手机号", "phone", "phone"),
    ("单位代码", "unit_code", "unit"),
    ("界别", "sectors", "sector"),
    ("工作单位", "employer", "employer"),
    ("职务", "title", "title"),
    ("政治面貌", "political_affiliation", "political_affiliation"),
    ("学历", "education", "education"),
    ("标签", "tags", "tags"),
    ("备注", "notes", "notes"),
    ("职业", "occupation", "occupation"),
    ("地址", "address", "address"),
    ("民族", "ethnicity", "ethnicity"),
    ("宗教信仰", "religion", "religion"),
];

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

/// Reads, checks and (unless `dry_run`) imports a directory file.
#[allow(clippy::too_many_arguments)]
pub async fn import_people(
    store: &Store,
    actor: &Actor,
    now: Timestamp,
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    dry_run: bool,
    catalog: &Catalog,
    lang: Lang,
) -> Result<Report, AppError> {
    let say = |invalid: &Invalid| invalid_message(catalog, lang, invalid);
    let table = match tongxin_tabular::read(bytes, format, limits) {
        Ok(table) if table.rows.is_empty() => {
            return Ok(Report {
                rows: 0,
                problems: vec![file_problem(&TableError::Empty, catalog, lang)],
                committed: false,
            });
        }
        Ok(table) => table,
        Err(error) => {
            return Ok(Report {
                rows: 0,
                problems: vec![file_problem(&error, catalog, lang)],
                committed: false,
            });
        }
    };
    let columns = match map_header(&table, &say) {
        Ok(columns) => columns,
        Err(problems) => {
            return Ok(Report {
                rows: table.rows.len(),
                problems,
                committed: false,
            });
        }
    };
    let header_of = |key: &str| {
        columns
            .iter()
            .find(|(_, k)| *k == key)
            .map(|(i, _)| table.headers.get(*i).cloned().unwrap_or_default())
            .unwrap_or_else(|| catalog.get(lang, &format!("field.{key}")).to_owned())
    };

    let units: HashMap<String, i64> = all_units(store, actor).await?;
    let sectors: HashMap<String, i64> = store
        .sectors(actor, false)
        .await?
        .into_iter()
        .flat_map(|s| [(s.name.clone(), s.id), (s.code.clone(), s.id)])
        .collect();

    let mut problems = Vec::new();
    let mut valid: Vec<(usize, PersonInput)> = Vec::new();
    let mut seen_ids: HashMap<String, usize> = HashMap::new();
    for row in &table.rows {
        let cell = |key: &str| {
            columns
                .iter()
                .find(|(_, k)| *k == key)
                .and_then(|(i, _)| row.cells.get(*i))
                .map(|c| c.trim().to_owned())
                .unwrap_or_default()
        };
        let mut row_problems = Vec::new();
        let mut refuse = |invalid: Invalid| {
            row_problems.push(Problem {
                line: row.line,
                column: header_of(invalid.field.key()),
                code: invalid.reason.key(),
                message: say(&invalid),
                existing: None,
            });
        };
        let unit_code = cell("unit");
        let unit_id = match units.get(&unit_code) {
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
            match sectors.get(&name) {
                Some(id) => memberships.push(MembershipFields {
                    sector_id: *id,
                    ..MembershipFields::default()
                }),
                None => refuse(Invalid::new(Field::Sector, Reason::NotFound)),
            }
        }
        let id_number = cell("id_number").to_ascii_uppercase();
        if !id_number.is_empty() {
            if let Some(first) = seen_ids.get(&id_number) {
                refuse(Invalid::new(
                    Field::IdNumber,
                    Reason::DuplicateInFile { line: *first },
                ));
            } else {
                seen_ids.insert(id_number.clone(), row.line);
            }
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
            id_number,
            phone: cell("phone"),
            ethnicity: cell("ethnicity"),
            religion: cell("religion"),
            sectors: memberships,
            tags: input::split_tags(&cell("tags")),
        };
        let parsed = input::person(&fields, now.date());
        if let Err(invalid) = &parsed {
            invalid.iter().cloned().for_each(&mut refuse);
        }
        match parsed {
            Ok(person) if row_problems.is_empty() => valid.push((row.line, person)),
            _ => problems.extend(row_problems),
        }
    }

    // The database's own checks (duplicates on record, scope, enabled fields), on the rows
    // that passed; nothing is kept unless every row of the file is clean.
    let keep = !dry_run && problems.is_empty();
    let outcome = store.import_people(actor, now, &valid, !keep).await?;
    for refusal in outcome.refused {
        problems.push(Problem {
            line: refusal.line,
            column: header_of(refusal.invalid.field.key()),
            code: refusal.invalid.reason.key(),
            message: say(&refusal.invalid),
            existing: refusal.existing,
        });
    }
    problems.sort_by_key(|p| p.line);
    Ok(Report {
        rows: table.rows.len(),
        committed: outcome.committed && problems.is_empty(),
        problems,
    })
}

/// Column index -> field key, or the header's problems.
fn map_header(
    table: &Table,
    say: &impl Fn(&Invalid) -> String,
) -> Result<Vec<(usize, &'static str)>, Vec<Problem>> {
    let mut columns = Vec::new();
    let mut problems = Vec::new();
    let header_problem = |column: &str, invalid: Invalid| Problem {
        line: 1,
        column: column.to_owned(),
        code: invalid.reason.key(),
        message: say(&invalid),
        existing: None,
    };
    for (i, header) in table.headers.iter().enumerate() {
        let known = COLUMNS
            .iter()
            .find(|(zh, en, _)| header == zh || header.eq_ignore_ascii_case(en));
        match known {
            Some((_, _, key)) if columns.iter().any(|(_, k)| k == key) => {
                problems.push(header_problem(
                    header,
                    Invalid::new(Field::Named("column"), Reason::RepeatedColumn),
                ))
            }
            Some((_, _, key)) => columns.push((i, *key)),
            None => problems.push(header_problem(
                header,
                Invalid::new(Field::Named("column"), Reason::UnknownColumn),
            )),
        }
    }
    for key in REQUIRED {
        if !columns.iter().any(|(_, k)| *k == key) {
            let (zh, _, _) = COLUMNS
                .iter()
                .find(|(_, _, k)| *k == key)
                .copied()
                .unwrap_or_default();
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

/// The header row of an export, in Chinese (as the data standard names the columns).
pub fn export_header() -> Vec<String> {
    COLUMNS
        .iter()
        .take(EXPORT_COLUMNS)
        .map(|(zh, _, _)| (*zh).to_owned())
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
}

/// An export as a CSV download (UTF-8 with a BOM, Chinese headers), streamed a batch at a
/// time so its size does not matter.
pub fn csv_response(store: Store, export: Export) -> Response {
    let mut head = tongxin_tabular::UTF8_BOM.to_vec();
    head.extend(tongxin_tabular::csv_lines(&[export_header()]));
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

/// An export as an XLSX workbook. Rows go to a constant-memory worksheet (spilled to temporary
/// files in `tempdir`), so only the compressed workbook is ever held whole. Cells are written
/// as text, which a spreadsheet never evaluates.
pub async fn xlsx_bytes(
    store: &Store,
    mut export: Export,
    tempdir: &std::path::Path,
) -> Result<Vec<u8>, AppError> {
    let failed = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("xlsx export: {e}"));
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
    write(sheet, &export_header())?;
    loop {
        let rows = store.next_export_batch(&mut export).await?;
        if rows.is_empty() {
            break;
        }
        for person in &rows {
            write(sheet, &export_cells(person))?;
        }
    }
    workbook.save_to_buffer().map_err(failed)
}

/// An XLSX download.
pub fn xlsx_response(bytes: Vec<u8>) -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response()
}
