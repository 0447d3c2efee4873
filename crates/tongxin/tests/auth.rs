//! Logging in and out, lockout, session expiry, CSRF, tokens and the language switch.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Engine, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn login_and_logout(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.browser();

    // Not logged in: pages send the visitor to the login page and come back afterwards.
    let home = browser.get("/units").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location.as_deref(), Some("/login?next=%2Funits"));

    let page = browser.get("/login").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<html lang=\"zh-CN\">"));
    assert!(page.body.contains("登录"));

    let wrong = browser.login("saihan", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(wrong.body.contains("用户名或密码不正确"), "{}", wrong.body);
    assert!(
        wrong.body.contains("value=\"saihan\""),
        "the typed name is kept"
    );

    let ok = browser
        .submit(
            "/login?next=/units",
            "/login",
            &[
                ("username", "Saihan"),
                ("password", PASSWORD),
                ("next", "/units"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location.as_deref(), Some("/units"));
    let cookie = ok
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("tongxin_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http must not get Secure cookies"
    );

    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("赛罕区"));

    // A second login gets a new session id.
    let again = app.browser().login("saihan", PASSWORD).await;
    let second = again
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_ne!(
        cookie.split(';').next(),
        second.split(';').next(),
        "each login issues a new session id"
    );

    let out = browser.submit("/", "/logout", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location.as_deref(), Some("/login"));
    assert_eq!(browser.get("/").await.status, StatusCode::SEE_OTHER);

    // Every step is in the audit log, with the address.
    let audit = app
        .api("auditor")
        .await
        .get("/audit?actor=saihan")
        .await
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"login"), "{actions:?}");
    assert!(actions.contains(&"logout"), "{actions:?}");
    assert!(actions.contains(&"login.failed"), "{actions:?}");
    assert_eq!(audit["items"][0]["ip"], "127.0.0.1");
    app.finish().await;
}

async fn lockout_and_its_expiry(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.browser();
    for attempt in 1..=4 {
        let reply = browser.login("saihan.staff", "wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(reply.body.contains("用户名或密码不正确"));
    }
    let fifth = browser.login("saihan.staff", "wrong password").await;
    assert_eq!(fifth.status, StatusCode::UNAUTHORIZED);

    // Locked: even the right password is refused, on the page and the API, with the same
    // answer as a wrong password (nobody learns which accounts are locked).
    let refused = browser.login("saihan.staff", PASSWORD).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused
            .body
            .contains("用户名或密码不正确，或账号已锁定、停用")
    );
    let api = reqwest::Client::new()
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({ "username": "saihan.staff", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);

    app.clock.advance_minutes(14);
    assert_eq!(
        browser.login("saihan.staff", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED,
        "still locked after 14 minutes"
    );
    app.clock.advance_minutes(1);
    let ok = browser.login("saihan.staff", PASSWORD).await;
    assert_eq!(
        ok.status,
        StatusCode::SEE_OTHER,
        "unlocked after 15 minutes"
    );

    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=account.lock")
        .await
        .json();
    assert_eq!(audit["total"], 1);
    app.finish().await;
}

async fn sessions_expire_when_idle(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.login("saihan").await;
    let api = app.api("saihan").await;

    // Use keeps a session alive.
    app.clock.advance_minutes(20);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    assert_eq!(api.get("/me").await.status, StatusCode::OK);
    app.clock.advance_minutes(20);
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    assert_eq!(api.get("/me").await.status, StatusCode::OK);

    // Thirty idle minutes end it.
    app.clock.advance_minutes(31);
    let expired = browser.get("/").await;
    assert_eq!(expired.status, StatusCode::SEE_OTHER);
    assert!(expired.location.unwrap().starts_with("/login"));
    let expired = api.get("/me").await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.error_code(), "unauthenticated");
    app.finish().await;
}

async fn forms_without_the_right_csrf_token_are_refused(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let units_before = raw.count("SELECT COUNT(*) FROM units").await;

    // The login form itself is protected.
    let browser = app.browser();
    browser.get("/login").await;
    let forged = browser
        .post_raw(
            "/login",
            &[
                ("_csrf", "0123"),
                ("username", "saihan"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        forged.body.contains("表单已过期或来源不明"),
        "{}",
        forged.body
    );

    let browser = app.login("saihan").await;
    let saihan = app.unit("150105").await;
    let path = format!("/units/{}/new", saihan.id);
    let fields = [("code", "150105003"), ("name", "新街道")];
    let missing = browser.post_raw(&path, &fields).await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let mut wrong = vec![("_csrf", "f".repeat(64))];
    wrong.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let wrong: Vec<(&str, &str)> = wrong.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        browser.post_raw(&path, &wrong).await.status,
        StatusCode::FORBIDDEN
    );
    // The pre-login token is not accepted once logged in.
    let logout_forged = browser.post_raw("/logout", &[("_csrf", "")]).await;
    assert_eq!(logout_forged.status, StatusCode::FORBIDDEN);

    assert_eq!(raw.count("SELECT COUNT(*) FROM units").await, units_before);
    assert_eq!(
        browser.get("/").await.status,
        StatusCode::OK,
        "still logged in"
    );

    // And state never changes on GET.
    assert_eq!(
        browser.get("/logout").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    assert_eq!(browser.get("/").await.status, StatusCode::OK);
    app.finish().await;
}

async fn the_language_switch_is_remembered(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.browser();
    let switched = browser
        .submit("/login", "/lang", &[("lang", "en"), ("next", "/login")])
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(switched.location.as_deref(), Some("/login"));
    let page = browser.get("/login").await;
    assert!(page.body.contains("<html lang=\"en\">"));
    assert!(page.body.contains("Log in"));
    let wrong = browser.login("saihan", "nope nope nope").await;
    assert!(wrong.body.contains("The user name or password is wrong"));

    // It survives logging in and applies to every page.
    browser.login("saihan", PASSWORD).await;
    let units = browser
        .get(&format!("/units/{}", app.unit("150105").await.id))
        .await;
    assert!(units.body.contains("Units below"), "{}", units.body);

    // An open redirect through `next` is refused.
    let evil = browser
        .submit(
            "/",
            "/lang",
            &[("lang", "zh-CN"), ("next", "//evil.example")],
        )
        .await;
    assert_eq!(evil.location.as_deref(), Some("/"));
    assert!(browser.get("/").await.body.contains("首页"));

    // The API speaks the language of Accept-Language.
    let reply = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Please log in first.");
    app.finish().await;
}

async fn api_tokens(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let anonymous = reqwest::Client::new();
    let bad = anonymous
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({ "username": "saihan", "password": "wrong one!" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["code"], "bad_credentials");
    assert_eq!(
        body["error"]["message"],
        "用户名或密码不正确，或账号已锁定、停用。"
    );

    let api = app.api("saihan").await;
    let me = api.get("/me").await.json();
    assert_eq!(me["username"], "saihan");
    assert_eq!(me["role"], "admin");
    assert_eq!(me["unit"]["code"], "150105");
    assert_eq!(me["unit"]["level"], "county");

    // A web session cookie is not an API token and vice versa.
    let forged = anonymous
        .get(app.url("/api/v1/me"))
        .bearer_auth("0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(
        api.delete("/auth/token").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(api.get("/me").await.status, StatusCode::UNAUTHORIZED);
    app.finish().await;
}

async fn changing_ones_own_password(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.login("saihan.staff").await;
    let other_device = app.login("saihan.staff").await;
    let wrong = browser
        .submit(
            "/password",
            "/password",
            &[
                ("current", "not it at all"),
                ("new", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("当前密码不正确"), "{}", wrong.body);
    let mismatch = browser
        .submit(
            "/password",
            "/password",
            &[
                ("current", PASSWORD),
                ("new", "a brand new passphrase"),
                ("confirm", "something else entirely"),
            ],
        )
        .await;
    assert!(
        mismatch.body.contains("确认新密码不正确"),
        "{}",
        mismatch.body
    );
    let short = browser
        .submit(
            "/password",
            "/password",
            &[
                ("current", PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert!(
        short.body.contains("密码至少需要 10 个字符"),
        "{}",
        short.body
    );

    let done = browser
        .submit(
            "/password",
            "/password",
            &[
                ("current", PASSWORD),
                ("new", "a brand new passphrase"),
                ("confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    assert_eq!(
        browser.get("/").await.status,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        other_device.get("/").await.status,
        StatusCode::SEE_OTHER,
        "others end"
    );
    let fresh = app.browser();
    assert_eq!(
        fresh.login("saihan.staff", PASSWORD).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        fresh
            .login("saihan.staff", "a brand new passphrase")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    app.finish().await;
}

async fn cookies_are_secure_behind_https(engine: Engine) {
    let app =
        TestApp::with_fixture_and(engine, &[("TONGXIN_PUBLIC_URL", "https://tx.example.cn")]).await;
    let browser = app.browser();
    let page = browser.get("/login").await;
    let csrf_cookie = page
        .headers
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csrf_cookie.contains("; Secure"), "{csrf_cookie}");
    // The test client speaks plain http, so it will not send Secure cookies back: read the
    // session cookie from the login response instead of following it.
    let token = page.csrf();
    let login = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("cookie", format!("tongxin_csrf={token}"))
        .form(&[
            ("_csrf", token.as_str()),
            ("username", "saihan"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let session = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        session.starts_with("tongxin_session=") && session.contains("Secure"),
        "{session}"
    );
    app.finish().await;
}

engine_tests!(
    cookies_are_secure_behind_https,
    login_and_logout,
    lockout_and_its_expiry,
    sessions_expire_when_idle,
    forms_without_the_right_csrf_token_are_refused,
    the_language_switch_is_remembered,
    api_tokens,
    changing_ones_own_password,
);
