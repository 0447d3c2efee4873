//! The audit log: every change is recorded, administrators read their subtree's rows, and
//! `tongxin check` finds an altered row, a removed row and removed final rows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Engine, TestApp};
use reqwest::StatusCode;
use serde_json::json;
use tongxin_store::Fault;

/// Runs the real `tongxin check` against the test's database.
fn run_check(app: &TestApp) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .arg("check")
        .envs(app.db.env())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// Some activity to audit: logins, a unit, a rename.
async fn activity(app: &TestApp) {
    let api = app.api("saihan").await;
    let county = app.unit("150105").await.id;
    let created = api
        .post_json(
            "/units",
            &json!({ "parent_id": county, "code": "150105003", "name": "巴彦街道" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = created.json()["id"].as_i64().unwrap();
    api.patch_json(&format!("/units/{id}"), &json!({ "name": "巴彦路街道" }))
        .await;
    app.browser().login("saihan", "wrong password").await;
}

async fn the_audit_page_shows_who_did_what_where(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    let browser = app.login("saihan.auditor").await;
    let page = browser.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    for expected in [
        "新增单位",
        "单位更名",
        "登录失败",
        "巴彦街道",
        "saihan",
        "127.0.0.1",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    let renamed = app
        .api("saihan.auditor")
        .await
        .get("/audit?action=unit.rename")
        .await
        .json();
    assert_eq!(
        renamed["items"][0]["unit"]["name"], "巴彦路街道",
        "the unit, as named now"
    );
    let filtered = browser.get("/audit?action=unit.rename").await;
    assert!(filtered.body.contains("共 1 条结果"), "{}", filtered.body);
    // The auditor of the top unit also sees failed logins with unknown names, by a keyed
    // hash of what was typed (which may be a password in the wrong field), never in clear.
    app.browser().login("nobody-here", "whatever it is").await;
    app.browser().login("nobody-here", "again").await;
    let top = app
        .api("auditor")
        .await
        .get("/audit?action=login.failed")
        .await
        .json();
    assert!(!top.to_string().contains("nobody-here"), "{top}");
    let unknown: Vec<&str> = top["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["detail"]["reason"] == "unknown_user")
        .map(|e| e["actor"].as_str().unwrap())
        .collect();
    assert_eq!(unknown.len(), 2, "{top}");
    assert!(unknown[0].starts_with("unknown-"), "{top}");
    assert_eq!(unknown[0], unknown[1], "the same name, the same hash");
    let county = app
        .api("saihan.auditor")
        .await
        .get("/audit?action=login.failed")
        .await
        .json();
    assert!(!county.to_string().contains(unknown[0]), "{county}");
    app.finish().await;
}

async fn check_detects_an_altered_row(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    assert!(app.store.check().await.unwrap().faults.is_empty());
    let (ok, out) = run_check(&app);
    assert!(ok, "{out}");
    assert!(out.contains("No faults found"), "{out}");

    let raw = app.db.raw().await;
    let changed = raw
        .execute("UPDATE audit_log SET detail = '{\"name\":\"改过\"}' WHERE seq = 3")
        .await;
    assert_eq!(changed, 1);
    let report = app.store.check().await.unwrap();
    assert_eq!(report.faults, vec![Fault::AuditAltered { seq: 3 }]);
    let (ok, out) = run_check(&app);
    assert!(!ok, "check must fail: {out}");
    assert!(out.contains("audit row 3"), "{out}");

    // A forger who also recomputes nothing but the row's own hash breaks the next link.
    raw.execute("UPDATE audit_log SET hash = 'f' || substr(hash, 2) WHERE seq = 3")
        .await;
    let report = app.store.check().await.unwrap();
    assert_eq!(report.faults.len(), 1);
    app.finish().await;
}

async fn check_detects_removed_rows(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    let raw = app.db.raw().await;
    let last = raw.count("SELECT MAX(seq) FROM audit_log").await;
    assert!(last >= 5);

    raw.execute("DELETE FROM audit_log WHERE seq = 2").await;
    let report = app.store.check().await.unwrap();
    assert_eq!(report.faults, vec![Fault::AuditBroken { seq: 3 }]);
    let (ok, out) = run_check(&app);
    assert!(!ok);
    assert!(out.contains("audit row 3"), "{out}");
    app.finish().await;

    // Removing the newest row leaves a chain that is internally sound but shorter than the head.
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    let raw = app.db.raw().await;
    let last = raw.count("SELECT MAX(seq) FROM audit_log").await;
    raw.execute(&format!("DELETE FROM audit_log WHERE seq = {last}"))
        .await;
    let report = app.store.check().await.unwrap();
    assert_eq!(
        report.faults,
        vec![Fault::AuditTruncated {
            head_seq: last,
            last_seq: last - 1
        }]
    );
    let (ok, out) = run_check(&app);
    assert!(!ok, "{out}");
    app.finish().await;
}

async fn check_verifies_unit_paths(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let village = app.unit("150102001001").await;
    raw.execute(&format!(
        "UPDATE units SET path = '/9/9/' WHERE id = {}",
        village.id
    ))
    .await;
    let report = app.store.check().await.unwrap();
    assert!(
        matches!(report.faults.as_slice(), [Fault::UnitPath { unit_id, .. }] if *unit_id == village.id),
        "{:?}",
        report.faults
    );
    app.finish().await;
}

/// The hash rows had before the chain was keyed, which anyone can compute: SM3 over the
/// row's fields, each length-prefixed, and the previous row's hash.
fn plain_hash(row: &common::AuditRow, prev: &str) -> String {
    use sm3::Digest;
    fn text(h: &mut sm3::Sm3, value: Option<&str>) {
        match value {
            None => h.update([0u8]),
            Some(s) => {
                h.update([1u8]);
                h.update((s.len() as u64).to_be_bytes());
                h.update(s.as_bytes());
            }
        }
    }
    fn number(h: &mut sm3::Sm3, value: Option<i64>) {
        match value {
            None => h.update([0u8]),
            Some(n) => {
                h.update([1u8]);
                h.update(n.to_be_bytes());
            }
        }
    }
    let mut h = sm3::Sm3::new();
    number(&mut h, Some(row.0));
    number(&mut h, Some(row.1));
    number(&mut h, row.2);
    text(&mut h, Some(&row.3));
    text(&mut h, Some(&row.4));
    text(&mut h, row.5.as_deref());
    number(&mut h, row.6);
    text(&mut h, row.7.as_deref());
    text(&mut h, row.8.as_deref());
    text(&mut h, row.9.as_deref());
    text(&mut h, Some(&row.10));
    text(&mut h, Some(prev));
    hex::encode(h.finalize())
}

/// Hashes the whole chain again with plain SM3 and points the head at its end, as a forger
/// with the database (and without the key) would; `keyed` is what the head is left saying.
async fn rehash_plainly(raw: &common::RawDb, keyed: bool) {
    let mut prev = "0".repeat(64);
    for row in raw.audit_rows().await {
        let hash = plain_hash(&row, &prev);
        raw.execute(&format!(
            "UPDATE audit_log SET prev_hash = '{prev}', hash = '{hash}' WHERE seq = {}",
            row.0
        ))
        .await;
        prev = hash;
    }
    raw.execute(&format!(
        "UPDATE audit_head SET hash = '{prev}', keyed = {keyed} WHERE id = 1"
    ))
    .await;
}

/// Someone with the database rewrites a row and hashes the whole chain again: without the
/// key the hashes do not verify, where a plain hash chain would have passed.
async fn check_detects_a_chain_rewritten_without_the_key(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    let raw = app.db.raw().await;
    raw.execute("UPDATE audit_log SET detail = '{\"name\":\"改过\"}' WHERE seq = 3")
        .await;
    rehash_plainly(&raw, true).await;
    let report = app.store.check().await.unwrap();
    assert_eq!(report.faults, vec![Fault::AuditAltered { seq: 1 }]);
    let (ok, out) = run_check(&app);
    assert!(!ok, "check must fail: {out}");
    app.finish().await;
}

/// A chain written before the key (plain SM3) is verified and keyed once when the store
/// opens, and says so in the log; one that does not verify is left unkeyed for check to
/// report, never blessed with the key.
async fn a_chain_from_before_the_key_is_keyed_only_when_it_verifies(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    let raw = app.db.raw().await;
    rehash_plainly(&raw, false).await;
    assert_eq!(
        app.store.check().await.unwrap().faults,
        vec![Fault::AuditNotKeyed]
    );
    let (ok, out) = run_check(&app);
    assert!(ok, "opening keys the chain, then it verifies: {out}");
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.chain_keyed'")
            .await,
        1
    );
    assert!(app.store.check().await.unwrap().faults.is_empty());
    let (ok, out) = run_check(&app);
    assert!(ok, "{out}");
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.chain_keyed'")
            .await,
        1,
        "keyed once"
    );

    // A plain chain with a row altered after it was hashed stays unkeyed.
    rehash_plainly(&raw, false).await;
    raw.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
        .await;
    let (ok, out) = run_check(&app);
    assert!(!ok, "{out}");
    assert!(out.contains("not keyed"), "{out}");
    assert_eq!(
        app.store.check().await.unwrap().faults,
        vec![Fault::AuditNotKeyed]
    );
    app.finish().await;
}

/// The auditor exports what the filter matches, oldest first, from their subtree only; the
/// export is recorded with its filter and row count; nobody else may export.
async fn the_auditor_exports_the_log(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    let browser = app.login("saihan.auditor").await;
    let csv = browser
        .submit(
            "/audit",
            "/audit/export",
            &[("action", "unit."), ("actor", "")],
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert!(
        csv.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("audit-log.csv")
    );
    assert!(csv.body.starts_with('\u{feff}'), "a BOM for spreadsheets");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert!(lines[0].contains("操作代码"), "{}", lines[0]);
    let rows = &lines[1..];
    assert!(rows.iter().all(|r| r.contains(",unit.")), "{rows:?}");
    assert!(rows.iter().any(|r| r.contains("单位更名")), "{rows:?}");
    let seqs: Vec<i64> = rows
        .iter()
        .map(|r| r.split(',').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first: {seqs:?}"
    );
    let in_log = app
        .db
        .raw()
        .await
        .count(
            "SELECT COUNT(*) FROM audit_log WHERE action LIKE 'unit.%' \
             AND unit_path LIKE (SELECT path FROM units WHERE code = '150105') || '%'",
        )
        .await;
    assert_eq!(
        rows.len() as i64,
        in_log,
        "every row of the subtree, no other"
    );
    let recorded = app
        .db
        .raw()
        .await
        .text("SELECT detail FROM audit_log WHERE action = 'audit.export'")
        .await;
    let recorded: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    assert_eq!(recorded["rows"], in_log);
    assert_eq!(recorded["filter"]["action"], "unit.");

    let api = app.api("auditor").await;
    let all = api.post_json("/audit/export", &serde_json::json!({})).await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(
        all.body.contains("audit.export"),
        "the earlier export is in the log"
    );
    for other in ["admin", "security", "saihan.staff"] {
        let refused = app
            .api(other)
            .await
            .post_json("/audit/export", &serde_json::json!({}))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{other}");
    }
    app.finish().await;
}

/// Runs the real `tongxin audit …` against the test's database.
fn run_audit(app: &TestApp, args: &[&str]) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .arg("audit")
        .args(args)
        .envs(app.db.env())
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

/// Rows past the retention period leave the database only for a signed, verified archive
/// file; the chain left still verifies, and a removal dressed up as an archive does not.
async fn audit_rows_past_retention_are_archived_to_a_signed_file(engine: Engine) {
    use tongxin_core::Clock;
    let app = TestApp::with_fixture(engine).await;
    activity(&app).await;
    let raw = app.db.raw().await;
    let old_rows = raw.count("SELECT COUNT(*) FROM audit_log").await;
    app.clock.advance_minutes(181 * 24 * 60);
    app.login("saihan").await;
    let all_rows = raw.count("SELECT COUNT(*) FROM audit_log").await;
    assert!(all_rows > old_rows);

    let dir =
        std::env::temp_dir().join(format!("tongxin-archive-{}-{engine:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(format!(
        "audit-{}.jsonl",
        raw.count("SELECT MAX(seq) FROM audit_log").await
    ));
    let _ = std::fs::remove_file(&file);
    let too_soon = app
        .store
        .archive_audit_log(&file, app.clock.now(), 179)
        .await;
    assert!(too_soon.is_err(), "never less than 180 days");
    assert!(!file.exists());

    let header = app
        .store
        .archive_audit_log(&file, app.clock.now(), 180)
        .await
        .unwrap()
        .expect("rows older than 180 days");
    assert_eq!(header.rows as i64, old_rows);
    assert_eq!(header.first_seq, 1);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the archive is private to its owner");
    }
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM audit_log").await,
        all_rows - old_rows + 1,
        "the old rows left, and the archiving was recorded"
    );
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM audit_log WHERE action = 'audit.archive'")
            .await,
        1
    );
    assert!(app.store.check().await.unwrap().faults.is_empty());
    let (ok, out) = run_check(&app);
    assert!(ok, "{out}");
    let shown = file.display().to_string();
    let (ok, out) = run_audit(&app, &["verify", &shown]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("1 to {old_rows}")), "{out}");
    let again = app
        .store
        .archive_audit_log(&dir.join("again.jsonl"), app.clock.now(), 180)
        .await
        .unwrap();
    assert!(again.is_none(), "nothing more is old enough");
    let (ok, out) = run_audit(
        &app,
        &[
            "archive",
            "--out",
            &dir.join("cli.jsonl").display().to_string(),
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("nothing archived"), "{out}");

    // An altered archive does not verify.
    let text = std::fs::read_to_string(&file).unwrap();
    let altered = dir.join("altered.jsonl");
    std::fs::write(&altered, text.replacen("saihan", "saihaN", 1)).unwrap();
    let (ok, out) = run_audit(&app, &["verify", &altered.display().to_string()]);
    assert!(!ok);
    assert!(out.contains("match"), "{out}");

    // Rows removed by someone who moves the start of the chain without the key.
    let first = raw.count("SELECT MIN(seq) FROM audit_log").await;
    let hash = raw
        .text(&format!("SELECT hash FROM audit_log WHERE seq = {first}"))
        .await;
    raw.execute(&format!("DELETE FROM audit_log WHERE seq = {first}"))
        .await;
    raw.execute(&format!(
        "UPDATE audit_head SET archived_seq = {first}, archived_hash = '{hash}'"
    ))
    .await;
    let report = app.store.check().await.unwrap();
    assert_eq!(report.faults, vec![Fault::AuditArchiveRecord]);
    let _ = std::fs::remove_dir_all(&dir);
    app.finish().await;
}

engine_tests!(
    audit_rows_past_retention_are_archived_to_a_signed_file,
    the_auditor_exports_the_log,
    check_detects_a_chain_rewritten_without_the_key,
    a_chain_from_before_the_key_is_keyed_only_when_it_verifies,
    the_audit_page_shows_who_did_what_where,
    check_detects_an_altered_row,
    check_detects_removed_rows,
    check_verifies_unit_paths,
);
