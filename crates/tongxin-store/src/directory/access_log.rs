//! Who read a person's record, shown to the person: every view of the record by staff, every
//! reveal of a protected field and every export holding the person's row, with the reading
//! account, its unit and the time.
//!
//! The log is its own append-only table, not the audit chain: a view is a plain insert that
//! never waits for the chain's head. Views are written in group commits: each reader waits
//! until its row is committed (none is lost), but the readers of one moment share a single
//! transaction, so they do not queue one by one for the write lock. Reveals and exports are
//! written in their own transaction, and are also in the audit log, where the auditor reads
//! them.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sea_orm::{ColumnTrait, DatabaseConnection, QuerySelect};
use tokio::sync::{mpsc, oneshot};
use tongxin_core::Timestamp;

use crate::Store;
use crate::access::{self, Actor};
use crate::db::begin_write;
use crate::directory::people::PersonView;
use crate::entity::person_access;
use crate::error::{Result, StoreError};
use crate::page::{Page, PageRequest, capped_count};

/// How far back a person sees who read their record, in days; rows are kept at least as long.
pub const ACCESS_SHOWN_DAYS: i64 = 180;

/// Rows per insert statement when an export records its people.
const INSERT_CHUNK: usize = 500;

/// What was done with the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessKind {
    /// The record was opened (its page, its API answer, a comparison, its edit form).
    View,
    /// A protected field was revealed; the detail names the field.
    Reveal,
    /// The person's row left in an export, protected fields masked.
    Export,
    /// The person's row left in an export with protected fields in clear; the detail is the
    /// purpose stated.
    ExportClear,
}

impl AccessKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessKind::View => "view",
            AccessKind::Reveal => "reveal",
            AccessKind::Export => "export",
            AccessKind::ExportClear => "export_clear",
        }
    }

    fn parse(stored: &str) -> AccessKind {
        match stored {
            "reveal" => AccessKind::Reveal,
            "export" => AccessKind::Export,
            "export_clear" => AccessKind::ExportClear,
            _ => AccessKind::View,
        }
    }
}

/// One read as the person sees it.
#[derive(Debug, Clone)]
pub struct AccessEntry {
    pub id: i64,
    pub at: Timestamp,
    pub kind: AccessKind,
    /// Done on the server's command line, not by an account.
    pub from_command_line: bool,
    pub account_name: String,
    pub display_name: String,
    pub unit_name: String,
    pub detail: Option<String>,
}

/// The rows recording that `actor` did `kind` with the records of `people` (a person opening
/// their own record is not recorded).
fn rows_for(
    now: Timestamp,
    actor: &Actor,
    kind: AccessKind,
    people: &[i64],
    detail: Option<&str>,
) -> Vec<person_access::ActiveModel> {
    people
        .iter()
        .filter(|id| actor.person_id() != Some(**id))
        .map(|id| person_access::ActiveModel {
            person_id: Set(*id),
            at: Set(now.micros()),
            kind: Set(kind.as_str().to_owned()),
            account_id: Set(actor.user_id()),
            account_name: Set(actor.username().to_owned()),
            display_name: Set(actor.display_name().to_owned()),
            unit_name: Set(actor.unit_name().to_owned()),
            detail: Set(detail.map(str::to_owned)),
            ..Default::default()
        })
        .collect()
}

/// Records that `actor` did `kind` with the records of `people`, in `conn`'s transaction if
/// it is one.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    now: Timestamp,
    actor: &Actor,
    kind: AccessKind,
    people: &[i64],
    detail: Option<&str>,
) -> Result<()> {
    insert(conn, rows_for(now, actor, kind, people, detail)).await
}

async fn insert<C: ConnectionTrait>(conn: &C, rows: Vec<person_access::ActiveModel>) -> Result<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        person_access::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

/// Rows of views waiting to be written, and the reader waiting for them.
struct PendingViews {
    rows: Vec<person_access::ActiveModel>,
    written: oneshot::Sender<std::result::Result<(), Failure>>,
}

/// Why a group of views was not written, told to each of its readers.
#[derive(Debug, Clone)]
enum Failure {
    Busy,
    Other(String),
}

/// Views taken into one commit at most; more wait for the next.
const VIEWS_PER_COMMIT: usize = 1_000;

/// The writer of views (see the module's documentation): one task that takes every view
/// queued meanwhile into one transaction.
#[derive(Clone)]
pub(crate) struct ViewLog {
    queue: mpsc::Sender<PendingViews>,
}

impl ViewLog {
    /// Starts the writer on `db`; it stops when the last handle is dropped.
    pub(crate) fn start(db: DatabaseConnection) -> ViewLog {
        let (queue, mut waiting) = mpsc::channel::<PendingViews>(VIEWS_PER_COMMIT);
        tokio::spawn(async move {
            while let Some(first) = waiting.recv().await {
                let mut group = vec![first];
                while group.len() < VIEWS_PER_COMMIT {
                    match waiting.try_recv() {
                        Ok(next) => group.push(next),
                        Err(_) => break,
                    }
                }
                let rows = group.iter().flat_map(|p| p.rows.iter().cloned()).collect();
                let outcome = match write_group(&db, rows).await {
                    Ok(()) => Ok(()),
                    Err(StoreError::Busy) => Err(Failure::Busy),
                    Err(other) => Err(Failure::Other(other.to_string())),
                };
                for pending in group {
                    let _ = pending.written.send(outcome.clone());
                }
            }
        });
        ViewLog { queue }
    }

    /// Records views, returning once they are committed.
    async fn record(&self, rows: Vec<person_access::ActiveModel>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let stopped = || StoreError::AccessLog("the writer has stopped".to_owned());
        let (written, outcome) = oneshot::channel();
        self.queue
            .send(PendingViews { rows, written })
            .await
            .map_err(|_| stopped())?;
        match outcome.await.map_err(|_| stopped())? {
            Ok(()) => Ok(()),
            Err(Failure::Busy) => Err(StoreError::Busy),
            Err(Failure::Other(message)) => Err(StoreError::AccessLog(message)),
        }
    }
}

async fn write_group(db: &DatabaseConnection, rows: Vec<person_access::ActiveModel>) -> Result<()> {
    let tx = begin_write(db).await?;
    insert(&tx, rows).await?;
    tx.commit().await?;
    Ok(())
}

impl Store {
    /// A person's record, opened by staff: the read is recorded for the person to see.
    pub async fn read_person(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<PersonView> {
        let view = self.person(actor, id).await?;
        self.views
            .record(rows_for(now, actor, AccessKind::View, &[id], None))
            .await?;
        Ok(view)
    }

    /// Who read the member's own record in the last [`ACCESS_SHOWN_DAYS`] days, newest first.
    pub async fn own_record_access(
        &self,
        actor: &Actor,
        now: Timestamp,
        page: PageRequest,
    ) -> Result<Page<AccessEntry>> {
        // The member must have a linked record; anyone else is refused as for "My record".
        let person = self.own_person(&self.db, actor).await?;
        let since = now.plus_minutes(-ACCESS_SHOWN_DAYS * 24 * 60).micros();
        let select = access::visible::<person_access::Entity>(actor)
            .filter(person_access::Column::PersonId.eq(person.id))
            .filter(person_access::Column::At.gte(since));
        let total = capped_count(select.clone(), &self.db).await?;
        let items = select
            .order_by_desc(person_access::Column::At)
            .order_by_desc(person_access::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?
            .into_iter()
            .map(|row| AccessEntry {
                id: row.id,
                at: Timestamp::from_micros(row.at),
                kind: AccessKind::parse(&row.kind),
                from_command_line: row.account_id.is_none(),
                account_name: row.account_name,
                display_name: row.display_name,
                unit_name: row.unit_name,
                detail: row.detail,
            })
            .collect();
        Ok(Page::new(items, total, page))
    }
}
