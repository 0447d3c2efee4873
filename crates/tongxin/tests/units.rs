//! The unit tree: browse, create, rename, move, archive and restore, on pages and the API,
//! and every kind of bad input refused with a message naming the field and nothing written.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Engine, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn browse_create_rename_move_archive_on_pages(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.login("xincheng").await;
    let county = app.unit("150102").await.id;

    // /units opens the user's own unit, with its children and a breadcrumb.
    let own = browser.get("/units").await;
    assert_eq!(own.location, Some(format!("/units/{county}")));
    let page = browser.get(&format!("/units/{county}")).await;
    assert!(page.body.contains("海拉尔东路街道") && page.body.contains("保合少镇"));
    assert!(
        !page.body.contains("呼和浩特市"),
        "the breadcrumb starts at the user's unit"
    );

    // Create a township.
    let created = browser
        .submit(
            &format!("/units/{county}/new"),
            &format!("/units/{county}/new"),
            &[("code", "150102002"), ("name", " 锡林路街道 ")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    let new_page = browser.get(created.location.as_deref().unwrap()).await;
    assert!(new_page.body.contains("锡林路街道"));
    assert!(new_page.body.contains("乡级"), "one level below its parent");
    let new_id = app.unit("150102002").await.id;

    // Rename it.
    let renamed = browser
        .submit(
            &format!("/units/{new_id}/edit"),
            &format!("/units/{new_id}/edit"),
            &[("name", "锡林南路街道")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER);
    assert_eq!(app.unit("150102002").await.name, "锡林南路街道");

    // Move a village (with its path) to another township, then check the tree is sound.
    let village = app.unit("150102100200").await.id;
    let moved = browser
        .submit(
            &format!("/units/{village}/move"),
            &format!("/units/{village}/move"),
            &[("parent_code", "150102002")],
        )
        .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let moved_unit = app.unit("150102100200").await;
    assert_eq!(moved_unit.parent_id, Some(new_id));
    assert!(
        moved_unit
            .path
            .as_str()
            .starts_with(app.unit("150102002").await.path.as_str())
    );

    // Archiving is refused while there are active children, then allowed, then undone.
    let refused = browser
        .submit(
            &format!("/units/{new_id}/archive"),
            &format!("/units/{new_id}/archive"),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("还有 1 个正常的下级单位"),
        "{}",
        refused.body
    );
    let archive_village = browser
        .submit(
            &format!("/units/{village}/archive"),
            &format!("/units/{village}/archive"),
            &[],
        )
        .await;
    assert_eq!(archive_village.status, StatusCode::SEE_OTHER);
    assert!(app.unit("150102100200").await.archived);
    let restore = browser
        .submit(
            &format!("/units/{village}"),
            &format!("/units/{village}/restore"),
            &[],
        )
        .await;
    assert_eq!(restore.status, StatusCode::SEE_OTHER);
    assert!(!app.unit("150102100200").await.archived);

    // A unit with active accounts cannot be archived either.
    let community = app.unit("150102001001").await.id;
    let with_member = browser
        .submit(
            &format!("/units/{community}/archive"),
            &format!("/units/{community}/archive"),
            &[],
        )
        .await;
    assert!(
        with_member.body.contains("还有 1 个启用中的账号"),
        "{}",
        with_member.body
    );

    let report = app.store.check().await.unwrap();
    assert!(report.faults.is_empty(), "{:?}", report.faults);
    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=unit.")
        .await
        .json();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "unit.create",
        "unit.rename",
        "unit.move",
        "unit.archive",
        "unit.restore",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    app.finish().await;
}

async fn bad_unit_input_is_refused_and_nothing_written(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let browser = app.login("admin").await;
    let before = raw.count("SELECT COUNT(*) FROM units").await;
    let audit_before = raw.count("SELECT COUNT(*) FROM audit_log").await;
    let county = app.unit("150102").await.id;
    let new_path = format!("/units/{county}/new");

    let long_name = "村".repeat(101);
    for (code, name, message) in [
        ("150102001", "重复代码街道", "该代码已被使用"),
        ("", "无代码街道", "请填写代码"),
        ("1501 02", "坏代码街道", "代码只能包含字母、数字和连字符"),
        ("150102009", "", "请填写名称"),
        ("150102009", "   ", "请填写名称"),
        ("150102009", long_name.as_str(), "名称不能超过 100 个字符"),
    ] {
        let reply = browser
            .submit(&new_path, &new_path, &[("code", code), ("name", name)])
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{code} {name}"
        );
        assert!(reply.body.contains(message), "{message}: {}", reply.body);
        assert!(
            reply.body.contains("提交的内容有问题"),
            "error summary on top"
        );
        assert!(
            reply
                .body
                .contains(&format!("value=\"{}\"", name.trim_end()))
                || name.trim().is_empty(),
            "the typed name is kept"
        );
    }

    // Moves: under itself, under a descendant, to another level, the top unit.
    let township = app.unit("150102001").await.id;
    let move_path = format!("/units/{township}/move");
    for (parent, message) in [
        ("150102001", "不能把单位调整到它自己或它的下级单位之下"),
        ("150102001001", "不能把单位调整到它自己或它的下级单位之下"),
        ("150102100", "新上级单位必须与原上级单位同一层级"),
        ("999999", "找不到该上级单位"),
        ("", "请填写上级单位"),
    ] {
        let reply = browser
            .submit(&move_path, &move_path, &[("parent_code", parent)])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{parent}");
        assert!(reply.body.contains(message), "{message}: {}", reply.body);
    }
    let top = app.unit("150100").await.id;
    let reply = browser
        .submit(
            &format!("/units/{top}/edit"),
            &format!("/units/{top}/move"),
            &[("parent_code", "150102")],
        )
        .await;
    assert!(
        reply.body.contains("不能调整最高一级单位"),
        "{}",
        reply.body
    );
    let village = app.unit("150102001001").await.id;
    let too_deep = browser
        .submit(
            &format!("/units/{village}"),
            &format!("/units/{village}/new"),
            &[("code", "x1"), ("name", "小组")],
        )
        .await;
    assert!(
        too_deep.body.contains("村级单位下不能再设下级单位"),
        "{}",
        too_deep.body
    );

    // The same through the API, with the field named.
    let api = app.api("admin").await;
    for (body, field, code) in [
        (
            json!({ "parent_id": county, "code": "150102001", "name": "重复" }),
            "code",
            "taken",
        ),
        (
            json!({ "parent_id": county, "code": "150102009", "name": "" }),
            "name",
            "required",
        ),
        (
            json!({ "parent_id": county, "code": "150102009", "name": long_name }),
            "name",
            "too_long",
        ),
        (
            json!({ "parent_id": 999_999, "code": "150102009", "name": "无主" }),
            "parent",
            "not_found",
        ),
    ] {
        let reply = api.post_json("/units", &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.json()["error"]["field"], field, "{body}");
        assert_eq!(reply.error_code(), code, "{body}");
        assert!(!reply.error_message().is_empty());
    }
    for (patch, code) in [
        (json!({ "parent_id": township }), "cycle"),
        (json!({ "parent_id": village }), "cycle"),
        (json!({ "name": "" }), "required"),
        (json!({}), "required"),
    ] {
        let reply = api.patch_json(&format!("/units/{township}"), &patch).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{patch}");
        assert_eq!(reply.error_code(), code, "{patch}");
    }

    assert_eq!(raw.count("SELECT COUNT(*) FROM units").await, before);
    // One more login (the API's) happened; no change did.
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM audit_log").await,
        audit_before + 1
    );
    app.finish().await;
}

async fn malformed_and_oversized_requests(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let raw = app.db.raw().await;
    let before = raw.count("SELECT COUNT(*) FROM units").await;
    let api = app.api("admin").await;
    let county = app.unit("150102").await.id;

    let broken = api
        .post_bytes("/units", b"{\"parent_id\": 1, \"code\":".to_vec())
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.error_code(), "bad_json");
    assert!(
        broken
            .error_message()
            .starts_with("请求内容不是有效的 JSON"),
        "{}",
        broken.body
    );

    let mut latin1 = br#"{"parent_id": 1, "code": "x", "name": ""#.to_vec();
    latin1.extend_from_slice(&[0xff, 0xfe, b'"', b'}']);
    let not_utf8 = api.post_bytes("/units", latin1).await;
    assert_eq!(not_utf8.status, StatusCode::BAD_REQUEST);
    assert_eq!(not_utf8.error_code(), "invalid_utf8");

    let wrong_type = api
        .post_json(
            "/units",
            &json!({ "parent_id": "one", "code": "x", "name": "y" }),
        )
        .await;
    assert_eq!(wrong_type.status, StatusCode::BAD_REQUEST);
    assert!(
        wrong_type.error_message().contains("parent_id")
            || wrong_type.error_message().contains("invalid type")
    );

    let huge_name = "名".repeat(400_000); // 1.2 MB of UTF-8
    let too_big = api
        .post_json(
            "/units",
            &json!({ "parent_id": county, "code": "150102009", "name": huge_name }),
        )
        .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_big.error_code(), "payload_too_large");
    assert!(
        too_big.error_message().contains("1024 KB"),
        "{}",
        too_big.body
    );

    let browser = app.login("admin").await;
    let form_too_big = browser
        .submit(
            &format!("/units/{county}/new"),
            &format!("/units/{county}/new"),
            &[("code", "150102009"), ("name", &huge_name)],
        )
        .await;
    assert_eq!(form_too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        form_too_big.body.contains("内容太大"),
        "{}",
        form_too_big.body
    );

    let bad_query = api.get("/units?page=abc").await;
    assert_eq!(bad_query.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad_query.error_code(), "bad_query");
    assert_eq!(api.get("/units/abc").await.status, StatusCode::NOT_FOUND);
    assert_eq!(api.get("/nothing-here").await.error_code(), "not_found");

    assert_eq!(raw.count("SELECT COUNT(*) FROM units").await, before);
    app.finish().await;
}

async fn the_api_lists_units_with_paging(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let api = app.api("admin").await;
    let all = api.get("/units").await.json();
    assert_eq!(all["total"], 11);
    let page = api.get("/units?per_page=4&page=3").await.json();
    assert_eq!(page["total"], 11);
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    assert_eq!(page["page"], 3);
    let search = api.get("/units?q=街道").await.json();
    assert_eq!(search["total"], 3);
    let villages = api.get("/units?level=village").await.json();
    assert_eq!(villages["total"], 4);
    let by_code = api.get("/units?q=150105").await.json();
    assert_eq!(by_code["total"], 4);

    let county = app.unit("150105").await.id;
    let created = api
        .post_json(
            "/units",
            &json!({ "parent_id": county, "code": "150105003", "name": "巴彦街道" }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let unit = created.json();
    assert_eq!(unit["level"], "township");
    let id = unit["id"].as_i64().unwrap();
    let renamed = api
        .patch_json(&format!("/units/{id}"), &json!({ "name": "巴彦路街道" }))
        .await;
    assert_eq!(renamed.json()["name"], "巴彦路街道");
    let archived = api
        .post_json(&format!("/units/{id}/archive"), &json!({}))
        .await;
    assert_eq!(archived.json()["archived"], true);
    assert_eq!(
        api.get("/units").await.json()["total"],
        11,
        "archived units leave the list"
    );
    assert_eq!(
        api.get("/units?include_archived=true").await.json()["total"],
        12
    );
    let restored = api
        .post_json(&format!("/units/{id}/restore"), &json!({}))
        .await;
    assert_eq!(restored.json()["archived"], false);
    app.finish().await;
}

engine_tests!(
    browse_create_rename_move_archive_on_pages,
    bad_unit_input_is_refused_and_nothing_written,
    malformed_and_oversized_requests,
    the_api_lists_units_with_paging,
);
