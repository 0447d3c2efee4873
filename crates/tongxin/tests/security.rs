//! Holes an attacker's review found, each closed and kept closed: what a hostile file, link or
//! request could do before, and what it gets now.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Engine, TestApp};
use reqwest::StatusCode;

/// A 6 KB workbook whose only values sit in `A1` and `XFD1048576` (the reader once allocated
/// the whole 17-billion-cell rectangle and the process aborted).
fn huge_sheet() -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write(0, 0, "姓名").unwrap();
    sheet.write(1_048_575, 16_383, "x").unwrap();
    book.save_to_buffer().unwrap()
}

/// Whoever sends it, the server refuses the sheet by its far corner and keeps answering; those
/// who may not import are turned away before the file is read.
async fn a_sheet_claiming_billions_of_cells_is_refused(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    for (user, expected) in [
        ("admin", StatusCode::UNPROCESSABLE_ENTITY),
        ("saihan.staff", StatusCode::UNPROCESSABLE_ENTITY),
        ("saihan.leader", StatusCode::FORBIDDEN),
        ("xincheng.member", StatusCode::FORBIDDEN),
    ] {
        let api = app.api(user).await;
        let reply = api
            .post_bytes("/people/import?format=xlsx", huge_sheet())
            .await;
        assert_eq!(reply.status, expected, "{user}: {}", reply.body);
        if expected == StatusCode::UNPROCESSABLE_ENTITY {
            let problem = &reply.json()["problems"][0];
            assert_eq!(problem["code"], "sheet_too_large", "{user}");
            assert!(
                problem["message"].as_str().unwrap().contains("XFD1048576"),
                "{problem}"
            );
        }
    }
    let member = app.login("xincheng.member").await;
    let refused = member
        .upload("/me", "/directory/import", "huge.xlsx", huge_sheet(), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let still = app.api("admin").await.get("/people?per_page=1").await;
    assert_eq!(still.status, StatusCode::OK);
    assert_eq!(
        app.db
            .raw()
            .await
            .count("SELECT COUNT(*) FROM people")
            .await,
        0
    );
    app.finish().await;
}

/// After login the browser returns only to a local path: a tab (which browsers drop) or a
/// backslash (which they read as a slash) cannot turn `next` into another site.
async fn login_returns_only_to_local_paths(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    for (next, expected) in [
        ("/\t/evil.example", "/"),
        ("/\\evil.example", "/"),
        ("//evil.example", "/"),
        ("/directory?q=建国", "/directory?q=%E5%BB%BA%E5%9B%BD"),
    ] {
        let browser = app.browser();
        let reply = browser
            .submit(
                "/login",
                "/login",
                &[
                    ("username", "admin"),
                    ("password", common::PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(reply.location.as_deref(), Some(expected), "{next:?}");
    }
    app.finish().await;
}

/// `%`, `_` and `\\` in a search are the characters themselves, not wildcards that list
/// everyone (by a full scan) or match any one character.
async fn search_wildcards_are_matched_literally(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let unit = app.unit("150102").await.id;
    for name in ["张伟", "李_娜", "王100%"] {
        let reply = admin
            .post_json(
                "/people",
                &serde_json::json!({ "unit_id": unit, "name": name }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    for (q, expected) in [
        ("%", vec!["王100%"]),
        ("_", vec!["李_娜"]),
        ("\\", vec![]),
        ("张", vec!["张伟"]),
    ] {
        let found = admin
            .get(&format!("/people?q={}", common::encode(q)))
            .await
            .json();
        let names: Vec<&str> = found["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, expected, "q={q}");
    }
    for path in ["/units?q=%25", "/accounts?q=%25", "/organizations?q=%25"] {
        let reply = admin.get(path).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.json()["total"], 0, "{path}");
    }
    app.finish().await;
}

/// No page or answer is kept by a browser or proxy (they show records, revealed values and
/// generated passwords); no address leaves for another site in a Referer; served over https,
/// browsers are told to keep to it.
async fn pages_are_not_cached_and_keep_to_https(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.login("admin").await;
    let api = app.api("admin").await;
    for reply in [
        browser.get("/").await,
        browser.get("/directory").await,
        api.get("/people").await,
    ] {
        assert_eq!(reply.headers["cache-control"], "no-store");
        assert_eq!(reply.headers["referrer-policy"], "same-origin");
        assert!(reply.headers.get("strict-transport-security").is_none());
    }
    let css = browser.get("/static/app.css").await;
    assert_eq!(css.headers["cache-control"], "public, max-age=3600");
    app.finish().await;

    let https =
        TestApp::with_fixture_and(engine, &[("TONGXIN_PUBLIC_URL", "https://tx.example.cn")]).await;
    let login = https.browser().get("/login").await;
    assert_eq!(
        login.headers["strict-transport-security"],
        "max-age=31536000"
    );
    https.finish().await;
}

/// Failed logins are limited per typed name (and per address) before any password is hashed:
/// past the limit the page and the API answer 429 with Retry-After, until the window ends.
async fn failed_logins_are_limited_per_name_and_address(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.browser();
    for attempt in 1..=10 {
        let reply = browser.login("ghost", "a guess of mine").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let page = browser.login("ghost", "a guess of mine").await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(page.headers["retry-after"], "600");
    assert!(
        page.body.contains("登录尝试次数过多，请 10 分钟后再试"),
        "{}",
        page.body
    );
    let api = reqwest::Client::new()
        .post(app.url("/api/v1/auth/token"))
        .json(&serde_json::json!({ "username": "GHOST", "password": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(api.headers()["retry-after"], "600");
    // Another name from the same address is still let through, and the window ends.
    assert_eq!(
        app.browser().login("saihan", common::PASSWORD).await.status,
        StatusCode::SEE_OTHER
    );
    app.clock.advance_minutes(10);
    assert_eq!(
        browser.login("ghost", "a guess of mine").await.status,
        StatusCode::UNAUTHORIZED
    );
    app.finish().await;
}

/// `X-Forwarded-For` names the client only when the peer is a configured trusted proxy; from
/// anyone else it is ignored, so a client cannot pick the address it is limited and audited by.
async fn forwarded_addresses_are_believed_only_from_trusted_proxies(engine: Engine) {
    for (trusted, expected) in [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.7")] {
        let app = TestApp::with_fixture_and(engine, &[("TONGXIN_TRUSTED_PROXIES", trusted)]).await;
        let login = reqwest::Client::new()
            .post(app.url("/api/v1/auth/token"))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
            .json(&serde_json::json!({ "username": "saihan", "password": common::PASSWORD }))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), StatusCode::CREATED);
        let audit = app
            .api("auditor")
            .await
            .get("/audit?action=login&actor=saihan")
            .await
            .json();
        assert_eq!(audit["items"][0]["ip"], expected, "trusted: {trusted:?}");
        app.finish().await;
    }
}

/// An ID number on record in another county: the refusal says it is taken but not where; each
/// such answer and each test import is audited; past 20 answers an hour, writes and imports
/// carrying ID numbers wait, and a file with more than the allowance gets one refusal naming
/// no line.
async fn id_numbers_elsewhere_are_audited_and_limited(engine: Engine) {
    use serde_json::json;
    let app = TestApp::with_fixture(engine).await;
    let saihan = app.api("saihan").await;
    let xincheng = app.api("xincheng").await;
    let saihan_unit = app.unit("150105").await.id;
    let xincheng_unit = app.unit("150102").await.id;
    let ids: Vec<String> = (100..125)
        .map(|n| common::id_number(&format!("15010519800101{n}")))
        .collect();
    for (n, id) in ids.iter().enumerate() {
        let created = saihan
            .post_json(
                "/people",
                &json!({ "unit_id": saihan_unit, "name": format!("赛罕人{n}"), "id_number": id }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    }

    let probe = |id: &str| {
        let body = json!({ "unit_id": xincheng_unit, "name": "试探", "id_number": id });
        let xincheng = xincheng.clone();
        async move { xincheng.post_json("/people", &body).await }
    };
    let first = probe(&ids[0]).await;
    assert_eq!(first.status, StatusCode::CONFLICT);
    assert!(
        first.json()["error"]["existing_id"].is_null(),
        "{}",
        first.body
    );
    assert!(!first.body.contains("赛罕"), "{}", first.body);

    let file = format!("姓名,身份证号,单位代码\n试探,{},150102\n", ids[1]);
    let checked = xincheng
        .post_bytes("/people/import?format=csv&dry_run=true", file.into_bytes())
        .await;
    assert_eq!(
        checked.json()["problems"][0]["code"],
        "taken",
        "{}",
        checked.body
    );
    assert!(checked.json()["problems"][0]["existing_id"].is_null());

    for id in &ids[2..20] {
        assert_eq!(probe(id).await.status, StatusCode::CONFLICT);
    }
    let stopped = probe(&ids[20]).await;
    assert_eq!(
        stopped.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        stopped.body
    );
    assert_eq!(stopped.error_code(), "too_many_probes");
    assert_eq!(stopped.headers["retry-after"], "3600");
    let fresh = common::id_number("15010219900101123");
    assert_eq!(probe(&fresh).await.status, StatusCode::TOO_MANY_REQUESTS);
    let without_id = xincheng
        .post_json(
            "/people",
            &json!({ "unit_id": xincheng_unit, "name": "无证号" }),
        )
        .await;
    assert_eq!(
        without_id.status,
        StatusCode::CREATED,
        "work without ID numbers goes on"
    );
    let waiting = xincheng
        .post_bytes(
            "/people/import?format=csv&dry_run=true",
            "姓名,单位代码\n张三,150102\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(waiting.json()["problems"][0]["code"], "too_many_probes");

    let audit = app.api("auditor").await;
    let answers = audit
        .get("/audit?action=person.duplicate_elsewhere&actor=xincheng")
        .await
        .json();
    assert_eq!(answers["total"], 20, "{answers}");
    let checks = audit
        .get("/audit?action=person.import_check&actor=xincheng")
        .await
        .json();
    assert_eq!(checks["total"], 1, "{checks}");

    // An hour later: a file with more such numbers than the allowance names none of them.
    app.clock.advance_minutes(61);
    let xincheng = app.api("xincheng").await;
    let mut file = String::from("姓名,身份证号,单位代码\n");
    for id in &ids[..21] {
        file.push_str(&format!("试探,{id},150102\n"));
    }
    let report = xincheng
        .post_bytes("/people/import?format=csv&dry_run=true", file.into_bytes())
        .await
        .json();
    let problems = report["problems"].as_array().unwrap();
    assert_eq!(problems.len(), 1, "{report}");
    assert_eq!(problems[0]["code"], "too_many_elsewhere");
    assert_eq!(problems[0]["line"], 0);
    app.finish().await;
}

/// Sessions and API tokens end a set time after login however busy they are (here an hour and
/// a day), besides ending when idle.
async fn sessions_and_tokens_have_an_absolute_lifetime(engine: Engine) {
    let app = TestApp::with_fixture_and(
        engine,
        &[
            ("TONGXIN_SESSION_MAX_HOURS", "1"),
            ("TONGXIN_API_TOKEN_MAX_DAYS", "1"),
        ],
    )
    .await;
    let browser = app.login("saihan").await;
    let api = app.api("saihan").await;
    for _ in 0..2 {
        app.clock.advance_minutes(25);
        assert_eq!(browser.get("/").await.status, StatusCode::OK);
        assert_eq!(api.get("/me").await.status, StatusCode::OK);
    }
    app.clock.advance_minutes(25);
    let page = browser.get("/").await;
    assert_eq!(
        page.status,
        StatusCode::SEE_OTHER,
        "over an hour after login"
    );
    assert!(page.location.unwrap().starts_with("/login"));
    assert_eq!(
        api.get("/me").await.status,
        StatusCode::OK,
        "a token lives longer"
    );
    for _ in 0..54 {
        app.clock.advance_minutes(25);
        assert_eq!(api.get("/me").await.status, StatusCode::OK);
    }
    app.clock.advance_minutes(25);
    assert_eq!(
        api.get("/me").await.status,
        StatusCode::UNAUTHORIZED,
        "over a day after"
    );
    app.finish().await;
}

/// API tokens are listed (never their secrets) and revocable by their holder, on the API and
/// the password page, and by the security administrator; nobody else learns of them.
async fn api_tokens_are_listed_and_revoked_by_holder_and_security(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let first = app.api("saihan.staff").await;
    let second = app.api("saihan.staff").await;
    let listed = first.get("/me/tokens").await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let items = listed.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "{}", listed.body);
    assert!(
        !listed.body.contains(&first.token) && !listed.body.contains(&second.token),
        "a listing never shows a secret"
    );
    let account = items[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(account, second.token, "the id is not the secret");

    // The holder ends the second token from the first; the second no longer works.
    let me = first.get("/me").await.json();
    let staff_id = me["id"].as_i64().unwrap();
    let second_id = items
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .find(|id| *id == sm3_hex(&second.token))
        .expect("the listing names each token by the hash kept of it");
    assert_eq!(
        first
            .delete(&format!("/me/tokens/{second_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(second.get("/me").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        first
            .delete(&format!("/me/tokens/{second_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "gone"
    );

    // Another account's token cannot be ended through one's own list, nor seen by a peer.
    let other = app.api("saihan.leader").await;
    let other_id = sm3_hex(&other.token);
    assert_eq!(
        first.delete(&format!("/me/tokens/{other_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    let leader_id = other.get("/me").await.json()["id"].as_i64().unwrap();
    assert_eq!(
        first
            .get(&format!("/accounts/{leader_id}/tokens"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // The security administrator sees and ends tokens of accounts in their subtree.
    let security = app.api("security").await;
    let seen = security.get(&format!("/accounts/{leader_id}/tokens")).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    assert_eq!(seen.json()["items"][0]["id"], other_id.as_str());
    assert_eq!(
        security
            .delete(&format!("/accounts/{leader_id}/tokens/{other_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(other.get("/me").await.status, StatusCode::UNAUTHORIZED);
    // A county administrator elsewhere does not reach saihan's accounts.
    let xincheng = app.api("xincheng").await;
    assert_eq!(
        xincheng
            .get(&format!("/accounts/{staff_id}/tokens"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // On the password page the holder sees the remaining token and revokes it.
    let browser = app.login("saihan.staff").await;
    let page = browser.get("/password").await;
    let first_id = sm3_hex(&first.token);
    assert!(page.body.contains(&first_id), "{}", page.body);
    let action = format!("/accounts/{staff_id}/tokens/{first_id}/revoke");
    let revoked = browser.submit("/password", &action, &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert_eq!(
        revoked.location.as_deref(),
        Some("/password?done=token_revoked")
    );
    let said = browser.get("/password?done=token_revoked").await.body;
    assert!(said.contains("已吊销令牌。"), "{said}");
    assert_eq!(first.get("/me").await.status, StatusCode::UNAUTHORIZED);

    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=token.revoke")
        .await
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 3, "{audit}");
    app.finish().await;
}

/// The SM3 hash the server keeps of a token, as hex.
fn sm3_hex(token: &str) -> String {
    use sm3::Digest;
    hex::encode(sm3::Sm3::digest(token.as_bytes()))
}

/// A member sees who opened their record, revealed a protected field or exported it, with the
/// reader's account and unit, newest first, for 180 days; nobody else sees that list.
async fn people_see_who_read_their_record(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("xincheng").await;
    let created = staff
        .post_json(
            "/people",
            &serde_json::json!({
                "unit_id": app.unit("150102001001").await.id, "name": "王芳",
                "id_number": common::id_number("15010219800101002"), "phone": "13812345678",
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let person = created.json()["id"].as_i64().unwrap();
    let linked = staff
        .put_json(
            &format!("/people/{person}/member"),
            &serde_json::json!({ "username": "xincheng.member" }),
        )
        .await;
    assert!(linked.status.is_success(), "{}", linked.body);
    let member = app.api("xincheng.member").await;
    assert_eq!(
        member.get("/me/record/access").await.json()["items"],
        serde_json::json!([]),
        "filing and linking the record are not reads"
    );

    // A view on the API and on the page, a reveal, a masked and a clear export.
    assert_eq!(
        staff.get(&format!("/people/{person}")).await.status,
        StatusCode::OK
    );
    let browser = app.login("xincheng").await;
    assert_eq!(
        browser.get(&format!("/people/{person}")).await.status,
        StatusCode::OK
    );
    let revealed = staff
        .post_json(
            &format!("/people/{person}/reveal"),
            &serde_json::json!({ "field": "id_number" }),
        )
        .await;
    assert_eq!(revealed.status, StatusCode::OK, "{}", revealed.body);
    let masked = staff
        .post_json("/people/export", &serde_json::json!({}))
        .await;
    assert_eq!(masked.status, StatusCode::OK, "{}", masked.body);
    let security = app.api("security").await;
    let staff_id = staff.get("/me").await.json()["id"].as_i64().unwrap();
    let given = security
        .post_json(
            &format!("/accounts/{staff_id}/clear-export"),
            &serde_json::json!({ "allowed": true }),
        )
        .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    let staff = app.api("xincheng").await;
    let clear = staff
        .post_json(
            "/people/export",
            &serde_json::json!({ "clear": true, "purpose": "换届审核" }),
        )
        .await;
    assert_eq!(clear.status, StatusCode::OK, "{}", clear.body);
    // Listing people is not reading a record.
    assert_eq!(staff.get("/people?q=王芳").await.status, StatusCode::OK);

    let access = member.get("/me/record/access").await;
    assert_eq!(access.status, StatusCode::OK, "{}", access.body);
    let items = access.json()["items"].as_array().unwrap().clone();
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["export_clear", "export", "reveal", "view", "view"]);
    for item in &items {
        assert_eq!(item["account"], "xincheng");
        assert_eq!(item["unit"], "新城区");
    }
    assert_eq!(items[0]["detail"], "换届审核");
    assert_eq!(items[2]["detail"], "id_number");

    // The page says the same in words.
    let page = app.login("xincheng.member").await.get("/my-record").await;
    assert_eq!(page.status, StatusCode::OK);
    for shown in [
        "谁查看了我的信息",
        "换届审核",
        "查看了您完整的身份证号",
        "新城区",
    ] {
        assert!(page.body.contains(shown), "{shown} missing: {}", page.body);
    }

    // Nobody else reads it: staff have no such list, another member sees only their own.
    assert_ne!(staff.get("/me/record/access").await.status, StatusCode::OK);
    let other = app.api("saihan.staff").await;
    assert_ne!(other.get("/me/record/access").await.status, StatusCode::OK);

    // Kept beyond 180 days, shown for 180.
    app.clock.advance_minutes(181 * 24 * 60);
    let member = app.api("xincheng.member").await;
    assert_eq!(
        member.get("/me/record/access").await.json()["items"],
        serde_json::json!([])
    );
    app.finish().await;
}

/// Reads that arrive together are written together, and every one of them is recorded
/// before its answer is sent.
async fn simultaneous_reads_are_each_recorded(engine: Engine) {
    const READERS: usize = 24;
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("xincheng").await;
    let created = staff
        .post_json(
            "/people",
            &serde_json::json!({ "unit_id": app.unit("150102001001").await.id, "name": "王芳" }),
        )
        .await;
    let person = created.json()["id"].as_i64().unwrap();
    let linked = staff
        .put_json(
            &format!("/people/{person}/member"),
            &serde_json::json!({ "username": "xincheng.member" }),
        )
        .await;
    assert!(linked.status.is_success(), "{}", linked.body);
    let readers = [app.api("xincheng").await, app.api("admin").await];
    let mut tasks = tokio::task::JoinSet::new();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(READERS));
    for k in 0..READERS {
        let (api, start) = (readers[k % 2].clone(), start.clone());
        tasks.spawn(async move {
            start.wait().await;
            api.get(&format!("/people/{person}")).await.status
        });
    }
    let statuses = tasks.join_all().await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let access = app
        .api("xincheng.member")
        .await
        .get("/me/record/access?per_page=100")
        .await;
    let items = access.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), READERS, "{}", access.body);
    let by_admin = items.iter().filter(|i| i["account"] == "admin").count();
    assert_eq!(by_admin, READERS / 2);
    app.finish().await;
}

/// A sealed value is bound to its row: copied into another person's row by someone with
/// database access, it does not open there (no other person's phone comes out), and
/// `tongxin check` names the row.
async fn sealed_values_are_bound_to_their_row(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("xincheng").await;
    let unit = app.unit("150102001001").await.id;
    let mut ids = Vec::new();
    for (name, phone) in [("王芳", "13812345678"), ("李强", "13987654321")] {
        let created = staff
            .post_json(
                "/people",
                &serde_json::json!({ "unit_id": unit, "name": name, "phone": phone }),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        ids.push(created.json()["id"].as_i64().unwrap());
    }
    let (first, second) = (ids[0], ids[1]);
    let reveal = |id: i64| {
        let staff = &staff;
        async move {
            staff
                .post_json(
                    &format!("/people/{id}/reveal"),
                    &serde_json::json!({ "field": "phone" }),
                )
                .await
        }
    };
    assert!(reveal(second).await.body.contains("13987654321"));

    let raw = app.db.raw().await;
    let moved = raw
        .execute(&format!(
            "UPDATE people SET phone_sealed = \
             (SELECT phone_sealed FROM people WHERE id = {first}) WHERE id = {second}"
        ))
        .await;
    assert_eq!(moved, 1);
    let revealed = reveal(second).await;
    assert_eq!(revealed.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!revealed.body.contains("13812345678"), "{}", revealed.body);
    assert!(reveal(first).await.body.contains("13812345678"));

    let output = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .arg("check")
        .envs(app.db.env())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{out}");
    assert!(
        out.contains(&format!("people.phone of row {second}")),
        "{out}"
    );

    // A merge brings the other record's phone over sealed again, for the kept row.
    let kept = staff
        .post_json(
            "/people",
            &serde_json::json!({ "unit_id": unit, "name": "王芳" }),
        )
        .await;
    let kept = kept.json()["id"].as_i64().unwrap();
    let merged = staff
        .post_json(
            &format!("/people/{kept}/merge"),
            &serde_json::json!({ "other_id": first, "version": 1 }),
        )
        .await;
    assert_eq!(merged.status, StatusCode::OK, "{}", merged.body);
    assert!(reveal(kept).await.body.contains("13812345678"));
    app.finish().await;
}

/// The key file is the database's other half: a database with history does not start with a
/// missing key file (and no new one is left behind), nor with one others may read.
async fn the_key_file_must_be_present_and_private(engine: Engine) {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::with_fixture(engine).await;
    let check = |key_file: &std::path::Path| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
            .arg("check")
            .envs(app.db.env())
            .env("TONGXIN_KEY_FILE", key_file)
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let dir = std::env::temp_dir().join(format!("tongxin-keys-{}", tongxin_store::random_hex()));
    let missing = dir.join("master.key");
    let (ok, err) = check(&missing);
    assert!(!ok);
    assert!(err.contains("is missing"), "{err}");
    assert!(
        !missing.exists(),
        "no new key is left in place of the lost one"
    );

    common::install_test_key(&dir);
    let key = dir.join("keys").join("master.key");
    assert!(check(&key).0, "the right key, kept private");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (ok, err) = check(&key);
    assert!(!ok);
    assert!(err.contains("chmod 600"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
    app.finish().await;
}

engine_tests!(
    simultaneous_reads_are_each_recorded,
    sealed_values_are_bound_to_their_row,
    the_key_file_must_be_present_and_private,
    people_see_who_read_their_record,
    api_tokens_are_listed_and_revoked_by_holder_and_security,
    sessions_and_tokens_have_an_absolute_lifetime,
    id_numbers_elsewhere_are_audited_and_limited,
    failed_logins_are_limited_per_name_and_address,
    forwarded_addresses_are_believed_only_from_trusted_proxies,
    pages_are_not_cached_and_keep_to_https,
    a_sheet_claiming_billions_of_cells_is_refused,
    login_returns_only_to_local_paths,
    search_wildcards_are_matched_literally,
);
