//! Audit retention: rows older than the retention period (180 days at least) are written to a
//! signed archive file, verified there, and only then removed from the database.
//!
//! The file is JSON Lines: a header, the rows as stored, and a last line holding HMAC-SM3 under
//! the audit key over everything before it. The head of the chain keeps the last archived row
//! and its hash under a MAC of the same key, so `tongxin check` verifies the rows left from
//! there, and a removal by someone without the key cannot pass for an archive.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use hmac::Mac;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sm3::{Digest, Sm3};
use tongxin_core::Timestamp;

use super::{Event, GENESIS_HASH, row_hash};
use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::crypto::FieldKeys;
use crate::entity::{audit_entry, audit_head};
use crate::error::{Result, StoreError};

/// Audit rows are kept in the database at least this long.
pub const MIN_AUDIT_RETENTION_DAYS: i64 = 180;

/// Rows read per round trip while archiving.
const BATCH: u64 = 2_000;

/// What the first line of an archive says.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveHeader {
    pub format: String,
    pub created_at: String,
    /// Rows from before this instant are in the file.
    pub before: String,
    pub first_seq: i64,
    pub last_seq: i64,
    pub rows: u64,
    /// The hash the first row links to (the chain's start, or the previous archive's end).
    pub prev_hash: String,
    /// The last row's hash, which the first row left in the database links to.
    pub last_hash: String,
}

const FORMAT: &str = "tongxin-audit-archive/1";

#[derive(Serialize, Deserialize)]
struct Signature {
    signature: String,
}

/// The MAC that vouches for where the chain left in the database starts.
pub(crate) fn anchor_mac(keys: &FieldKeys, seq: i64, hash: &str) -> String {
    let mut mac = keys.audit_mac();
    mac.update(b"audit-archive-anchor\0");
    mac.update(&seq.to_be_bytes());
    mac.update(hash.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Where the chain in the database starts: the row after the last archived one, linking to its
/// hash; `None` when the head's record of an archive is not vouched for by the key.
pub(crate) fn chain_start(keys: &FieldKeys, head: &audit_head::Model) -> Option<(i64, String)> {
    if head.archived_seq == 0 {
        return Some((1, GENESIS_HASH.to_owned()));
    }
    let hash = head.archived_hash.clone()?;
    let mac = head.archived_mac.as_deref()?;
    (anchor_mac(keys, head.archived_seq, &hash) == mac).then_some((head.archived_seq + 1, hash))
}

/// A MAC over an archive file's bytes as they are written or read.
fn file_mac(keys: &FieldKeys) -> hmac::Hmac<sm3::Sm3> {
    let mut mac = keys.audit_mac();
    mac.update(b"audit-archive\0");
    mac
}

fn failed(message: impl Into<String>) -> StoreError {
    StoreError::Archive(message.into())
}

/// Writes `line` and a newline to the file and the MAC.
fn put(
    out: &mut impl Write,
    mac: &mut hmac::Hmac<sm3::Sm3>,
    digest: &mut Sm3,
    line: &str,
) -> Result<()> {
    let bytes = format!("{line}\n");
    out.write_all(bytes.as_bytes())
        .map_err(|e| failed(format!("cannot write the archive: {e}")))?;
    mac.update(bytes.as_bytes());
    digest.update(bytes.as_bytes());
    Ok(())
}

impl Store {
    /// Moves the audit rows older than `retention_days` (at least
    /// [`MIN_AUDIT_RETENTION_DAYS`]) to a new archive file at `out`: written, verified, and only
    /// then removed, with an `audit.archive` row recording it. `None` when no row is old enough.
    pub async fn archive_audit_log(
        &self,
        out: &Path,
        now: Timestamp,
        retention_days: i64,
    ) -> Result<Option<ArchiveHeader>> {
        if retention_days < MIN_AUDIT_RETENTION_DAYS {
            return Err(failed(format!(
                "audit rows are kept at least {MIN_AUDIT_RETENTION_DAYS} days"
            )));
        }
        let head = self.audit_head().await?;
        if !head.keyed {
            return Err(failed(
                "the audit chain is not keyed; run tongxin check and resolve it first",
            ));
        }
        let (first_seq, prev_hash) = chain_start(&self.keys, &head)
            .ok_or_else(|| failed("the record of earlier archives does not verify"))?;
        let before = now.plus_minutes(-retention_days * 24 * 60);
        let last_seq: Option<i64> = access::unguarded::<audit_entry::Entity>(Unguarded::AuditChain)
            .select_only()
            .expr(audit_entry::Column::Seq.max())
            .filter(audit_entry::Column::At.lt(before.micros()))
            .into_tuple::<Option<i64>>()
            .one(&self.db)
            .await?
            .flatten();
        let Some(last_seq) = last_seq.filter(|last| *last >= first_seq) else {
            return Ok(None);
        };
        if out.exists() {
            return Err(failed(format!("{} exists already", out.display())));
        }
        let written = self
            .write_archive(out, now, before, first_seq, last_seq, prev_hash)
            .await;
        let (header, file_digest) = match written {
            Ok(done) => done,
            Err(e) => {
                let _ = std::fs::remove_file(out);
                return Err(e);
            }
        };
        // Read back what reached the disk before anything is removed.
        let verified = self.verify_audit_archive(out)?;
        if verified.last_seq != header.last_seq || verified.last_hash != header.last_hash {
            return Err(failed("the archive written does not read back the same"));
        }

        let tx = self.begin_write().await?;
        access::delete_rows::<audit_entry::Entity>(Unguarded::AuditChain)
            .filter(audit_entry::Column::Seq.lte(header.last_seq))
            .exec(&tx)
            .await?;
        access::update_rows::<audit_head::Entity>(Unguarded::AuditChain)
            .col_expr(
                audit_head::Column::ArchivedSeq,
                Expr::value(header.last_seq),
            )
            .col_expr(
                audit_head::Column::ArchivedHash,
                Expr::value(header.last_hash.clone()),
            )
            .col_expr(
                audit_head::Column::ArchivedMac,
                Expr::value(anchor_mac(&self.keys, header.last_seq, &header.last_hash)),
            )
            .filter(audit_head::Column::Id.eq(1))
            .exec(&tx)
            .await?;
        super::append(
            &tx,
            &self.keys,
            now,
            &Actor::system("cli"),
            Event::new("audit.archive").detail(json!({
                "first_seq": header.first_seq,
                "last_seq": header.last_seq,
                "rows": header.rows,
                "before": header.before,
                "file": out.file_name().map(|n| n.to_string_lossy().into_owned()),
                "sm3": file_digest,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(header))
    }

    async fn audit_head(&self) -> Result<audit_head::Model> {
        access::unguarded_by_id::<audit_head::Entity>(Unguarded::AuditChain, 1i16)
            .one(&self.db)
            .await?
            .ok_or_else(|| failed("the audit head row is missing"))
    }

    /// Writes rows `first_seq..=last_seq` to a new private file, checking the chain as it goes;
    /// returns the header and the file's SM3 digest.
    async fn write_archive(
        &self,
        out: &Path,
        now: Timestamp,
        before: Timestamp,
        first_seq: i64,
        last_seq: i64,
        prev_hash: String,
    ) -> Result<(ArchiveHeader, String)> {
        let file = private_file(out)?;
        let mut writer = BufWriter::new(file);
        let mut mac = file_mac(&self.keys);
        let mut digest = Sm3::new();
        let last_hash =
            access::unguarded_by_id::<audit_entry::Entity>(Unguarded::AuditChain, last_seq)
                .one(&self.db)
                .await?
                .ok_or_else(|| failed(format!("audit row {last_seq} is missing")))?
                .hash;
        let header = ArchiveHeader {
            format: FORMAT.to_owned(),
            created_at: now.rfc3339(),
            before: before.rfc3339(),
            first_seq,
            last_seq,
            rows: u64::try_from(last_seq - first_seq + 1).unwrap_or(0),
            prev_hash: prev_hash.clone(),
            last_hash,
        };
        put(
            &mut writer,
            &mut mac,
            &mut digest,
            &json!(header).to_string(),
        )?;
        let mut expected_seq = first_seq;
        let mut prev = prev_hash;
        while expected_seq <= last_seq {
            let batch = access::unguarded::<audit_entry::Entity>(Unguarded::AuditChain)
                .filter(audit_entry::Column::Seq.gte(expected_seq))
                .filter(audit_entry::Column::Seq.lte(last_seq))
                .order_by_asc(audit_entry::Column::Seq)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            if batch.is_empty() {
                return Err(failed(format!("audit row {expected_seq} is missing")));
            }
            for row in batch {
                verify_link(&self.keys, &row, expected_seq, &prev)?;
                put(&mut writer, &mut mac, &mut digest, &json!(row).to_string())?;
                prev = row.hash;
                expected_seq += 1;
            }
        }
        let signature = Signature {
            signature: hex::encode(mac.finalize().into_bytes()),
        };
        let line = format!("{}\n", json!(signature));
        digest.update(line.as_bytes());
        writer
            .write_all(line.as_bytes())
            .and_then(|()| writer.flush())
            .and_then(|()| writer.get_ref().sync_all())
            .map_err(|e| failed(format!("cannot write the archive: {e}")))?;
        Ok((header, hex::encode(digest.finalize())))
    }

    /// Verifies an archive file: its signature under the key file, and every row's hash and
    /// link to the one before. Returns its header.
    pub fn verify_audit_archive(&self, path: &Path) -> Result<ArchiveHeader> {
        let file = File::open(path).map_err(|e| failed(format!("cannot read: {e}")))?;
        let mut lines = BufReader::new(file).lines();
        let mut mac = file_mac(&self.keys);
        let mut next = || -> Result<Option<String>> {
            lines
                .next()
                .transpose()
                .map_err(|e| failed(format!("cannot read: {e}")))
        };
        let first = next()?.ok_or_else(|| failed("empty file"))?;
        let header: ArchiveHeader = serde_json::from_str(&first)
            .ok()
            .filter(|h: &ArchiveHeader| h.format == FORMAT)
            .ok_or_else(|| failed("not a Tongxin audit archive"))?;
        mac.update(format!("{first}\n").as_bytes());
        let mut expected_seq = header.first_seq;
        let mut prev = header.prev_hash.clone();
        loop {
            let line = next()?.ok_or_else(|| failed("the signature is missing (cut short)"))?;
            if expected_seq > header.last_seq {
                let signature: Signature = serde_json::from_str(&line)
                    .map_err(|_| failed("more rows than the header says"))?;
                let bytes = hex::decode(&signature.signature)
                    .map_err(|_| failed("the signature is not hex"))?;
                mac.verify_slice(&bytes).map_err(|_| {
                    failed("the signature does not match (altered, or another key)")
                })?;
                break;
            }
            let row: audit_entry::Model = serde_json::from_str(&line)
                .map_err(|e| failed(format!("row {expected_seq} cannot be read: {e}")))?;
            verify_link(&self.keys, &row, expected_seq, &prev)?;
            mac.update(format!("{line}\n").as_bytes());
            prev = row.hash;
            expected_seq += 1;
        }
        if next()?.is_some() {
            return Err(failed("lines after the signature"));
        }
        if prev != header.last_hash {
            return Err(failed("the last row's hash differs from the header's"));
        }
        Ok(header)
    }
}

/// Checks one row: its place, its link to the one before and its keyed hash.
fn verify_link(keys: &FieldKeys, row: &audit_entry::Model, seq: i64, prev: &str) -> Result<()> {
    if row.seq != seq || row.prev_hash != prev {
        return Err(failed(format!(
            "audit row {}: does not follow the row before it",
            row.seq
        )));
    }
    if row_hash(keys, row) != row.hash {
        return Err(failed(format!(
            "audit row {}: contents do not match its hash",
            row.seq
        )));
    }
    Ok(())
}

/// A new file only its owner may read.
fn private_file(path: &Path) -> Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(path)
        .map_err(|e| failed(format!("cannot create {}: {e}", path.display())))
}
