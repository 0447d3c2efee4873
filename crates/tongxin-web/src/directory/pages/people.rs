//! The directory pages: search, a person's record with history, adding and editing, and
//! revealing a protected value.

use std::collections::{BTreeMap, HashMap};

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tongxin_core::{Field, Gender, HistoryEntry, Invalid, Reason};
use tongxin_store::{
    Actor, Page, PageRequest, PeopleQuery, PersonOrder, PersonStatus, PersonSummary, PersonView,
    SectorFieldView, SectorView, SensitiveField, StoreError, UnitView,
};
use tongxin_tabular::Format;

use crate::AppState;
use crate::accounts::auth_pages::Empty;
use crate::directory::file as directory_file;
use crate::directory::import_jobs::{self, ImportStage, ImportStatus, NewImport};
use crate::error::AppError;
use crate::forms::{CsrfForm, CsrfUpload, IdPath, Query};
use crate::pages::chrome::{Ctx, FormErrors, Pager, SortHeader, can_edit, see_other};
use crate::session::CurrentUser;
use tongxin_store::{MembershipFields, PersonFields};

#[derive(Deserialize, Default)]
pub struct SearchForm {
    #[serde(default)]
    pub(super) q: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    sector: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    gender: String,
    #[serde(default)]
    age_min: String,
    #[serde(default)]
    age_max: String,
    #[serde(default)]
    status: String,
    /// A column to sort by (`name`, `unit`, `-` before it for descending); anything else
    /// leaves the list in pinyin order.
    #[serde(default)]
    sort: String,
    /// Only these people, by id, comma-separated (an export of those picked in the list).
    #[serde(default)]
    ids: String,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[derive(Template)]
#[template(path = "people/index.html")]
struct IndexPage {
    ctx: Ctx,
    form: SearchForm,
    sectors: Vec<SectorView>,
    results: Page<PersonSummary>,
    pager: Pager,
    can_edit: bool,
    /// The export of exactly this search (CSV; add `&format=xlsx` for a workbook).
    export_link: String,
    /// The units down to the one the list is narrowed to, if any.
    lineage: Vec<UnitView>,
    sort_by_name: SortHeader,
    sort_by_unit: SortHeader,
    /// The list's filters as a query string, for the batch form to come back to.
    list_query: String,
}

fn number<T: std::str::FromStr>(key: &'static str, raw: &str) -> Result<Option<T>, AppError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    raw.trim()
        .parse()
        .map(Some)
        .map_err(|_| AppError::Malformed {
            code: "bad_query",
            detail: format!("{key}={raw}"),
        })
}

/// `/directory`: the search form above the result table.
pub async fn index(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(mut form): Query<SearchForm>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    // With no unit asked for, the list starts from the unit chosen in the top bar.
    if form.unit.trim().is_empty()
        && let Some(scope) = &ctx.scope
    {
        form.unit = scope.code.clone();
    }
    if PersonOrder::parse(&form.sort).is_none() {
        form.sort.clear();
    }
    let page = PageRequest::new(form.page, form.per_page);
    let query = search_query(&state, actor, &form).await?;
    // A list narrowed to a unit says where it stands in the tree.
    let lineage = match query.as_ref().and_then(|q| q.unit_id) {
        Some(unit) => state.store.lineage_of(actor, unit).await?,
        None => Vec::new(),
    };
    let results = match query {
        Some(query) => {
            let now = state.clock.now();
            state.store.search_people(actor, &query, page, now).await?
        }
        None => Page {
            items: Vec::new(),
            total: tongxin_store::Total::exact(0),
            page: 1,
            per_page: page.per_page,
        },
    };
    let params = [
        ("q", form.q.as_str()),
        ("unit", &form.unit),
        ("sector", &form.sector),
        ("tag", &form.tag),
        ("gender", &form.gender),
        ("age_min", &form.age_min),
        ("age_max", &form.age_max),
        ("status", &form.status),
        ("sort", &form.sort),
    ];
    let pager = Pager::new(&results, "/directory", &params);
    let current = if form.sort.is_empty() {
        "name"
    } else {
        &form.sort
    };
    let sort_by_name = SortHeader::new("/directory", &params, current, "name");
    let sort_by_unit = SortHeader::new("/directory", &params, current, "unit");
    let kept: Vec<(&str, &str)> = params
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let list_query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    let export_link = format!("/directory/export?{list_query}");
    let page = IndexPage {
        list_query,
        sort_by_name,
        sort_by_unit,
        lineage,
        export_link,
        sectors: state.store.sectors(actor, false).await?,
        can_edit: can_edit(actor),
        ctx: ctx.with_section("directory"),
        form,
        results,
        pager,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// The store query for the search form, or `None` if it names a unit code that is not in the
/// caller's subtree (a search that can match nobody).
pub(super) async fn search_query(
    state: &AppState,
    actor: &Actor,
    form: &SearchForm,
) -> Result<Option<PeopleQuery>, AppError> {
    let unit_id = if form.unit.trim().is_empty() {
        None
    } else {
        match state.store.unit_by_code(actor, &form.unit).await {
            Ok(unit) => Some(unit.id),
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    };
    Ok(Some(PeopleQuery {
        q: Some(form.q.clone()),
        unit_id,
        sector_id: number("sector", &form.sector)?,
        tag: Some(form.tag.clone()),
        gender: Gender::parse(&form.gender).ok(),
        age_min: number("age_min", &form.age_min)?,
        age_max: number("age_max", &form.age_max)?,
        status: match form.status.as_str() {
            "archived" => PersonStatus::Archived,
            "all" => PersonStatus::All,
            _ => PersonStatus::Active,
        },
        order: PersonOrder::parse(&form.sort).unwrap_or_default(),
        ids: form
            .ids
            .split(',')
            .filter_map(|id| id.trim().parse().ok())
            .collect(),
    }))
}

/// `/directory/template`: an empty import file with the right headers, for one sector or for
/// the common columns only.
pub async fn template(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<directory_file::TemplateQuery>,
) -> Result<Response, AppError> {
    directory_file::template_response(&state, &auth.actor, &query).await
}

#[derive(Template)]
#[template(path = "people/import.html")]
struct ImportPage {
    ctx: Ctx,
    /// The outcome of an upload, if one was made.
    report: Option<tongxin_exchange::Report>,
    /// Rows read so far, while an import is running.
    running: Option<usize>,
    /// Why an import stopped without a report (nothing was written): `interrupted` or `error`.
    failed: Option<String>,
    file_name: String,
    check_only: bool,
    /// Sectors with fields of their own, each with its own template.
    templates: Vec<SectorView>,
    /// The largest file accepted, in whole megabytes, stated beside the file field.
    max_megabytes: usize,
}

/// Sectors whose import template differs from the common one.
async fn sector_templates(state: &AppState, actor: &Actor) -> Result<Vec<SectorView>, AppError> {
    let mut sectors = state.store.sectors(actor, false).await?;
    sectors.retain(|s| s.active_fields().next().is_some());
    Ok(sectors)
}

/// `/directory/import`: upload a file to check or import.
pub async fn import_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    if !can_edit(&auth.actor) {
        return Err(AppError::Forbidden);
    }
    let page = ImportPage {
        ctx: ctx.with_section("directory"),
        report: None,
        running: None,
        failed: None,
        file_name: String::new(),
        check_only: true,
        templates: sector_templates(&state, &auth.actor).await?,
        max_megabytes: state.config.max_import_bytes / (1024 * 1024),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// Starts importing the uploaded file in the background and shows its progress page.
pub async fn import(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    ctx: Ctx,
    upload: CsrfUpload,
) -> Result<Response, AppError> {
    state.store.may_import_people(&auth.actor)?;
    let format =
        Format::from_name(&upload.file_name).unwrap_or_else(|| Format::sniff(&upload.bytes));
    let import = NewImport {
        check_only: upload.fields.contains_key("check_only"),
        file_name: upload.file_name,
        bytes: upload.bytes,
        format,
        lang: ctx.lang,
    };
    let id = import_jobs::start(&state, &auth.actor, import).await?;
    Ok(see_other(&format!("/directory/import/{id}")))
}

#[derive(Deserialize)]
pub struct JobPath {
    job: i64,
}

/// `/directory/import/{job}`: the progress of an import, then its report.
pub async fn import_job(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    axum::extract::Path(JobPath { job }): axum::extract::Path<JobPath>,
) -> Result<Response, AppError> {
    let job = ImportStatus::of_job(&state, &auth.actor, job).await?;
    let (report, running, failed) = match job.stage {
        ImportStage::Done(report) => (Some(report), None, None),
        ImportStage::Failed(why) => (None, None, Some(why)),
        ImportStage::Running(rows) => (None, Some(rows), None),
    };
    let page = ImportPage {
        ctx: ctx.with_section("directory"),
        report,
        running,
        failed,
        file_name: job.file_name,
        check_only: job.check_only,
        templates: sector_templates(&state, &auth.actor).await?,
        max_megabytes: state.config.max_import_bytes / (1024 * 1024),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "people/show.html")]
struct ShowPage {
    ctx: Ctx,
    person: PersonView,
    /// Plain fields on record: key and value.
    plain: Vec<(&'static str, String)>,
    /// Protected fields on record: key and masked value.
    protected: Vec<(&'static str, String)>,
    history: Vec<HistoryEntry>,
    can_edit: bool,
    /// A value revealed on request: field key and clear text.
    revealed: Option<(String, String)>,
    /// What the change that led here did, said once (`people.done_*`).
    done: Option<&'static str>,
    /// The units from the top of the reader's tree down to the person's.
    lineage: Vec<UnitView>,
    /// Others who may be the same person.
    duplicates: Vec<PersonSummary>,
    /// Positions in organizations.
    affiliations: Vec<tongxin_store::AffiliationView>,
    /// Changes the person proposed that await a decision.
    pending: Vec<tongxin_store::ProposalView>,
    /// The member account linked to the person.
    member: Option<String>,
    /// Where decisions made on this page return to.
    back: &'static str,
}

async fn show_page(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    id: i64,
    revealed: Option<(String, String)>,
    done: Option<&'static str>,
) -> Result<Response, AppError> {
    // A reveal is recorded as such; the page that shows its value is not another view.
    let person = match revealed {
        Some(_) => state.store.person(actor, id).await?,
        None => {
            state
                .store
                .read_person(actor, state.clock.now(), id)
                .await?
        }
    };
    let history = state.store.person_history(actor, id).await?;
    let duplicates = state.store.likely_duplicates(actor, id).await?;
    let affiliations = state
        .store
        .affiliations(actor, tongxin_store::AffiliationsOf::Person(id))
        .await?;
    let pending = state
        .store
        .proposals(
            actor,
            &tongxin_store::ProposalQuery {
                status: Some(tongxin_store::ProposalStatus::Pending),
                person_id: Some(id),
            },
        )
        .await?;
    let member = state.store.linked_member(actor, id).await?;
    let plain = [
        ("education", &person.education),
        ("occupation", &person.occupation),
        ("title", &person.title),
        ("employer", &person.employer),
        ("political_affiliation", &person.political_affiliation),
        ("address", &person.address),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.clone().map(|v| (key, v)))
    .collect();
    let stars = |present: bool| present.then(|| "***".to_owned());
    let protected = [
        ("id_number", person.id_number_masked.clone()),
        ("phone", person.phone_masked.clone()),
        ("ethnicity", stars(person.has_ethnicity)),
        ("religion", stars(person.has_religion)),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|v| (key, v)))
    .collect();
    let lineage = state.store.lineage_of(actor, person.unit_id).await?;
    let page = ShowPage {
        lineage,
        duplicates,
        affiliations,
        pending,
        member,
        back: "person",
        plain,
        protected,
        ctx: ctx.with_section("directory"),
        person,
        history,
        can_edit: can_edit(actor),
        revealed,
        done,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// The changes a person's page confirms after redirecting back to it.
const DONE: [&str; 8] = [
    "created",
    "saved",
    "archived",
    "restored",
    "merged",
    "member_linked",
    "member_unlinked",
    "decided",
];

/// The person's page after a change: `/people/{id}?done=saved`.
pub fn after(id: i64, done: &'static str) -> Response {
    debug_assert!(DONE.contains(&done));
    see_other(&format!("/people/{id}?done={done}"))
}

/// The person form's fields from top to bottom, for its error summary.
const PERSON_FORM_ORDER: [&str; 18] = [
    "person_name",
    "unit",
    "gender",
    "birth_date",
    "education",
    "occupation",
    "title",
    "employer",
    "political_affiliation",
    "address",
    "id_number",
    "phone",
    "ethnicity",
    "religion",
    "sector",
    "sector_field",
    "tags",
    "notes",
];

#[derive(Deserialize, Default)]
pub struct ShowQuery {
    #[serde(default)]
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    Query(query): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let done = DONE.into_iter().find(|d| *d == query.done);
    show_page(&state, ctx, &auth.actor, id, None, done).await
}

#[derive(Deserialize)]
pub struct RevealForm {
    field: String,
}

/// Shows one protected value on the record page; audited by the store.
pub async fn reveal(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<RevealForm>,
) -> Result<Response, AppError> {
    let field = SensitiveField::parse(&form.field)
        .ok_or_else(|| Invalid::new(Field::Named("field"), Reason::NotFound))?;
    let value = state
        .store
        .reveal_person_field(&auth.actor, state.clock.now(), id, field)
        .await?
        .unwrap_or_default();
    show_page(
        &state,
        ctx,
        &auth.actor,
        id,
        Some((field.key().to_owned(), value)),
        None,
    )
    .await
}

async fn set_archived(
    state: &AppState,
    actor: &Actor,
    id: i64,
    archived: bool,
) -> Result<Response, AppError> {
    state
        .store
        .set_person_archived(actor, state.clock.now(), id, archived)
        .await?;
    Ok(after(id, if archived { "archived" } else { "restored" }))
}

pub async fn archive(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    set_archived(&state, &auth.actor, id, true).await
}

pub async fn restore(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    set_archived(&state, &auth.actor, id, false).await
}

#[derive(Template)]
#[template(path = "people/compare.html")]
struct ComparePage {
    ctx: Ctx,
    left: PersonView,
    right: PersonView,
    /// Field key, left value, right value.
    rows: Vec<(&'static str, String, String)>,
    can_edit: bool,
}

fn comparable(p: &PersonView, ctx: &Ctx) -> Vec<(&'static str, String)> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    vec![
        ("person_name", p.name.clone()),
        (
            "gender",
            p.gender
                .map(|g| ctx.gender_name(&g).to_owned())
                .unwrap_or_default(),
        ),
        ("birth_date", text(&p.birth_date)),
        ("unit", p.unit_name.clone()),
        ("id_number", text(&p.id_number_masked)),
        ("phone", text(&p.phone_masked)),
        ("employer", text(&p.employer)),
        ("title", text(&p.title)),
        ("political_affiliation", text(&p.political_affiliation)),
        ("education", text(&p.education)),
        (
            "sector",
            p.sectors
                .iter()
                .map(|s| s.sector_name.clone())
                .collect::<Vec<_>>()
                .join("、"),
        ),
        ("tags", p.tags.join("、")),
    ]
}

/// `/people/{id}/compare/{other}`: two records side by side, differences marked.
pub async fn compare(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    axum::extract::Path((id, other)): axum::extract::Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let left = state.store.read_person(&auth.actor, now, id).await?;
    let right = state.store.read_person(&auth.actor, now, other).await?;
    let rows = comparable(&left, &ctx)
        .into_iter()
        .zip(comparable(&right, &ctx))
        .map(|((key, l), (_, r))| (key, l, r))
        .collect();
    let page = ComparePage {
        can_edit: can_edit(&auth.actor),
        ctx: ctx.with_section("directory"),
        left,
        right,
        rows,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct MergeForm {
    other: i64,
    version: i32,
}

/// Merges the right-hand record of a comparison into the left-hand one.
pub async fn merge(
    State(state): State<AppState>,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(form): CsrfForm<MergeForm>,
) -> Result<Response, AppError> {
    state
        .store
        .merge_people(&auth.actor, state.clock.now(), id, form.other, form.version)
        .await?;
    Ok(after(id, "merged"))
}

/// One sector's row in the person form.
pub struct SectorChoice {
    pub sector: SectorView,
    pub checked: bool,
    pub role: String,
    pub since: String,
    /// The sector's own fields that take values, with what was typed or is on record.
    pub inputs: Vec<FieldInput>,
}

/// One input for a sector's own field.
pub struct FieldInput {
    pub field: SectorFieldView,
    /// The form name: `value_SECTOR_KEY`, or for multiple choices `value_SECTOR_KEY.N`.
    pub name: String,
    pub value: String,
}

impl FieldInput {
    /// Whether `choice` is among the chosen values (a single or multiple choice).
    pub fn chosen(&self, choice: &str) -> bool {
        tongxin_core::sector_field::split_list(&self.value)
            .iter()
            .any(|v| v == choice)
    }
}

#[derive(Template)]
#[template(path = "people/form.html")]
struct FormPage {
    ctx: Ctx,
    /// The person being edited (`None` when adding).
    id: Option<i64>,
    version: i32,
    unit_code: String,
    fields: PersonFields,
    tags: String,
    sectors: Vec<SectorChoice>,
    /// Plain text inputs after name and gender: key and value typed.
    text_inputs: Vec<(&'static str, String)>,
    /// Protected inputs offered (ethnicity and religion only when enabled).
    protected_inputs: Vec<(&'static str, String)>,
    errors: FormErrors,
    /// Changes someone else made meanwhile, when a save was refused.
    conflict: Vec<HistoryEntry>,
    /// The existing record with the same ID number, when the caller may see it.
    duplicate_of: Option<i64>,
}

/// The form as submitted: plain fields by name, sectors as `sector_ID` / `role_ID` / `since_ID`
/// and their own fields as `value_ID_KEY` (multiple choices as `value_ID_KEY.N`, one per box).
type RawForm = HashMap<String, String>;

fn get(form: &RawForm, key: &str) -> String {
    form.get(key).cloned().unwrap_or_default()
}

fn fields_from(form: &RawForm, unit_id: i64) -> PersonFields {
    let mut sectors: Vec<MembershipFields> = form
        .keys()
        .filter_map(|k| k.strip_prefix("sector_"))
        .filter_map(|id| id.parse::<i64>().ok())
        .map(|id| MembershipFields {
            sector_id: id,
            role: get(form, &format!("role_{id}")),
            since: get(form, &format!("since_{id}")),
            values: field_values(form, id),
        })
        .collect();
    sectors.sort_by_key(|m| m.sector_id);
    PersonFields {
        unit_id,
        name: get(form, "name"),
        gender: get(form, "gender"),
        birth_date: get(form, "birth_date"),
        education: get(form, "education"),
        occupation: get(form, "occupation"),
        title: get(form, "title"),
        employer: get(form, "employer"),
        political_affiliation: get(form, "political_affiliation"),
        address: get(form, "address"),
        notes: get(form, "notes"),
        id_number: get(form, "id_number"),
        phone: get(form, "phone"),
        ethnicity: get(form, "ethnicity"),
        religion: get(form, "religion"),
        sectors,
        tags: tongxin_store::split_tags(&get(form, "tags")),
    }
}

/// The values typed for a sector's own fields, by key; ticked boxes joined with `、`.
fn field_values(form: &RawForm, sector_id: i64) -> BTreeMap<String, String> {
    let prefix = format!("value_{sector_id}_");
    let mut values: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    let mut names: Vec<(&String, &String)> = form
        .iter()
        .filter(|(name, _)| name.starts_with(&prefix))
        .collect();
    names.sort();
    for (name, value) in names {
        let rest = &name[prefix.len()..];
        let key = rest.split_once('.').map_or(rest, |(key, _)| key);
        values.entry(key.to_owned()).or_default().push(value);
    }
    values
        .into_iter()
        .map(|(key, parts)| (key, parts.join("、")))
        .collect()
}

struct FormState {
    id: Option<i64>,
    version: i32,
    unit_code: String,
    fields: PersonFields,
    errors: Vec<Invalid>,
    conflict: Vec<HistoryEntry>,
    duplicate_of: Option<i64>,
}

async fn render_form(
    state: &AppState,
    ctx: Ctx,
    actor: &Actor,
    status: StatusCode,
    form: FormState,
) -> Result<Response, AppError> {
    if !can_edit(actor) {
        return Err(AppError::Forbidden);
    }
    let enabled = state.store.enabled_sensitive_fields().await?;
    let sectors = state
        .store
        .sectors(actor, false)
        .await?
        .into_iter()
        .map(|sector| {
            let chosen = form
                .fields
                .sectors
                .iter()
                .find(|m| m.sector_id == sector.id);
            let inputs = sector
                .active_fields()
                .map(|field| FieldInput {
                    name: format!("value_{}_{}", sector.id, field.key),
                    value: chosen
                        .and_then(|m| m.values.get(&field.key))
                        .cloned()
                        .unwrap_or_default(),
                    field: field.clone(),
                })
                .collect();
            SectorChoice {
                checked: chosen.is_some(),
                role: chosen.map(|m| m.role.clone()).unwrap_or_default(),
                since: chosen.map(|m| m.since.clone()).unwrap_or_default(),
                inputs,
                sector,
            }
        })
        .collect();
    let f = &form.fields;
    let text_inputs = [
        ("birth_date", &f.birth_date),
        ("education", &f.education),
        ("occupation", &f.occupation),
        ("title", &f.title),
        ("employer", &f.employer),
        ("political_affiliation", &f.political_affiliation),
        ("address", &f.address),
    ]
    .into_iter()
    .map(|(key, value)| (key, value.clone()))
    .collect();
    let is_enabled = |field| enabled.iter().any(|(f, _)| *f == field);
    let protected_inputs = [
        ("id_number", &f.id_number, true),
        ("phone", &f.phone, true),
        (
            "ethnicity",
            &f.ethnicity,
            is_enabled(SensitiveField::Ethnicity),
        ),
        (
            "religion",
            &f.religion,
            is_enabled(SensitiveField::Religion),
        ),
    ]
    .into_iter()
    .filter(|(_, _, offered)| *offered)
    .map(|(key, value, _)| (key, value.clone()))
    .collect();
    let page = FormPage {
        errors: ctx.errors(&form.errors).in_order(&PERSON_FORM_ORDER),
        text_inputs,
        protected_inputs,
        ctx: ctx.with_section("directory"),
        id: form.id,
        version: form.version,
        unit_code: form.unit_code,
        tags: form.fields.tags.join("、"),
        fields: form.fields,
        sectors,
        conflict: form.conflict,
        duplicate_of: form.duplicate_of,
    };
    Ok(page.ctx.respond(status, page.render()?))
}

pub async fn new_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let unit_code = match actor.unit_id() {
        Some(id) => state.store.unit(actor, id).await?.code,
        None => String::new(),
    };
    let form = FormState {
        id: None,
        version: 0,
        unit_code,
        fields: PersonFields::default(),
        errors: Vec::new(),
        conflict: Vec::new(),
        duplicate_of: None,
    };
    render_form(&state, ctx, actor, StatusCode::OK, form).await
}

/// Validates a submitted form and resolves its unit code; refused fields come back listed.
async fn parse_submission(
    state: &AppState,
    actor: &Actor,
    raw: &RawForm,
) -> Result<
    (
        PersonFields,
        Result<tongxin_store::PersonInput, Vec<Invalid>>,
    ),
    AppError,
> {
    let unit_code = get(raw, "unit_code");
    let unit = match state.store.unit_by_code(actor, &unit_code).await {
        Ok(unit) => Some(unit.id),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let fields = fields_from(raw, unit.unwrap_or_default());
    let mut parsed = fields.parse(state.clock.now().date());
    if unit.is_none() {
        let reason = if unit_code.trim().is_empty() {
            Reason::Required
        } else {
            Reason::NotFound
        };
        let missing = Invalid::new(Field::Unit, reason);
        parsed = match parsed {
            Ok(_) => Err(vec![missing]),
            Err(mut list) => {
                list.insert(0, missing);
                Err(list)
            }
        };
    }
    Ok((fields, parsed))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    CsrfForm(raw): CsrfForm<RawForm>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let (fields, parsed) = parse_submission(&state, actor, &raw).await?;
    let mut form = FormState {
        id: None,
        version: 0,
        unit_code: get(&raw, "unit_code"),
        fields,
        errors: Vec::new(),
        conflict: Vec::new(),
        duplicate_of: None,
    };
    match parsed {
        Ok(person) => match state
            .store
            .create_person(actor, state.clock.now(), person)
            .await
        {
            Ok(created) => return Ok(after(created.id, "created")),
            Err(StoreError::Invalid(i)) => form.errors.push(i),
            Err(StoreError::DuplicatePerson { existing }) => {
                form.errors
                    .push(Invalid::new(Field::IdNumber, Reason::Taken));
                form.duplicate_of = existing;
            }
            Err(e) => return Err(e.into()),
        },
        Err(invalid) => form.errors = invalid,
    }
    render_form(&state, ctx, actor, StatusCode::UNPROCESSABLE_ENTITY, form).await
}

pub async fn edit_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let person = state
        .store
        .read_person(actor, state.clock.now(), id)
        .await?;
    let unit_code = state.store.unit(actor, person.unit_id).await?.code;
    let fields = PersonFields {
        unit_id: person.unit_id,
        name: person.name.clone(),
        gender: person
            .gender
            .map(|g| g.as_str().to_owned())
            .unwrap_or_default(),
        birth_date: person.birth_date.clone().unwrap_or_default(),
        education: person.education.clone().unwrap_or_default(),
        occupation: person.occupation.clone().unwrap_or_default(),
        title: person.title.clone().unwrap_or_default(),
        employer: person.employer.clone().unwrap_or_default(),
        political_affiliation: person.political_affiliation.clone().unwrap_or_default(),
        address: person.address.clone().unwrap_or_default(),
        notes: person.notes.clone().unwrap_or_default(),
        sectors: person
            .sectors
            .iter()
            .map(|s| MembershipFields {
                sector_id: s.sector_id,
                role: s.role.clone().unwrap_or_default(),
                since: s.since.clone().unwrap_or_default(),
                values: s
                    .values
                    .iter()
                    .map(|v| (v.key.clone(), v.value.clone()))
                    .collect(),
            })
            .collect(),
        tags: person.tags.clone(),
        // Protected values are not put in the page: left empty, they stay as they are.
        ..PersonFields::default()
    };
    let form = FormState {
        id: Some(id),
        version: person.version,
        unit_code,
        fields,
        errors: Vec::new(),
        conflict: Vec::new(),
        duplicate_of: None,
    };
    render_form(&state, ctx, actor, StatusCode::OK, form).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    IdPath(id): IdPath,
    CsrfForm(raw): CsrfForm<RawForm>,
) -> Result<Response, AppError> {
    let actor = &auth.actor;
    let current = state.store.person(actor, id).await?;
    let version: i32 = get(&raw, "version").parse().unwrap_or_default();
    let (fields, parsed) = parse_submission(&state, actor, &raw).await?;
    let mut form = FormState {
        id: Some(id),
        version,
        unit_code: get(&raw, "unit_code"),
        fields,
        errors: Vec::new(),
        conflict: Vec::new(),
        duplicate_of: None,
    };
    match parsed {
        Ok(mut person) => {
            // The page never shows protected values, so leaving one empty keeps it.
            person.keep_unset_protected = true;
            person.clear_protected = SensitiveField::ALL
                .into_iter()
                .filter(|f| raw.contains_key(&format!("clear_{}", f.key())))
                .collect();
            let result = state
                .store
                .update_person(actor, state.clock.now(), id, version, person)
                .await;
            match result {
                Ok(_) => return Ok(after(id, "saved")),
                Err(StoreError::Conflict { changes }) => {
                    // Saving again now is a deliberate overwrite of what is shown.
                    form.version = current.version;
                    form.conflict = changes;
                }
                Err(StoreError::Invalid(i)) => form.errors.push(i),
                Err(StoreError::DuplicatePerson { existing }) => {
                    form.errors
                        .push(Invalid::new(Field::IdNumber, Reason::Taken));
                    form.duplicate_of = existing;
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(invalid) => form.errors = invalid,
    }
    let status = if form.conflict.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::CONFLICT
    };
    render_form(&state, ctx, actor, status, form).await
}
