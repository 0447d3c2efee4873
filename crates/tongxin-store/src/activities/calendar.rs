//! Calendar feeds: each account may subscribe to its activities from a phone's calendar with a
//! secret URL (iCalendar needs no login, so the URL's token is the credential). The database
//! keeps only the token's SM3 hash; a password reset by an administrator ends the feed.

use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};
use tongxin_core::Timestamp;

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::accounts::SecondFactorRule;
use crate::accounts::sessions::{SessionSecret, random_hex};
use crate::activities::{ActivityQuery, ActivityView};
use crate::audit::{self, Event};
use crate::entity::{unit, user};
use crate::error::{Result, StoreError};
use crate::page::PageRequest;

/// How far back and ahead a staff feed reaches, in days.
const FEED_PAST_DAYS: i64 = 60;
const FEED_AHEAD_DAYS: i64 = 366;

impl Store {
    /// Whether the actor has a calendar feed. Its address is shown only when made: the
    /// database keeps a hash of its token, like a password's.
    pub async fn has_calendar_feed(&self, actor: &Actor) -> Result<bool> {
        let user_id = actor.user_id().ok_or(StoreError::Forbidden)?;
        let account = access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, user_id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(account.calendar_token.is_some())
    }

    /// Makes a new calendar feed token for the actor, returned once: any old feed address
    /// stops working.
    pub async fn reset_calendar_token(&self, actor: &Actor, now: Timestamp) -> Result<String> {
        let user_id = actor.user_id().ok_or(StoreError::Forbidden)?;
        let token = random_hex();
        let tx = self.begin_write().await?;
        user::ActiveModel {
            id: Set(user_id),
            calendar_token: Set(Some(SessionSecret::from_client(&token).hash())),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("calendar.token").target("user", user_id, actor.username()),
        )
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// The activities of the feed with this token: a member's invitations, or the activities of
    /// a staff member's subtree from two months back to a year ahead.
    pub async fn calendar_feed(&self, token: &str, now: Timestamp) -> Result<Vec<ActivityView>> {
        if token.len() != 64 {
            return Err(StoreError::NotFound);
        }
        let account = access::unguarded::<user::Entity>(Unguarded::Sessions)
            .filter(user::Column::CalendarToken.eq(SessionSecret::from_client(token).hash()))
            .filter(user::Column::DisabledAt.is_null())
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        let unit = access::unguarded_by_id::<unit::Entity>(Unguarded::Labels, account.unit_id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        // The feed's own token is the credential; it reads the holder's activities only.
        let actor = Actor::of_account(&account, &unit, None, SecondFactorRule::Optional);
        let role = actor.role();
        if !role.works_in_tree() {
            return Ok(self
                .my_activities(&actor)
                .await?
                .into_iter()
                .map(|(a, _)| a)
                .collect());
        }
        let query = ActivityQuery {
            from: Some(now.plus_minutes(-FEED_PAST_DAYS * 24 * 60)),
            until: Some(now.plus_minutes(FEED_AHEAD_DAYS * 24 * 60)),
            ..ActivityQuery::default()
        };
        Ok(self
            .activities(&actor, &query, PageRequest::new(Some(1), Some(500)))
            .await?
            .items)
    }
}
