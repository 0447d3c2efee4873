//! Durable background jobs and the inbox.
//!
//! `jobs` is the queue: a job is enqueued in the transaction of the change that causes it, a
//! runner claims it (`running`, named by `runner`), and it ends `done`, goes back to `queued`
//! with a later `run_at` after a failure, or stops `failed` to wait for an administrator.
//! `unique_key` lets a recurring schedule or a merging notification enqueue an occurrence once,
//! whichever process gets there first. `job_runners` holds each runner's heartbeat: a running
//! job whose runner stopped beating is taken back.
//!
//! `notifications` is each account's inbox; `notification_preferences` says how an account
//! wants each kind of event delivered. Accounts get an e-mail address for that.
//!
//! `unit_channels` are the group robots (WeCom, DingTalk, Feishu) and outgoing webhooks a unit's
//! administrator sets up, with the kinds of event each is told; the address (which carries the
//! robot's key) and the signing secret are sealed like protected fields.

use sea_orm_migration::{prelude::*, schema::*};

use super::m0001_foundation::path_column;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        manager
            .create_table(
                Table::create()
                    .table("jobs")
                    .col(big_pk_auto("id"))
                    .col(string_len("kind", 64))
                    // JSON: what the job's handler needs.
                    .col(text("payload"))
                    .col(string_len("state", 16))
                    .col(integer("attempts").default(0))
                    .col(integer("max_attempts"))
                    .col(big_integer("run_at"))
                    .col(string_len_null("runner", 64))
                    .col(big_integer_null("started_at"))
                    .col(big_integer_null("finished_at"))
                    .col(big_integer("created_at"))
                    .col(text_null("last_error"))
                    // The account that caused the job (an import's owner), if any.
                    .col(big_integer_null("owner_id"))
                    // The unit whose administrators see the job; none for the network's own.
                    .col(path_column(backend, "unit_path", true))
                    .col(string_len_null("unique_key", 200).unique_key())
                    // JSON written while running (an import's rows read) and when done.
                    .col(text_null("progress"))
                    .col(text_null("result"))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, &str, &[&str]); 4] = [
            ("idx_jobs_due", "jobs", &["state", "run_at", "id"]),
            ("idx_jobs_owner", "jobs", &["owner_id", "created_at"]),
            ("idx_jobs_listing", "jobs", &["created_at", "id"]),
            ("idx_jobs_runner", "jobs", &["runner"]),
        ];
        for (name, table, columns) in indexes {
            let mut index = Index::create().name(name).table(table).to_owned();
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("job_runners")
                    .col(string_len("id", 64).primary_key())
                    .col(text("label"))
                    .col(big_integer("started_at"))
                    .col(big_integer("heartbeat_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notifications")
                    .col(big_pk_auto("id"))
                    .col(big_integer("account_id"))
                    .col(string_len("kind", 64))
                    // What the event is about ("activity:12"): events of one kind on one
                    // object within a short window merge into one row.
                    .col(string_len("subject", 100))
                    .col(text("link"))
                    // JSON: the values the message is written from, in the reader's language.
                    .col(text("params"))
                    .col(integer("merged").default(1))
                    // The order of the newest event merged in (its job's id): events delivered
                    // out of order still leave the newest one's words.
                    .col(big_integer("event_order").default(0))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .col(big_integer_null("read_at"))
                    // Waiting for the account's daily digest.
                    .col(boolean("digest_pending").default(false))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notifications_account")
                            .from("notifications", "account_id")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, &[&str]); 3] = [
            (
                "idx_notifications_inbox",
                &["account_id", "updated_at", "id"],
            ),
            (
                "idx_notifications_merge",
                &["account_id", "kind", "subject", "updated_at"],
            ),
            ("idx_notifications_age", &["updated_at"]),
        ];
        for (name, columns) in indexes {
            let mut index = Index::create().name(name).table("notifications").to_owned();
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index).await?;
        }
        // Each delivery's key (the job and the account): a job run again after a crash finds
        // its key and delivers nothing twice, even into a row merged since.
        manager
            .create_table(
                Table::create()
                    .table("notification_deliveries")
                    .col(string_len("key", 120).primary_key())
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_notification_deliveries_age")
                    .table("notification_deliveries")
                    .col("created_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("notification_preferences")
                    .col(big_integer("account_id"))
                    .col(string_len("kind", 64))
                    // `app`, `email` or `digest`.
                    .col(string_len("delivery", 16))
                    .primary_key(Index::create().col("account_id").col("kind"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_notification_preferences_account")
                            .from("notification_preferences", "account_id")
                            .to("users", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("unit_channels")
                    .col(big_pk_auto("id"))
                    .col(big_integer("unit_id"))
                    .col(path_column(backend, "unit_path", false))
                    // `wecom`, `dingtalk`, `feishu` or `webhook`.
                    .col(string_len("kind", 16))
                    .col(string_len("name", 100))
                    .col(text("url_sealed"))
                    // The address's scheme and host, to show: the rest is a credential.
                    .col(string_len("url_hint", 200))
                    .col(text_null("secret_sealed"))
                    // JSON array of the event kinds it is told.
                    .col(text("events"))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_unit_channels_unit")
                            .from("unit_channels", "unit_id")
                            .to("units", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_unit_channels_unit_path")
                    .table("unit_channels")
                    .col("unit_path")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(string_len_null("email", 254))
                    .to_owned(),
            )
            .await
    }
}
