//! Binding the values sealed before row binding (format `v1`, bound to their column only) to
//! their rows. When a store opens for the first time after the upgrade, every such value is
//! opened, sealed again for its row, and the database records that this was done, so later
//! opens do not look again. A value that does not open is left as it is: it never opens as a
//! bound value, and `tongxin check` names its row.

use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    QueryFilter, QueryOrder, QuerySelect, Statement,
};
use serde_json::json;
use tongxin_core::Timestamp;

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::accounts::two_factor::secret_at;
use crate::audit::{self, Event};
use crate::crypto::{FieldKeys, SealedAt};
use crate::directory::people::{SensitiveField, sealed_column};
use crate::directory::proposals::proposed_value_at;
use crate::entity::{person, person_proposal, user};
use crate::error::Result;

/// Rows read per round trip.
const BATCH: u64 = 2_000;

impl Store {
    /// Seals the values written before row binding again, bound to their rows, once per
    /// database (see the module's documentation); says how many values it sealed again.
    pub async fn bind_sealed_values(&self, now: Timestamp) -> Result<u64> {
        let tx = self.begin_write().await?;
        if rows_bound(&tx).await? {
            return Ok(0);
        }
        let values = self.bind_people(&tx).await?
            + self.bind_proposals(&tx).await?
            + self.bind_secrets(&tx).await?;
        mark_rows_bound(&tx).await?;
        if values > 0 {
            audit::append(
                &tx,
                &self.keys,
                now,
                &Actor::system("tongxin"),
                Event::new("sealed.rows_bound").detail(json!({ "values": values })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(values)
    }

    async fn bind_people(&self, tx: &DatabaseTransaction) -> Result<u64> {
        let mut values = 0;
        let mut after = 0i64;
        loop {
            let batch = access::unguarded::<person::Entity>(Unguarded::System)
                .filter(person::Column::Id.gt(after))
                .order_by_asc(person::Column::Id)
                .limit(BATCH)
                .all(tx)
                .await?;
            let Some(last) = batch.last() else {
                return Ok(values);
            };
            after = last.id;
            for row in batch {
                let bind = |field: SensitiveField, stored: &Option<String>| {
                    rebind(&self.keys, field.key(), field.sealed_at(row.id), stored)
                };
                let change = person::ActiveModel {
                    id: Set(row.id),
                    id_number_sealed: bind(SensitiveField::IdNumber, &row.id_number_sealed),
                    phone_sealed: bind(SensitiveField::Phone, &row.phone_sealed),
                    ethnicity_sealed: bind(SensitiveField::Ethnicity, &row.ethnicity_sealed),
                    religion_sealed: bind(SensitiveField::Religion, &row.religion_sealed),
                    ..Default::default()
                };
                let changed = [
                    &change.id_number_sealed,
                    &change.phone_sealed,
                    &change.ethnicity_sealed,
                    &change.religion_sealed,
                ]
                .into_iter()
                .filter(|v| v.is_set())
                .count();
                if changed > 0 {
                    change.update(tx).await?;
                    values += changed as u64;
                }
            }
        }
    }

    async fn bind_proposals(&self, tx: &DatabaseTransaction) -> Result<u64> {
        let mut values = 0;
        for row in access::unguarded::<person_proposal::Entity>(Unguarded::System)
            .filter(person_proposal::Column::Field.eq(SensitiveField::Phone.key()))
            .filter(person_proposal::Column::NewValue.is_not_null())
            .all(tx)
            .await?
        {
            let new_value = rebind(
                &self.keys,
                SensitiveField::Phone.key(),
                proposed_value_at(row.id),
                &row.new_value,
            );
            if new_value.is_set() {
                person_proposal::ActiveModel {
                    id: Set(row.id),
                    new_value,
                    ..Default::default()
                }
                .update(tx)
                .await?;
                values += 1;
            }
        }
        Ok(values)
    }

    /// Second-factor secrets were bound to their row from the start, through their column's
    /// name; only their format changes.
    async fn bind_secrets(&self, tx: &DatabaseTransaction) -> Result<u64> {
        let mut values = 0;
        for row in access::unguarded::<user::Entity>(Unguarded::System)
            .filter(user::Column::TotpSecret.is_not_null())
            .all(tx)
            .await?
        {
            let column = format!("users.totp_secret#{}", row.id);
            let totp_secret = rebind(&self.keys, &column, secret_at(row.id), &row.totp_secret);
            if totp_secret.is_set() {
                user::ActiveModel {
                    id: Set(row.id),
                    totp_secret,
                    ..Default::default()
                }
                .update(tx)
                .await?;
                values += 1;
            }
        }
        Ok(values)
    }
}

impl Store {
    /// The stored places (column and row) whose sealed value does not open where it is: altered,
    /// moved from another row or column, or sealed under another key.
    pub(crate) async fn unopened_values(&self) -> Result<Vec<(&'static str, i64)>> {
        let mut unopened = Vec::new();
        let mut check = |at: SealedAt<'static>, stored: &Option<String>| {
            if let Some(sealed) = stored
                && self.keys.open(at, sealed).is_err()
            {
                unopened.push((at.column, at.row));
            }
        };
        let mut after = 0i64;
        loop {
            let batch = access::unguarded::<person::Entity>(Unguarded::System)
                .filter(person::Column::Id.gt(after))
                .order_by_asc(person::Column::Id)
                .limit(BATCH)
                .all(&self.db)
                .await?;
            let Some(last) = batch.last() else {
                break;
            };
            after = last.id;
            for row in &batch {
                for field in SensitiveField::ALL {
                    check(field.sealed_at(row.id), sealed_column(row, field));
                }
            }
        }
        for row in access::unguarded::<person_proposal::Entity>(Unguarded::System)
            .filter(person_proposal::Column::Field.eq(SensitiveField::Phone.key()))
            .all(&self.db)
            .await?
        {
            check(proposed_value_at(row.id), &row.new_value);
        }
        for row in access::unguarded::<user::Entity>(Unguarded::System)
            .filter(user::Column::TotpSecret.is_not_null())
            .all(&self.db)
            .await?
        {
            check(secret_at(row.id), &row.totp_secret);
        }
        Ok(unopened)
    }
}

/// The value stored in a column sealed again for `at`, when it was sealed before row binding
/// under `unbound` and opens; otherwise left unchanged.
fn rebind(
    keys: &FieldKeys,
    unbound: &str,
    at: SealedAt<'_>,
    stored: &Option<String>,
) -> sea_orm::ActiveValue<Option<String>> {
    match stored {
        Some(sealed) if FieldKeys::is_unbound(sealed) => match keys.open_unbound(unbound, sealed) {
            Ok(plain) => Set(Some(keys.seal(at, &plain))),
            Err(_) => sea_orm::ActiveValue::NotSet,
        },
        _ => sea_orm::ActiveValue::NotSet,
    }
}

async fn rows_bound(tx: &DatabaseTransaction) -> Result<bool> {
    let row = tx
        .query_one_raw(Statement::from_string(
            tx.get_database_backend(),
            "SELECT rows_bound FROM seal_state WHERE id = 1",
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get_by_index::<bool>(0)?,
        None => false,
    })
}

/// Records that every value is bound; the row may be missing (a database emptied after a
/// failed load keeps no rows).
async fn mark_rows_bound(tx: &DatabaseTransaction) -> Result<()> {
    let backend = tx.get_database_backend();
    tx.execute_raw(Statement::from_string(backend, "DELETE FROM seal_state"))
        .await?;
    tx.execute_raw(Statement::from_string(
        backend,
        "INSERT INTO seal_state (id, rows_bound) VALUES (1, TRUE)",
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use sea_orm::ConnectionTrait;
    use tongxin_core::{MobilePhone, Timestamp, UnitCode, UnitName};

    use crate::access::{self, Unguarded};
    use crate::directory::people::{PersonInput, SensitiveField};
    use crate::entity::person;
    use crate::{Actor, FieldKeys, Store, StoreOptions, UnitSeed};

    /// A database upgraded from before row binding: its values open once bound, the binding
    /// runs once, and until then `check` names the unbound value.
    #[tokio::test]
    async fn values_sealed_before_row_binding_are_bound_once() -> Result<(), Box<dyn Error>> {
        let dir = std::env::temp_dir().join(format!("tongxin-bind-{}", crate::random_hex()));
        std::fs::create_dir_all(&dir)?;
        let url = format!("sqlite://{}", dir.join("bind.db").display());
        let keys = FieldKeys::from_master(&[7; 32]);
        let store = Store::connect(&url, &StoreOptions::default(), keys).await?;
        let now = Timestamp::from_micros(0);
        store.migrate(now).await?;
        let system = Actor::system("test");
        let seed = UnitSeed {
            code: UnitCode::parse("150100")?,
            name: UnitName::parse("市")?,
            children: Vec::new(),
        };
        let city = store.create_tree(&system, now, &seed).await?;
        let input = PersonInput {
            unit_id: city.id,
            name: "张三".to_owned(),
            phone: Some(MobilePhone::parse("13812345678")?),
            ..Default::default()
        };
        let created = store.create_person(&system, now, input).await?;

        // The value as the format before row binding wrote it, and the binding not yet done.
        let unbound = store.keys.seal_unbound("phone", "13812345678");
        for sql in [
            format!(
                "UPDATE people SET phone_sealed = '{unbound}' WHERE id = {}",
                created.id
            ),
            "UPDATE seal_state SET rows_bound = FALSE".to_owned(),
        ] {
            store.db.execute_unprepared(&sql).await?;
        }
        let row = || {
            access::unguarded_by_id::<person::Entity>(Unguarded::System, created.id).one(&store.db)
        };
        let phone = |row: Option<person::Model>| match row {
            Some(row) => store.sealed_value(&row, SensitiveField::Phone),
            None => Err(crate::StoreError::NotFound),
        };
        assert!(phone(row().await?).is_err(), "never read as a bound value");
        assert_eq!(
            store.unopened_values().await?,
            vec![("people.phone", created.id)]
        );

        let bound = store.bind_sealed_values(now).await;
        assert_eq!(bound?, 1);
        assert_eq!(phone(row().await?)?.as_deref(), Some("13812345678"));
        assert!(store.unopened_values().await?.is_empty());
        let again = store.bind_sealed_values(now).await;
        assert_eq!(again?, 0, "done once");
        store.close().await?;
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
