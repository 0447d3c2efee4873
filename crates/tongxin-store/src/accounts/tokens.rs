//! API tokens as their holders and account managers see them: listed without the secret,
//! and revocable one by one.
//!
//! A token is named by the SM3 hash the database keeps of it: showing the hash gives nothing
//! away (a bearer presenting it would be hashed again), and it needs no second identifier.

use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder};
use tongxin_core::{Role, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::accounts::Policy;
use crate::audit::{self, Event};
use crate::entity::{session, user};
use crate::error::{Result, StoreError};

/// A live API token, without its secret.
#[derive(Debug, Clone)]
pub struct ApiTokenView {
    /// The SM3 hash of the secret: names the token for revocation.
    pub id: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    /// When it ends at the latest (its absolute lifetime; idleness may end it sooner).
    pub expires_at: Timestamp,
    /// The address it was issued to.
    pub ip: Option<String>,
}

impl Store {
    /// The live API tokens of an account: the holder's own, or one the actor manages.
    pub async fn api_tokens(
        &self,
        actor: &Actor,
        account_id: i64,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Vec<ApiTokenView>> {
        self.token_holder(&self.db, actor, account_id).await?;
        let lifetime_minutes = policy.api_token_max_days.saturating_mul(24 * 60);
        let rows = access::unguarded::<session::Entity>(Unguarded::Sessions)
            .filter(session::Column::UserId.eq(account_id))
            .filter(session::Column::Kind.eq("api"))
            .filter(session::Column::CreatedAt.gte(now.plus_minutes(-lifetime_minutes).micros()))
            .filter(
                session::Column::LastSeenAt
                    .gte(now.plus_minutes(-policy.session_idle_minutes).micros()),
            )
            .order_by_desc(session::Column::CreatedAt)
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|row| {
                let created_at = Timestamp::from_micros(row.created_at);
                ApiTokenView {
                    id: row.id_hash,
                    expires_at: created_at.plus_minutes(lifetime_minutes),
                    created_at,
                    last_seen_at: Timestamp::from_micros(row.last_seen_at),
                    ip: row.ip,
                }
            })
            .collect())
    }

    /// Ends one API token of an account (the holder's own, or one the actor manages), audited.
    /// An unknown token, or one of another account, answers not found.
    pub async fn revoke_api_token(
        &self,
        actor: &Actor,
        now: Timestamp,
        account_id: i64,
        token_id: &str,
    ) -> Result<()> {
        let tx = self.begin_write().await?;
        let (holder, unit_path) = self.token_holder(&tx, actor, account_id).await?;
        let removed = access::delete_rows::<session::Entity>(Unguarded::Sessions)
            .filter(session::Column::IdHash.eq(token_id))
            .filter(session::Column::UserId.eq(account_id))
            .filter(session::Column::Kind.eq("api"))
            .exec(&tx)
            .await?;
        if removed.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        let event = Event::new("token.revoke")
            .target("account", holder.id, &holder.username)
            .unit(&unit_path);
        audit::append(&tx, &self.keys, now, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account whose tokens the actor asks about, with its unit's path: the actor's own,
    /// or an account the actor may manage (others answer not found or forbidden, as for any
    /// account change).
    async fn token_holder<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        account_id: i64,
    ) -> Result<(user::Model, String)> {
        if actor.user_id() == Some(account_id) {
            let own = access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, account_id)
                .one(conn)
                .await?
                .ok_or(StoreError::NotFound)?;
            return Ok((own, actor.unit_path().as_str().to_owned()));
        }
        actor.require_account_manager()?;
        let (account, unit) = self.find_account(conn, actor, account_id).await?;
        actor.require_may_manage(Role::parse(&account.role).unwrap_or(Role::Member))?;
        Ok((account, unit.path))
    }
}
