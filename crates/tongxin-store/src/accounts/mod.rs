//! Accounts: each belongs to a unit and has a role. The system administrator manages the work
//! accounts of their subtree; the security administrator every account of theirs, its role,
//! lockouts and the right to export in clear (三员分立). Nobody changes their own role.

pub(crate) mod password;
pub(crate) mod sessions;
pub(crate) mod tokens;
pub(crate) mod two_factor;

use std::collections::HashMap;

use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use serde_json::json;
use tongxin_core::{Field, Invalid, Password, Reason, Role, Timestamp, Username};

use crate::Store;
use crate::access::{self, Actor, Unguarded, filing_unit};
use crate::audit::{self, Event};
use crate::entity::{session, unit, user};
use crate::error::{Result, StoreError};
use crate::like;
use crate::page::{Page, PageRequest, Walk, along, capped_count};

/// Limits that protect accounts and sessions; configurable, with the defaults of the issue.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Consecutive failed logins that lock an account.
    pub lockout_threshold: u32,
    /// How long a lock lasts.
    pub lockout_minutes: i64,
    /// A session unused this long expires.
    pub session_idle_minutes: i64,
    /// A web session ends this long after login, however much it is used.
    pub session_max_hours: i64,
    /// An API token ends this long after it was issued, however much it is used.
    pub api_token_max_days: i64,
    /// Whether the three duty roles must log in with a second factor.
    pub second_factor: SecondFactorRule,
}

/// Whether a second factor is required of the system, security and audit administrators.
/// Any account may set one up; once set up, it is asked at every login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorRule {
    /// The duty roles set one up at their first login and cannot work without it.
    Required,
    /// Relaxed, for a demonstration or a test: nobody is made to set one up.
    Optional,
}

impl SecondFactorRule {
    /// Whether an account of this role must have a second factor.
    pub fn requires(self, role: Role) -> bool {
        self == SecondFactorRule::Required && role.is_privileged()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            lockout_threshold: 5,
            lockout_minutes: 15,
            session_idle_minutes: 30,
            session_max_hours: 12,
            api_token_max_days: 30,
            second_factor: SecondFactorRule::Required,
        }
    }
}

/// An account as shown to administrators.
#[derive(Debug, Clone)]
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit_id: i64,
    pub unit_code: String,
    pub unit_name: String,
    pub disabled: bool,
    pub locked_until: Option<Timestamp>,
    pub must_change_password: bool,
    pub may_export_clear: bool,
    /// A second factor is set up (and asked at every login).
    pub second_factor: bool,
    pub created_at: Timestamp,
}

/// How a page of accounts is read: by username (the unique index), or through the index of
/// the accounts' units when the subtree holds few.
pub(crate) const ACCOUNT_WALK: Walk = Walk {
    table: "users",
    order: "sqlite_autoindex_users_1",
    subtree: "idx_users_unit",
};

fn view(u: user::Model, unit: &unit::Model) -> AccountView {
    AccountView {
        id: u.id,
        username: u.username,
        display_name: u.display_name,
        role: Role::parse(&u.role).unwrap_or(Role::Member),
        unit_id: unit.id,
        unit_code: unit.code.clone(),
        unit_name: unit.name.clone(),
        disabled: u.disabled_at.is_some(),
        locked_until: u.locked_until.map(Timestamp::from_micros),
        must_change_password: u.must_change_password,
        may_export_clear: u.may_export_clear,
        second_factor: u.totp_enrolled_at.is_some(),
        created_at: Timestamp::from_micros(u.created_at),
    }
}

/// Filters for account lists.
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// Substring of the user name or display name.
    pub q: Option<String>,
    /// Only accounts of this unit (not its subtree).
    pub unit_id: Option<i64>,
    /// Only accounts of this unit's subtree (within the manager's).
    pub subtree_of: Option<i64>,
    /// Only accounts locked out of signing in at this time.
    pub locked_at: Option<Timestamp>,
    /// Z to A instead of A to Z.
    pub reversed: bool,
}

/// An account to create; every field already validated.
#[derive(Debug)]
pub struct NewAccount {
    pub unit_id: i64,
    pub username: Username,
    pub display_name: String,
    pub role: Role,
    pub password: Password,
}

impl Store {
    /// Accounts whose unit lies in the manager's subtree.
    pub async fn accounts(
        &self,
        actor: &Actor,
        query: &AccountQuery,
        page: PageRequest,
    ) -> Result<Page<AccountView>> {
        actor.require_account_manager()?;
        let mut select = access::visible::<user::Entity>(actor);
        if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            select = select.filter(
                Condition::any()
                    .add(like::contains(
                        user::Column::Username,
                        &q.to_ascii_lowercase(),
                    ))
                    .add(like::contains(user::Column::DisplayName, q)),
            );
        }
        if let Some(unit_id) = query.unit_id {
            select = select.filter(user::Column::UnitId.eq(unit_id));
        }
        if let Some(root) = query.subtree_of {
            let path = self.subtree_of(actor, root).await?;
            select = select.filter(
                user::Column::UnitId.in_subquery(
                    Query::select()
                        .column(unit::Column::Id)
                        .from(unit::Entity)
                        .and_where(unit::Column::Path.gte(path.as_str()))
                        .and_where(unit::Column::Path.lt(path.upper_bound()))
                        .to_owned(),
                ),
            );
        }
        if let Some(at) = query.locked_at {
            select = select.filter(user::Column::LockedUntil.gt(at.micros()));
        }
        let total = capped_count(select.clone(), &self.db).await?;
        let ordered = select
            .order_by(user::Column::Username, along(Order::Asc, query.reversed))
            .offset(page.offset())
            .limit(page.per_page);
        let statement = ACCOUNT_WALK.statement(ordered.clone(), total, self.engine());
        let rows = ordered.from_raw_sql(statement).all(&self.db).await?;
        // The units of the accounts shown, reached through the accounts themselves.
        let units: HashMap<i64, unit::Model> = access::unguarded::<unit::Entity>(Unguarded::Labels)
            .filter(unit::Column::Id.is_in(rows.iter().map(|u| u.unit_id)))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|unit| (unit.id, unit))
            .collect();
        let items = rows
            .into_iter()
            .filter_map(|u| units.get(&u.unit_id).map(|unit| view(u, unit)))
            .collect();
        Ok(Page::new(items, total, page))
    }

    /// One account of the manager's subtree.
    pub async fn account(&self, actor: &Actor, id: i64) -> Result<AccountView> {
        actor.require_account_manager()?;
        let (u, unit) = self.find_account(&self.db, actor, id).await?;
        Ok(view(u, &unit))
    }

    async fn find_account<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> Result<(user::Model, unit::Model)> {
        match access::visible::<user::Entity>(actor)
            .filter(user::Column::Id.eq(id))
            .find_also_related(unit::Entity)
            .one(conn)
            .await?
        {
            Some((u, Some(unit))) => Ok((u, unit)),
            _ => Err(StoreError::NotFound),
        }
    }

    /// An account of the actor's subtree by user name, for staff linking a member to their
    /// record (staff do not list accounts); one outside it is refused as unknown.
    pub(crate) async fn find_account_in_scope<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        username: &Username,
    ) -> Result<user::Model> {
        let units_in_scope = access::visible::<unit::Entity>(actor)
            .select_only()
            .column(unit::Column::Id)
            .into_query();
        match access::unguarded::<user::Entity>(Unguarded::Labels)
            .filter(user::Column::Username.eq(username.as_str()))
            .filter(user::Column::UnitId.in_subquery(units_in_scope))
            .find_also_related(unit::Entity)
            .one(conn)
            .await?
        {
            Some((u, Some(_))) => Ok(u),
            _ => Err(Invalid::new(Field::Username, Reason::NotFound).into()),
        }
    }

    /// Creates an account in a unit of the manager's subtree. Its holder must change the
    /// password at first login: someone else chose it.
    pub async fn create_account(
        &self,
        actor: &Actor,
        now: Timestamp,
        new: NewAccount,
    ) -> Result<AccountView> {
        actor.require_may_manage(new.role)?;
        self.insert_account(actor, now, new, true).await
    }

    async fn insert_account(
        &self,
        actor: &Actor,
        now: Timestamp,
        new: NewAccount,
        must_change_password: bool,
    ) -> Result<AccountView> {
        let hash = password::hash(new.password.expose().to_owned()).await?;
        let tx = self.begin_write().await?;
        let unit = filing_unit(&tx, actor, new.unit_id, Field::Unit).await?;
        let taken = access::unguarded::<user::Entity>(Unguarded::Sessions)
            .filter(user::Column::Username.eq(new.username.as_str()))
            .count(&tx)
            .await?
            > 0;
        if taken {
            return Err(Invalid::new(Field::Username, Reason::Taken).into());
        }
        let created = user::ActiveModel {
            unit_id: Set(unit.id),
            username: Set(new.username.as_str().to_owned()),
            display_name: Set(new.display_name.clone()),
            role: Set(new.role.as_str().to_owned()),
            password_hash: Set(hash),
            failed_logins: Set(0),
            locked_until: Set(None),
            disabled_at: Set(None),
            must_change_password: Set(must_change_password),
            may_export_clear: Set(false),
            created_at: Set(now.micros()),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .insert(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("account.create")
                .target("account", created.id, &created.username)
                .unit(&unit.path)
                .detail(json!({
                    "username": created.username,
                    "display_name": created.display_name,
                    "role": created.role,
                    "unit": unit.code,
                })),
        )
        .await?;
        tx.commit().await?;
        Ok(view(created, &unit))
    }

    /// An account of the manager's subtree that the actor may change: not their own, and of a
    /// role they may manage.
    async fn account_to_change<C: ConnectionTrait>(
        &self,
        conn: &C,
        actor: &Actor,
        id: i64,
    ) -> Result<(user::Model, unit::Model)> {
        actor.require_account_manager()?;
        if actor.user_id() == Some(id) {
            return Err(Invalid::new(Field::Username, Reason::OwnAccount).into());
        }
        let (u, unit) = self.find_account(conn, actor, id).await?;
        actor.require_may_manage(Role::parse(&u.role).unwrap_or(Role::Member))?;
        Ok((u, unit))
    }

    /// One change to an account the actor may change, in a transaction with its audit row:
    /// `inspect` looks at the account as it was (refusing, or giving the audit row's detail);
    /// the change's columns are set with `updated_at`.
    async fn change_account(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        inspect: impl FnOnce(&user::Model) -> Result<Option<serde_json::Value>>,
        change: AccountChange,
    ) -> Result<AccountView> {
        let tx = self.begin_write().await?;
        let (u, unit) = self.account_to_change(&tx, actor, id).await?;
        let detail = inspect(&u)?;
        let mut columns = change.columns;
        columns.id = Set(u.id);
        columns.updated_at = Set(now.micros());
        let updated = columns.update(&tx).await?;
        if change.ends_sessions {
            end_sessions(&tx, u.id).await?;
        }
        let mut event = Event::new(change.action)
            .target("account", u.id, &u.username)
            .unit(&unit.path);
        if let Some(detail) = detail {
            event = event.detail(detail);
        }
        audit::append(&tx, &self.keys, now, actor, event).await?;
        tx.commit().await?;
        Ok(view(updated, &unit))
    }

    /// Gives an account another role; its sessions end so the new role applies at once.
    pub async fn set_account_role(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        role: Role,
    ) -> Result<AccountView> {
        actor.require_may_manage(role)?;
        let columns = user::ActiveModel {
            role: Set(role.as_str().to_owned()),
            // The right to export in clear is given for a role's work; a new role starts
            // without it.
            may_export_clear: Set(false),
            ..Default::default()
        };
        let change = AccountChange {
            ends_sessions: true,
            ..AccountChange::new(columns, "account.role")
        };
        let detail = |u: &user::Model| Ok(Some(json!({ "from": u.role, "to": role.as_str() })));
        self.change_account(actor, now, id, detail, change).await
    }

    /// Lifts a lock left by failed logins.
    pub async fn unlock_account(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
    ) -> Result<AccountView> {
        let columns = user::ActiveModel {
            failed_logins: Set(0),
            locked_until: Set(None),
            ..Default::default()
        };
        let change = AccountChange::new(columns, "account.unlock");
        self.change_account(actor, now, id, |_| Ok(None), change)
            .await
    }

    /// Gives or takes the right to export protected fields in clear: the security
    /// administrator's alone, and only to accounts whose role works with the directory.
    pub async fn set_clear_export_right(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        allowed: bool,
    ) -> Result<AccountView> {
        actor.require_security()?;
        let may_hold = |u: &user::Model| {
            let role = Role::parse(&u.role).unwrap_or(Role::Member);
            if allowed && !matches!(role, Role::Admin | Role::Staff) {
                return Err(Invalid::new(Field::Role, Reason::NoClearExportForRole).into());
            }
            Ok(None)
        };
        let columns = user::ActiveModel {
            may_export_clear: Set(allowed),
            ..Default::default()
        };
        let action = if allowed {
            "account.grant_clear_export"
        } else {
            "account.revoke_clear_export"
        };
        self.change_account(
            actor,
            now,
            id,
            may_hold,
            AccountChange::new(columns, action),
        )
        .await
    }

    /// Disables or re-enables an account. Disabling ends its sessions at once.
    pub async fn set_account_disabled(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
        disabled: bool,
    ) -> Result<AccountView> {
        let columns = user::ActiveModel {
            disabled_at: Set(disabled.then_some(now.micros())),
            ..Default::default()
        };
        let action = if disabled {
            "account.disable"
        } else {
            "account.enable"
        };
        let change = AccountChange {
            ends_sessions: disabled,
            ..AccountChange::new(columns, action)
        };
        self.change_account(actor, now, id, |_| Ok(None), change)
            .await
    }

    /// Gives an account a new random password, clears any lock and ends its sessions. Returns
    /// the password, which is shown once and never stored in the clear; the holder must change
    /// it at first login.
    pub async fn reset_password(&self, actor: &Actor, now: Timestamp, id: i64) -> Result<String> {
        let new_password = password::generate_password();
        let hash = password::hash(new_password.clone()).await?;
        let tx = self.begin_write().await?;
        let (u, unit) = self.account_to_change(&tx, actor, id).await?;
        // Whoever had the account's secrets loses them all: sessions, tokens, the feed.
        user::ActiveModel {
            id: Set(u.id),
            calendar_token: Set(None),
            ..password_columns(now, hash, true)
        }
        .update(&tx)
        .await?;
        end_sessions(&tx, u.id).await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("account.reset_password")
                .target("account", u.id, &u.username)
                .unit(&unit.path),
        )
        .await?;
        tx.commit().await?;
        Ok(new_password)
    }

    /// Changes the actor's own password after checking the current one. Other sessions of the
    /// account end; the current one stays.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        now: Timestamp,
        current: &str,
        new: Password,
        keep_session: &crate::SessionSecret,
    ) -> Result<()> {
        let user_id = actor.user_id().ok_or(StoreError::Forbidden)?;
        let u = access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, user_id)
            .one(&self.db)
            .await?
            .ok_or(StoreError::NotFound)?;
        if !password::verify(current.to_owned(), u.password_hash).await {
            return Err(Invalid::new(Field::CurrentPassword, Reason::Mismatch).into());
        }
        let hash = password::hash(new.expose().to_owned()).await?;
        let tx = self.begin_write().await?;
        user::ActiveModel {
            id: Set(user_id),
            ..password_columns(now, hash, false)
        }
        .update(&tx)
        .await?;
        access::delete_rows::<session::Entity>(Unguarded::Sessions)
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::IdHash.ne(keep_session.hash()))
            .exec(&tx)
            .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("account.change_password")
                .target("account", user_id, actor.username())
                .unit(actor.unit_path().as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Creates an account from the command line, as the system, in the unit with `unit_code`.
    /// The password is the holder's own (typed on the server), so no change is required; any
    /// role may be given here, which is how the first security administrator is made.
    pub async fn add_user_as_system(
        &self,
        now: Timestamp,
        unit_code: &str,
        username: Username,
        role: Role,
        password: Password,
    ) -> Result<AccountView> {
        let system = Actor::system("cli");
        let unit = self
            .unit_by_code(&system, unit_code)
            .await
            .map_err(|_| Invalid::new(Field::Unit, Reason::NotFound))?;
        self.insert_account(
            &system,
            now,
            NewAccount {
                unit_id: unit.id,
                display_name: username.as_str().to_owned(),
                username,
                role,
                password,
            },
            false,
        )
        .await
    }
}

/// The columns a new password sets: it also clears failed logins and any lock.
fn password_columns(now: Timestamp, hash: String, must_change: bool) -> user::ActiveModel {
    user::ActiveModel {
        password_hash: Set(hash),
        must_change_password: Set(must_change),
        failed_logins: Set(0),
        locked_until: Set(None),
        updated_at: Set(now.micros()),
        ..Default::default()
    }
}

/// What [`Store::change_account`] sets and records.
struct AccountChange {
    columns: user::ActiveModel,
    /// The change takes effect at once: the account's sessions end.
    ends_sessions: bool,
    action: &'static str,
}

impl AccountChange {
    fn new(columns: user::ActiveModel, action: &'static str) -> AccountChange {
        AccountChange {
            columns,
            ends_sessions: false,
            action,
        }
    }
}

async fn end_sessions<C: ConnectionTrait>(conn: &C, user_id: i64) -> Result<()> {
    access::delete_rows::<session::Entity>(Unguarded::Sessions)
        .filter(session::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    Ok(())
}
