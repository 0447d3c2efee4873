//! Two factors for the three administrators: set up by the holder with an authenticator app,
//! asked at every login (web and API), each code good once, recovery codes good once, and a
//! reset by the security administrator alone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Browser, Engine, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::json;
use tongxin_core::Clock;
use totp_rs::{Algorithm, Builder, Secret};

const REQUIRED: [(&str, &str); 1] = [("TONGXIN_ADMIN_TOTP", "required")];

/// The code an authenticator app holding `secret` shows at the test clock's time.
fn code_now(app: &TestApp, secret: &str) -> String {
    let totp = Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(Secret::try_from_base32(secret).unwrap().as_bytes().to_vec())
        .build()
        .unwrap();
    let seconds = u64::try_from(app.clock.now().micros() / 1_000_000).unwrap();
    totp.generate(seconds).to_string()
}

/// A six-digit code that is not `right`.
fn wrong(right: &str) -> &'static str {
    if right == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// The text between `start` and the next `end` on a page.
fn between<'a>(body: &'a str, start: &str, end: &str) -> &'a str {
    let from = body
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {body}"))
        + start.len();
    body[from..].split(end).next().unwrap()
}

/// Sets up a second factor on the set-up page the browser is sent to; returns the secret and
/// the recovery codes shown once.
async fn set_up(app: &TestApp, browser: &Browser) -> (String, Vec<String>) {
    let page = browser.get("/two-factor").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("<svg"), "a QR code to scan");
    // Shown in groups of four, as apps accept it typed.
    let shown = between(&page.body, "id=\"setup-key\">", "<").to_owned();
    let secret = shown.replace(' ', "");
    let again = browser.get("/two-factor").await;
    assert!(
        again.body.contains(&shown),
        "reloading keeps the secret the app may already hold"
    );

    let right = code_now(app, &secret);
    let refused = browser
        .submit(
            "/two-factor",
            "/two-factor/confirm",
            &[("code", wrong(&right))],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("验证码不正确"), "{}", refused.body);

    let done = browser
        .submit("/two-factor", "/two-factor/confirm", &[("code", &right)])
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let codes: Vec<String> = done
        .body
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split('<').next().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10, "{}", done.body);
    (secret, codes)
}

/// Logs in with the password, then answers the code page with `code`.
async fn login_with_code(app: &TestApp, username: &str, code: &str) -> (Browser, StatusCode) {
    let browser = app.browser();
    let first = browser.login(username, PASSWORD).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(
        first.location.as_deref(),
        Some("/login/code?next=%2F"),
        "the password alone opens nothing"
    );
    let waiting = browser.get("/directory").await;
    assert_eq!(waiting.status, StatusCode::SEE_OTHER, "not yet logged in");
    assert!(waiting.location.unwrap().starts_with("/login"));
    let answered = browser
        .submit("/login/code", "/login/code", &[("code", code)])
        .await;
    (browser, answered.status)
}

async fn administrators_log_in_with_two_factors(engine: Engine) {
    let app = TestApp::with_fixture_and(engine, &REQUIRED).await;

    // Before setting one up, an administrator reaches nothing but the set-up page.
    let admin = app.login("admin").await;
    let sent = admin.get("/directory").await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    assert_eq!(sent.location.as_deref(), Some("/two-factor"));
    let api = app
        .api_login(&json!({ "username": "admin", "password": PASSWORD }))
        .await;
    assert_eq!(api.status, StatusCode::FORBIDDEN);
    assert_eq!(api.error_code(), "second_factor_setup_required");
    // Others are not made to set one up.
    let staff = app.login("saihan.staff").await;
    assert_eq!(staff.get("/directory").await.status, StatusCode::OK);

    let (secret, recovery) = set_up(&app, &admin).await;
    assert_eq!(admin.get("/directory").await.status, StatusCode::OK);
    let setup_page = admin.get("/two-factor").await;
    assert!(
        !setup_page.body.contains(&secret),
        "the secret is not shown again"
    );

    // The code just used to confirm is spent; the next step's code opens the session.
    let used = code_now(&app, &secret);
    let (_, replayed) = login_with_code(&app, "admin", &used).await;
    assert_eq!(replayed, StatusCode::UNAUTHORIZED, "a code is good once");
    app.clock.advance_minutes(1);
    let (browser, status) = login_with_code(&app, "admin", &code_now(&app, &secret)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/directory").await.status, StatusCode::OK);

    // A recovery code works once, in place of the app.
    let (_, status) = login_with_code(&app, "admin", &recovery[0].to_uppercase()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, status) = login_with_code(&app, "admin", &recovery[0]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The API asks for the code with the password.
    let without = app
        .api_login(&json!({ "username": "admin", "password": PASSWORD }))
        .await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    assert_eq!(without.error_code(), "second_factor_required");
    app.clock.advance_minutes(1);
    let with = app
        .api_login(&json!({ "username": "admin", "password": PASSWORD,
                            "code": code_now(&app, &secret) }))
        .await;
    assert_eq!(with.status, StatusCode::CREATED, "{}", with.body);

    // Wrong codes count as failed logins: the account locks like after wrong passwords.
    for _ in 0..4 {
        let (_, status) = login_with_code(&app, "admin", "123456").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let (_, status) = login_with_code(&app, "admin", "123456").await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "locked: the password is asked again"
    );
    let locked = app.browser().login("admin", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::UNAUTHORIZED);

    let rows = app
        .db
        .raw()
        .await
        .strings(
            "SELECT action FROM audit_log WHERE action LIKE 'second_factor.%' \
             OR detail LIKE '%second_factor%' ORDER BY seq",
        )
        .await;
    assert!(rows.contains(&"second_factor.enrol".to_owned()), "{rows:?}");
    assert!(rows.contains(&"login.failed".to_owned()), "{rows:?}");
    app.finish().await;
}

async fn only_the_security_administrator_resets_a_second_factor(engine: Engine) {
    let app = TestApp::with_fixture_and(engine, &REQUIRED).await;
    let saihan = app.login("saihan").await;
    let (saihan_secret, _) = set_up(&app, &saihan).await;
    let saihan_id = app
        .db
        .raw()
        .await
        .count("SELECT id FROM users WHERE username = 'saihan'")
        .await;

    // The system administrator manages work accounts only, and nobody resets their own.
    let admin = app.login("admin").await;
    set_up(&app, &admin).await;
    let refused = admin
        .submit(
            "/two-factor",
            &format!("/accounts/{saihan_id}/two-factor/reset"),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    app.clock.advance_minutes(1);

    let security = app.login("security").await;
    set_up(&app, &security).await;
    let account = security.get(&format!("/accounts/{saihan_id}")).await;
    assert!(account.body.contains("重置双因素认证"), "{}", account.body);
    let reset = security
        .submit(
            &format!("/accounts/{saihan_id}"),
            &format!("/accounts/{saihan_id}/two-factor/reset"),
            &[],
        )
        .await;
    assert_eq!(reset.status, StatusCode::SEE_OTHER, "{}", reset.body);

    // The holder is logged out, and sets up a new one at the next login.
    let ended = saihan.get("/directory").await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER);
    assert!(ended.location.unwrap().starts_with("/login"));
    let again = app.login("saihan").await;
    let sent = again.get("/directory").await;
    assert_eq!(sent.location.as_deref(), Some("/two-factor"));
    let (new_secret, _) = set_up(&app, &again).await;
    assert_ne!(new_secret, saihan_secret);

    let security_id = app
        .db
        .raw()
        .await
        .count("SELECT id FROM users WHERE username = 'security'")
        .await;
    let own = security
        .submit(
            &format!("/accounts/{saihan_id}"),
            &format!("/accounts/{security_id}/two-factor/reset"),
            &[],
        )
        .await;
    assert_eq!(
        own.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not one's own"
    );

    let actions = app
        .db
        .raw()
        .await
        .strings("SELECT action FROM audit_log WHERE action LIKE 'second_factor.%' ORDER BY seq")
        .await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "second_factor.reset")
            .count(),
        1,
        "{actions:?}"
    );
    app.finish().await;
}

/// Relaxed, nobody is made to set one up, and one set up is still asked for.
async fn a_relaxed_rule_asks_only_those_who_set_one_up(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.login("admin").await;
    assert_eq!(admin.get("/directory").await.status, StatusCode::OK);
    let staff = app.login("saihan.staff").await;
    let (secret, _) = set_up(&app, &staff).await;
    app.clock.advance_minutes(1);
    let (browser, status) = login_with_code(&app, "saihan.staff", &code_now(&app, &secret)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(browser.get("/directory").await.status, StatusCode::OK);
    app.finish().await;
}

engine_tests!(
    administrators_log_in_with_two_factors,
    only_the_security_administrator_resets_a_second_factor,
    a_relaxed_rule_asks_only_those_who_set_one_up,
);
