//! Account administration: create, disable and enable, reset a password, on pages, the API and
//! the command line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Engine, PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// The generated password on a "shown once" page.
fn shown_password(body: &str) -> String {
    body.split("<p class=\"secret\"><code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no password shown: {body}"))
        .to_owned()
}

async fn administrators_create_and_manage_accounts(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.login("saihan").await;

    // A generated password is shown once and works.
    let created = admin
        .submit(
            "/accounts/new",
            "/accounts/new",
            &[
                ("unit_code", "150105001"),
                ("username", "Wang.Fang"),
                ("display_name", "王芳"),
                ("role", "staff"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let first = shown_password(&created.body);
    assert!(created.body.contains("wang.fang"));
    let wang = app.browser();
    assert_eq!(
        wang.login("wang.fang", &first).await.status,
        StatusCode::SEE_OTHER
    );
    let list = admin.get("/accounts?q=王").await;
    assert!(list.body.contains("wang.fang") && list.body.contains("敕勒川路街道"));

    // Disabling ends the sessions at once and refuses new logins.
    let id = app
        .api("saihan")
        .await
        .get("/accounts?q=wang.fang")
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let account_page = format!("/accounts/{id}");
    // Disabling asks once more, naming the account.
    let shown = admin.get(&account_page).await.body;
    let confirm = shown
        .split("<details class=\"confirm\">")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_else(|| panic!("no confirmation: {shown}"));
    assert!(
        confirm.contains(&format!("action=\"/accounts/{id}/disable\""))
            && confirm.contains("确定停用账号 wang.fang 吗"),
        "{confirm}"
    );
    let disabled = admin
        .submit(&account_page, &format!("/accounts/{id}/disable"), &[])
        .await;
    assert_eq!(disabled.status, StatusCode::SEE_OTHER);
    // The account's page says what was done, once.
    let said = admin.get(disabled.location.as_deref().unwrap()).await.body;
    assert!(said.contains("已停用账号，其登录已全部退出"), "{said}");
    assert!(!admin.get(&account_page).await.body.contains("已停用账号，"));
    assert_eq!(wang.get("/").await.status, StatusCode::SEE_OTHER);
    let refused = wang.login("wang.fang", &first).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(
        refused.body.contains("用户名或密码不正确"),
        "{}",
        refused.body
    );
    admin
        .submit(&account_page, &format!("/accounts/{id}/enable"), &[])
        .await;

    // A reset replaces the password and shows the new one once.
    let reset = admin
        .submit(
            &account_page,
            &format!("/accounts/{id}/reset-password"),
            &[],
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK);
    let second = shown_password(&reset.body);
    assert_ne!(first, second);
    assert_eq!(
        wang.login("wang.fang", &first).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        wang.login("wang.fang", &second).await.status,
        StatusCode::SEE_OTHER
    );

    // Administrators cannot lock themselves out.
    let own = admin.get("/accounts?q=saihan").await;
    assert!(own.body.contains("saihan.staff"));
    let api = app.api("saihan").await;
    let me = api.get("/me").await.json()["id"].as_i64().unwrap();
    let self_disable = api
        .post_json(&format!("/accounts/{me}/disable"), &json!({}))
        .await;
    assert_eq!(self_disable.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(self_disable.error_code(), "own_account");
    let own_page = admin.get(&format!("/accounts/{me}")).await;
    assert!(
        !own_page.body.contains("/disable"),
        "no disable button on one's own account"
    );

    // What they did is the auditor's to read, not theirs.
    assert_eq!(
        api.get("/audit?action=account.").await.status,
        StatusCode::FORBIDDEN
    );
    let audit = app
        .api("saihan.auditor")
        .await
        .get("/audit?action=account.")
        .await
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "account.create",
        "account.disable",
        "account.enable",
        "account.reset_password",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    app.finish().await;
}

async fn bad_account_input_is_refused(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let before = raw.count("SELECT COUNT(*) FROM users").await;
    let admin = app.login("admin").await;
    let long_name = "名".repeat(101);
    for (fields, message) in [
        (
            vec![("username", "saihan.staff"), ("role", "staff")],
            "该用户名已被使用",
        ),
        (
            vec![("username", "张三"), ("role", "staff")],
            "用户名只能包含小写字母",
        ),
        (
            vec![("username", "ab"), ("role", "staff")],
            "用户名至少需要 3 个字符",
        ),
        (
            vec![("username", "new.one"), ("role", "root")],
            "角色必须是管理员、工作人员、领导或成员之一",
        ),
        (
            vec![
                ("username", "new.one"),
                ("role", "staff"),
                ("password", "short"),
            ],
            "密码至少需要 10 个字符",
        ),
        (
            vec![
                ("username", "new.one"),
                ("role", "staff"),
                ("display_name", &long_name),
            ],
            "姓名不能超过 100 个字符",
        ),
        (
            vec![
                ("username", "new.one"),
                ("role", "staff"),
                ("unit_code", "nowhere"),
            ],
            "找不到该所属单位",
        ),
    ] {
        let mut all = vec![("unit_code", "150105")];
        all.extend(fields.iter().copied());
        // A later field of the same name wins in our form parser, so unit_code can be overridden.
        let all: Vec<(&str, &str)> = {
            let mut seen = std::collections::BTreeMap::new();
            for (k, v) in all {
                seen.insert(k, v);
            }
            seen.into_iter().collect()
        };
        let reply = admin.submit("/accounts/new", "/accounts/new", &all).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{message}");
        assert!(reply.body.contains(message), "{message}: {}", reply.body);
    }
    let api = app.api("admin").await;
    let reply = api
        .post_json(
            "/accounts",
            &json!({ "unit_code": "150105", "username": "saihan", "role": "staff", "password": PASSWORD }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.error_code(), "taken");
    assert_eq!(reply.json()["error"]["field"], "username");
    assert_eq!(raw.count("SELECT COUNT(*) FROM users").await, before);
    app.finish().await;
}

async fn the_command_line_adds_users(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let add = |args: &[&str], password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tongxin"))
            .args(["user", "add"])
            .args(args)
            .envs(app.db.env())
            .env("RUST_LOG", "error")
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let ok = add(
        &[
            "--username",
            "li.ming",
            "--unit",
            "150105002",
            "--role",
            "leader",
            "--password-stdin",
        ],
        "a long enough password",
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("li.ming"));
    let browser = app.browser();
    assert_eq!(
        browser
            .login("li.ming", "a long enough password")
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    let bad_role = add(
        &[
            "--username",
            "zhao",
            "--unit",
            "150105",
            "--role",
            "boss",
            "--password-stdin",
        ],
        "a long enough password",
    );
    assert!(!bad_role.status.success());
    let stderr = String::from_utf8_lossy(&bad_role.stderr);
    assert!(
        stderr.contains("The role must be one of admin, staff, leader or member"),
        "{stderr}"
    );
    let bad_unit = add(
        &[
            "--username",
            "zhao",
            "--unit",
            "999999",
            "--role",
            "staff",
            "--password-stdin",
        ],
        "a long enough password",
    );
    assert!(!bad_unit.status.success());
    let stderr = String::from_utf8_lossy(&bad_unit.stderr);
    assert!(stderr.contains("No such unit"), "{stderr}");
    let short = add(
        &[
            "--username",
            "zhao",
            "--unit",
            "150105",
            "--role",
            "staff",
            "--password-stdin",
        ],
        "short",
    );
    assert!(!short.status.success());
    let stderr = String::from_utf8_lossy(&short.stderr);
    assert!(
        stderr.contains("The password must be at least 10 characters"),
        "{stderr}"
    );
    app.finish().await;
}

async fn a_new_installation_starts_with_init(engine: Engine) {
    let app = TestApp::empty(engine).await;
    let run = |args: &[&str], stdin: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tongxin"))
            .args(args)
            .envs(app.db.env())
            .env("RUST_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{stdin}").unwrap();
        child.wait_with_output().unwrap()
    };
    let init = run(
        &["init", "--unit-code", "150200", "--unit-name", "包头市"],
        "",
    );
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let again = run(
        &["init", "--unit-code", "150300", "--unit-name", "乌海市"],
        "",
    );
    assert!(
        !again.status.success(),
        "init only starts an empty database"
    );
    let admin = run(
        &[
            "user",
            "add",
            "--username",
            "admin",
            "--unit",
            "150200",
            "--role",
            "admin",
            "--password-stdin",
        ],
        PASSWORD,
    );
    assert!(
        admin.status.success(),
        "{}",
        String::from_utf8_lossy(&admin.stderr)
    );
    let api = app.api("admin").await;
    let units = api.get("/units").await.json();
    assert_eq!(units["total"], 1);
    assert_eq!(units["items"][0]["name"], "包头市");
    assert_eq!(units["items"][0]["level"], "city");
    app.finish().await;
}

/// The three duties kept apart (三员分立): the system administrator manages units and the work
/// accounts, but neither raises anyone to a privileged role, nor changes their own, nor reads the
/// audit log; the security administrator manages every account, its role, lockouts and the right
/// to export in clear, and cannot read the directory; the auditor reads the log and changes
/// nothing.
async fn duties_are_kept_apart(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let security = app.api("security").await;
    let auditor = app.api("auditor").await;
    let city = app.unit("150100").await.id;
    let new_account = |username: &str, role: &str| json!({ "unit_code": "150100", "username": username, "role": role, "password": "a passphrase of mine" });

    // The system administrator: work roles only, and not their own role.
    for role in ["admin", "security", "auditor"] {
        let refused = admin
            .post_json("/accounts", &new_account(&format!("x.{role}"), role))
            .await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "admin gives {role}");
    }
    let staff = admin
        .post_json("/accounts", &new_account("city.staff", "staff"))
        .await;
    assert_eq!(staff.status, StatusCode::CREATED, "{}", staff.body);
    let staff = staff.json()["id"].as_i64().unwrap();
    let me = admin.get("/me").await.json()["id"].as_i64().unwrap();
    let own = admin
        .post_json(
            &format!("/accounts/{me}/role"),
            &json!({ "role": "leader" }),
        )
        .await;
    assert_eq!(own.error_code(), "own_account", "{}", own.body);
    let security_id = security.get("/me").await.json()["id"].as_i64().unwrap();
    for path in [
        format!("/accounts/{security_id}/disable"),
        format!("/accounts/{security_id}/role"),
    ] {
        let touched = admin.post_json(&path, &json!({ "role": "staff" })).await;
        assert_eq!(touched.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(
        admin
            .post_json(
                &format!("/accounts/{staff}/clear-export"),
                &json!({ "allowed": true })
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(admin.get("/audit").await.status, StatusCode::FORBIDDEN);
    let admin_page = app.login("admin").await;
    assert_eq!(admin_page.get("/audit").await.status, StatusCode::FORBIDDEN);
    assert!(!admin_page.get("/").await.body.contains("href=\"/audit\""));

    // The security administrator: every role, lockouts, the clear-export right; no directory.
    let new_admin = security
        .post_json("/accounts", &new_account("county.admin", "admin"))
        .await;
    assert_eq!(new_admin.status, StatusCode::CREATED, "{}", new_admin.body);
    let promoted = security
        .post_json(
            &format!("/accounts/{staff}/role"),
            &json!({ "role": "leader" }),
        )
        .await;
    assert_eq!(promoted.json()["role"], "leader");
    let leader_right = security
        .post_json(
            &format!("/accounts/{staff}/clear-export"),
            &json!({ "allowed": true }),
        )
        .await;
    assert_eq!(leader_right.error_code(), "no_clear_export_for_role");
    security
        .post_json(
            &format!("/accounts/{staff}/role"),
            &json!({ "role": "staff" }),
        )
        .await;
    let given = security
        .post_json(
            &format!("/accounts/{staff}/clear-export"),
            &json!({ "allowed": true }),
        )
        .await;
    assert_eq!(given.json()["may_export_clear"], true, "{}", given.body);
    let own = security
        .post_json(
            &format!("/accounts/{security_id}/role"),
            &json!({ "role": "admin" }),
        )
        .await;
    assert_eq!(own.error_code(), "own_account");
    for path in ["/people", "/activities", "/organizations", "/audit"] {
        let status = security.get(path).await.status;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
            "security reads {path}: {status}"
        );
    }

    // The auditor: reads what the others did, changes nothing.
    let log = auditor.get("/audit?action=account.").await;
    assert_eq!(log.status, StatusCode::OK);
    let actions: Vec<String> = log.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    for action in [
        "account.create",
        "account.role",
        "account.grant_clear_export",
    ] {
        assert!(
            actions.iter().any(|a| a == action),
            "{action} in {actions:?}"
        );
    }
    let attempts = [
        auditor
            .post_json("/accounts", &new_account("by.auditor", "staff"))
            .await,
        auditor
            .post_json("/people", &json!({ "unit_id": city, "name": "张伟" }))
            .await,
        auditor
            .post_json(&format!("/accounts/{staff}/disable"), &json!({}))
            .await,
    ];
    for attempt in attempts {
        assert_eq!(attempt.status, StatusCode::FORBIDDEN, "{}", attempt.body);
    }
    app.finish().await;
}

/// A password someone else set (a new account, a reset) must be replaced at first login: every
/// page leads to the password form, the API issues no token, and the same password again is
/// refused. A password the holder typed on the server's command line is their own.
async fn a_password_set_by_someone_else_is_changed_first(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let given = "given by the admin";
    let created = admin
        .post_json(
            "/accounts",
            &json!({ "unit_code": "150100", "username": "li.na", "role": "staff", "password": given }),
        )
        .await;
    assert_eq!(created.json()["must_change_password"], true);

    let token = reqwest::Client::new()
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({ "username": "li.na", "password": given }))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = token.json().await.unwrap();
    assert_eq!(body["error"]["code"], "password_change_required");

    let li = app.browser();
    li.login("li.na", given).await;
    for path in ["/", "/directory", "/activities"] {
        let page = li.get(path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location.as_deref(), Some("/password"), "{path}");
    }
    let form = li.get("/password").await;
    assert!(form.body.contains("您的密码由管理员设置"), "{}", form.body);
    let same = li
        .submit(
            "/password",
            "/password",
            &[("current", given), ("new", given), ("confirm", given)],
        )
        .await;
    assert!(
        same.body.contains("新密码不能与当前密码相同"),
        "{}",
        same.body
    );
    let own = "a passphrase of my own";
    let changed = li
        .submit(
            "/password",
            "/password",
            &[("current", given), ("new", own), ("confirm", own)],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(li.get("/directory").await.status, StatusCode::OK);
    let api = reqwest::Client::new()
        .post(app.url("/api/v1/auth/token"))
        .json(&json!({ "username": "li.na", "password": own }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::CREATED);

    // Fixture accounts were added on the command line: nothing to change.
    assert_eq!(
        app.login("saihan.staff")
            .await
            .get("/directory")
            .await
            .status,
        StatusCode::OK
    );
    app.finish().await;
}

engine_tests!(
    duties_are_kept_apart,
    a_password_set_by_someone_else_is_changed_first,
    a_new_installation_starts_with_init,
    administrators_create_and_manage_accounts,
    bad_account_input_is_refused,
    the_command_line_adds_users,
);
