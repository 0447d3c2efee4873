//! Who read a person's record, shown to the person: every view of the record by staff, every
//! reveal of a protected field and every export holding the person's row, with the reading
//! account, its unit and the time.
//!
//! The log is its own append-only table, not the audit chain: a view is one plain insert that
//! never waits for the chain's head, so reading a record stays cheap. Reveals and exports are
//! also in the audit log, where the auditor reads them.

use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use sea_orm::{ColumnTrait, QuerySelect};
use tongxin_core::Timestamp;

use crate::Store;
use crate::access::{self, Actor};
use crate::directory::people::PersonView;
use crate::entity::person_access;
use crate::error::Result;
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

/// Records that `actor` did `kind` with the records of `people` (a person opening their own
/// record is not recorded). Plain inserts, in `conn`'s transaction if it is one.
pub(crate) async fn record<C: ConnectionTrait>(
    conn: &C,
    now: Timestamp,
    actor: &Actor,
    kind: AccessKind,
    people: &[i64],
    detail: Option<&str>,
) -> Result<()> {
    let rows: Vec<person_access::ActiveModel> = people
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
        .collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        person_access::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(conn)
            .await?;
    }
    Ok(())
}

impl Store {
    /// A person's record, opened by staff: the read is recorded for the person to see.
    pub async fn read_person(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<PersonView> {
        let view = self.person(actor, id).await?;
        record(&self.db, now, actor, AccessKind::View, &[id], None).await?;
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
