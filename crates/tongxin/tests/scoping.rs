//! A user sees and changes only their unit's subtree: for every page and API route, a record of
//! a sibling unit answers 404 and no list contains it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Engine, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn sibling_units_and_accounts_are_not_found_on_pages(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let audit_before = raw.count("SELECT COUNT(*) FROM audit_log").await;
    // xincheng administers 新城区; 赛罕区 and everything under it belong to a sibling.
    let browser = app.login("xincheng").await;
    let api = app.api("saihan").await;
    let saihan_accounts = api.get("/accounts").await.json();
    let staff_id = saihan_accounts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["username"] == "saihan.staff")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let audit_before = audit_before + 2; // the two logins above

    for code in ["150105", "150105001", "150105001001", "150100"] {
        let id = app.unit(code).await.id;
        for page in ["", "/new", "/edit", "/move", "/archive"] {
            let reply = browser.get(&format!("/units/{id}{page}")).await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "GET /units/{id}{page} ({code})"
            );
            assert!(
                reply.body.contains("找不到"),
                "a friendly page: {}",
                reply.body
            );
        }
        // Forms posted with a valid token for a sibling's unit: 404, nothing written.
        let own = app.unit("150102").await.id;
        for (action, fields) in [
            ("new", vec![("code", "150105009"), ("name", "越界街道")]),
            ("edit", vec![("name", "改名")]),
            ("move", vec![("parent_code", "150102")]),
            ("archive", vec![]),
            ("restore", vec![]),
        ] {
            let reply = browser
                .submit(
                    &format!("/units/{own}"),
                    &format!("/units/{id}/{action}"),
                    &fields,
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_FOUND,
                "POST /units/{id}/{action}"
            );
        }
    }
    for page in ["", "/disable", "/enable", "/reset-password"] {
        let path = format!("/accounts/{staff_id}{page}");
        let reply = if page.is_empty() {
            browser.get(&path).await
        } else {
            browser.submit("/accounts", &path, &[]).await
        };
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }

    // Lists never contain them.
    let search = browser.get("/units?q=赛罕").await;
    assert_eq!(search.status, StatusCode::OK);
    assert!(search.body.contains("共 0 条结果"), "{}", search.body);
    let search = browser.get("/units?q=街道").await;
    assert!(search.body.contains("海拉尔东路街道"));
    assert!(!search.body.contains("敕勒川路街道"));
    let accounts = browser.get("/accounts").await;
    assert!(accounts.body.contains("xincheng.member"));
    assert!(!accounts.body.contains("saihan"), "{}", accounts.body);
    let audit = browser.get("/audit").await;
    assert!(!audit.body.contains("saihan"), "{}", audit.body);
    let by_unit = browser
        .get(&format!("/accounts?unit={}", app.unit("150105").await.id))
        .await;
    assert!(!by_unit.body.contains("saihan"));

    // Creating an account in the sibling's unit names the field; nothing is written.
    let reply = browser
        .submit(
            "/accounts/new",
            "/accounts/new",
            &[
                ("unit_code", "150105"),
                ("username", "intruder"),
                ("role", "staff"),
                ("password", "long enough pass"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("找不到该所属单位"), "{}", reply.body);

    // Only the logins above and the account list reads were recorded: no change went through.
    let audit_after = raw.count("SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(audit_after, audit_before);
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM units WHERE name = '改名'")
            .await,
        0
    );
    app.finish().await;
}

async fn sibling_records_are_not_found_on_the_api(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let api = app.api("xincheng").await;
    let saihan_staff = app
        .api("saihan")
        .await
        .get("/accounts?q=saihan.staff")
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    for code in ["150105", "150105002", "150100"] {
        let id = app.unit(code).await.id;
        assert_eq!(
            api.get(&format!("/units/{id}")).await.status,
            StatusCode::NOT_FOUND
        );
        let patch = api
            .patch_json(&format!("/units/{id}"), &json!({ "name": "改名" }))
            .await;
        assert_eq!(patch.status, StatusCode::NOT_FOUND);
        assert_eq!(patch.error_code(), "not_found");
        for action in ["archive", "restore"] {
            let reply = api
                .post_json(&format!("/units/{id}/{action}"), &json!({}))
                .await;
            assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action} {code}");
        }
    }
    for path in [
        format!("/accounts/{saihan_staff}"),
        format!("/accounts/{saihan_staff}/disable"),
        format!("/accounts/{saihan_staff}/enable"),
    ] {
        let reply = if path.ends_with("able") {
            api.post_json(&path, &json!({})).await
        } else {
            api.get(&path).await
        };
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
    }

    // Lists: only the own subtree, whatever the filter.
    let units = api.get("/units?per_page=200").await.json();
    let codes: Vec<&str> = units["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap())
        .collect();
    assert_eq!(units["total"], 6);
    assert!(codes.iter().all(|c| c.starts_with("150102")), "{codes:?}");
    let parent = app.unit("150105").await.id;
    let children = api.get(&format!("/units?parent_id={parent}")).await.json();
    assert_eq!(children["total"], 0);
    let accounts = api.get("/accounts?per_page=200").await.json();
    assert!(
        accounts["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["unit"]["code"].as_str().unwrap().starts_with("150102"))
    );
    let audit = api.get("/audit?per_page=200").await.json();
    assert!(!audit.to_string().contains("saihan"), "{audit}");

    // A parent outside the subtree is refused as not found, naming the field.
    let create = api
        .post_json(
            "/units",
            &json!({ "parent_id": app.unit("150105").await.id, "code": "150105009", "name": "越界街道" }),
        )
        .await;
    assert_eq!(create.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(create.json()["error"]["field"], "parent");
    let own_township = app.unit("150102001").await.id;
    let moved = api
        .patch_json(
            &format!("/units/{own_township}"),
            &json!({ "parent_id": app.unit("150105").await.id }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(moved.error_code(), "not_found");
    let account = api
        .post_json(
            "/accounts",
            &json!({ "unit_code": "150105", "username": "intruder", "role": "staff", "password": "long enough pass" }),
        )
        .await;
    assert_eq!(account.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(account.json()["error"]["field"], "unit");
    assert_eq!(
        app.db
            .raw()
            .await
            .count("SELECT COUNT(*) FROM users WHERE username = 'intruder'")
            .await,
        0
    );
    app.finish().await;
}

async fn roles_limit_what_a_subtree_user_may_do(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let saihan = app.unit("150105").await.id;

    // Staff and leaders browse their subtree but do not administer it.
    for user in ["saihan.staff", "saihan.leader"] {
        let browser = app.login(user).await;
        assert_eq!(
            browser.get(&format!("/units/{saihan}")).await.status,
            StatusCode::OK
        );
        assert_eq!(
            browser.get(&format!("/units/{saihan}/new")).await.status,
            StatusCode::FORBIDDEN
        );
        assert_eq!(browser.get("/accounts").await.status, StatusCode::FORBIDDEN);
        assert_eq!(browser.get("/audit").await.status, StatusCode::FORBIDDEN);
        let api = app.api(user).await;
        assert_eq!(api.get("/units").await.json()["total"], 4);
        let create = api
            .post_json(
                "/units",
                &json!({ "parent_id": saihan, "code": "150105003", "name": "新街道" }),
            )
            .await;
        assert_eq!(create.status, StatusCode::FORBIDDEN);
        assert_eq!(api.get("/accounts").await.status, StatusCode::FORBIDDEN);
    }

    // Members use the portal: no staff areas at all.
    let member = app.login("xincheng.member").await;
    assert_eq!(
        member.get("/").await.location.as_deref(),
        Some("/my-activities")
    );
    let home = member.get("/my-activities").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("href=\"/me\""));
    assert!(!home.body.contains("href=\"/directory\""));
    assert_eq!(
        member
            .get(&format!("/units/{}", app.unit("150102001001").await.id))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.finish().await;
}

engine_tests!(
    sibling_units_and_accounts_are_not_found_on_pages,
    sibling_records_are_not_found_on_the_api,
    roles_limit_what_a_subtree_user_may_do,
);
