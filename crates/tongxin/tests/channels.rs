//! Sending beyond the inbox, to real receivers on loopback ports: the robots of WeCom,
//! DingTalk and Feishu and a signed webhook, set up by a unit's administrator, tested, and told
//! of the unit's events; refusals at "send a test message" (bad address, internal target, wrong
//! secret, nobody listening); a receiver that fails is retried with backoff and then waits,
//! without holding up other work; e-mail by preference and as a daily digest, to an SMTP sink.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::{plan, setup};
use common::receivers::{Robots, SECRET, SmtpSink};
use common::{Api, Engine, TestApp, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};

const INTERNAL: (&str, &str) = ("TONGXIN_ALLOW_INTERNAL_TARGETS", "true");

async fn channels_are_sealed_tested_and_told_of_their_units_events(engine: Engine) {
    let robots = Robots::start().await;
    let app = TestApp::with_fixture_and(engine, &[INTERNAL]).await;
    let (kind, ..) = setup(&app).await;
    let unit = app.unit("150102").await.id;
    let admin = app.api("xincheng").await;
    let mut ids = Vec::new();
    for (kind_name, path) in [
        ("wecom", "/wecom?key=WECOMKEY"),
        ("dingtalk", "/dingtalk?access_token=DINGTOKEN"),
        ("feishu", "/feishu"),
        ("webhook", "/hook"),
    ] {
        let secret = (kind_name != "wecom").then_some(SECRET);
        let created = admin
            .post_json(
                &format!("/units/{unit}/channels"),
                &json!({ "kind": kind_name, "name": format!("{kind_name} 群"),
                         "url": robots.url(path), "secret": secret,
                         "events": ["activity.cancelled"] }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        assert!(!created.body.contains("WECOMKEY") && !created.body.contains(SECRET));
        ids.push(created.json()["id"].as_i64().unwrap());
    }
    // Listed by host alone; sealed at rest.
    let listed = admin.get(&format!("/units/{unit}/channels")).await;
    assert_eq!(listed.json()["total"], 4);
    assert!(!listed.body.contains("DINGTOKEN") && !listed.body.contains(SECRET));
    let raw = app.db.raw().await;
    let stored = raw
        .strings("SELECT url_sealed FROM unit_channels")
        .await
        .join(" ");
    assert!(
        !stored.contains("DINGTOKEN") && !stored.contains("/hook"),
        "{stored}"
    );
    let page = app
        .login("xincheng")
        .await
        .get(&format!("/units/{unit}/channels"))
        .await;
    assert!(page.body.contains("钉钉群机器人"), "{}", page.body);
    assert!(!page.body.contains("DINGTOKEN"), "{}", page.body);
    // Another county's administrator cannot reach them; staff keep none.
    let other = app.api("saihan").await;
    assert_eq!(
        other
            .post_json(&format!("/channels/{}/test", ids[0]), &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // "Send a test message": each receiver checks the signature and accepts.
    for id in &ids {
        let sent = admin
            .post_json(&format!("/channels/{id}/test"), &json!({}))
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    }
    let kinds: Vec<String> = robots.received().iter().map(|r| r.kind.clone()).collect();
    assert_eq!(kinds, ["wecom", "dingtalk", "feishu", "webhook"]);

    // An activity of the unit cancelled: every channel is told, the webhook with a key.
    let activity = plan(&admin, &app, kind, json!({ "title": "推送测试座谈会" })).await["id"]
        .as_i64()
        .unwrap();
    let cancelled = admin
        .post_json(
            &format!("/activities/{activity}/state"),
            &json!({ "state": "cancelled", "reason": "改期" }),
        )
        .await;
    assert!(cancelled.status.is_success(), "{}", cancelled.body);
    let told = poll("every channel to be told", || async {
        let told: Vec<_> = robots
            .received()
            .into_iter()
            .filter(|r| r.text.contains("推送测试座谈会"))
            .collect();
        (told.len() == 4).then_some(told)
    })
    .await;
    assert!(told.iter().all(|r| r.text.contains("已取消")), "{told:?}");
    let hook = told.iter().find(|r| r.kind == "webhook").unwrap();
    assert!(hook.key.as_deref().unwrap().starts_with("job-"), "{hook:?}");

    // Removed: it is told nothing more.
    let removed = admin.delete(&format!("/channels/{}", ids[0])).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        admin.get(&format!("/units/{unit}/channels")).await.json()["total"],
        3
    );
    app.finish().await;
}

/// Adds `channel` to `unit`, sends it a test message and checks the refusal says `says`;
/// returns the channel.
async fn added_and_refused(admin: &Api, unit: i64, channel: Value, says: &str) -> i64 {
    let added = admin
        .post_json(&format!("/units/{unit}/channels"), &channel)
        .await;
    let id = added.json()["id"].as_i64().unwrap();
    let refused = admin
        .post_json(&format!("/channels/{id}/test"), &json!({}))
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.error_message().contains(says), "{}", refused.body);
    id
}

async fn test_messages_say_what_went_wrong_and_send_nothing(engine: Engine) {
    let robots = Robots::start().await;
    // Internal targets not allowed: the loopback receivers are refused.
    let strict = TestApp::with_fixture(engine).await;
    let unit = strict.unit("150102").await.id;
    let admin = strict.api("xincheng").await;
    let add = |url: String, kind: &'static str, secret: Option<&'static str>| {
        let admin = &admin;
        async move {
            admin
                .post_json(
                    &format!("/units/{unit}/channels"),
                    &json!({ "kind": kind, "name": "测试", "url": url, "secret": secret,
                             "events": [] }),
                )
                .await
        }
    };
    let internal = add(robots.url("/hook"), "webhook", Some(SECRET)).await;
    assert_eq!(
        internal.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        internal.body
    );
    assert!(
        internal.error_message().contains("内部网络"),
        "{}",
        internal.body
    );
    let malformed = add("ftp://example.org/x".into(), "webhook", Some(SECRET)).await;
    assert_eq!(malformed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        malformed.error_message().contains("http"),
        "{}",
        malformed.body
    );
    let unsigned = add(
        "https://oapi.dingtalk.com/robot/send?access_token=x".into(),
        "dingtalk",
        None,
    )
    .await;
    assert_eq!(
        unsigned.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unsigned.body
    );
    assert_eq!(
        admin.get(&format!("/units/{unit}/channels")).await.json()["total"],
        0
    );
    strict.finish().await;

    // Allowed, but a wrong secret and a closed port are refused at the test, in words.
    let app = TestApp::with_fixture_and(engine, &[INTERNAL]).await;
    let admin = app.api("xincheng").await;
    let wrong = added_and_refused(
        &admin,
        unit,
        json!({ "kind": "dingtalk", "name": "钉钉", "events": [],
                "url": robots.url("/dingtalk?access_token=T"), "secret": "SECwrong" }),
        "sign not match",
    )
    .await;
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    added_and_refused(
        &admin,
        unit,
        json!({ "kind": "webhook", "name": "无人", "events": [], "secret": "s",
                "url": format!("http://127.0.0.1:{closed}/hook") }),
        "cannot connect",
    )
    .await;
    // The page says so too.
    let browser = app.login("xincheng").await;
    let page = browser
        .submit(
            &format!("/units/{unit}/channels"),
            &format!("/channels/{wrong}"),
            &[("action", "test"), ("unit", &unit.to_string())],
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("测试消息没有发出"), "{}", page.body);
    assert!(robots.received().is_empty());
    app.finish().await;
}

async fn a_failing_receiver_is_retried_then_waits_and_holds_up_nothing(engine: Engine) {
    let robots = Robots::start().await;
    let app = TestApp::with_fixture_and(engine, &[INTERNAL]).await;
    let (kind, ..) = setup(&app).await;
    let unit = app.unit("150102").await.id;
    let admin = app.api("xincheng").await;
    for (name, path) in [("失败", "/fail"), ("沉默", "/silent"), ("正常", "/hook")] {
        let created = admin
            .post_json(
                &format!("/units/{unit}/channels"),
                &json!({ "kind": "webhook", "name": name, "url": robots.url(path),
                         "secret": SECRET, "events": ["activity.cancelled"] }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }
    let activity = plan(&admin, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    admin
        .post_json(
            &format!("/activities/{activity}/state"),
            &json!({ "state": "cancelled", "reason": "改期" }),
        )
        .await;
    // The healthy receiver is told while the silent one keeps its job waiting for an answer,
    // and requests are answered meanwhile.
    poll("the healthy receiver to be told", || async {
        (robots.received().len() == 1).then_some(())
    })
    .await;
    assert_eq!(admin.get("/me").await.status, StatusCode::OK);
    // The failing one: each attempt fails, the next waits longer; the sixth stops it.
    let raw = app.db.raw().await;
    // (An attempt is counted when it is claimed: wait until it is over.)
    let failing = "SELECT COUNT(*) FROM jobs WHERE kind = 'deliver.channel' \
                   AND last_error LIKE '%500%' AND state <> 'running'";
    for attempt in 1..=6 {
        poll("the next attempt to fail", || async {
            (raw.count(&format!("{failing} AND attempts = {attempt}"))
                .await
                == 1)
                .then_some(())
        })
        .await;
        let stopped = raw.count(&format!("{failing} AND state = 'failed'")).await;
        assert_eq!(stopped, i64::from(attempt == 6), "attempt {attempt}");
        if attempt < 6 {
            // Not before its backoff: 30 s, then doubling.
            app.clock.advance_minutes(1_i64 << (attempt - 1));
        }
    }
    let jobs = app
        .api("xincheng")
        .await
        .get("/jobs?state=failed")
        .await
        .json();
    let failed = &jobs["items"][0];
    assert_eq!(failed["kind"], "deliver.channel");
    assert!(
        failed["last_error"].as_str().unwrap().contains("HTTP 500"),
        "{failed}"
    );
    app.finish().await;
}

async fn email_by_preference_and_in_a_daily_digest(engine: Engine) {
    let sink = SmtpSink::start().await;
    let settings = sink.settings();
    let settings: Vec<(&str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = TestApp::with_fixture_and(engine, &settings).await;
    let staff = app.api("saihan.staff").await;
    // A malformed address is refused; e-mail needs an address.
    let bad = staff
        .put_json("/me/preferences", &json!({ "email": "not an address" }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let early = staff
        .put_json(
            "/me/preferences",
            &json!({ "deliveries": { "import.finished": "email" } }),
        )
        .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.body
    );
    let saved = staff
        .put_json(
            "/me/preferences",
            &json!({ "email": "staff@example.org",
                     "deliveries": { "import.finished": "email" } }),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["deliveries"]["import.finished"], "email");
    // The test e-mail goes at once.
    let tested = staff.post_json("/me/email/test", &json!({})).await;
    assert_eq!(tested.status, StatusCode::OK, "{}", tested.body);
    assert_eq!(sink.mails().len(), 1);
    assert_eq!(sink.mails()[0].to, ["staff@example.org"]);

    // An import: the mail goes when the merge window closes, with a Message-ID of its own.
    let browser = app.login("saihan.staff").await;
    let upload = browser
        .upload(
            "/directory/import",
            "/directory/import",
            "名单.csv",
            "姓名,单位代码\n张伟,150105\n".as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(upload.status, StatusCode::SEE_OTHER);
    let raw = app.db.raw().await;
    poll("the e-mail to be queued", || async {
        (raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'deliver.email'")
            .await
            == 1)
            .then_some(())
    })
    .await;
    assert_eq!(sink.mails().len(), 1, "not before the window closes");
    app.clock.advance_minutes(11);
    let mail = poll("the e-mail to arrive", || async {
        sink.mails().get(1).cloned()
    })
    .await;
    assert!(mail.data.contains("Message-ID: <job-"), "{}", mail.data);
    assert!(mail.to == ["staff@example.org"]);

    // As a digest: nothing until 08:00, then one mail listing it.
    let staff = app.api("saihan.staff").await;
    staff
        .put_json(
            "/me/preferences",
            &json!({ "deliveries": { "import.finished": "digest" } }),
        )
        .await;
    let again = browser
        .upload(
            "/directory/import",
            "/directory/import",
            "名单二.csv",
            "姓名,单位代码\n李娜,150105\n".as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    poll("the notification to wait for the digest", || async {
        (raw.count("SELECT COUNT(*) FROM notifications WHERE digest_pending = TRUE")
            .await
            == 1)
            .then_some(())
    })
    .await;
    // From 16:11 on Monday to Tuesday 08:01.
    app.clock.advance_minutes(15 * 60 + 50);
    let digest = poll("the digest to arrive", || async {
        sink.mails().get(2).cloned()
    })
    .await;
    assert!(digest.data.contains("Subject:"), "{}", digest.data);
    poll("the digest to be marked sent", || async {
        (raw.count("SELECT COUNT(*) FROM notifications WHERE digest_pending = TRUE")
            .await
            == 0)
            .then_some(())
    })
    .await;
    assert_eq!(sink.mails().len(), 3, "one digest, nothing else");
    app.finish().await;
}

engine_tests!(
    channels_are_sealed_tested_and_told_of_their_units_events,
    test_messages_say_what_went_wrong_and_send_nothing,
    a_failing_receiver_is_retried_then_waits_and_holds_up_nothing,
    email_by_preference_and_in_a_daily_digest,
);
