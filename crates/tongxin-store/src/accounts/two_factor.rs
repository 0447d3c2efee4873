//! A second factor at login: a time-based one-time code (TOTP, RFC 6238) from an authenticator
//! app, or one of ten single-use recovery codes.
//!
//! The holder sets it up themselves (the secret never passes through another person's hands);
//! the security administrator can only take it away, after which the holder sets up a new one.
//! The secret is sealed under the key file, bound to its account's row; recovery codes are kept
//! as keyed hashes; each time step is accepted once.

use rand::RngExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, QueryFilter,
};
use serde_json::json;
use tongxin_core::{Field, Invalid, Reason, Timestamp};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::accounts::AccountChange;
use crate::audit::{self, Event};
use crate::crypto::{FieldKeys, SealedAt};
use crate::entity::{unit, user};
use crate::error::{Result, StoreError};

/// The field a refused code is reported against.
pub const CODE_FIELD: Field = Field::Named("second_factor_code");

/// How many recovery codes are made at once.
const RECOVERY_CODES: usize = 10;

/// The name shown for the account in authenticator apps.
const ISSUER: &str = "Tongxin";

/// What the holder needs to add the account to an authenticator app.
#[derive(Debug, Clone)]
pub struct SecondFactorSetup {
    /// The secret in base32, to type in when the QR code cannot be scanned.
    pub secret: String,
    /// The `otpauth://` link the QR code carries.
    pub uri: String,
}

/// Whether an account has a second factor, for its holder's page.
#[derive(Debug, Clone)]
pub struct SecondFactorStatus {
    pub set_up_at: Option<Timestamp>,
    pub recovery_codes_left: usize,
    /// The account's role may not work without one.
    pub required: bool,
}

/// An accepted code, and the change that spends it.
pub(crate) enum CodeUse {
    /// A TOTP code of this time step: steps up to it are spent.
    Totp { step: i64 },
    /// A recovery code: the list of hashes left once it is spent, and the list it was taken
    /// from (so two logins cannot spend one code).
    Recovery { before: String, after: String },
}

impl CodeUse {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            CodeUse::Totp { .. } => "totp",
            CodeUse::Recovery { .. } => "recovery_code",
        }
    }

    /// Spends the code, unless another login spent it first: `false` then.
    pub(crate) async fn spend<C: ConnectionTrait>(&self, conn: &C, user_id: i64) -> Result<bool> {
        let update = access::update_rows::<user::Entity>(Unguarded::Sessions)
            .filter(user::Column::Id.eq(user_id));
        let result = match self {
            CodeUse::Totp { step } => {
                update
                    .col_expr(user::Column::TotpLastStep, Expr::value(*step))
                    .filter(
                        Condition::any()
                            .add(user::Column::TotpLastStep.is_null())
                            .add(user::Column::TotpLastStep.lt(*step)),
                    )
                    .exec(conn)
                    .await?
            }
            CodeUse::Recovery { before, after } => {
                update
                    .col_expr(user::Column::RecoveryCodes, Expr::value(after.as_str()))
                    .filter(user::Column::RecoveryCodes.eq(before.as_str()))
                    .exec(conn)
                    .await?
            }
        };
        Ok(result.rows_affected == 1)
    }
}

/// Where the sealed secret of an account is stored: a secret copied to another account does
/// not open.
pub(crate) fn secret_at(user_id: i64) -> SealedAt<'static> {
    SealedAt {
        column: "users.totp_secret",
        row: user_id,
    }
}

fn totp(secret: Vec<u8>, account: &str) -> Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', "_"))
        .build()
        .map_err(|e| StoreError::Corrupt {
            what: format!("second factor: {e}"),
        })
}

/// The account's TOTP, opened from its sealed secret.
fn account_totp(keys: &FieldKeys, account: &user::Model) -> Result<Option<Totp>> {
    let Some(sealed) = account.totp_secret.as_deref() else {
        return Ok(None);
    };
    let base32 = keys
        .open(secret_at(account.id), sealed)
        .map_err(|_| StoreError::Corrupt {
            what: "second factor secret".into(),
        })?;
    let secret = Secret::try_from_base32(&base32).map_err(|e| StoreError::Corrupt {
        what: format!("second factor secret: {e}"),
    })?;
    totp(secret.as_bytes().to_vec(), &account.username).map(Some)
}

fn seconds(now: Timestamp) -> u64 {
    u64::try_from(now.micros() / 1_000_000).unwrap_or(0)
}

/// A code as typed: spaces and dashes dropped, letters lower-cased.
fn normalized(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn recovery_hash(keys: &FieldKeys, code: &str) -> String {
    keys.blind_index("users.recovery_codes", &normalized(code))
}

fn recovery_list(account: &user::Model) -> Vec<String> {
    account
        .recovery_codes
        .as_deref()
        .and_then(|raw| serde_json::from_str(raw).ok())
        .unwrap_or_default()
}

/// Checks a TOTP code (six digits, this step or the one either side, not yet spent).
fn check_totp(totp: &Totp, account: &user::Model, code: &str, now: Timestamp) -> Option<CodeUse> {
    let step = i64::try_from(totp.check(code, seconds(now))?).ok()?;
    let fresh = account.totp_last_step.is_none_or(|last| step > last);
    fresh.then_some(CodeUse::Totp { step })
}

/// Checks what was typed at login against a set-up second factor: a TOTP code or an unused
/// recovery code.
pub(crate) fn check_code(
    keys: &FieldKeys,
    account: &user::Model,
    code: &str,
    now: Timestamp,
) -> Result<Option<CodeUse>> {
    let code = normalized(code);
    if code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()) {
        return Ok(match account_totp(keys, account)? {
            Some(totp) => check_totp(&totp, account, &code, now),
            None => None,
        });
    }
    let hash = recovery_hash(keys, &code);
    let mut left = recovery_list(account);
    let Some(position) = left.iter().position(|h| *h == hash) else {
        return Ok(None);
    };
    left.remove(position);
    Ok(Some(CodeUse::Recovery {
        before: account.recovery_codes.clone().unwrap_or_default(),
        after: json!(left).to_string(),
    }))
}

/// Ten fresh recovery codes (`xxxx-xxxx-xx`, lower-case letters and digits without look-alikes)
/// and the JSON list of their keyed hashes.
fn new_recovery_codes(keys: &FieldKeys) -> (Vec<String>, String) {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..10)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
        })
        .collect();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(keys, c)).collect();
    (codes, json!(hashes).to_string())
}

impl Store {
    /// The caller's own account and unit.
    async fn own_account(&self, actor: &Actor) -> Result<(user::Model, unit::Model)> {
        let id = actor.user_id().ok_or(StoreError::Forbidden)?;
        match access::unguarded_by_id::<user::Entity>(Unguarded::Sessions, id)
            .find_also_related(unit::Entity)
            .one(&self.db)
            .await?
        {
            Some((account, Some(unit))) => Ok((account, unit)),
            _ => Err(StoreError::NotFound),
        }
    }

    /// Whether the caller has a second factor, and how many recovery codes are left.
    pub async fn second_factor_status(
        &self,
        actor: &Actor,
        rule: super::SecondFactorRule,
    ) -> Result<SecondFactorStatus> {
        let (account, _) = self.own_account(actor).await?;
        Ok(SecondFactorStatus {
            set_up_at: account.totp_enrolled_at.map(Timestamp::from_micros),
            recovery_codes_left: recovery_list(&account).len(),
            required: rule.requires(actor.role()),
        })
    }

    /// The secret the caller is about to add to their authenticator app: made on first asking
    /// and kept, unconfirmed, until a code from it is confirmed. Refused once one is set up.
    pub async fn second_factor_setup(
        &self,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<SecondFactorSetup> {
        let (account, _) = self.own_account(actor).await?;
        if account.totp_enrolled_at.is_some() {
            return Err(Invalid::new(CODE_FIELD, Reason::WrongState).into());
        }
        let totp = match account_totp(&self.keys, &account)? {
            Some(totp) => totp,
            None => {
                let bytes: [u8; 20] = rand::rng().random();
                let totp = totp(bytes.to_vec(), &account.username)?;
                let base32 = totp.secret().to_base32();
                user::ActiveModel {
                    id: Set(account.id),
                    totp_secret: Set(Some(self.keys.seal(secret_at(account.id), &base32))),
                    updated_at: Set(now.micros()),
                    ..Default::default()
                }
                .update(&self.db)
                .await?;
                totp
            }
        };
        let uri = totp.to_url().map_err(|e| StoreError::Corrupt {
            what: format!("second factor: {e}"),
        })?;
        Ok(SecondFactorSetup {
            secret: totp.secret().to_base32(),
            uri,
        })
    }

    /// Confirms the set-up with a code from the app; from now on every login asks for one.
    /// Returns the recovery codes, shown once.
    pub async fn confirm_second_factor(
        &self,
        actor: &Actor,
        now: Timestamp,
        code: &str,
    ) -> Result<Vec<String>> {
        let (account, unit) = self.own_account(actor).await?;
        if account.totp_enrolled_at.is_some() {
            return Err(Invalid::new(CODE_FIELD, Reason::WrongState).into());
        }
        let Some(CodeUse::Totp { step }) = account_totp(&self.keys, &account)?
            .and_then(|totp| check_totp(&totp, &account, &normalized(code), now))
        else {
            return Err(Invalid::new(CODE_FIELD, Reason::Mismatch).into());
        };
        let (codes, hashes) = new_recovery_codes(&self.keys);
        let tx = self.begin_write().await?;
        user::ActiveModel {
            id: Set(account.id),
            totp_enrolled_at: Set(Some(now.micros())),
            totp_last_step: Set(Some(step)),
            recovery_codes: Set(Some(hashes)),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("second_factor.enrol")
                .target("account", account.id, &account.username)
                .unit(&unit.path),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// New recovery codes in place of the old ones, for a holder who used or lost them; asks
    /// for a code from the app.
    pub async fn renew_recovery_codes(
        &self,
        actor: &Actor,
        now: Timestamp,
        code: &str,
    ) -> Result<Vec<String>> {
        let (account, unit) = self.own_account(actor).await?;
        if account.totp_enrolled_at.is_none() {
            return Err(Invalid::new(CODE_FIELD, Reason::WrongState).into());
        }
        let Some(spent) = account_totp(&self.keys, &account)?
            .and_then(|totp| check_totp(&totp, &account, &normalized(code), now))
        else {
            return Err(Invalid::new(CODE_FIELD, Reason::Mismatch).into());
        };
        let (codes, hashes) = new_recovery_codes(&self.keys);
        let tx = self.begin_write().await?;
        if !spent.spend(&tx, account.id).await? {
            return Err(Invalid::new(CODE_FIELD, Reason::Mismatch).into());
        }
        user::ActiveModel {
            id: Set(account.id),
            recovery_codes: Set(Some(hashes)),
            updated_at: Set(now.micros()),
            ..Default::default()
        }
        .update(&tx)
        .await?;
        audit::append(
            &tx,
            &self.keys,
            now,
            actor,
            Event::new("second_factor.recovery_codes")
                .target("account", account.id, &account.username)
                .unit(&unit.path),
        )
        .await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Takes an account's second factor away (a lost phone): the security administrator's
    /// act, never on their own account. The account's sessions end; its holder sets up a new
    /// one at the next login.
    pub async fn reset_second_factor(
        &self,
        actor: &Actor,
        now: Timestamp,
        id: i64,
    ) -> Result<super::AccountView> {
        actor.require_security()?;
        let columns = user::ActiveModel {
            totp_secret: Set(None),
            totp_enrolled_at: Set(None),
            totp_last_step: Set(None),
            recovery_codes: Set(None),
            ..Default::default()
        };
        let change = AccountChange {
            ends_sessions: true,
            ..AccountChange::new(columns, "second_factor.reset")
        };
        let had_one =
            |u: &user::Model| Ok(Some(json!({ "was_set_up": u.totp_enrolled_at.is_some() })));
        self.change_account(actor, now, id, had_one, change).await
    }
}
