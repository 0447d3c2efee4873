//! Background jobs over HTTP and across processes: a job that fails stops and waits for an
//! administrator, who retries or drops it; jobs left by a stopped runner are taken back (an
//! import is reported failed, nothing written); recurring jobs are enqueued once per
//! occurrence; three workers on one PostgreSQL run each of a thousand jobs once; a server
//! killed with SIGKILL picks its jobs up again after restart and delivers every message to the
//! inbox once.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Child, Command, Stdio};

use common::{Engine, TestApp, poll};
use reqwest::StatusCode;
use serde_json::json;
use tongxin_core::Clock;
use tongxin_store::NewJob;

/// Enqueues a job no handler knows, filed under `unit`, and waits until it stopped failed.
async fn failing_job(app: &TestApp, unit: &str) -> i64 {
    let now = app.clock.now();
    let path = app.unit(unit).await.path.as_str().to_owned();
    let job = NewJob::new("nobody.knows", json!({}), now).unit(Some(path));
    let id = app.store.enqueue_job(now, &job).await.unwrap().unwrap();
    common::records::wait_failed(app, id).await;
    id
}

async fn state_of(app: &TestApp, id: i64) -> String {
    app.db
        .raw()
        .await
        .text(&format!(
            "SELECT state FROM jobs WHERE id = {id} UNION ALL SELECT 'gone' \
             WHERE NOT EXISTS (SELECT 1 FROM jobs WHERE id = {id})"
        ))
        .await
}

async fn a_failed_job_waits_for_its_administrators(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let id = failing_job(&app, "150105").await;

    // Its unit's administrator sees it with its error, on the page and over the API.
    let saihan = app.login("saihan").await;
    let page = saihan.get("/jobs?state=failed").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("nobody.knows"), "{}", page.body);
    assert!(page.body.contains("已失败"), "{}", page.body);
    let api = app.api("saihan").await;
    let listed = api.get("/jobs?state=failed").await.json();
    let job = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id)
        .expect("the failed job is listed")
        .clone();
    assert_eq!(job["attempts"], 1);
    assert!(
        job["last_error"].as_str().unwrap().contains("nobody.knows"),
        "{job}"
    );
    // Staff do not keep jobs; another county's administrator does not see this one.
    let staff = app.api("saihan.staff").await;
    assert_eq!(staff.get("/jobs").await.status, StatusCode::FORBIDDEN);
    let xincheng = app.api("xincheng").await;
    assert_eq!(
        xincheng
            .post_json(&format!("/jobs/{id}/retry"), &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.login("saihan.staff").await.get("/jobs").await.status,
        StatusCode::FORBIDDEN
    );

    // Retried from the page: it runs again (and fails again, with its attempts renewed).
    let retried = saihan
        .submit(
            "/jobs?state=failed",
            &format!("/jobs/{id}"),
            &[("action", "retry")],
        )
        .await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.body);
    common::records::wait_failed(&app, id).await;
    assert_eq!(api.get(&format!("/jobs/{id}")).await.json()["attempts"], 1);
    // A job that is not failed cannot be retried; dropped, it is gone.
    let done = app.db.raw().await;
    done.execute(&format!("UPDATE jobs SET state = 'done' WHERE id = {id}"))
        .await;
    let refused = api
        .post_json(&format!("/jobs/{id}/retry"), &json!({}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    done.execute(&format!("UPDATE jobs SET state = 'failed' WHERE id = {id}"))
        .await;
    let dropped = saihan
        .submit(
            "/jobs?state=failed",
            &format!("/jobs/{id}"),
            &[("action", "drop")],
        )
        .await;
    assert_eq!(dropped.status, StatusCode::SEE_OTHER, "{}", dropped.body);
    assert_eq!(state_of(&app, id).await, "gone");
    let audited = done
        .count("SELECT COUNT(*) FROM audit_log WHERE action IN ('job.retry', 'job.drop')")
        .await;
    assert_eq!(audited, 2);
    app.finish().await;
}

async fn jobs_of_a_stopped_runner_are_taken_back(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let staff = app.login("saihan.staff").await;
    let account = app.api("saihan.staff").await.get("/me").await.json()["id"]
        .as_i64()
        .unwrap();
    let now = app.clock.now().micros();
    // A probe and an import, both running under a runner that no longer beats.
    raw.execute(&format!(
        "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, runner, \
         started_at, created_at) VALUES ('probe', '{{}}', 'running', 1, 6, {now}, 'ghost', \
         {now}, {now})"
    ))
    .await;
    raw.execute(&format!(
        "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, run_at, runner, \
         started_at, created_at, owner_id) VALUES ('import.people', \
         '{{\"file_name\":\"名单.csv\",\"format\":\"csv\",\"check_only\":false}}', 'running', 1, 1, \
         {now}, 'ghost', {now}, {now}, {account})"
    ))
    .await;
    let id_of = |kind: &'static str| {
        let raw = &raw;
        async move {
            raw.text(&format!(
                "SELECT CAST(id AS TEXT) FROM jobs WHERE kind = '{kind}'"
            ))
            .await
        }
    };
    let (probe, import) = (id_of("probe").await, id_of("import.people").await);
    poll("the probe to run again", || async {
        (raw.text(&format!("SELECT state FROM jobs WHERE id = {probe}"))
            .await
            == "done")
            .then_some(())
    })
    .await;
    assert_eq!(
        raw.count(&format!(
            "SELECT COUNT(*) FROM jobs WHERE id = {probe} AND attempts = 2"
        ))
        .await,
        1
    );
    // The import runs once: it is reported failed, nothing written, and its owner is told.
    poll("the import to be taken back", || async {
        (raw.text(&format!("SELECT state FROM jobs WHERE id = {import}"))
            .await
            == "failed")
            .then_some(())
    })
    .await;
    let page = staff.get(&format!("/directory/import/{import}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("导入被中断"), "{}", page.body);
    let inbox = poll("the owner to be told", || async {
        let inbox = staff.get("/notifications").await;
        inbox.body.contains("名单.csv").then_some(inbox)
    })
    .await;
    assert!(inbox.body.contains("没有写入任何记录"), "{}", inbox.body);
    assert_eq!(raw.count("SELECT COUNT(*) FROM people").await, 0);
    app.finish().await;
}

async fn recurring_jobs_are_enqueued_once_per_occurrence(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    // A second runner beside the server's: the occurrence is still enqueued once.
    let worker = app.worker(&[]);
    let raw = app.db.raw().await;
    // START is Monday 16:00 in Beijing: the day's 09:00 reminders are due.
    let nine = tongxin_core::Recurrence::Daily { hour: 9, minute: 0 }
        .latest(common::START, tongxin_core::TimeZone::SHANGHAI);
    assert_eq!(nine.display(), "2026-11-30 09:00:00");
    let key = format!("activities.remind@{}", nine.micros());
    poll("the day's reminders to be enqueued", || async {
        (raw.count(&format!(
            "SELECT COUNT(*) FROM jobs WHERE unique_key = '{key}'"
        ))
        .await
            == 1)
            .then_some(())
    })
    .await;
    // The next day's comes when the clock reaches Tuesday 09:00.
    app.clock.advance_minutes(17 * 60 + 1);
    poll(
        "the next day's reminders to be enqueued and run",
        || async {
            (raw.count(
                "SELECT COUNT(*) FROM jobs WHERE kind = 'activities.remind' AND state = 'done'",
            )
            .await
                == 2)
                .then_some(())
        },
    )
    .await;
    worker.stop().await;
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'activities.remind'")
            .await,
        2
    );
    app.finish().await;
}

async fn the_nightly_check_reports_a_tampered_audit_log(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let checks = "SELECT COUNT(*) FROM jobs WHERE kind = 'integrity.check'";
    // Monday 16:00: that night's 02:30 check has already run clean.
    poll("the night's check to pass", || async {
        (raw.count(&format!("{checks} AND state = 'done'")).await == 1).then_some(())
    })
    .await;
    raw.execute("UPDATE audit_log SET actor_name = 'forger' WHERE seq = 2")
        .await;
    // Tuesday 02:31: the next check stops failed, naming the row, for the top administrator.
    app.clock.advance_minutes(10 * 60 + 31);
    poll("the next check to fail", || async {
        (raw.count(&format!("{checks} AND state = 'failed'")).await == 1).then_some(())
    })
    .await;
    let failed = app
        .api("admin")
        .await
        .get("/jobs?state=failed&kind=integrity.check")
        .await;
    let error = failed.json()["items"][0]["last_error"].clone();
    assert!(
        error
            .as_str()
            .unwrap()
            .contains("audit row 2: contents do not match"),
        "{error}"
    );
    app.finish().await;
}

/// `tongxin worker`, or with `serve`, a whole server on a port of its own.
fn process(app: &TestApp, command: &str, extra: &[(&str, &str)]) -> Child {
    let args: &[&str] = match command {
        "serve" => &["serve", "--listen", "127.0.0.1:0"],
        _ => &["worker"],
    };
    Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .args(args)
        .envs(app.db.env())
        .envs(extra.iter().copied())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill(child: &mut Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = child.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_on_postgres_run_each_job_once() {
    if common::postgres_url().is_none() {
        eprintln!("skipped: TONGXIN_TEST_POSTGRES_URL is not set");
        return;
    }
    // The server runs no jobs; three worker processes share them.
    let app = TestApp::with_fixture_and(Engine::Postgres, &[("TONGXIN_RUN_JOBS", "false")]).await;
    let now = app.clock.now();
    for _ in 0..1000 {
        app.store
            .enqueue_job(now, &tongxin_jobs::probe_job(now))
            .await
            .unwrap();
    }
    let settings = [
        ("TONGXIN_JOB_POLL_MS", "20"),
        ("TONGXIN_JOB_CONCURRENCY", "8"),
    ];
    let mut workers: Vec<Child> = (0..3).map(|_| process(&app, "worker", &settings)).collect();
    let raw = app.db.raw().await;
    poll("a thousand probes to be done", || async {
        (raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'probe' AND state = 'done'")
            .await
            == 1000)
            .then_some(())
    })
    .await;
    for worker in &mut workers {
        kill(worker, "-TERM");
    }
    // Each was claimed once (a second claim would have counted a second attempt), and the
    // work was shared.
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'probe' AND attempts <> 1")
            .await,
        0
    );
    let runners = raw
        .count("SELECT COUNT(DISTINCT runner) FROM jobs WHERE kind = 'probe'")
        .await;
    assert!(runners >= 2, "the work went to {runners} runner(s)");
    app.finish().await;
}

async fn a_killed_server_delivers_every_message_once_after_restart(engine: Engine) {
    let app = TestApp::with_fixture_and(engine, &[("TONGXIN_RUN_JOBS", "false")]).await;
    let account = app.api("saihan.staff").await.get("/me").await.json()["id"]
        .as_i64()
        .unwrap();
    let now = app.clock.now();
    let jobs = 400;
    for n in 0..jobs {
        let event = tongxin_store::Event::new(
            "proposal.approved",
            format!("kill:{n}"),
            "/my-record".to_owned(),
            json!({}),
            tongxin_store::Recipients::Accounts(vec![account]),
        );
        app.store.enqueue_job(now, &event.job(now)).await.unwrap();
    }
    let settings = [
        ("TONGXIN_JOB_POLL_MS", "20"),
        ("TONGXIN_JOB_RUNNER_TIMEOUT_SECONDS", "2"),
    ];
    let raw = app.db.raw().await;
    let mut first = process(&app, "serve", &settings);
    poll("some messages to be delivered", || async {
        (raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND state = 'done'")
            .await
            >= 20)
            .then_some(())
    })
    .await;
    kill(&mut first, "-KILL");
    // Killed mid-run, or the restart would prove nothing.
    let done_at_kill = raw
        .count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND state = 'done'")
        .await;
    assert!(done_at_kill < jobs, "all {jobs} were done before the kill");
    let mut second = process(&app, "serve", &settings);
    poll("every message to be delivered", || async {
        (raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND state = 'done'")
            .await
            == jobs)
            .then_some(())
    })
    .await;
    kill(&mut second, "-TERM");
    assert_eq!(
        raw.count(&format!(
            "SELECT COUNT(*) FROM notifications WHERE account_id = {account}"
        ))
        .await,
        jobs
    );
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM notifications WHERE merged <> 1")
            .await,
        0
    );
    app.finish().await;
}

engine_tests!(
    the_nightly_check_reports_a_tampered_audit_log,
    a_failed_job_waits_for_its_administrators,
    jobs_of_a_stopped_runner_are_taken_back,
    recurring_jobs_are_enqueued_once_per_occurrence,
    a_killed_server_delivers_every_message_once_after_restart,
);
