//! Each account's inbox, how it wants each kind of event delivered, and the events themselves.
//!
//! A change that others should hear of raises an [`Event`] in its own transaction
//! ([`raise`]): that enqueues a `notify` job, so the event is kept or lost with the change. The
//! job (in `tongxin_jobs`) finds the recipients and delivers to each once
//! ([`Store::deliver_notification`]): a delivery's key (the job and the account) is recorded
//! with it, so a job run again after a crash delivers nothing twice. Events of one kind on one
//! subject within [`MERGE_WINDOW_SECONDS`] merge into the unread row already there rather than
//! flood the inbox. Rows are kept [`KEEP_DAYS`] days.

mod events;

use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tongxin_core::{ActivityState, Attendance, Field, Invalid, Reason, Role, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::entity::{activity, invitation, notification, notification_preference, unit, user};
use crate::error::Result;
use crate::jobs::statement;
use crate::page::{Page, PageRequest, capped_count};

pub use events::{Event, KINDS, NOTIFY, Recipients, kinds_for};
pub(crate) use events::{about_activity, raise};

/// How long a notification is kept, in days.
pub const KEEP_DAYS: i64 = 90;

/// Events of one kind on one subject within this many seconds merge into one unread row.
pub const MERGE_WINDOW_SECONDS: i64 = 600;

/// How an account wants one kind of event delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the inbox only.
    App,
    /// In the inbox, and by e-mail as it happens.
    Email,
    /// In the inbox, and in one e-mail a day.
    Digest,
}

impl Delivery {
    pub const ALL: [Delivery; 3] = [Delivery::App, Delivery::Email, Delivery::Digest];

    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::App => "app",
            Delivery::Email => "email",
            Delivery::Digest => "digest",
        }
    }

    pub fn parse(text: &str) -> Option<Delivery> {
        Delivery::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// What an inbox row says, before it is written in the reader's language.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The event's kind (`activity.invited`): the message's translation key.
    pub kind: String,
    /// What it is about (`activity:12`): events on one subject merge.
    pub subject: String,
    /// Where reading it leads.
    pub link: String,
    /// The values the message is written from.
    pub params: serde_json::Value,
}

/// A notification as its reader sees it.
#[derive(Debug, Clone)]
pub struct NotificationView {
    pub id: i64,
    pub kind: String,
    pub link: String,
    pub params: serde_json::Value,
    /// How many events it stands for.
    pub merged: i32,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub read: bool,
}

impl From<notification::Model> for NotificationView {
    fn from(row: notification::Model) -> Self {
        NotificationView {
            id: row.id,
            kind: row.kind,
            link: row.link,
            params: serde_json::from_str(&row.params).unwrap_or_default(),
            merged: row.merged,
            created_at: Timestamp::from_micros(row.created_at),
            updated_at: Timestamp::from_micros(row.updated_at),
            read: row.read_at.is_some(),
        }
    }
}

/// What a delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    /// A new row.
    New(i64),
    /// Merged into an unread row of the same kind and subject.
    Merged(i64),
    /// This key was delivered before: nothing done.
    Already,
}

impl Store {
    /// Delivers `notice` to `account` once per `key`, merging into its unread row of the same
    /// kind and subject updated within [`MERGE_WINDOW_SECONDS`]; the row keeps the words of the
    /// event latest in `order` (events raised later have a higher order, whichever is delivered
    /// first). `digest` marks the row for the account's daily digest.
    #[allow(clippy::too_many_arguments)]
    pub async fn deliver_notification(
        &self,
        now: Timestamp,
        account: i64,
        notice: &Notice,
        key: &str,
        order: i64,
        digest: bool,
    ) -> Result<Delivered> {
        let tx = self.begin_write().await?;
        let recorded = tx
            .execute_raw(statement(
                self.engine(),
                "INSERT INTO notification_deliveries (key, created_at) VALUES (?, ?) \
                 ON CONFLICT (key) DO NOTHING",
                vec![key.into(), now.micros().into()],
            ))
            .await?;
        if recorded.rows_affected() == 0 {
            return Ok(Delivered::Already);
        }
        if self.engine() == crate::Engine::Postgres {
            // One delivery to an account at a time, so two events cannot both find no row to
            // merge into (SQLite's writers are one at a time already).
            tx.execute_raw(statement(
                self.engine(),
                "SELECT id FROM users WHERE id = ? FOR UPDATE",
                vec![account.into()],
            ))
            .await?;
        }
        let params = notice.params.to_string();
        let recent = access::unguarded::<notification::Entity>(Unguarded::PartsOf)
            .filter(notification::Column::AccountId.eq(account))
            .filter(notification::Column::Kind.eq(notice.kind.as_str()))
            .filter(notification::Column::Subject.eq(notice.subject.as_str()))
            .filter(notification::Column::ReadAt.is_null())
            .filter(
                notification::Column::UpdatedAt
                    .gte(now.plus_seconds(-MERGE_WINDOW_SECONDS).micros()),
            )
            .order_by_desc(notification::Column::Id)
            .one(&tx)
            .await?;
        let delivered = match recent {
            Some(row) => {
                let mut update = access::update_rows::<notification::Entity>(Unguarded::PartsOf)
                    .col_expr(
                        notification::Column::Merged,
                        Expr::col(notification::Column::Merged).add(1),
                    )
                    .col_expr(notification::Column::UpdatedAt, Expr::value(now.micros()))
                    .col_expr(
                        notification::Column::DigestPending,
                        Expr::value(row.digest_pending || digest),
                    );
                if order > row.event_order {
                    update = update
                        .col_expr(notification::Column::Params, Expr::value(params))
                        .col_expr(notification::Column::Link, Expr::value(notice.link.clone()))
                        .col_expr(notification::Column::EventOrder, Expr::value(order));
                }
                update
                    .filter(notification::Column::Id.eq(row.id))
                    .exec(&tx)
                    .await?;
                Delivered::Merged(row.id)
            }
            None => Delivered::New(
                notification::ActiveModel {
                    account_id: Set(account),
                    kind: Set(notice.kind.clone()),
                    subject: Set(notice.subject.clone()),
                    link: Set(notice.link.clone()),
                    params: Set(params),
                    merged: Set(1),
                    event_order: Set(order),
                    created_at: Set(now.micros()),
                    updated_at: Set(now.micros()),
                    read_at: Set(None),
                    digest_pending: Set(digest),
                    ..Default::default()
                }
                .insert(&tx)
                .await?
                .id,
            ),
        };
        tx.commit().await?;
        Ok(delivered)
    }

    /// The actor's notifications, the latest first.
    pub async fn notifications(
        &self,
        actor: &Actor,
        page: PageRequest,
    ) -> Result<Page<NotificationView>> {
        let select = access::visible::<notification::Entity>(actor);
        let total = capped_count(select.clone(), &self.db).await?;
        let rows = select
            .order_by_desc(notification::Column::UpdatedAt)
            .order_by_desc(notification::Column::Id)
            .offset(page.offset())
            .limit(page.per_page)
            .all(&self.db)
            .await?;
        Ok(Page::new(
            rows.into_iter().map(NotificationView::from).collect(),
            total,
            page,
        ))
    }

    /// How many of the actor's notifications are unread (counted up to 100).
    pub async fn unread_notifications(&self, actor: &Actor) -> Result<u64> {
        let unread = access::visible::<notification::Entity>(actor)
            .filter(notification::Column::ReadAt.is_null())
            .select_only()
            .column(notification::Column::Id)
            .limit(100)
            .into_tuple::<i64>()
            .all(&self.db)
            .await?;
        Ok(unread.len() as u64)
    }

    /// Marks one of the actor's notifications read and returns it (its link is where reading
    /// leads).
    pub async fn read_notification(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
    ) -> Result<NotificationView> {
        let row = access::find_to_change::<notification::Entity, _>(&self.db, actor, id).await?;
        if row.read_at.is_none() {
            access::update_rows::<notification::Entity>(Unguarded::PartsOf)
                .col_expr(notification::Column::ReadAt, Expr::value(now.micros()))
                .filter(notification::Column::Id.eq(id))
                .exec(&self.db)
                .await?;
        }
        let mut view = NotificationView::from(row);
        view.read = true;
        Ok(view)
    }

    /// Marks all the actor's notifications read; returns how many were unread.
    pub async fn read_all_notifications(&self, actor: &Actor, now: Timestamp) -> Result<u64> {
        let Some(account) = actor.user_id() else {
            return Ok(0);
        };
        let done = access::update_rows::<notification::Entity>(Unguarded::PartsOf)
            .col_expr(notification::Column::ReadAt, Expr::value(now.micros()))
            .filter(notification::Column::AccountId.eq(account))
            .filter(notification::Column::ReadAt.is_null())
            .exec(&self.db)
            .await?;
        Ok(done.rows_affected)
    }

    /// Deletes notifications (and delivery keys) last updated before `before`.
    pub async fn prune_notifications(&self, before: Timestamp) -> Result<u64> {
        let tx = self.begin_write().await?;
        let pruned = access::delete_rows::<notification::Entity>(Unguarded::System)
            .filter(notification::Column::UpdatedAt.lt(before.micros()))
            .exec(&tx)
            .await?;
        tx.execute_raw(statement(
            self.engine(),
            "DELETE FROM notification_deliveries WHERE created_at < ?",
            vec![before.micros().into()],
        ))
        .await?;
        tx.commit().await?;
        Ok(pruned.rows_affected)
    }

    /// How the actor wants each kind of event delivered (kinds not named: in the inbox only).
    pub async fn notification_preferences(
        &self,
        actor: &Actor,
    ) -> Result<HashMap<String, Delivery>> {
        let Some(account) = actor.user_id() else {
            return Ok(HashMap::new());
        };
        self.deliveries_of(account).await
    }

    /// How `account` wants each kind of event delivered.
    pub async fn deliveries_of(&self, account: i64) -> Result<HashMap<String, Delivery>> {
        let rows = access::unguarded::<notification_preference::Entity>(Unguarded::PartsOf)
            .filter(notification_preference::Column::AccountId.eq(account))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.kind, Delivery::parse(&r.delivery)?)))
            .collect())
    }

    /// Sets how the actor wants `kind` delivered; e-mail needs an address on the account.
    pub async fn set_notification_preference(
        &self,
        actor: &Actor,
        kind: &str,
        delivery: Delivery,
    ) -> Result<()> {
        let Some(account) = actor.user_id() else {
            return Err(crate::StoreError::Forbidden);
        };
        if !events::KINDS.contains(&kind) {
            return Err(Invalid::new(Field::Named("kind"), Reason::NotAChoice).into());
        }
        if delivery != Delivery::App && self.email_of(account).await?.is_none() {
            return Err(Invalid::new(Field::Named("email"), Reason::Required).into());
        }
        let tx = self.begin_write().await?;
        tx.execute_raw(statement(
            self.engine(),
            "INSERT INTO notification_preferences (account_id, kind, delivery) VALUES (?, ?, ?) \
             ON CONFLICT (account_id, kind) DO UPDATE SET delivery = excluded.delivery",
            vec![account.into(), kind.into(), delivery.as_str().into()],
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The e-mail address of an enabled account, if it has one.
    pub async fn email_of(&self, account: i64) -> Result<Option<String>> {
        Ok(
            access::unguarded_by_id::<user::Entity>(Unguarded::PartsOf, account)
                .filter(user::Column::DisabledAt.is_null())
                .select_only()
                .column(user::Column::Email)
                .into_tuple::<Option<String>>()
                .one(&self.db)
                .await?
                .flatten(),
        )
    }

    /// The enabled accounts the recipients name.
    pub async fn recipients(&self, to: &Recipients) -> Result<Vec<i64>> {
        if let Recipients::StaffOf(unit) = to {
            return self.nearest_staff(*unit).await;
        }
        let base = access::unguarded::<user::Entity>(Unguarded::PartsOf)
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::DisabledAt.is_null());
        let select = match to {
            Recipients::Accounts(ids) => base.filter(user::Column::Id.is_in(ids.iter().copied())),
            Recipients::People(ids) => base
                .filter(user::Column::Role.eq(Role::Member.as_str()))
                .filter(user::Column::PersonId.is_in(ids.iter().copied())),
            Recipients::StaffOf(_) => return Ok(Vec::new()),
            Recipients::Invitees {
                activity,
                status,
                at,
            } => {
                let mut invited = sea_orm::sea_query::Query::select()
                    .column(invitation::Column::PersonId)
                    .from(invitation::Entity)
                    .and_where(Expr::col(invitation::Column::ActivityId).eq(*activity))
                    .to_owned();
                if let Some(status) = status {
                    invited.and_where(Expr::col(invitation::Column::Status).eq(status.as_str()));
                }
                if let Some(at) = at {
                    invited.and_where(Expr::col(invitation::Column::UpdatedAt).eq(*at));
                }
                base.filter(user::Column::Role.eq(Role::Member.as_str()))
                    .filter(user::Column::PersonId.in_subquery(invited))
            }
        };
        Ok(select
            .order_by_asc(user::Column::Id)
            .into_tuple::<i64>()
            .all(&self.db)
            .await?)
    }
}

impl Store {
    /// The enabled administrators and staff at `unit`, or at the nearest unit above it that
    /// has any.
    async fn nearest_staff(&self, unit: i64) -> Result<Vec<i64>> {
        let mut at = Some(unit);
        while let Some(id) = at {
            let staff: Vec<i64> = access::unguarded::<user::Entity>(Unguarded::PartsOf)
                .select_only()
                .column(user::Column::Id)
                .filter(user::Column::DisabledAt.is_null())
                .filter(user::Column::UnitId.eq(id))
                .filter(user::Column::Role.is_in([Role::Admin.as_str(), Role::Staff.as_str()]))
                .order_by_asc(user::Column::Id)
                .into_tuple()
                .all(&self.db)
                .await?;
            if !staff.is_empty() {
                return Ok(staff);
            }
            at = access::unguarded_by_id::<unit::Entity>(Unguarded::PartsOf, id)
                .select_only()
                .column(unit::Column::ParentId)
                .into_tuple::<Option<i64>>()
                .one(&self.db)
                .await?
                .flatten();
        }
        Ok(Vec::new())
    }

    /// Raises a reminder for each planned activity starting in `[from, to)`, to the invited
    /// members who have not answered; returns how many activities.
    pub async fn raise_activity_reminders(
        &self,
        now: Timestamp,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<u64> {
        let tx = self.begin_write().await?;
        let due = access::unguarded::<activity::Entity>(Unguarded::System)
            .filter(activity::Column::State.eq(ActivityState::Planned.key()))
            .filter(activity::Column::StartsAt.gte(from.micros()))
            .filter(activity::Column::StartsAt.lt(to.micros()))
            .all(&tx)
            .await?;
        for activity in &due {
            let to = Recipients::Invitees {
                activity: activity.id,
                status: Some(Attendance::Invited.key().to_owned()),
                at: None,
            };
            raise(&tx, now, &about_activity("activity.reminder", activity, to)).await?;
        }
        tx.commit().await?;
        Ok(due.len() as u64)
    }
}

impl Store {
    /// The newest notification of `account` of this kind and subject (what an e-mail about
    /// merged events tells).
    pub async fn latest_notification(
        &self,
        account: i64,
        kind: &str,
        subject: &str,
    ) -> Result<Option<NotificationView>> {
        Ok(
            access::unguarded::<notification::Entity>(Unguarded::PartsOf)
                .filter(notification::Column::AccountId.eq(account))
                .filter(notification::Column::Kind.eq(kind))
                .filter(notification::Column::Subject.eq(subject))
                .order_by_desc(notification::Column::Id)
                .one(&self.db)
                .await?
                .map(NotificationView::from),
        )
    }

    /// The accounts with notifications waiting for their daily digest.
    pub async fn accounts_awaiting_digest(&self) -> Result<Vec<i64>> {
        Ok(access::unguarded::<notification::Entity>(Unguarded::System)
            .select_only()
            .column(notification::Column::AccountId)
            .filter(notification::Column::DigestPending.eq(true))
            .distinct()
            .into_tuple::<i64>()
            .all(&self.db)
            .await?)
    }

    /// The notifications waiting for `account`'s digest, oldest first (at most 200).
    pub async fn digest_of(&self, account: i64) -> Result<Vec<NotificationView>> {
        let rows = access::unguarded::<notification::Entity>(Unguarded::PartsOf)
            .filter(notification::Column::AccountId.eq(account))
            .filter(notification::Column::DigestPending.eq(true))
            .order_by_asc(notification::Column::UpdatedAt)
            .limit(200)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(NotificationView::from).collect())
    }

    /// Marks these notifications of `account` as sent in a digest.
    pub async fn digest_sent(&self, account: i64, ids: &[i64]) -> Result<()> {
        access::update_rows::<notification::Entity>(Unguarded::PartsOf)
            .col_expr(notification::Column::DigestPending, Expr::value(false))
            .filter(notification::Column::AccountId.eq(account))
            .filter(notification::Column::Id.is_in(ids.iter().copied()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Sets (or, with `None`, removes) the actor's e-mail address, already checked by the
    /// caller; without one, deliveries by e-mail fall back to the inbox alone.
    pub async fn set_own_email(
        &self,
        actor: &Actor,
        now: Timestamp,
        email: Option<&str>,
    ) -> Result<()> {
        let account = actor.user_id().ok_or(crate::StoreError::Forbidden)?;
        let tx = self.begin_write().await?;
        access::update_rows::<user::Entity>(Unguarded::Sessions)
            .col_expr(user::Column::Email, Expr::value(email.map(str::to_owned)))
            .col_expr(user::Column::UpdatedAt, Expr::value(now.micros()))
            .filter(user::Column::Id.eq(account))
            .exec(&tx)
            .await?;
        if email.is_none() {
            tx.execute_raw(statement(
                self.engine(),
                "DELETE FROM notification_preferences WHERE account_id = ?",
                vec![account.into()],
            ))
            .await?;
        }
        crate::audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            crate::audit::Event::new("account.email").target("account", account, actor.username()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
