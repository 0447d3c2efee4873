//! Self-declared updates (issue 3, point 7): a member proposes changes to their own record;
//! staff of the person's unit approve or reject each; approved changes enter history. Over the
//! API and the pages, on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Engine, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 王芳 of 光明社区 (in 新城区, kept by the `xincheng` administrator), linked to the
/// `xincheng.member` account.
async fn linked_person(app: &TestApp) -> (Api, i64) {
    let staff = app.api("xincheng").await;
    let unit = app.unit("150102001001").await.id;
    let created = staff
        .post_json(
            "/people",
            &json!({
                "unit_id": unit, "name": "王芳", "phone": "13812345678", "employer": "旧单位",
                "notes": "性格直率，约谈前先电话沟通", "tags": ["重点联系"],
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let linked = staff
        .put_json(
            &format!("/people/{id}/member"),
            &json!({ "username": "xincheng.member" }),
        )
        .await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    (staff, id)
}

fn statuses(list: &Value) -> Vec<(String, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap().to_owned(),
                p["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn accounts_are_linked_within_the_subtree(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let member = app.api("xincheng.member").await;
    assert_eq!(
        member.get("/me/record").await.status,
        StatusCode::NOT_FOUND,
        "not linked yet"
    );
    let (staff, id) = linked_person(&app).await;
    assert_eq!(
        staff.get(&format!("/people/{id}/member")).await.json()["username"],
        "xincheng.member"
    );
    let record = member.get("/me/record").await;
    assert_eq!(record.status, StatusCode::OK);
    assert_eq!(record.json()["name"], "王芳");
    assert_eq!(record.json()["phone"], "138****5678");
    // What staff note and tag for their own work stays with them, on the API and the page.
    let own = record.json();
    assert!(
        own.get("notes").is_none() && own.get("tags").is_none(),
        "{own}"
    );
    let page = app.login("xincheng.member").await.get("/my-record").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("约谈前先电话沟通") && !page.body.contains("重点联系"));

    let not_a_member = staff
        .put_json(
            &format!("/people/{id}/member"),
            &json!({ "username": "xincheng" }),
        )
        .await;
    assert_eq!(not_a_member.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(not_a_member.error_code(), "unknown_role");
    let other = staff
        .post_json(
            "/people",
            &json!({ "unit_id": app.unit("150102001001").await.id, "name": "李娜" }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let taken = staff
        .put_json(
            &format!("/people/{other}/member"),
            &json!({ "username": "xincheng.member" }),
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(taken.error_code(), "taken");

    // Outside the subtree: the person is not found, nor is the account.
    let saihan = app.api("saihan").await;
    for reply in [
        saihan
            .put_json(
                &format!("/people/{id}/member"),
                &json!({ "username": "xincheng.member" }),
            )
            .await,
        saihan.get(&format!("/people/{id}/member")).await,
        saihan.delete(&format!("/people/{id}/member")).await,
    ] {
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    }
    // Members have no business in the staff areas.
    assert_eq!(member.get("/proposals").await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        member.get(&format!("/people/{id}")).await.status,
        StatusCode::FORBIDDEN
    );

    let unlinked = staff.delete(&format!("/people/{id}/member")).await;
    assert_eq!(unlinked.status, StatusCode::NO_CONTENT);
    assert_eq!(member.get("/me/record").await.status, StatusCode::NOT_FOUND);
    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=person.member")
        .await;
    assert_eq!(audit.json()["total"], 2, "{}", audit.body);
    app.finish().await;
}

async fn members_propose_and_staff_decide(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (staff, id) = linked_person(&app).await;
    let member = app.api("xincheng.member").await;

    for (changes, field, code) in [
        (json!({ "phone": "1381234567" }), "phone", "phone_format"),
        (json!({ "name": "王小芳" }), "field", "not_found"),
        (json!({ "employer": "旧单位" }), "changes", "required"),
    ] {
        let reply = member
            .post_json("/me/proposals", &json!({ "changes": changes }))
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{changes}");
        assert_eq!(reply.json()["error"]["field"], field, "{changes}");
        assert_eq!(reply.error_code(), code, "{changes}");
    }
    let proposed = member
        .post_json(
            "/me/proposals",
            &json!({ "changes": { "phone": "13900001111", "employer": "新单位", "address": null } }),
        )
        .await;
    assert_eq!(proposed.status, StatusCode::CREATED, "{}", proposed.body);
    let proposed = proposed.json();
    assert_eq!(proposed["total"], 2, "the unchanged address is no proposal");
    let phone = proposed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["field"] == "phone")
        .unwrap();
    assert_eq!(phone["old"], "138****5678");
    assert_eq!(
        phone["new"], "139****1111",
        "phones are masked in proposals"
    );
    let again = member
        .post_json(
            "/me/proposals",
            &json!({ "changes": { "employer": "内蒙古大学" } }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(
        statuses(&member.get("/me/proposals").await.json()),
        vec![
            ("employer".to_owned(), "pending".to_owned()),
            ("phone".to_owned(), "pending".to_owned()),
            ("employer".to_owned(), "withdrawn".to_owned()),
        ]
    );
    let raw = app.db.raw().await;
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM person_proposals WHERE new_value LIKE '%13900001111%'")
            .await,
        0,
        "the proposed phone is sealed"
    );

    // The queue is scoped to the subtree.
    let saihan = app.api("saihan").await;
    assert_eq!(
        saihan.get("/proposals?status=pending").await.json()["total"],
        0
    );
    let queue = staff.get("/proposals?status=pending").await.json();
    assert_eq!(queue["total"], 2);
    let by_field = |field: &str| {
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["field"] == field)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (phone_id, employer_id) = (by_field("phone"), by_field("employer"));
    assert_eq!(
        saihan
            .post_json(&format!("/proposals/{phone_id}/approve"), &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        member
            .post_json(&format!("/proposals/{phone_id}/approve"), &json!({}))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let approved = staff
        .post_json(&format!("/proposals/{phone_id}/approve"), &json!({}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    assert_eq!(approved.json()["decided_by"], "xincheng");
    let rejected = staff
        .post_json(
            &format!("/proposals/{employer_id}/reject"),
            &json!({ "reason": "请提供新单位证明" }),
        )
        .await;
    assert_eq!(rejected.status, StatusCode::OK, "{}", rejected.body);
    let twice = staff
        .post_json(&format!("/proposals/{phone_id}/reject"), &json!({}))
        .await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(twice.error_code(), "already_decided");

    // The approved change is on record and in history; the rejected one is not.
    let person = staff.get(&format!("/people/{id}")).await.json();
    assert_eq!(person["phone"], "139****1111");
    assert_eq!(person["employer"], "旧单位");
    assert_eq!(person["version"], 2);
    let revealed = staff
        .post_json(
            &format!("/people/{id}/reveal"),
            &json!({ "field": "phone" }),
        )
        .await;
    assert_eq!(revealed.json()["value"], "13900001111");
    assert_eq!(
        staff.get("/people?q=1111").await.json()["total"],
        1,
        "the phone's tail index follows"
    );
    let history = staff.get(&format!("/people/{id}/history")).await.json();
    let change = &history["items"][0];
    assert_eq!(change["field"], "phone");
    assert_eq!(change["by"], "xincheng");
    assert_eq!(change["proposed_by"], "xincheng.member");
    let mine = member.get("/me/proposals").await.json();
    let decided: Vec<&Value> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] != "withdrawn")
        .collect();
    assert_eq!(decided[0]["status"], "rejected");
    assert_eq!(decided[0]["reason"], "请提供新单位证明");
    assert_eq!(decided[1]["status"], "approved");
    app.finish().await;
}

async fn the_portal_and_queue_pages(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff_api = app.api("xincheng").await;
    let unit = app.unit("150102001001").await.id;
    let id = staff_api
        .post_json("/people", &json!({ "unit_id": unit, "name": "王芳" }))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let staff = app.login("xincheng").await;
    let record_page = format!("/people/{id}");
    let linked = staff
        .submit(
            &record_page,
            &format!("/people/{id}/member"),
            &[("username", "xincheng.member")],
        )
        .await;
    assert_eq!(linked.status, StatusCode::SEE_OTHER, "{}", linked.body);
    // Linking says so on the record's page.
    let linked_page = staff.get(linked.location.as_deref().unwrap()).await;
    assert!(
        linked_page.body.contains("已关联会员账号"),
        "{}",
        linked_page.body
    );

    let member = app.login("xincheng.member").await;
    assert!(member.get("/me").await.body.contains("href=\"/my-record\""));
    let mine = member.get("/my-record").await;
    assert_eq!(mine.status, StatusCode::OK);
    assert!(mine.body.contains("王芳"), "{}", mine.body);
    let bad = member
        .submit(
            "/my-record",
            "/my-record",
            &[("phone", "138"), ("employer", "")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("手机号应为 11 位手机号码"),
        "{}",
        bad.body
    );
    let sent = member
        .submit(
            "/my-record",
            "/my-record",
            &[("phone", ""), ("employer", "内蒙古大学"), ("title", "")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let after = member.get(sent.location.as_deref().unwrap()).await;
    assert!(after.body.contains("已提交 1 项变更"), "{}", after.body);
    assert!(after.body.contains("待审核"));

    let queue = staff.get("/proposals").await;
    assert!(queue.body.contains("内蒙古大学"), "{}", queue.body);
    let proposal = staff_api.get("/proposals").await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    // From a sibling subtree, the proposal and the person are not found.
    let sibling = app.login("saihan").await;
    for (action, fields) in [
        (format!("/proposals/{proposal}"), vec![("action", "reject")]),
        (format!("/people/{id}/member"), vec![("username", "")]),
    ] {
        let reply = sibling.submit("/proposals", &action, &fields).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action}");
    }
    let approved = staff
        .submit(
            "/proposals",
            &format!("/proposals/{proposal}"),
            &[("action", "approve"), ("back", "person")],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    assert_eq!(
        approved.location,
        Some(format!("{record_page}?done=decided"))
    );
    let shown = staff.get(&record_page).await;
    assert!(
        shown.body.contains("xincheng.member 本人申报") && shown.body.contains("内蒙古大学"),
        "{}",
        shown.body
    );
    assert!(
        staff
            .get("/proposals?show=decided")
            .await
            .body
            .contains("已同意")
    );
    app.finish().await;
}

engine_tests!(
    accounts_are_linked_within_the_subtree,
    members_propose_and_staff_decide,
    the_portal_and_queue_pages,
);
