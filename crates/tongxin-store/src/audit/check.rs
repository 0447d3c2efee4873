//! `tongxin check`: database integrity, the kept counters (campaign coverage, people, activity
//! tallies), sealed values and the audit chain, verified end to end.

use std::collections::HashMap;
use std::fmt;

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder, QuerySelect, Statement};
use tongxin_core::UnitPath;

use crate::Store;
use crate::access::Actor;
use crate::access::{self, Unguarded};
use crate::activities::tallies;
use crate::audit::archive::chain_start;
use crate::audit::{GENESIS_HASH, row_hash};
use crate::campaigns::coverage;
use crate::crypto::FieldKeys;
use crate::db::Engine;
use crate::entity::{audit_entry, audit_head, unit};
use crate::error::Result;
use crate::error::StoreError;
use crate::units::people_counts;

/// Audit rows read per round trip while verifying the chain.
const AUDIT_BATCH: u64 = 2_000;

/// A problem found by [`Store::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The engine's own integrity check complained.
    Storage(String),
    /// A unit's stored path does not match its parent's path and its id.
    UnitPath {
        unit_id: i64,
        stored: String,
        expected: String,
    },
    /// A person's copy of their unit's path is out of step with the unit.
    PersonUnitPath { person_id: i64 },
    /// An organization's copy of its unit's path is out of step with the unit.
    OrganizationUnitPath { organization_id: i64 },
    /// An audit row's contents do not match its hash: the row was altered.
    AuditAltered { seq: i64 },
    /// An audit row does not link to the row before it, or sequence numbers skip: rows were
    /// removed or inserted.
    AuditBroken { seq: i64 },
    /// The chain is not keyed: it was written before the audit key and did not verify when
    /// the store opened, so it was not keyed.
    AuditNotKeyed,
    /// The record of rows moved to archive files does not verify under the key: rows were
    /// removed without an archive.
    AuditArchiveRecord,
    /// The chain ends before the recorded head: the newest rows were removed.
    AuditTruncated { head_seq: i64, last_seq: i64 },
    /// A campaign's coverage counters differ from a recount.
    CoverageCounters { campaign_id: i64 },
    /// A unit's kept count of its subtree's people differs from a recount.
    PeopleCounts { unit_id: i64 },
    /// An activity's kept tallies of its invitees differ from a recount.
    ActivityTallies { activity_id: i64 },
    /// A sealed value does not open where it is stored: altered, moved from another row or
    /// column, or sealed under another key.
    SealedValue { column: &'static str, row: i64 },
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Storage(msg) => write!(f, "storage integrity: {msg}"),
            Fault::UnitPath {
                unit_id,
                stored,
                expected,
            } => write!(f, "unit {unit_id}: path {stored} should be {expected}"),
            Fault::PersonUnitPath { person_id } => {
                write!(f, "person {person_id}: unit path differs from the unit's")
            }
            Fault::OrganizationUnitPath { organization_id } => {
                write!(
                    f,
                    "organization {organization_id}: unit path differs from the unit's"
                )
            }
            Fault::AuditAltered { seq } => {
                write!(
                    f,
                    "audit row {seq}: contents do not match its hash (altered)"
                )
            }
            Fault::AuditBroken { seq } => write!(
                f,
                "audit row {seq}: does not follow the row before it (a row was removed or inserted)"
            ),
            Fault::CoverageCounters { campaign_id } => write!(
                f,
                "campaign {campaign_id}: coverage counters differ from a recount (archive and restore the campaign to rebuild them)"
            ),
            Fault::PeopleCounts { unit_id } => write!(
                f,
                "unit {unit_id}: the kept count of its people differs from a recount"
            ),
            Fault::ActivityTallies { activity_id } => write!(
                f,
                "activity {activity_id}: the kept tallies of its invitees differ from a recount"
            ),
            Fault::SealedValue { column, row } => write!(
                f,
                "{column} of row {row}: the sealed value does not open there (altered, moved from another row, or sealed under another key)"
            ),
            Fault::AuditNotKeyed => write!(
                f,
                "audit log: written before the audit key and did not verify, so it was not keyed"
            ),
            Fault::AuditArchiveRecord => write!(
                f,
                "audit log: the record of archived rows does not verify under the key (rows removed without an archive)"
            ),
            Fault::AuditTruncated { head_seq, last_seq } => write!(
                f,
                "audit log ends at row {last_seq} but {head_seq} rows were written (rows removed at the end)"
            ),
        }
    }
}

/// What [`Store::check`] looked at and found.
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    pub units: u64,
    pub audit_rows: u64,
    pub faults: Vec<Fault>,
}

impl Store {
    /// Verifies the storage engine's integrity, the unit tree's paths, the kept counters, that
    /// every sealed value opens where it is stored, and the whole audit chain.
    /// Only the first fault of the audit chain is reported: everything after it is suspect.
    pub async fn check(&self) -> Result<CheckReport> {
        let mut report = CheckReport::default();
        if self.engine() == Engine::Sqlite {
            self.check_sqlite(&mut report).await?;
        }
        self.check_unit_paths(&mut report).await?;
        self.check_people_paths(&mut report).await?;
        for campaign_id in coverage::live_campaigns(&self.db).await? {
            if !coverage::verify(&self.db, campaign_id).await? {
                report.faults.push(Fault::CoverageCounters { campaign_id });
            }
        }
        for unit_id in people_counts::differing(&self.db).await? {
            report.faults.push(Fault::PeopleCounts { unit_id });
        }
        for activity_id in tallies::differing(&self.db).await? {
            report.faults.push(Fault::ActivityTallies { activity_id });
        }
        for (column, row) in self.unopened_values().await? {
            report.faults.push(Fault::SealedValue { column, row });
        }
        self.check_audit_chain(&mut report).await?;
        Ok(report)
    }

    async fn check_sqlite(&self, report: &mut CheckReport) -> Result<()> {
        let backend = self.db.get_database_backend();
        for row in self
            .db
            .query_all_raw(Statement::from_string(backend, "PRAGMA integrity_check"))
            .await?
        {
            let line: String = row.try_get_by_index(0)?;
            if line != "ok" {
                report.faults.push(Fault::Storage(line));
            }
        }
        let violations = self
            .db
            .query_all_raw(Statement::from_string(backend, "PRAGMA foreign_key_check"))
            .await?;
        for row in violations {
            let table: String = row.try_get_by_index(0)?;
            let rowid: i64 = row.try_get_by_index(1).unwrap_or_default();
            report.faults.push(Fault::Storage(format!(
                "foreign key violation in {table} row {rowid}"
            )));
        }
        Ok(())
    }

    async fn check_unit_paths(&self, report: &mut CheckReport) -> Result<()> {
        let units: Vec<(i64, Option<i64>, String)> =
            access::unguarded::<unit::Entity>(Unguarded::System)
                .select_only()
                .columns([unit::Column::Id, unit::Column::ParentId, unit::Column::Path])
                .into_tuple()
                .all(&self.db)
                .await?;
        report.units = units.len() as u64;
        let paths: HashMap<i64, &str> = units.iter().map(|(id, _, p)| (*id, p.as_str())).collect();
        for (id, parent, stored) in &units {
            let expected = match parent {
                None => UnitPath::root(*id),
                Some(p) => match paths.get(p) {
                    Some(parent_path) => {
                        UnitPath::from_stored((*parent_path).to_owned()).child(*id)
                    }
                    None => continue, // reported by the foreign key check
                },
            };
            if expected.as_str() != stored {
                report.faults.push(Fault::UnitPath {
                    unit_id: *id,
                    stored: stored.clone(),
                    expected: expected.as_str().to_owned(),
                });
            }
        }
        Ok(())
    }

    async fn check_people_paths(&self, report: &mut CheckReport) -> Result<()> {
        let backend = self.db.get_database_backend();
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT p.id FROM people p JOIN units u ON u.id = p.unit_id \
                 WHERE p.unit_path <> u.path ORDER BY p.id LIMIT 100",
            ))
            .await?;
        for row in rows {
            let person_id: i64 = row.try_get_by_index(0)?;
            report.faults.push(Fault::PersonUnitPath { person_id });
        }
        let rows = self
            .db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT o.id FROM organizations o JOIN units u ON u.id = o.unit_id \
                 WHERE o.unit_path <> u.path ORDER BY o.id LIMIT 100",
            ))
            .await?;
        for row in rows {
            let organization_id: i64 = row.try_get_by_index(0)?;
            report
                .faults
                .push(Fault::OrganizationUnitPath { organization_id });
        }
        Ok(())
    }

    async fn check_audit_chain(&self, report: &mut CheckReport) -> Result<()> {
        let head = access::unguarded_by_id::<audit_head::Entity>(Unguarded::System, 1i16)
            .one(&self.db)
            .await?;
        if head.as_ref().is_some_and(|h| !h.keyed) {
            // Its hashes are not keyed: verifying them under the key would only say so again.
            report.faults.push(Fault::AuditNotKeyed);
            return Ok(());
        }
        // Rows moved to an archive file leave a record, under the key, of where the chain left
        // starts.
        let start = match &head {
            Some(head) => chain_start(&self.keys, head),
            None => Some((1, GENESIS_HASH.to_owned())),
        };
        let Some((mut expected_seq, mut prev_hash)) = start else {
            report.faults.push(Fault::AuditArchiveRecord);
            return Ok(());
        };
        loop {
            let batch = access::unguarded::<audit_entry::Entity>(Unguarded::System)
                .filter(audit_entry::Column::Seq.gte(expected_seq))
                .order_by_asc(audit_entry::Column::Seq)
                .limit(AUDIT_BATCH)
                .all(&self.db)
                .await?;
            let Some(last) = batch.last() else { break };
            let next_seq = last.seq + 1;
            for row in &batch {
                report.audit_rows += 1;
                if row.seq != expected_seq || row.prev_hash != prev_hash {
                    report.faults.push(Fault::AuditBroken { seq: row.seq });
                    return Ok(());
                }
                if row_hash(&self.keys, row) != row.hash {
                    report.faults.push(Fault::AuditAltered { seq: row.seq });
                    return Ok(());
                }
                prev_hash.clone_from(&row.hash);
                expected_seq = row.seq + 1;
            }
            expected_seq = next_seq;
        }
        let last_seq = expected_seq - 1;
        match head {
            Some(head) if head.seq != last_seq || head.hash != prev_hash => {
                report.faults.push(Fault::AuditTruncated {
                    head_seq: head.seq,
                    last_seq,
                });
            }
            Some(_) => {}
            None => report
                .faults
                .push(Fault::Storage("audit_head row is missing".into())),
        }
        Ok(())
    }
}

/// How many of the newest audit rows [`Store::audit_chain_tail`] verifies.
pub const TAIL_ROWS: u64 = 500;

/// What a check of the newest audit rows found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainTail {
    /// The newest row's sequence number (0 for an empty log).
    pub newest_seq: i64,
    /// Rows verified.
    pub rows: u64,
    pub fault: Option<Fault>,
}

impl Store {
    /// Verifies the newest [`TAIL_ROWS`] rows of the audit chain against each other and the
    /// recorded head: cheap enough for a home page, and where tampering with recent history
    /// shows. The whole chain is `tongxin check`'s to verify. For the three administrators.
    pub async fn audit_chain_tail(&self, actor: &Actor) -> Result<ChainTail> {
        if !actor.role().is_privileged() {
            return Err(StoreError::Forbidden);
        }
        let head = access::unguarded_by_id::<audit_head::Entity>(Unguarded::System, 1i16)
            .one(&self.db)
            .await?;
        let mut rows = access::unguarded::<audit_entry::Entity>(Unguarded::System)
            .order_by_desc(audit_entry::Column::Seq)
            .limit(TAIL_ROWS)
            .all(&self.db)
            .await?;
        rows.reverse();
        Ok(ChainTail {
            newest_seq: rows.last().map_or(0, |r| r.seq),
            rows: rows.len() as u64,
            fault: tail_fault(&self.keys, &rows, head.as_ref()),
        })
    }
}

/// The first fault of `rows` (consecutive, oldest first) as a stretch of the chain ending at
/// `head`.
fn tail_fault(
    keys: &FieldKeys,
    rows: &[audit_entry::Model],
    head: Option<&audit_head::Model>,
) -> Option<Fault> {
    if head.is_some_and(|h| !h.keyed) {
        return Some(Fault::AuditNotKeyed);
    }
    for pair in rows.windows(2) {
        if let [before, row] = pair
            && (row.seq != before.seq + 1 || row.prev_hash != before.hash)
        {
            return Some(Fault::AuditBroken { seq: row.seq });
        }
    }
    if let Some(row) = rows.iter().find(|row| row_hash(keys, row) != row.hash) {
        return Some(Fault::AuditAltered { seq: row.seq });
    }
    let (last_seq, last_hash) = rows.last().map_or((0, ""), |r| (r.seq, r.hash.as_str()));
    match head {
        Some(head) if head.seq != last_seq || (last_seq > 0 && head.hash != last_hash) => {
            Some(Fault::AuditTruncated {
                head_seq: head.seq,
                last_seq,
            })
        }
        _ => None,
    }
}
