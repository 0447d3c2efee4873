//! Keying a chain written before the audit key existed: its plain SM3 hashes are verified
//! first, then every row is hashed again under the key, in one transaction, and the head is
//! marked keyed. A legacy chain that does not verify is left untouched for `tongxin check` to
//! report, so a forged history is never blessed with the key.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tongxin_core::Timestamp;

use super::{Event, GENESIS_HASH, append, legacy_row_hash, row_hash};
use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::entity::{audit_entry, audit_head};
use crate::error::Result;

/// Rows read per round trip while keying.
const BATCH: u64 = 2_000;

/// What opening the store did to the audit chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainKeying {
    /// The chain was keyed already (or had just been created keyed).
    AlreadyKeyed,
    /// A legacy chain of this many rows verified and is keyed now.
    Keyed { rows: u64 },
    /// A legacy chain did not verify at this row; it was left as it is.
    Refused { seq: i64 },
}

impl Store {
    /// Keys a legacy audit chain (see the module's documentation); a keyed one is left alone.
    pub async fn key_audit_chain(&self, now: Timestamp) -> Result<ChainKeying> {
        let tx = self.begin_write().await?;
        let Some(head) = access::unguarded_by_id::<audit_head::Entity>(Unguarded::AuditChain, 1i16)
            .one(&tx)
            .await?
        else {
            return Ok(ChainKeying::AlreadyKeyed);
        };
        if head.keyed {
            return Ok(ChainKeying::AlreadyKeyed);
        }
        let mut legacy_prev = GENESIS_HASH.to_owned();
        let mut keyed_prev = GENESIS_HASH.to_owned();
        let mut expected_seq = 1i64;
        loop {
            let batch = access::unguarded::<audit_entry::Entity>(Unguarded::AuditChain)
                .filter(audit_entry::Column::Seq.gte(expected_seq))
                .order_by_asc(audit_entry::Column::Seq)
                .limit(BATCH)
                .all(&tx)
                .await?;
            if batch.is_empty() {
                break;
            }
            for mut row in batch {
                let intact = row.seq == expected_seq
                    && row.prev_hash == legacy_prev
                    && legacy_row_hash(&row) == row.hash;
                if !intact {
                    return Ok(ChainKeying::Refused { seq: row.seq });
                }
                legacy_prev = row.hash.clone();
                row.prev_hash = keyed_prev;
                row.hash = row_hash(&self.keys, &row);
                access::update_rows::<audit_entry::Entity>(Unguarded::AuditChain)
                    .col_expr(audit_entry::Column::PrevHash, Expr::value(row.prev_hash))
                    .col_expr(audit_entry::Column::Hash, Expr::value(row.hash.clone()))
                    .filter(audit_entry::Column::Seq.eq(row.seq))
                    .exec(&tx)
                    .await?;
                keyed_prev = row.hash;
                expected_seq += 1;
            }
        }
        let rows = u64::try_from(expected_seq - 1).unwrap_or_default();
        if head.seq != expected_seq - 1 || head.hash != legacy_prev {
            return Ok(ChainKeying::Refused {
                seq: expected_seq - 1,
            });
        }
        access::update_rows::<audit_head::Entity>(Unguarded::AuditChain)
            .col_expr(audit_head::Column::Hash, Expr::value(keyed_prev))
            .col_expr(audit_head::Column::Keyed, Expr::value(true))
            .filter(audit_head::Column::Id.eq(1))
            .exec(&tx)
            .await?;
        if rows > 0 {
            append(
                &tx,
                &self.keys,
                now,
                &Actor::system("tongxin"),
                Event::new("audit.chain_keyed").detail(json!({ "rows": rows })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(ChainKeying::Keyed { rows })
    }
}
