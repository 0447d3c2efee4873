//! Reading a directory file into the store (DESIGN.md §4, "Directory import/export columns"):
//! headers in Chinese or English, any column order, every problem reported by line and column
//! in the reader's language, all-or-nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use tongxin_core::{Field, Invalid, PERSON_FIELDS, Reason, Timestamp, person_field};
use tongxin_i18n::{Catalog, Lang, invalid_message};
use tongxin_store::{
    Actor, MembershipFields, PersonFields, PersonInput, SectorView, Store, StoreError, UnitQuery,
    split_tags,
};
use tongxin_tabular::{Format, Limits, Row, TableError};

use crate::ExchangeError;

/// Columns a file must have.
const REQUIRED: [&str; 2] = ["person_name", "unit"];

/// One problem, located in the file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Problem {
    /// Line in the file (the header is line 1); 0 for the file as a whole.
    pub line: usize,
    /// The column as headed in the file, if the problem is in one.
    pub column: String,
    pub code: String,
    pub message: String,
    /// For a duplicate ID number: the person already on record, when visible.
    pub existing: Option<i64>,
}

/// What an import found and did.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
) -> Result<Report, ExchangeError> {
    store.may_import_people(actor)?;
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

    let mut import = match store.begin_people_import(actor, now).await {
        Err(StoreError::TooManyProbes) => {
            return Ok(Report {
                rows: 0,
                problems: vec![Problem {
                    line: 0,
                    column: String::new(),
                    code: "too_many_probes".to_owned(),
                    message: catalog.get(lang, "import.too_many_probes").to_owned(),
                    existing: None,
                }],
                committed: false,
            });
        }
        other => other?,
    };
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
            code: refusal.invalid.reason.key().to_owned(),
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
                code: invalid.reason.key().to_owned(),
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
        for name in split_tags(&cell("sector")) {
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
            tags: split_tags(&cell("tags")),
        };
        let parsed = fields.parse(self.today);
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
        code: invalid.reason.key().to_owned(),
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
async fn all_units(store: &Store, actor: &Actor) -> Result<HashMap<String, i64>, ExchangeError> {
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
        TableError::SheetTooLarge { cell, .. } => ("sheet_too_large", 0, cell.clone()),
        TableError::BadWorkbook(_) => ("bad_workbook", 0, String::new()),
    };
    let detail = match error {
        TableError::BrokenRow { message, .. } | TableError::BadWorkbook(message) => message.clone(),
        TableError::SheetTooLarge {
            max_rows,
            max_columns,
            ..
        } => format!("{max_rows} × {max_columns}"),
        _ => String::new(),
    };
    Problem {
        line,
        column: String::new(),
        code: code.to_owned(),
        message: catalog.format(
            lang,
            &format!("import.{code}"),
            &[("n", &n), ("line", &line.to_string()), ("detail", &detail)],
        ),
        existing: None,
    }
}
