//! Moving a case along its workflow, and the work beside the workflow: replies and internal
//! notes, files, requests to extend the due date, similar open cases.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde_json::json;
use tongxin_core::{
    CaseType, Effect, Field, Invalid, Party, Reason, Role, Satisfaction, Timestamp, Workflow,
    parse_optional_text, workflow::Transition,
};

use super::outcomes;
use super::timeline::{self, Step};
use super::{CaseView, MAX_CASE_BODY_CHARS, number, parties, reference};
use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{attachment, case, case_extension, case_file, department};
use crate::error::{Result, StoreError};
use crate::notifications::{self, Recipients};

/// A step to take, with what its effect asks for.
#[derive(Debug, Clone, Default)]
pub struct CaseAction {
    pub action: String,
    /// A comment; required as the reason of a return, the text of an answer.
    pub body: Option<String>,
    /// An assignment's handling unit or outside department.
    pub unit_id: Option<i64>,
    pub department_id: Option<i64>,
    /// An assignment's due date, when not the type's default.
    pub due_on: Option<NaiveDate>,
    /// The case a merge folds this one into.
    pub merge_into: Option<i64>,
    pub satisfaction: Option<Satisfaction>,
}

/// A file brought to a case, before its bytes are checked.
#[derive(Debug, Clone)]
pub struct CaseUpload {
    pub file_name: String,
    pub bytes: Vec<u8>,
}

impl CaseUpload {
    /// The file's media type, if its bytes are what its name says (and not too large).
    pub(crate) fn media_type(&self) -> Result<&'static str> {
        Ok(tongxin_core::files::case_file_media_type(
            &self.file_name,
            &self.bytes,
        )?)
    }
}

/// A file of a case, as listed.
#[derive(Debug, Clone)]
pub struct CaseFileView {
    pub id: i64,
    pub file_name: String,
    pub size: i64,
    pub internal: bool,
}

/// A request to move a case's due date.
#[derive(Debug, Clone)]
pub struct ExtensionView {
    pub id: i64,
    pub due_on: NaiveDate,
    pub reason: String,
    pub state: String,
    pub requested_at: Timestamp,
}

/// Whether a reopening is possible: once, after the submitter was not satisfied.
fn may_reopen(case: &case::Model) -> bool {
    case.reopened == 0 && case.satisfaction.as_deref() == Some(Satisfaction::NotSatisfied.as_str())
}

/// The transitions the parties may take from the case's state now (a workflow that passed
/// [`Workflow::check`] leaves a state by each action once).
fn open_steps<'a>(
    workflow: &'a Workflow,
    case: &'a case::Model,
    parties: &'a [Party],
) -> impl Iterator<Item = &'a Transition> + 'a {
    workflow
        .open_to(&case.state, parties)
        .filter(|t| t.effect != Effect::Reopen || may_reopen(case))
}

/// The actions the parties may take from the case's state now, with their effects.
pub(crate) fn allowed_actions(
    workflow: &Workflow,
    case: &case::Model,
    parties: &[Party],
) -> Vec<(String, Effect)> {
    open_steps(workflow, case, parties)
        .map(|t| (t.action.clone(), t.effect))
        .collect()
}

fn comment(text: Option<&str>) -> Result<Option<String>> {
    Ok(parse_optional_text(
        Field::Named("content"),
        text.unwrap_or_default(),
        MAX_CASE_BODY_CHARS,
    )?)
}

fn required(text: Option<&str>) -> Result<String> {
    comment(text)?.ok_or_else(|| Invalid::new(Field::Named("content"), Reason::Required).into())
}

/// The staff to tell of what happens to the handling of a case: the handling unit's, or the
/// receiving unit's when an outside department handles it.
fn handlers(case: &case::Model) -> Recipients {
    Recipients::StaffOf(case.handling_unit_id.unwrap_or(case.receiving_unit_id))
}

fn notice(kind: &str, case: &case::Model, link: String, to: Recipients) -> notifications::Event {
    let mut event = notifications::Event::new(
        kind,
        format!("case:{}", case.id),
        link,
        json!({
            "title": case.title,
            "number": number(case.created_at, case.id),
            "due": case.due_on,
        }),
        to,
    );
    event.unit = Some(case.receiving_unit_id);
    event
}

impl Store {
    /// Takes a step of the case's workflow. A step the workflow does not allow this actor from
    /// the current state is refused naming the steps it does allow.
    pub async fn act_on_case(
        &self,
        actor: &Actor,
        now: Timestamp,
        today: NaiveDate,
        id: i64,
        step: &CaseAction,
    ) -> Result<CaseView> {
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        let case_type = CaseType::parse(&row.case_type).ok_or_else(|| StoreError::Corrupt {
            what: format!("case {id} type"),
        })?;
        let kind = reference::load_type(&tx, case_type).await?;
        let parties = parties(actor, &row);
        let Some(transition) = open_steps(&kind.workflow, &row, &parties)
            .find(|t| t.action == step.action)
            .cloned()
        else {
            return Err(StoreError::NotAllowedNow {
                allowed: allowed_actions(&kind.workflow, &row, &parties)
                    .into_iter()
                    .map(|(action, _)| action)
                    .collect(),
            });
        };
        let from = row.state.clone();
        let mut change: case::ActiveModel = row.clone().into();
        change.state = Set(transition.to.clone());
        change.updated_at = Set(now.micros());
        change.closed_at = Set(kind.workflow.is_end(&transition.to).then_some(now.micros()));
        let mut detail = json!({});
        let body: Option<String>;
        let mut events = Vec::new();
        match transition.effect {
            Effect::None => body = comment(step.body.as_deref())?,
            Effect::Return => {
                body = Some(required(step.body.as_deref())?);
                events.push(notice(
                    "case.returned",
                    &row,
                    format!("/my-submissions/{id}"),
                    Recipients::People(vec![row.submitter_id]),
                ));
            }
            Effect::Merge => {
                body = comment(step.body.as_deref())?;
                let target = self.merge_target(&tx, actor, &row, step.merge_into).await?;
                change.merged_into = Set(Some(target.id));
                detail =
                    json!({ "into": target.id, "number": number(target.created_at, target.id) });
                timeline::record(
                    &tx,
                    now,
                    actor,
                    &target,
                    Step::new("merged_from").detail(
                        json!({ "case": row.id, "number": number(row.created_at, row.id) }),
                    ),
                )
                .await?;
            }
            Effect::Assign => {
                body = comment(step.body.as_deref())?;
                let due = match step.due_on {
                    Some(due) => {
                        let submitted = tongxin_core::TimeZone::SHANGHAI
                            .date_of(Timestamp::from_micros(row.created_at));
                        if due < submitted {
                            return Err(Invalid::new(
                                Field::Named("due_on"),
                                Reason::DueBeforeSubmission,
                            )
                            .into());
                        }
                        due
                    }
                    None => reference::load_calendar(&tx)
                        .await?
                        .add_working_days(today, kind.default_days)
                        .ok_or_else(|| Invalid::new(Field::Named("due_on"), Reason::OutOfRange))?,
                };
                match (step.unit_id, step.department_id) {
                    (Some(unit_id), None) => {
                        let unit = filing_unit(&tx, actor, unit_id, Field::Unit).await?;
                        change.handling_unit_id = Set(Some(unit.id));
                        change.handling_unit_path = Set(Some(unit.path.clone()));
                        change.department_id = Set(None);
                        detail = json!({ "unit": unit.name, "due_on": due.to_string() });
                    }
                    (None, Some(department_id)) => {
                        let department = access::visible::<department::Entity>(actor)
                            .filter(department::Column::Id.eq(department_id))
                            .filter(department::Column::ArchivedAt.is_null())
                            .one(&tx)
                            .await?
                            .ok_or_else(|| {
                                Invalid::new(Field::Named("department"), Reason::NotFound)
                            })?;
                        change.handling_unit_id = Set(None);
                        change.handling_unit_path = Set(None);
                        change.department_id = Set(Some(department.id));
                        detail =
                            json!({ "department": department.name, "due_on": due.to_string() });
                    }
                    (Some(_), Some(_)) => {
                        return Err(
                            Invalid::new(Field::Named("department"), Reason::NotAChoice).into()
                        );
                    }
                    (None, None) => {
                        return Err(Invalid::new(Field::Unit, Reason::Required).into());
                    }
                }
                change.due_on = Set(Some(due.to_string()));
                change.assigned_at = Set(Some(now.micros()));
                change.overdue_at = Set(None);
                change.reminded_for = Set(None);
            }
            Effect::Answer => {
                let answer = required(step.body.as_deref())?;
                outcomes::require_plan_done(&tx, id, false).await?;
                let submitted = tongxin_core::TimeZone::SHANGHAI
                    .date_of(Timestamp::from_micros(row.created_at));
                let (days, on_time) = reference::load_calendar(&tx).await?.answer_figures(
                    submitted,
                    today,
                    super::due_date(row.due_on.as_deref()),
                );
                change.answer = Set(Some(answer.clone()));
                change.answered_at = Set(Some(now.micros()));
                change.answer_days = Set(Some(days));
                change.answered_on_time = Set(on_time);
                body = Some(answer);
                events.push(notice(
                    "case.answered",
                    &row,
                    format!("/my-submissions/{id}"),
                    Recipients::People(vec![row.submitter_id]),
                ));
            }
            Effect::Rate => {
                let satisfaction = step
                    .satisfaction
                    .ok_or_else(|| Invalid::new(Field::Named("satisfaction"), Reason::Required))?;
                change.satisfaction = Set(Some(satisfaction.as_str().to_owned()));
                body = comment(step.body.as_deref())?;
                detail = json!({ "satisfaction": satisfaction.as_str() });
            }
            Effect::Plan => {
                body = comment(step.body.as_deref())?;
                outcomes::require_plan(&tx, id).await?;
            }
            Effect::Verify => {
                body = comment(step.body.as_deref())?;
                outcomes::require_plan_done(&tx, id, true).await?;
            }
            Effect::Reopen => {
                body = comment(step.body.as_deref())?;
                let due = reference::load_calendar(&tx)
                    .await?
                    .add_working_days(today, kind.default_days)
                    .ok_or_else(|| Invalid::new(Field::Named("due_on"), Reason::OutOfRange))?;
                change.reopened = Set(row.reopened + 1);
                change.answered_at = Set(None);
                change.answer_days = Set(None);
                change.answered_on_time = Set(None);
                change.satisfaction = Set(None);
                change.due_on = Set(Some(due.to_string()));
                change.overdue_at = Set(None);
                change.reminded_for = Set(None);
                detail = json!({ "due_on": due.to_string() });
            }
        }
        let updated = change.update(&tx).await?;
        if transition.effect == Effect::Assign {
            events.push(notice(
                "case.assigned",
                &updated,
                format!("/cases/{id}"),
                handlers(&updated),
            ));
        }
        timeline::record(
            &tx,
            now,
            actor,
            &updated,
            Step::new(&transition.action)
                .from(&from)
                .to(&transition.to)
                .body(body)
                .detail(detail),
        )
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("case.transition")
                .target("case", id, &updated.title)
                .unit(&updated.receiving_unit_path)
                .detail(json!({ "action": transition.action, "from": from, "to": transition.to })),
        )
        .await?;
        for event in &events {
            notifications::raise(&tx, now, event).await?;
        }
        tx.commit().await?;
        self.case(actor, today, id).await
    }

    /// The open case of the same type a merge folds `case` into.
    async fn merge_target<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        case: &case::Model,
        into: Option<i64>,
    ) -> Result<case::Model> {
        let field = Field::Named("merge_into");
        let into = into.ok_or_else(|| Invalid::new(field, Reason::Required))?;
        if into == case.id {
            return Err(Invalid::new(field, Reason::Repeated).into());
        }
        let target = match access::find::<case::Entity, _>(conn, actor, into).await {
            Err(StoreError::NotFound) => return Err(Invalid::new(field, Reason::NotFound).into()),
            other => other?,
        };
        if target.case_type != case.case_type || target.closed_at.is_some() {
            return Err(Invalid::new(field, Reason::WrongState).into());
        }
        Ok(target)
    }

    /// A reply (shown to the submitter) or an internal note (staff only) on a case not yet
    /// ended. Members reply to their own cases; staff who may change the case write either.
    pub async fn write_on_case(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        text: &str,
        internal: bool,
    ) -> Result<i64> {
        if internal && !matches!(actor.role(), Role::Admin | Role::Staff) {
            return Err(StoreError::Forbidden);
        }
        let body = required(Some(text))?;
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        if row.closed_at.is_some() {
            return Err(Invalid::new(Field::Named("content"), Reason::WrongState).into());
        }
        let step = Step::new(if internal { "note" } else { "reply" }).body(Some(body));
        let event = timeline::record(
            &tx,
            now,
            actor,
            &row,
            if internal { step.internal() } else { step },
        )
        .await?;
        let mut change: case::ActiveModel = row.clone().into();
        change.updated_at = Set(now.micros());
        change.update(&tx).await?;
        tx.commit().await?;
        Ok(event.id)
    }

    /// Attaches a file to a case (an internal one only for the staff side).
    pub async fn add_case_file(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        file: &CaseUpload,
        internal: bool,
    ) -> Result<i64> {
        if internal && !matches!(actor.role(), Role::Admin | Role::Staff) {
            return Err(StoreError::Forbidden);
        }
        let media_type = file.media_type()?;
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        if row.closed_at.is_some() {
            return Err(Invalid::new(Field::Named("file"), Reason::WrongState).into());
        }
        let file_id = self
            .attach(&tx, now, actor, &row, file, media_type, internal)
            .await?;
        tx.commit().await?;
        Ok(file_id)
    }

    /// Stores `file` as one of the case's files and enters it in the timeline, in the
    /// transaction `conn` of the change that brings it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn attach<C: ConnectionTrait>(
        &self,
        conn: &C,
        now: Timestamp,
        actor: &Actor,
        row: &case::Model,
        file: &CaseUpload,
        media_type: &str,
        internal: bool,
    ) -> Result<i64> {
        let attachment_id = self
            .store_attachment(conn, now, media_type, &file.bytes)
            .await?;
        let name: String = file.file_name.chars().take(200).collect();
        let stored = case_file::ActiveModel {
            case_id: Set(row.id),
            attachment_id: Set(attachment_id),
            file_name: Set(name.clone()),
            internal: Set(internal),
            created_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
        let step = Step::new("file").detail(json!({ "file": name, "id": stored.id }));
        timeline::record(
            conn,
            now,
            actor,
            row,
            if internal { step.internal() } else { step },
        )
        .await?;
        Ok(stored.id)
    }

    /// The files of a case the reader reached; members see no internal one.
    pub(crate) async fn files_of(&self, actor: &Actor, id: i64) -> Result<Vec<CaseFileView>> {
        let mut files = access::unguarded::<case_file::Entity>(Unguarded::PartsOf)
            .filter(case_file::Column::CaseId.eq(id));
        if actor.role() == Role::Member {
            files = files.filter(case_file::Column::Internal.eq(false));
        }
        let files = files
            .order_by_asc(case_file::Column::Id)
            .all(&self.db)
            .await?;
        let sizes: HashMap<i64, i64> = access::unguarded::<attachment::Entity>(Unguarded::PartsOf)
            .select_only()
            .column(attachment::Column::Id)
            .column(attachment::Column::Size)
            .filter(attachment::Column::Id.is_in(files.iter().map(|f| f.attachment_id)))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(files
            .into_iter()
            .map(|f| CaseFileView {
                id: f.id,
                size: sizes.get(&f.attachment_id).copied().unwrap_or(0),
                file_name: f.file_name,
                internal: f.internal,
            })
            .collect())
    }

    /// One file's name, media type and bytes.
    pub async fn case_file(
        &self,
        actor: &Actor,
        id: i64,
        file_id: i64,
    ) -> Result<(String, String, Vec<u8>)> {
        access::find::<case::Entity, _>(&self.db, actor, id).await?;
        let file = access::unguarded_by_id::<case_file::Entity>(Unguarded::PartsOf, file_id)
            .filter(case_file::Column::CaseId.eq(id))
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        if file.internal && actor.role() == Role::Member {
            return Err(StoreError::NotFound);
        }
        let bytes =
            access::unguarded_by_id::<attachment::Entity>(Unguarded::PartsOf, file.attachment_id)
                .one(&self.db)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok((file.file_name, bytes.media_type, bytes.bytes))
    }

    /// The handler asks for a later due date; the receiving unit (or one above) decides.
    pub async fn request_extension(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        due_on: NaiveDate,
        reason: &str,
    ) -> Result<ExtensionView> {
        let reason = required(Some(reason))?;
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        if !parties(actor, &row).contains(&Party::Handling)
            || row.closed_at.is_some()
            || row.answered_at.is_some()
        {
            return Err(StoreError::NotAllowedNow {
                allowed: Vec::new(),
            });
        }
        let current = super::due_date(row.due_on.as_deref());
        if current.is_none_or(|c| due_on <= c) {
            return Err(Invalid::new(Field::Named("due_on"), Reason::OutOfRange).into());
        }
        let pending = access::unguarded::<case_extension::Entity>(Unguarded::PartsOf)
            .filter(case_extension::Column::CaseId.eq(id))
            .filter(case_extension::Column::State.eq("pending"))
            .one(&tx)
            .await?;
        if pending.is_some() {
            return Err(Invalid::new(Field::Named("due_on"), Reason::AlreadyDecided).into());
        }
        let request = case_extension::ActiveModel {
            case_id: Set(id),
            requested_by: Set(actor.user_id().ok_or(StoreError::Forbidden)?),
            requested_at: Set(now.micros()),
            due_on: Set(due_on.to_string()),
            reason: Set(reason.clone()),
            state: Set("pending".to_owned()),
            decided_by: Set(None),
            decided_at: Set(None),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        timeline::record(
            &tx,
            now,
            actor,
            &row,
            Step::new("extension_requested")
                .body(Some(reason))
                .internal()
                .detail(json!({ "due_on": due_on.to_string(), "request": request.id })),
        )
        .await?;
        notifications::raise(
            &tx,
            now,
            &notice(
                "case.extension",
                &row,
                format!("/cases/{id}"),
                Recipients::StaffOf(row.receiving_unit_id),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(extension_view(request))
    }

    /// Approves or rejects the pending request to extend a case's due date.
    pub async fn decide_extension(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        request_id: i64,
        approve: bool,
    ) -> Result<ExtensionView> {
        let tx = self.begin_write().await?;
        let row = access::find_to_change::<case::Entity, _>(&tx, actor, id).await?;
        let parties = parties(actor, &row);
        if !parties.contains(&Party::Receiving) && !parties.contains(&Party::Above) {
            return Err(StoreError::Forbidden);
        }
        let request =
            access::unguarded_by_id::<case_extension::Entity>(Unguarded::PartsOf, request_id)
                .filter(case_extension::Column::CaseId.eq(id))
                .one(&tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        if request.state != "pending" {
            return Err(Invalid::new(Field::Named("request"), Reason::AlreadyDecided).into());
        }
        let due_on = request.due_on.clone();
        let mut decided: case_extension::ActiveModel = request.into();
        decided.state = Set(if approve { "approved" } else { "rejected" }.to_owned());
        decided.decided_by = Set(actor.user_id());
        decided.decided_at = Set(Some(now.micros()));
        let decided = decided.update(&tx).await?;
        if approve {
            let mut change: case::ActiveModel = row.clone().into();
            change.due_on = Set(Some(due_on.clone()));
            change.overdue_at = Set(None);
            change.reminded_for = Set(None);
            change.updated_at = Set(now.micros());
            change.update(&tx).await?;
        }
        timeline::record(
            &tx,
            now,
            actor,
            &row,
            Step::new(if approve {
                "extension_approved"
            } else {
                "extension_rejected"
            })
            .internal()
            .detail(json!({ "due_on": due_on })),
        )
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("case.extension")
                .target("case", id, &row.title)
                .unit(&row.receiving_unit_path)
                .detail(json!({ "approved": approve, "due_on": due_on })),
        )
        .await?;
        tx.commit().await?;
        Ok(extension_view(decided))
    }

    /// The requests to extend the due date of a case the reader reached, for the staff side.
    pub(crate) async fn extensions_of(&self, actor: &Actor, id: i64) -> Result<Vec<ExtensionView>> {
        if actor.role() == Role::Member {
            return Ok(Vec::new());
        }
        Ok(
            access::unguarded::<case_extension::Entity>(Unguarded::PartsOf)
                .filter(case_extension::Column::CaseId.eq(id))
                .order_by_asc(case_extension::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(extension_view)
                .collect(),
        )
    }

    /// Open cases like this one (same type and category, similar title) that the reader may
    /// see, most alike first: candidates to merge.
    pub async fn similar_cases(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<Vec<(i64, String, String, f64)>> {
        let row = access::find::<case::Entity, _>(&self.db, actor, id).await?;
        if actor.role() == Role::Member {
            return Ok(Vec::new());
        }
        let candidates = access::visible::<case::Entity>(actor)
            .filter(case::Column::CaseType.eq(&row.case_type))
            .filter(case::Column::Category.eq(&row.category))
            .filter(case::Column::ClosedAt.is_null())
            .filter(case::Column::Id.ne(id))
            .order_by_desc(case::Column::Id)
            .limit(SIMILAR_CANDIDATES)
            .all(&self.db)
            .await?;
        let mut found: Vec<(i64, String, String, f64)> = candidates
            .into_iter()
            .map(|c| {
                let score = likeness(&row.title, &c.title);
                (c.id, number(c.created_at, c.id), c.title, score)
            })
            .filter(|(.., score)| *score >= SIMILAR_THRESHOLD)
            .collect();
        found.sort_by(|a, b| b.3.total_cmp(&a.3));
        found.truncate(SIMILAR_SHOWN);
        Ok(found)
    }
}

/// Open cases of one type and category compared for likeness: the most recent this many.
const SIMILAR_CANDIDATES: u64 = 500;
/// Shared character pairs (Dice) from which two titles count as alike.
const SIMILAR_THRESHOLD: f64 = 0.4;
const SIMILAR_SHOWN: usize = 5;

/// How alike two titles are: the Dice coefficient of their character bigrams (Chinese titles
/// have no spaces to split words at; bigrams carry most of their meaning).
fn likeness(a: &str, b: &str) -> f64 {
    fn bigrams(text: &str) -> BTreeSet<(char, char)> {
        let chars: Vec<char> = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        chars.windows(2).map(|w| (w[0], w[1])).collect()
    }
    let (a, b) = (bigrams(a), bigrams(b));
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.intersection(&b).count() as f64;
    2.0 * shared / (a.len() + b.len()) as f64
}

fn extension_view(row: case_extension::Model) -> ExtensionView {
    ExtensionView {
        id: row.id,
        due_on: NaiveDate::parse_from_str(&row.due_on, "%Y-%m-%d").unwrap_or_default(),
        reason: row.reason,
        state: row.state,
        requested_at: Timestamp::from_micros(row.requested_at),
    }
}

/// The staff of the handling side and of the receiving unit, told of a deadline.
pub(crate) fn deadline_notices(kind: &str, case: &case::Model) -> Vec<notifications::Event> {
    let mut told = vec![notice(
        kind,
        case,
        format!("/cases/{}", case.id),
        handlers(case),
    )];
    if case.handling_unit_id.is_some() {
        told.push(notice(
            kind,
            case,
            format!("/cases/{}", case.id),
            Recipients::StaffOf(case.receiving_unit_id),
        ));
    }
    told
}

#[cfg(test)]
mod tests {
    use super::likeness;

    #[test]
    fn titles_alike_by_shared_pairs() {
        assert!(likeness("关于加强老旧小区改造的建议", "关于老旧小区改造的建议") > 0.7);
        assert!(likeness("关于加强老旧小区改造的建议", "发展乡村旅游") < 0.2);
        assert_eq!(likeness("", "x"), 0.0);
    }
}
