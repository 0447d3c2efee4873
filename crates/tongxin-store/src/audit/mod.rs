//! The append-only, hash-chained audit log.
//!
//! Each row's hash is HMAC-SM3, under a key kept outside the database, over its own fields and
//! the previous row's hash: altering or removing any row breaks the chain from that row on, and
//! someone with the database but not the key cannot hash rewritten rows again. The
//! `audit_head` row records the end of the chain, so removing the newest rows is caught too
//! ([`crate::Store::check`]). Chains written before the key (plain SM3) are verified and keyed
//! once when the store opens ([`crate::Store::key_audit_chain`]).

pub(crate) mod archive;
pub(crate) mod keying;

pub(crate) mod check;
pub(crate) mod export;

use std::collections::HashMap;

use hmac::Mac;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement,
};
use sm3::digest::Update;
use sm3::{Digest, Sm3};
use tongxin_core::{Timestamp, UnitPath};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::crypto::FieldKeys;
use crate::entity::{audit_entry, audit_head, unit};
use crate::error::{Result, StoreError};
use crate::like;
use crate::page::{Page, PageRequest, Total, capped_count, through_key, with_index};

/// The `prev_hash` of the first row.
pub(crate) const GENESIS_HASH: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// Something that happened, to be appended to the log.
pub(crate) struct Event {
    pub action: &'static str,
    pub target_kind: Option<&'static str>,
    pub target_id: Option<i64>,
    pub target_label: Option<String>,
    /// The unit the event concerns; decides which administrators can read the row.
    pub unit_path: Option<String>,
    pub detail: serde_json::Value,
}

impl Event {
    pub fn new(action: &'static str) -> Self {
        Event {
            action,
            target_kind: None,
            target_id: None,
            target_label: None,
            unit_path: None,
            detail: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    pub fn target(mut self, kind: &'static str, id: i64, label: impl Into<String>) -> Self {
        self.target_kind = Some(kind);
        self.target_id = Some(id);
        self.target_label = Some(label.into());
        self
    }

    pub fn unit(mut self, path: &str) -> Self {
        self.unit_path = Some(path.to_owned());
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// Appends `event` inside the caller's transaction, so the record and its audit row commit or
/// roll back together.
pub(crate) async fn append<C: ConnectionTrait>(
    conn: &C,
    keys: &FieldKeys,
    at: Timestamp,
    actor: &Actor,
    event: Event,
) -> Result<()> {
    // Writing the head first takes its row lock (PostgreSQL) or the write lock (SQLite), so
    // concurrent appenders line up instead of forking the chain.
    access::update_rows::<audit_head::Entity>(Unguarded::AuditChain)
        .col_expr(
            audit_head::Column::Seq,
            Expr::col(audit_head::Column::Seq).add(1),
        )
        .filter(audit_head::Column::Id.eq(1))
        .exec(conn)
        .await?;
    let head = access::unguarded_by_id::<audit_head::Entity>(Unguarded::AuditChain, 1i16)
        .one(conn)
        .await?
        .ok_or_else(|| StoreError::Db(sea_orm::DbErr::RecordNotFound("audit_head".into())))?;

    let mut row = audit_entry::Model {
        seq: head.seq,
        at: at.micros(),
        actor_id: actor.user_id(),
        actor_name: actor.username().to_owned(),
        action: event.action.to_owned(),
        target_kind: event.target_kind.map(str::to_owned),
        target_id: event.target_id,
        target_label: event.target_label,
        unit_path: event.unit_path,
        ip: actor.ip().map(str::to_owned),
        detail: event.detail.to_string(),
        prev_hash: head.hash,
        hash: String::new(),
    };
    row.hash = row_hash(keys, &row);

    access::update_rows::<audit_head::Entity>(Unguarded::AuditChain)
        .col_expr(audit_head::Column::Hash, Expr::value(row.hash.clone()))
        .filter(audit_head::Column::Id.eq(1))
        .exec(conn)
        .await?;
    audit_entry::Entity::insert(active(row))
        .exec_without_returning(conn)
        .await?;
    Ok(())
}

fn active(row: audit_entry::Model) -> audit_entry::ActiveModel {
    audit_entry::ActiveModel {
        seq: Set(row.seq),
        at: Set(row.at),
        actor_id: Set(row.actor_id),
        actor_name: Set(row.actor_name),
        action: Set(row.action),
        target_kind: Set(row.target_kind),
        target_id: Set(row.target_id),
        target_label: Set(row.target_label),
        unit_path: Set(row.unit_path),
        ip: Set(row.ip),
        detail: Set(row.detail),
        prev_hash: Set(row.prev_hash),
        hash: Set(row.hash),
    }
}

/// The keyed hash of a row: HMAC-SM3 over every field but `hash`.
pub(crate) fn row_hash(keys: &FieldKeys, row: &audit_entry::Model) -> String {
    let mut mac = keys.audit_mac();
    encode_row(&mut mac, row);
    hex::encode(mac.finalize().into_bytes())
}

/// The hash rows had before the chain was keyed: plain SM3 over the same encoding.
pub(crate) fn legacy_row_hash(row: &audit_entry::Model) -> String {
    let mut h = Sm3::new();
    encode_row(&mut h, row);
    hex::encode(h.finalize())
}

/// Feeds every field but `hash` to `h`, each length-prefixed so no two rows encode alike.
fn encode_row(h: &mut impl Update, row: &audit_entry::Model) {
    fn text(h: &mut impl Update, value: Option<&str>) {
        match value {
            None => h.update(&[0u8]),
            Some(s) => {
                h.update(&[1u8]);
                h.update(&(s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    fn number(h: &mut impl Update, value: Option<i64>) {
        match value {
            None => h.update(&[0u8]),
            Some(n) => {
                h.update(&[1u8]);
                h.update(&n.to_be_bytes());
            }
        }
    }
    number(h, Some(row.seq));
    number(h, Some(row.at));
    number(h, row.actor_id);
    text(h, Some(&row.actor_name));
    text(h, Some(&row.action));
    text(h, row.target_kind.as_deref());
    number(h, row.target_id);
    text(h, row.target_label.as_deref());
    text(h, row.unit_path.as_deref());
    text(h, row.ip.as_deref());
    text(h, Some(&row.detail));
    text(h, Some(&row.prev_hash));
}

/// One row of the audit log as shown to an administrator.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_name: String,
    pub action: String,
    pub target_kind: Option<String>,
    pub target_id: Option<i64>,
    pub target_label: Option<String>,
    /// The unit the event concerns, as it is named now.
    pub unit: Option<(i64, String)>,
    pub ip: Option<String>,
    pub detail: String,
    /// The row's keyed hash, which `tongxin check` verifies.
    pub hash: String,
}

/// Filters for the audit log.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only rows whose action starts with this (e.g. `login`, `unit.`).
    pub action: Option<String>,
    /// Only rows by this actor name.
    pub actor: Option<String>,
}

impl Store {
    /// Appends one audit row in a transaction of its own, for events whose work was refused
    /// and rolled back (a failed login, an answer that revealed something).
    pub(crate) async fn audit_alone(
        &self,
        now: Timestamp,
        actor: &Actor,
        event: Event,
    ) -> Result<()> {
        let tx = self.begin_write().await?;
        append(&tx, &self.keys, now, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit rows about the auditor's subtree, newest first. Rows that concern no unit
    /// (failed logins with unknown names) are shown to auditors of a top unit only. The
    /// system administrator does not read the log of what they did.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        query: &AuditQuery,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>> {
        actor.require_auditor()?;
        let select = filtered(actor, query);
        let total = capped_count(select.clone(), &self.db).await?;
        let ordered = ordered_page(select, page);
        let statement = self.audit_page_plan(actor, query, ordered.clone(), total);
        let rows = ordered.from_raw_sql(statement).all(&self.db).await?;
        Ok(Page {
            items: self.entries(rows).await?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// How a page of the log is read. By an actor's name: through that index. Otherwise newest
    /// first along the key, testing each row's unit, when the rows in reach are many (a top
    /// auditor's whole log, or past the count cap): the page fills after a few rows; and when
    /// they are few, through the path index, sorting what it finds.
    fn audit_page_plan(
        &self,
        actor: &Actor,
        query: &AuditQuery,
        ordered: sea_orm::Select<audit_entry::Entity>,
        total: Total,
    ) -> Statement {
        if query.actor.as_deref().is_some_and(|a| !a.is_empty()) {
            ordered.build(self.engine().backend())
        } else if total.capped || actor.at_top() {
            through_key(ordered, self.engine(), "audit_log")
        } else {
            with_index(ordered, self.engine(), "audit_log", "idx_audit_unit_path")
        }
    }

    /// The plan of a page of the audit log, as the database describes it (`EXPLAIN QUERY
    /// PLAN` on SQLite, `EXPLAIN` on PostgreSQL): for the test that pins it.
    pub async fn explain_audit_log(
        &self,
        actor: &Actor,
        query: &AuditQuery,
        page: PageRequest,
    ) -> Result<Vec<String>> {
        let select = filtered(actor, query);
        let total = capped_count(select.clone(), &self.db).await?;
        let mut statement = self.audit_page_plan(actor, query, ordered_page(select, page), total);
        let (prefix, column) = match self.engine() {
            crate::Engine::Sqlite => ("EXPLAIN QUERY PLAN ", "detail"),
            crate::Engine::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        };
        statement.sql = format!("{prefix}{}", statement.sql);
        let rows = self.db.query_all_raw(statement).await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String>("", column)?))
            .collect()
    }

    /// Rows as shown, each with its unit as named now.
    async fn entries(&self, rows: Vec<audit_entry::Model>) -> Result<Vec<AuditEntry>> {
        let unit_of = |r: &audit_entry::Model| {
            r.unit_path
                .as_ref()
                .and_then(|p| UnitPath::from_stored(p.clone()).ids().last().copied())
        };
        let names: HashMap<i64, String> = access::unguarded::<unit::Entity>(Unguarded::Labels)
            .select_only()
            .columns([unit::Column::Id, unit::Column::Name])
            .filter(unit::Column::Id.is_in(rows.iter().filter_map(unit_of)))
            .into_tuple()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .into_iter()
            .map(|r| AuditEntry {
                unit: unit_of(&r).and_then(|id| names.get(&id).map(|n| (id, n.clone()))),
                seq: r.seq,
                at: Timestamp::from_micros(r.at),
                actor_name: r.actor_name,
                action: r.action,
                target_kind: r.target_kind,
                target_id: r.target_id,
                target_label: r.target_label,
                ip: r.ip,
                detail: r.detail,
                hash: r.hash,
            })
            .collect())
    }
}

/// The rows of the actor's subtree that `query` matches.
/// A page of `select`, newest first.
fn ordered_page(
    select: sea_orm::Select<audit_entry::Entity>,
    page: PageRequest,
) -> sea_orm::Select<audit_entry::Entity> {
    select
        .order_by_desc(audit_entry::Column::Seq)
        .offset(page.offset())
        .limit(page.per_page)
}

fn filtered(actor: &Actor, query: &AuditQuery) -> sea_orm::Select<audit_entry::Entity> {
    let mut select = access::visible::<audit_entry::Entity>(actor);
    if let Some(action) = query.action.as_deref().filter(|a| !a.is_empty()) {
        select = select.filter(like::starts_with(audit_entry::Column::Action, action));
    }
    if let Some(name) = query.actor.as_deref().filter(|a| !a.is_empty()) {
        select = select.filter(audit_entry::Column::ActorName.eq(name));
    }
    select
}
