//! The auditor's export of the audit log: every row the filter matches, oldest first, read in
//! batches so a long log is never held in memory. The export is itself audited, with its
//! filter and row count, before the first row leaves.

use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tongxin_core::Timestamp;

use super::{AuditEntry, AuditQuery, Event, filtered};
use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::entity::audit_entry;
use crate::entity::audit_head;
use crate::error::Result;

/// Rows read per batch.
const BATCH: u64 = 5_000;

/// An audit export under way: the rows up to the chain's end when it began.
pub struct AuditExport {
    actor: Actor,
    query: AuditQuery,
    /// The last row handed out.
    after: i64,
    /// The chain's end when the export began: rows appended since (its own) are left out.
    through: i64,
    /// How many rows the export holds.
    pub rows: u64,
}

impl Store {
    /// Begins an export of the audit rows of the auditor's subtree that `query` matches, and
    /// records it.
    pub async fn start_audit_export(
        &self,
        actor: &Actor,
        query: AuditQuery,
        now: Timestamp,
    ) -> Result<AuditExport> {
        actor.require_auditor()?;
        let through = access::unguarded_by_id::<audit_head::Entity>(Unguarded::AuditChain, 1i16)
            .one(&self.db)
            .await?
            .map_or(0, |head| head.seq);
        let rows = filtered(actor, &query)
            .filter(audit_entry::Column::Seq.lte(through))
            .count(&self.db)
            .await?;
        self.audit_alone(
            now,
            actor,
            Event::new("audit.export")
                .unit(actor.unit_path().as_str())
                .detail(json!({
                    "filter": { "action": query.action, "actor": query.actor },
                    "rows": rows,
                })),
        )
        .await?;
        Ok(AuditExport {
            actor: actor.clone(),
            query,
            after: 0,
            through,
            rows,
        })
    }

    /// The export's next rows, oldest first; empty once all are out.
    pub async fn next_audit_batch(&self, export: &mut AuditExport) -> Result<Vec<AuditEntry>> {
        let rows = filtered(&export.actor, &export.query)
            .filter(audit_entry::Column::Seq.gt(export.after))
            .filter(audit_entry::Column::Seq.lte(export.through))
            .order_by_asc(audit_entry::Column::Seq)
            .limit(BATCH)
            .all(&self.db)
            .await?;
        if let Some(last) = rows.last() {
            export.after = last.seq;
        }
        self.entries(rows).await
    }
}
