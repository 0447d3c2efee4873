//! Logins and server-side sessions, shared by every `tongxin serve` process on one database.
//!
//! The client holds a random secret; the database holds only its SM3 hash, so a copy of the
//! database does not let anyone take over a session.

use rand::RngExt;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, QuerySelect};
use serde_json::json;
use sm3::{Digest, Sm3};
use tongxin_core::{Role, Timestamp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::accounts::Policy;
use crate::accounts::password;
use crate::accounts::two_factor::{self, CodeUse};
use crate::audit::{self, Event};
use crate::entity::{person, session, unit, user};
use crate::error::{LoginError, Result};

/// How long a login may wait for its second factor.
const PENDING_MINUTES: i64 = 5;

/// How often at most a session's last-seen time is written, to spare a write per request.
const TOUCH_INTERVAL_MICROS: i64 = 60_000_000;

/// A browser session (cookie) or an API token (bearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Web,
    Api,
    /// A web login whose password was right, waiting for its second factor: it opens nothing.
    SecondFactor,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
            // The column holds eight characters.
            SessionKind::SecondFactor => "pending",
        }
    }
}

/// The secret a client presents (cookie value or bearer token).
#[derive(Clone, PartialEq, Eq)]
pub struct SessionSecret(String);

impl SessionSecret {
    fn generate() -> Self {
        SessionSecret(random_hex())
    }

    /// Wraps what a client sent; any string is accepted and simply fails to match if forged.
    pub fn from_client(value: &str) -> Self {
        SessionSecret(value.to_owned())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub(crate) fn hash(&self) -> String {
        hex::encode(Sm3::digest(self.0.as_bytes()))
    }
}

impl std::fmt::Debug for SessionSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionSecret(***)")
    }
}

/// 32 random bytes as hex: session secrets and CSRF tokens.
pub fn random_hex() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    hex::encode(bytes)
}

/// What a login presents.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub username: &'a str,
    pub password: &'a str,
    /// The second factor's code (API logins; a web login is asked for it afterwards).
    pub code: Option<&'a str>,
}

/// How a login whose factors were right opens its session.
struct Opening<'a> {
    kind: SessionKind,
    /// The second-factor code it used, spent with the opening.
    spent: Option<CodeUse>,
    /// The waiting login it completes, which ends.
    replaces: Option<&'a SessionSecret>,
}

/// What the web layer needs to know about a live session.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub secret: SessionSecret,
    pub csrf_token: String,
    pub kind: SessionKind,
}

impl Store {
    /// Checks a user name and password and opens a session. Consecutive failures lock the
    /// account for a while; every attempt is audited.
    pub async fn login(
        &self,
        credentials: Credentials<'_>,
        kind: SessionKind,
        now: Timestamp,
        ip: Option<String>,
        policy: &Policy,
    ) -> Result<(SessionView, Actor), LoginError> {
        let Credentials {
            username,
            password,
            code,
        } = credentials;
        let name = username.trim().to_ascii_lowercase();
        let found = access::unguarded::<user::Entity>(Unguarded::Sessions)
            .filter(user::Column::Username.eq(name.as_str()))
            .find_also_related(unit::Entity)
            .one(&self.db)
            .await?;
        let Some((account, Some(unit))) = found else {
            password::verify_nothing(password.to_owned()).await;
            // What was typed may be a password typed into the wrong field: the log keeps a
            // keyed hash of it, enough to see repeated attempts at one name, not the name.
            let typed = self.keys.blind_index("login.typed_name", &name);
            let shown = format!("unknown-{}", typed.get(..12).unwrap_or(&typed));
            self.audit_alone(
                now,
                &Actor::anonymous(&shown, ip),
                Event::new("login.failed").detail(json!({ "reason": "unknown_user" })),
            )
            .await?;
            return Err(LoginError::BadCredentials);
        };
        let attempt = Actor::anonymous(&account.username, ip.clone());
        let login_event = |action| {
            Event::new(action)
                .target("account", account.id, &account.username)
                .unit(&unit.path)
        };

        if let Some(until) = account.locked_until.filter(|t| *t > now.micros()) {
            self.audit_alone(
                now,
                &attempt,
                login_event("login.failed").detail(json!({ "reason": "locked" })),
            )
            .await?;
            return Err(LoginError::Locked {
                until: Timestamp::from_micros(until),
            });
        }

        if !password::verify(password.to_owned(), account.password_hash.clone()).await {
            return Err(self
                .count_failure(now, &attempt, &account, &unit, policy, "password")
                .await?);
        }

        if account.disabled_at.is_some() {
            self.audit_alone(
                now,
                &attempt,
                login_event("login.failed").detail(json!({ "reason": "disabled" })),
            )
            .await?;
            return Err(LoginError::Disabled);
        }

        if kind == SessionKind::Api && account.must_change_password {
            self.audit_alone(
                now,
                &attempt,
                login_event("login.failed").detail(json!({ "reason": "password_change_required" })),
            )
            .await?;
            return Err(LoginError::PasswordChangeRequired);
        }

        let mut spent = None;
        if account.totp_enrolled_at.is_some() {
            if kind != SessionKind::Api {
                // The password was right; the session opens once the code is too.
                let pending = self
                    .open_session(&account, &unit, SessionKind::SecondFactor, now, ip, policy)
                    .await?;
                return Ok(pending);
            }
            let Some(code) = code else {
                self.audit_alone(
                    now,
                    &attempt,
                    login_event("login.failed")
                        .detail(json!({ "reason": "second_factor_missing" })),
                )
                .await?;
                return Err(LoginError::SecondFactorRequired);
            };
            match two_factor::check_code(&self.keys, &account, code, now)? {
                Some(code) => spent = Some(code),
                None => {
                    return Err(self
                        .count_failure(now, &attempt, &account, &unit, policy, "second_factor")
                        .await?);
                }
            }
        } else if kind == SessionKind::Api
            && policy
                .second_factor
                .requires(Role::parse(&account.role).unwrap_or(Role::Member))
        {
            self.audit_alone(
                now,
                &attempt,
                login_event("login.failed").detail(json!({ "reason": "second_factor_not_set_up" })),
            )
            .await?;
            return Err(LoginError::SecondFactorSetupRequired);
        }

        let opened = Opening {
            kind,
            spent,
            replaces: None,
        };
        self.complete_login(&account, &unit, opened, now, ip, policy)
            .await
    }

    /// Opens a session of `kind` for an account whose credentials were checked, without
    /// recording a login: a web login waiting for its second factor.
    async fn open_session(
        &self,
        account: &user::Model,
        unit: &unit::Model,
        kind: SessionKind,
        now: Timestamp,
        ip: Option<String>,
        policy: &Policy,
    ) -> Result<(SessionView, Actor)> {
        let actor = Actor::of_account(account, unit, ip.clone(), policy.second_factor);
        let secret = SessionSecret::generate();
        let csrf_token = random_hex();
        session::ActiveModel {
            id_hash: Set(secret.hash()),
            user_id: Set(account.id),
            kind: Set(kind.as_str().to_owned()),
            csrf_token: Set(csrf_token.clone()),
            created_at: Set(now.micros()),
            last_seen_at: Set(now.micros()),
            ip: Set(ip),
        }
        .insert(&self.db)
        .await?;
        Ok((
            SessionView {
                secret,
                csrf_token,
                kind,
            },
            actor,
        ))
    }

    /// Opens the session of a login whose every factor was right, spends the code it used,
    /// clears the failure count and records the login, in one transaction.
    async fn complete_login(
        &self,
        account: &user::Model,
        unit: &unit::Model,
        opening: Opening<'_>,
        now: Timestamp,
        ip: Option<String>,
        policy: &Policy,
    ) -> Result<(SessionView, Actor), LoginError> {
        let attempt = &Actor::anonymous(&account.username, ip.clone());
        let Opening {
            kind,
            spent,
            replaces,
        } = opening;
        let actor = Actor::of_account(account, unit, ip.clone(), policy.second_factor);
        let secret = SessionSecret::generate();
        let csrf_token = random_hex();
        let tx = self.begin_write().await?;
        if let Some(code) = &spent
            && !code.spend(&tx, account.id).await?
        {
            // Another login spent the same code a moment ago.
            drop(tx);
            return Err(self
                .count_failure(now, attempt, account, unit, policy, "second_factor")
                .await?);
        }
        user::ActiveModel {
            id: Set(account.id),
            failed_logins: Set(0),
            locked_until: Set(None),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        // Sweep sessions that expired long ago, so the table does not grow without bound.
        access::delete_rows::<session::Entity>(Unguarded::Sessions)
            .filter(
                session::Column::LastSeenAt
                    .lt(now.plus_minutes(-policy.session_idle_minutes).micros()),
            )
            .exec(&tx)
            .await?;
        if let Some(pending) = replaces {
            access::delete_rows::<session::Entity>(Unguarded::Sessions)
                .filter(session::Column::IdHash.eq(pending.hash()))
                .exec(&tx)
                .await?;
        }
        session::ActiveModel {
            id_hash: Set(secret.hash()),
            user_id: Set(account.id),
            kind: Set(kind.as_str().to_owned()),
            csrf_token: Set(csrf_token.clone()),
            created_at: Set(now.micros()),
            last_seen_at: Set(now.micros()),
            ip: Set(ip),
        }
        .insert(&tx)
        .await?;
        let mut detail = json!({ "kind": kind.as_str() });
        if let Some(code) = &spent {
            detail["second_factor"] = json!(code.kind());
        }
        audit::append(
            &tx,
            &self.keys,
            now,
            &actor,
            Event::new("login")
                .target("account", account.id, &account.username)
                .unit(&unit.path)
                .detail(detail),
        )
        .await?;
        tx.commit().await?;
        Ok((
            SessionView {
                secret,
                csrf_token,
                kind,
            },
            actor,
        ))
    }

    /// The account name of a web login waiting for its second factor, while it may still be
    /// completed.
    pub async fn pending_login(
        &self,
        secret: &SessionSecret,
        now: Timestamp,
    ) -> Result<Option<String>> {
        Ok(self
            .find_pending(secret, now)
            .await?
            .map(|(account, _, _)| account.username))
    }

    async fn find_pending(
        &self,
        secret: &SessionSecret,
        now: Timestamp,
    ) -> Result<Option<(user::Model, unit::Model, session::Model)>> {
        let Some(pending) =
            access::unguarded_by_id::<session::Entity>(Unguarded::Sessions, secret.hash())
                .filter(session::Column::Kind.eq(SessionKind::SecondFactor.as_str()))
                .filter(session::Column::CreatedAt.gte(now.plus_minutes(-PENDING_MINUTES).micros()))
                .one(&self.db)
                .await?
        else {
            return Ok(None);
        };
        Ok(
            match access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, pending.user_id)
                .find_also_related(unit::Entity)
                .one(&self.db)
                .await?
            {
                Some((account, Some(unit))) => Some((account, unit, pending)),
                _ => None,
            },
        )
    }

    /// Completes a web login waiting for its second factor: a code from the app or a recovery
    /// code opens the session (under a new secret); a wrong one counts as a failed login.
    pub async fn complete_second_factor(
        &self,
        pending: &SessionSecret,
        code: &str,
        now: Timestamp,
        ip: Option<String>,
        policy: &Policy,
    ) -> Result<(SessionView, Actor), LoginError> {
        let Some((account, unit, _)) = self.find_pending(pending, now).await? else {
            return Err(LoginError::SecondFactorExpired);
        };
        let attempt = Actor::anonymous(&account.username, ip.clone());
        let locked = account.locked_until.is_some_and(|t| t > now.micros());
        if locked || account.disabled_at.is_some() {
            self.end_pending(pending).await?;
            return Err(LoginError::BadCredentials);
        }
        let Some(spent) = two_factor::check_code(&self.keys, &account, code, now)? else {
            let refused = self
                .count_failure(now, &attempt, &account, &unit, policy, "second_factor")
                .await?;
            if matches!(refused, LoginError::Locked { .. }) {
                self.end_pending(pending).await?;
            }
            return Err(refused);
        };
        let opening = Opening {
            kind: SessionKind::Web,
            spent: Some(spent),
            replaces: Some(pending),
        };
        self.complete_login(&account, &unit, opening, now, ip, policy)
            .await
    }

    async fn end_pending(&self, pending: &SessionSecret) -> Result<()> {
        access::delete_rows::<session::Entity>(Unguarded::Sessions)
            .filter(session::Column::IdHash.eq(pending.hash()))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Records a wrong password; the failure that reaches the threshold locks the account.
    async fn count_failure(
        &self,
        now: Timestamp,
        attempt: &Actor,
        account: &user::Model,
        unit: &unit::Model,
        policy: &Policy,
        reason: &str,
    ) -> Result<LoginError> {
        let tx = self.begin_write().await?;
        // Increment in SQL so that concurrent wrong guesses each count.
        access::update_rows::<user::Entity>(Unguarded::Sessions)
            .col_expr(
                user::Column::FailedLogins,
                Expr::col(user::Column::FailedLogins).add(1),
            )
            .filter(user::Column::Id.eq(account.id))
            .exec(&tx)
            .await?;
        let failures = access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, account.id)
            .select_only()
            .column(user::Column::FailedLogins)
            .into_tuple::<i32>()
            .one(&tx)
            .await?
            .unwrap_or(1);
        let locks = u32::try_from(failures).unwrap_or(u32::MAX) >= policy.lockout_threshold;
        let until = now.plus_minutes(policy.lockout_minutes);
        if locks {
            user::ActiveModel {
                id: Set(account.id),
                failed_logins: Set(0),
                locked_until: Set(Some(until.micros())),
                ..Default::default()
            }
            .update(&tx)
            .await?;
        }
        let event = |action| {
            Event::new(action)
                .target("account", account.id, &account.username)
                .unit(&unit.path)
        };
        audit::append(
            &tx,
            &self.keys,
            now,
            attempt,
            event("login.failed").detail(json!({ "reason": reason, "failures": failures })),
        )
        .await?;
        if locks {
            audit::append(
                &tx,
                &self.keys,
                now,
                attempt,
                event("account.lock").detail(json!({ "until": until.rfc3339() })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(if locks {
            LoginError::Locked { until }
        } else {
            LoginError::BadCredentials
        })
    }

    /// The actor behind a session secret, if the session is live. An idle session expires and
    /// is removed; a live one has its last-seen time refreshed (at most once a minute).
    pub async fn session(
        &self,
        secret: &SessionSecret,
        kind: SessionKind,
        now: Timestamp,
        ip: Option<String>,
        policy: &Policy,
    ) -> Result<Option<(SessionView, Actor)>> {
        let Some(found) =
            access::unguarded_by_id::<session::Entity>(Unguarded::Sessions, secret.hash())
                .filter(session::Column::Kind.eq(kind.as_str()))
                .one(&self.db)
                .await?
        else {
            return Ok(None);
        };
        let idle_limit = now.plus_minutes(-policy.session_idle_minutes).micros();
        let lifetime_minutes = match kind {
            SessionKind::Web => policy.session_max_hours.saturating_mul(60),
            SessionKind::Api => policy.api_token_max_days.saturating_mul(24 * 60),
            SessionKind::SecondFactor => PENDING_MINUTES,
        };
        let born_limit = now.plus_minutes(-lifetime_minutes).micros();
        if found.last_seen_at < idle_limit || found.created_at < born_limit {
            access::delete_rows::<session::Entity>(Unguarded::Sessions)
                .filter(session::Column::IdHash.eq(found.id_hash))
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        let Some((account, Some(unit))) =
            access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, found.user_id)
                .find_also_related(unit::Entity)
                .one(&self.db)
                .await?
        else {
            return Ok(None);
        };
        if account.disabled_at.is_some() {
            return Ok(None);
        }
        if now.micros() - found.last_seen_at > TOUCH_INTERVAL_MICROS {
            access::update_rows::<session::Entity>(Unguarded::Sessions)
                .col_expr(session::Column::LastSeenAt, Expr::value(now.micros()))
                .filter(session::Column::IdHash.eq(found.id_hash.as_str()))
                .exec(&self.db)
                .await?;
        }
        let mut actor = Actor::of_account(&account, &unit, ip, policy.second_factor);
        if let Some(name) = self.member_name(&account).await? {
            actor = actor.named(name);
        }
        Ok(Some((
            SessionView {
                secret: secret.clone(),
                csrf_token: found.csrf_token,
                kind,
            },
            actor,
        )))
    }

    /// The account `id` as an actor, for work it started that runs later (an import as a
    /// job); `None` when the account is gone or disabled. The second factor was asked when the
    /// work was started.
    pub async fn actor_of_account(&self, id: i64) -> Result<Option<Actor>> {
        let Some((account, Some(unit))) =
            access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, id)
                .find_also_related(unit::Entity)
                .one(&self.db)
                .await?
        else {
            return Ok(None);
        };
        if account.disabled_at.is_some() {
            return Ok(None);
        }
        Ok(Some(Actor::of_account(
            &account,
            &unit,
            None,
            crate::SecondFactorRule::Optional,
        )))
    }

    /// A member is greeted and shown by the name of the person on record, not the account's.
    async fn member_name(&self, account: &user::Model) -> Result<Option<String>> {
        let Some(person_id) = account
            .person_id
            .filter(|_| account.role == Role::Member.as_str())
        else {
            return Ok(None);
        };
        Ok(
            access::unguarded_by_id::<person::Entity>(Unguarded::Sessions, person_id)
                .select_only()
                .column(person::Column::Name)
                .into_tuple::<String>()
                .one(&self.db)
                .await?,
        )
    }

    /// Ends a session and records the logout.
    pub async fn logout(
        &self,
        actor: &Actor,
        secret: &SessionSecret,
        now: Timestamp,
    ) -> Result<()> {
        let tx = self.begin_write().await?;
        access::delete_rows::<session::Entity>(Unguarded::Sessions)
            .filter(session::Column::IdHash.eq(secret.hash()))
            .exec(&tx)
            .await?;
        let mut event = Event::new("logout").unit(actor.unit_path().as_str());
        if let Some(id) = actor.user_id() {
            event = event.target("account", id, actor.username());
        }
        audit::append(&tx, &self.keys, now, actor, event).await?;
        tx.commit().await?;
        Ok(())
    }
}
