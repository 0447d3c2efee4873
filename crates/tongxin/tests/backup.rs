//! `tongxin backup` while writes run, and `tongxin restore` into an empty database that proves
//! itself: every table as the backup holds it, the audit chain verified; refused (leaving
//! nothing) when the backup was altered, made under another key, or the target is not empty.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use common::{Database, Engine, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// Runs `tongxin` with the database's environment; returns success and what it printed.
fn tongxin(db: &Database, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .args(args)
        .envs(db.env())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Every table's rows of the backup file, and whether the restored database holds the same:
/// counts for each table, and the people and audit rows themselves.
async fn assert_same(backup: &Path, restored: &Database) {
    let file = sqlx::SqlitePool::connect(&format!("sqlite://{}?mode=ro", backup.display()))
        .await
        .unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name <> 'tongxin_backup' ORDER BY name",
    )
    .fetch_all(&file)
    .await
    .unwrap();
    assert!(tables.len() > 20, "{tables:?}");
    let raw = restored.raw().await;
    for table in &tables {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let held: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql.clone()))
            .fetch_one(&file)
            .await
            .unwrap();
        assert_eq!(raw.count(&sql).await, held, "{table}");
    }
    let people = "SELECT id || ':' || name || ':' || version FROM people ORDER BY id";
    let audit = "SELECT seq || ':' || hash FROM audit_log ORDER BY seq";
    for sql in [people, audit] {
        let held: Vec<String> = sqlx::query_scalar(sql).fetch_all(&file).await.unwrap();
        assert!(!held.is_empty(), "{sql}");
        assert_eq!(raw.strings(sql).await, held, "{sql}");
    }
    file.close().await;
}

async fn a_backup_taken_during_writes_restores_and_verifies(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("xincheng").await;
    let unit = app.unit("150102").await.id;

    // Someone keeps filing people while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let writer = tokio::spawn({
        let (stop, written, staff) = (stop.clone(), written.clone(), staff.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let reply = staff
                    .post_json(
                        "/people",
                        &json!({ "unit_id": unit, "name": format!("备份中{n}"),
                                 "phone": format!("1381234{n:04}") }),
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
                written.fetch_add(1, Ordering::SeqCst);
            }
        }
    });
    let started = std::time::Instant::now();
    while written.load(Ordering::SeqCst) < 5 {
        assert!(
            started.elapsed().as_secs() < 60,
            "the writer made no progress"
        );
        tokio::task::yield_now().await;
    }
    let dir = std::env::temp_dir().join(format!("tongxin-backup-{}", tongxin_store::random_hex()));
    std::fs::create_dir_all(&dir).unwrap();
    let file: PathBuf = dir.join("tongxin.backup");
    let (ok, out) = {
        let db_env = app.db.env();
        let file = file.clone();
        tokio::task::spawn_blocking(move || {
            let output = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
                .args(["backup", "--out", file.to_str().unwrap()])
                .envs(db_env)
                .env("RUST_LOG", "error")
                .output()
                .unwrap();
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stdout).into_owned()
                    + &String::from_utf8_lossy(&output.stderr),
            )
        })
        .await
        .unwrap()
    };
    let during = written.load(Ordering::SeqCst);
    let after_backup = std::time::Instant::now();
    while written.load(Ordering::SeqCst) < during + 2 {
        assert!(after_backup.elapsed().as_secs() < 60, "the writer stopped");
        tokio::task::yield_now().await;
    }
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    assert!(ok, "{out}");
    assert!(out.contains("Backed up"), "{out}");
    let (refused, out) = tongxin(&app.db, &["backup", "--out", file.to_str().unwrap()]);
    assert!(!refused, "an existing file is not overwritten: {out}");

    // Restored into an empty database: verified, and the same as the backup.
    let target = Database::empty(engine);
    let (ok, out) = tongxin(&target, &["restore", file.to_str().unwrap()]);
    assert!(ok, "{out}");
    assert!(out.contains("the audit log verifies"), "{out}");
    assert_same(&file, &target).await;
    let (ok, out) = tongxin(&target, &["check"]);
    assert!(ok, "{out}");
    // Some people written during the backup are in it, the last ones are not.
    let restored = target
        .raw()
        .await
        .count("SELECT COUNT(*) FROM people WHERE name LIKE '备份中%'")
        .await;
    assert!(restored >= 5 && restored < i64::try_from(written.load(Ordering::SeqCst)).unwrap());

    // The same file restores into the other engine: a way to move between them.
    let other = match engine {
        Engine::Sqlite => Engine::Postgres,
        Engine::Postgres => Engine::Sqlite,
    };
    if common::postgres_url().is_some() {
        let moved = Database::empty(other);
        let (ok, out) = tongxin(&moved, &["restore", file.to_str().unwrap()]);
        assert!(ok, "{out}");
        assert_same(&file, &moved).await;
        moved.remove().await;
    }

    // Not into a database that holds something.
    let (ok, out) = tongxin(&target, &["restore", file.to_str().unwrap()]);
    assert!(!ok, "{out}");
    target.remove().await;

    // Not from an altered backup; nothing is left behind.
    let altered = dir.join("altered.backup");
    std::fs::copy(&file, &altered).unwrap();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", altered.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE people SET name = '改过' WHERE id = (SELECT MIN(id) FROM people)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let target = Database::empty(engine);
    let (ok, out) = tongxin(&target, &["restore", altered.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(out.contains("altered"), "{out}");
    let (ok, _) = tongxin(&target, &["restore", file.to_str().unwrap()]);
    assert!(ok, "a refused restore leaves the target empty");
    target.remove().await;

    // Not under another key.
    let target = Database::empty(engine);
    let (Database::Sqlite { dir: key_dir } | Database::Postgres { dir: key_dir, .. }) = &target;
    std::fs::write(key_dir.join("keys").join("master.key"), "ab".repeat(32)).unwrap();
    let (ok, out) = tongxin(&target, &["restore", file.to_str().unwrap()]);
    assert!(!ok, "{out}");
    assert!(out.contains("another key file"), "{out}");
    target.remove().await;

    let _ = std::fs::remove_dir_all(dir);
    app.finish().await;
}

engine_tests!(a_backup_taken_during_writes_restores_and_verifies);
