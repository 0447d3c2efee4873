//! Activities (issue 4, points 1–4 and 7): kinds configured by top administrators, activities
//! planned, held, summarized or cancelled, invitations by filter or by picking, bulk attendance
//! and its export, and QR check-in with signed, time-limited links; on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::{linked_member, plan, setup};
use common::{Engine, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn kinds_are_configured_by_top_administrators(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let reply = admin
        .post_json(
            "/activity-kinds",
            &json!({ "code": "forum", "name": "论坛" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let id = reply.json()["id"].as_i64().unwrap();
    let again = admin
        .post_json(
            "/activity-kinds",
            &json!({ "code": "forum", "name": "另一个" }),
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(again.error_code(), "taken");
    let county = app.api("xincheng").await;
    let refused = county
        .post_json(
            "/activity-kinds",
            &json!({ "code": "tea", "name": "茶话会" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let renamed = admin
        .patch_json(
            &format!("/activity-kinds/{id}"),
            &json!({ "name": "同心论坛", "archived": true }),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::NO_CONTENT, "{}", renamed.body);
    let listed = county.get("/activity-kinds").await.json();
    assert_eq!(listed["items"][0]["name"], "同心论坛");
    assert_eq!(listed["items"][0]["archived"], true);
    // An archived kind takes no new activities.
    let refused = county
        .post_json(
            "/activities",
            &json!({ "kind_id": id, "unit_id": app.unit("150102").await.id, "title": "x",
                     "starts_at": "2026-12-05T14:30", "ends_at": "2026-12-05T15:30" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "archived");
    app.finish().await;
}

async fn activities_go_from_planned_to_summarized_or_cancelled(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let staff = app.api("xincheng").await;
    // The end must come after the start; nothing is written when it does not.
    let refused = staff
        .post_json(
            "/activities",
            &json!({ "kind_id": kind, "unit_id": app.unit("150102").await.id, "title": "倒序",
                     "starts_at": "2026-12-05T16:30", "ends_at": "2026-12-05T14:30" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "ends_before_start");
    assert!(
        refused.error_message().contains("结束时间"),
        "{}",
        refused.body
    );
    assert_eq!(staff.get("/activities").await.json()["total"], 0);

    let activity = plan(&staff, &app, kind, json!({})).await;
    let id = activity["id"].as_i64().unwrap();
    assert_eq!(activity["state"], "planned");
    assert_eq!(activity["starts_at"], "2026-12-05T06:30:00.000000Z");
    assert_eq!(activity["place"], "区委党校报告厅");
    let path = format!("/activities/{id}/state");
    let no_minutes = staff
        .post_json(&path, &json!({ "state": "summarized" }))
        .await;
    assert_eq!(no_minutes.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_minutes.error_code(), "wrong_state");
    // Five days before it starts it cannot have been held, and the page does not offer it.
    let early = staff.post_json(&path, &json!({ "state": "held" })).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(early.error_code(), "not_started");
    let browser = app.login("xincheng").await;
    let mark_held = "name=\"state\" value=\"held\"";
    assert!(
        !browser
            .get(&format!("/activities/{id}"))
            .await
            .body
            .contains(mark_held)
    );
    app.clock.advance_minutes(5 * 24 * 60);
    // (The session and the token idled out meanwhile.)
    let browser = app.login("xincheng").await;
    let staff = app.api("xincheng").await;
    assert!(
        browser
            .get(&format!("/activities/{id}"))
            .await
            .body
            .contains(mark_held)
    );
    let held = staff.post_json(&path, &json!({ "state": "held" })).await;
    assert_eq!(held.json()["state"], "held", "{}", held.body);
    let empty = staff
        .post_json(&path, &json!({ "state": "summarized", "minutes": " " }))
        .await;
    assert_eq!(empty.error_code(), "required");
    let summarized = staff
        .post_json(
            &path,
            &json!({ "state": "summarized", "minutes": "到会 30 人，交流发言 6 人。" }),
        )
        .await;
    assert_eq!(summarized.json()["state"], "summarized");
    assert_eq!(summarized.json()["minutes"], "到会 30 人，交流发言 6 人。");
    let cancel = staff
        .post_json(&path, &json!({ "state": "cancelled", "reason": "天气" }))
        .await;
    assert_eq!(cancel.error_code(), "wrong_state");

    let other = plan(&staff, &app, kind, json!({ "title": "读书会" })).await;
    let other_path = format!("/activities/{}/state", other["id"]);
    let no_reason = staff
        .post_json(&other_path, &json!({ "state": "cancelled" }))
        .await;
    assert_eq!(no_reason.error_code(), "required");
    let cancelled = staff
        .post_json(
            &other_path,
            &json!({ "state": "cancelled", "reason": "与全市会议冲突" }),
        )
        .await;
    assert_eq!(cancelled.json()["cancel_reason"], "与全市会议冲突");
    let held = staff
        .post_json(&other_path, &json!({ "state": "held" }))
        .await;
    assert_eq!(held.error_code(), "wrong_state");

    // The list filters by state and by period; another county sees none of it.
    let listed = staff.get("/activities?state=cancelled").await.json();
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["items"][0]["title"], "读书会");
    let december = staff
        .get("/activities?from=2026-12-01&until=2027-01-01")
        .await
        .json();
    assert_eq!(december["total"], 2);
    // A venue from the directory: it must be a venue, and of the caller's subtree.
    let org = |name: &str, kind: &str, unit: i64| json!({ "unit_id": unit, "name": name, "kind": kind, "is_venue": kind == "venue" });
    let xincheng_unit = app.unit("150102").await.id;
    let hall = staff
        .post_json(
            "/organizations",
            &org("新城区统战活动中心", "venue", xincheng_unit),
        )
        .await;
    assert_eq!(hall.status, StatusCode::CREATED, "{}", hall.body);
    let hall = hall.json()["id"].as_i64().unwrap();
    let held_there = plan(
        &staff,
        &app,
        kind,
        json!({ "venue_id": hall, "place": null }),
    )
    .await;
    assert_eq!(held_there["venue"]["name"], "新城区统战活动中心");
    let club = staff
        .post_json(
            "/organizations",
            &org("新城区青年商会", "chamber", xincheng_unit),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let admin = app.api("admin").await;
    let elsewhere = admin
        .post_json(
            "/organizations",
            &org("赛罕区会议中心", "venue", app.unit("150105").await.id),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    for venue in [club, elsewhere] {
        let refused = staff
            .post_json(
                "/activities",
                &json!({ "kind_id": kind, "unit_id": xincheng_unit, "title": "场地",
                         "starts_at": "2026-12-05T14:30", "ends_at": "2026-12-05T15:30",
                         "venue_id": venue }),
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            refused.body
        );
        assert_eq!(refused.error_code(), "not_found");
    }

    let saihan = app.api("saihan").await;
    assert_eq!(saihan.get("/activities").await.json()["total"], 0);
    assert_eq!(
        saihan.get(&format!("/activities/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

async fn invitations_and_bulk_attendance(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, xincheng, saihan_person) = setup(&app).await;
    let staff = app.api("xincheng").await;
    let id = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let invite = format!("/activities/{id}/invitations");

    // One person outside the caller's subtree refuses the whole request.
    let refused = staff
        .post_json(
            &invite,
            &json!({ "person_ids": [xincheng[0], saihan_person] }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "unknown_person");
    assert!(
        refused.error_message().contains(&saihan_person.to_string()),
        "{}",
        refused.body
    );
    assert_eq!(staff.get(&invite).await.json()["total"], 0);

    // A filter: the sector within 新城区.
    let by_filter = staff
        .post_json(
            &invite,
            &json!({ "filter": { "unit_id": app.unit("150102").await.id, "sector_id": sector } }),
        )
        .await;
    assert_eq!(by_filter.json()["invited"], 2, "{}", by_filter.body);
    // Tags; those invited already are not counted twice.
    let by_tag = staff
        .post_json(
            &invite,
            &json!({ "filter": { "unit_id": app.unit("150102").await.id, "tags": ["青年"] } }),
        )
        .await;
    assert_eq!(by_tag.json()["invited"], 1);
    let empty = staff
        .post_json(
            &invite,
            &json!({ "filter": { "unit_id": app.unit("150102").await.id, "tags": ["无此标签"] } }),
        )
        .await;
    assert_eq!(empty.error_code(), "empty_target");
    let outside = staff
        .post_json(
            &invite,
            &json!({ "filter": { "unit_id": app.unit("150105").await.id } }),
        )
        .await;
    assert_eq!(outside.error_code(), "not_found");

    // A saved filter invites the same people again, and stays within its owners' subtree.
    let saved = staff
        .post_json(
            "/saved-filters",
            &json!({ "name": "新城区青年", "unit_id": app.unit("150102").await.id, "tags": ["青年"] }),
        )
        .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    let saved_id = saved.json()["id"].as_i64().unwrap();
    let second = plan(&staff, &app, kind, json!({ "title": "青年读书会" })).await["id"]
        .as_i64()
        .unwrap();
    let by_saved = staff
        .post_json(
            &format!("/activities/{second}/invitations"),
            &json!({ "saved_filter_id": saved_id }),
        )
        .await;
    assert_eq!(by_saved.json()["invited"], 2, "{}", by_saved.body);
    let saihan = app.api("saihan").await;
    assert_eq!(saihan.get("/saved-filters").await.json()["total"], 0);
    assert_eq!(
        saihan
            .delete(&format!("/saved-filters/{saved_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let mark = format!("/activities/{id}/attendance");
    let marked = staff
        .post_json(
            &mark,
            &json!({ "person_ids": [xincheng[0], xincheng[1]], "status": "attended" }),
        )
        .await;
    assert_eq!(marked.json()["changed"], 2, "{}", marked.body);
    let excused = staff
        .post_json(
            &mark,
            &json!({ "person_ids": [xincheng[2]], "status": "excused" }),
        )
        .await;
    assert_eq!(excused.json()["changed"], 1);
    let stranger = staff
        .post_json(
            &mark,
            &json!({ "person_ids": [saihan_person], "status": "absent" }),
        )
        .await;
    assert_eq!(stranger.error_code(), "unknown_person");
    let shown = staff.get(&format!("/activities/{id}")).await.json();
    assert_eq!(shown["attendance"]["attended"], 2);
    assert_eq!(shown["attendance"]["excused"], 1);
    // The list shows the same kept tallies, and they agree with a recount.
    let listed = staff.get("/activities").await.json();
    let row = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(row["attendance"], shown["attendance"]);
    assert_eq!(app.store.check().await.unwrap().faults, vec![]);
    let found = staff.get(&format!("{invite}?q=li")).await.json();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["person"]["name"], "李强");
    assert_eq!(found["items"][0]["status"], "attended");

    let exported = staff
        .post_json(
            &format!("/activities/{id}/attendance/export?format=csv"),
            &json!({}),
        )
        .await;
    assert_eq!(exported.status, StatusCode::OK);
    assert!(
        exported.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let csv = exported.body;
    assert!(csv.contains("姓名"), "{csv}");
    assert!(csv.contains("王芳,光明社区,出席"), "{csv}");
    assert!(csv.contains("赵敏,东风村,请假"), "{csv}");
    let workbook = staff
        .post_json(
            &format!("/activities/{id}/attendance/export?format=xlsx"),
            &json!({}),
        )
        .await;
    assert_eq!(workbook.status, StatusCode::OK);
    assert!(
        workbook.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    // Audited, so never a GET.
    assert_eq!(
        staff
            .get(&format!("/activities/{id}/attendance/export"))
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=activity.attendance_export")
        .await;
    assert_eq!(audit.json()["total"], 2, "{}", audit.body);
    app.finish().await;
}

async fn members_check_in_once_with_a_signed_link(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let member_person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    // The clock stands at 2026-11-30 16:00 China time; the activity is today 15:30–17:00.
    let id = plan(
        &staff,
        &app,
        kind,
        json!({ "starts_at": "2026-11-30T15:30", "ends_at": "2026-11-30T17:00" }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let link = staff
        .post_json(&format!("/activities/{id}/check-in-link"), &json!({}))
        .await
        .json();
    assert!(
        link["url"].as_str().unwrap().contains("/check-in?a="),
        "{link}"
    );
    let member = app.api("xincheng.member").await;
    let body = json!({ "activity_id": id, "until": link["until"], "sig": link["sig"] });

    // Not invited yet: refused.
    let refused = member.post_json("/check-in", &body).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "not_in_target");
    staff
        .post_json(
            &format!("/activities/{id}/invitations"),
            &json!({ "person_ids": [member_person] }),
        )
        .await;
    // A tampered signature or a moved deadline is refused.
    let mut forged = body.clone();
    forged["sig"] = json!(format!("{}00", &link["sig"].as_str().unwrap()[2..]));
    assert_eq!(
        member.post_json("/check-in", &forged).await.error_code(),
        "link_forged"
    );
    let mut stretched = body.clone();
    stretched["until"] = json!(link["until"].as_i64().unwrap() + 3600);
    assert_eq!(
        member.post_json("/check-in", &stretched).await.error_code(),
        "link_forged"
    );

    let first = member.post_json("/check-in", &body).await;
    assert_eq!(first.json()["result"], "checked_in", "{}", first.body);
    let second = member.post_json("/check-in", &body).await;
    assert_eq!(second.json()["result"], "already_checked_in");
    let listed = staff
        .get(&format!("/activities/{id}/invitations"))
        .await
        .json();
    assert_eq!(listed["items"][0]["status"], "attended");
    assert!(listed["items"][0]["checked_in_at"].is_string());

    // Two minutes later the link has expired (a photo of the screen sent on is of no use).
    app.clock.advance_minutes(2);
    let late = member.post_json("/check-in", &body).await;
    assert_eq!(late.error_code(), "link_expired");
    assert!(late.error_message().contains("过期"), "{}", late.body);

    // A fresh link for an activity next week: outside its check-in window.
    let later = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    staff
        .post_json(
            &format!("/activities/{later}/invitations"),
            &json!({ "person_ids": [member_person] }),
        )
        .await;
    let link = staff
        .post_json(&format!("/activities/{later}/check-in-link"), &json!({}))
        .await
        .json();
    let early = member
        .post_json(
            "/check-in",
            &json!({ "activity_id": later, "until": link["until"], "sig": link["sig"] }),
        )
        .await;
    assert_eq!(early.error_code(), "outside_window");
    assert_eq!(app.store.check().await.unwrap().faults, vec![]);
    app.finish().await;
}

async fn members_answer_their_invitations(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    let id = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let member = app.api("xincheng.member").await;
    let path = format!("/me/activities/{id}/answer");
    assert_eq!(
        member
            .post_json(&path, &json!({ "status": "confirmed" }))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "not invited yet"
    );
    staff
        .post_json(
            &format!("/activities/{id}/invitations"),
            &json!({ "person_ids": [person] }),
        )
        .await;
    let browser = app.login("xincheng.member").await;
    let page = browser.get("/my-activities").await;
    assert!(page.body.contains("我会参加"), "{}", page.body);
    let answered = browser
        .submit(
            "/my-activities",
            &format!("/my-activities/{id}"),
            &[("status", "confirmed")],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let mine = member.get("/me/activities").await.json();
    assert_eq!(mine["items"][0]["my_status"], "confirmed");
    let refused = member
        .post_json(&path, &json!({ "status": "attended" }))
        .await;
    assert_eq!(refused.error_code(), "not_a_choice");
    // Once the activity has started, answers are closed.
    app.clock.advance_minutes(8 * 24 * 60);
    let member = app.api("xincheng.member").await;
    let late = member
        .post_json(&path, &json!({ "status": "excused" }))
        .await;
    assert_eq!(late.error_code(), "wrong_state");
    assert_eq!(app.store.check().await.unwrap().faults, vec![]);
    app.finish().await;
}

async fn staff_check_people_in_by_name(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, _, xincheng, saihan_person) = setup(&app).await;
    let staff = app.api("xincheng").await;
    let id = plan(
        &staff,
        &app,
        kind,
        json!({ "starts_at": "2026-11-30T15:30", "ends_at": "2026-11-30T17:00" }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    staff
        .post_json(
            &format!("/activities/{id}/invitations"),
            &json!({ "person_ids": [xincheng[0]] }),
        )
        .await;
    let path = format!("/activities/{id}/check-ins");
    let done = staff
        .post_json(&path, &json!({ "person_id": xincheng[0] }))
        .await;
    assert_eq!(done.json()["result"], "checked_in", "{}", done.body);
    let again = staff
        .post_json(&path, &json!({ "person_id": xincheng[0] }))
        .await;
    assert_eq!(again.json()["result"], "already_checked_in");
    let uninvited = staff
        .post_json(&path, &json!({ "person_id": xincheng[1] }))
        .await;
    assert_eq!(uninvited.error_code(), "not_in_target");
    let outside = staff
        .post_json(&path, &json!({ "person_id": saihan_person }))
        .await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);

    // On a phone: the page lists invitees by name with a check-in button.
    let browser = app.login("xincheng").await;
    let page = browser
        .get(&format!("/activities/{id}/check-in/staff?q=wang"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("王芳"), "{}", page.body);
    assert!(page.body.contains("已签到"), "{}", page.body);
    assert_eq!(app.store.check().await.unwrap().faults, vec![]);
    app.finish().await;
}

async fn photos_must_be_what_they_say(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let staff = app.api("xincheng").await;
    let id = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let added = staff
        .post_bytes(
            &format!("/activities/{id}/photos?file_name=合影.png"),
            png.clone(),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let photo = added.json()["id"].as_i64().unwrap();
    let (status, content_type, bytes) = staff
        .get_bytes(&format!("/activities/{id}/photos/{photo}"))
        .await;
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::OK, "image/png")
    );
    assert_eq!(bytes, png);
    let mismatch = staff
        .post_bytes(&format!("/activities/{id}/photos?file_name=合影.jpg"), png)
        .await;
    assert_eq!(mismatch.error_code(), "content_mismatch");
    let shown = staff.get(&format!("/activities/{id}")).await.json();
    assert_eq!(shown["photos"].as_array().unwrap().len(), 1);
    let saihan = app.api("saihan").await;
    assert_eq!(
        saihan
            .get_bytes(&format!("/activities/{id}/photos/{photo}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

/// Bytes that are both a GIF and an HTML page, uploaded first as a material `.html` and then
/// as a photo, are stored twice (the type is part of the key) and the photo answers as a GIF,
/// sandboxed, never as the page it also is.
async fn a_photo_is_never_served_as_a_page(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let staff = app.api("xincheng").await;
    let unit = app.unit("150102").await.id;
    let polyglot = b"GIF89a<html><script>alert(document.cookie)</script></html>".to_vec();
    let material = staff
        .post_bytes(
            &format!("/materials?unit_id={unit}&file_name=page.html"),
            polyglot.clone(),
        )
        .await;
    assert_eq!(material.status, StatusCode::CREATED, "{}", material.body);
    let id = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let added = staff
        .post_bytes(
            &format!("/activities/{id}/photos?file_name=photo.gif"),
            polyglot,
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let photo = added.json()["id"].as_i64().unwrap();
    let browser = app.login("xincheng").await;
    for path in [
        format!("/api/v1/activities/{id}/photos/{photo}"),
        format!("/activities/{id}/photos/{photo}"),
    ] {
        let served = if path.starts_with("/api") {
            staff.get(path.trim_start_matches("/api/v1")).await
        } else {
            browser.get(&path).await
        };
        let header = |name: &str| {
            served
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(served.status, StatusCode::OK, "{path}");
        assert_eq!(header("content-type"), "image/gif", "{path}");
        assert_eq!(header("content-security-policy"), "sandbox", "{path}");
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert!(
            header("content-disposition").starts_with("inline; filename=\"photo.gif\""),
            "{path}: {}",
            header("content-disposition")
        );
    }
    let material = material.json()["id"].as_i64().unwrap();
    let (_, material_type, _) = staff
        .get_bytes(&format!("/materials/{material}/file"))
        .await;
    assert!(material_type.starts_with("text/html"), "{material_type}");
    let download = staff.get(&format!("/materials/{material}/file")).await;
    let disposition = download.headers["content-disposition"].to_str().unwrap();
    assert!(disposition.starts_with("attachment;"), "{disposition}");
    app.finish().await;
}

/// Every activity, campaign and material route answers 404 for a record of another county,
/// and writes nothing.
async fn records_of_another_county_are_not_found_on_any_route(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, people, _) = setup(&app).await;
    let staff = app.api("xincheng").await;
    let id = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let campaign = staff
        .post_json(
            "/campaigns",
            &json!({ "unit_id": app.unit("150102").await.id, "title": "区内学习",
                     "starts_on": "2026-12-01", "ends_on": "2026-12-31",
                     "target_unit_id": app.unit("150102").await.id, "sector_ids": [sector] }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let unit = app.unit("150102").await.id;
    let material = staff
        .post_bytes(
            &format!("/materials?unit_id={unit}&file_name=a.txt"),
            "学习材料".as_bytes().to_vec(),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let other = app.api("saihan").await;
    let body = json!({ "kind_id": kind, "unit_id": app.unit("150105").await.id, "title": "x",
                       "starts_at": "2026-12-05T14:30", "ends_at": "2026-12-05T15:30" });
    let reads = [
        format!("/activities/{id}"),
        format!("/activities/{id}/invitations"),
        format!("/activities/{id}/photos/1"),
        format!("/campaigns/{campaign}"),
        format!("/campaigns/{campaign}/coverage"),
        format!("/campaigns/{campaign}/unreached"),
        format!("/materials/{material}"),
        format!("/materials/{material}/file"),
    ];
    for path in reads {
        assert_eq!(
            other.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "GET {path}"
        );
    }
    let writes = [
        (
            format!("/activities/{id}/state"),
            json!({ "state": "held" }),
        ),
        (
            format!("/activities/{id}/invitations"),
            json!({ "person_ids": [people[0]] }),
        ),
        (
            format!("/activities/{id}/attendance"),
            json!({ "person_ids": [people[0]], "status": "attended" }),
        ),
        (format!("/activities/{id}/check-in-link"), json!({})),
        (format!("/activities/{id}/attendance/export"), json!({})),
        (
            format!("/activities/{id}/check-ins"),
            json!({ "person_id": people[0] }),
        ),
        (format!("/campaigns/{campaign}/archive"), json!({})),
        (format!("/campaigns/{campaign}/next-batch"), body.clone()),
    ];
    for (path, body) in writes {
        assert_eq!(
            other.post_json(&path, &body).await.status,
            StatusCode::NOT_FOUND,
            "POST {path}"
        );
    }
    assert_eq!(
        other
            .put_json(&format!("/activities/{id}"), &body)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    assert_eq!(
        other
            .post_bytes(&format!("/activities/{id}/photos?file_name=a.png"), png)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let shown = staff.get(&format!("/activities/{id}")).await.json();
    assert_eq!(shown["state"], "planned");
    assert_eq!(shown["attendance"]["invited"], 0);
    app.finish().await;
}

engine_tests!(
    records_of_another_county_are_not_found_on_any_route,
    kinds_are_configured_by_top_administrators,
    activities_go_from_planned_to_summarized_or_cancelled,
    invitations_and_bulk_attendance,
    members_check_in_once_with_a_signed_link,
    members_answer_their_invitations,
    staff_check_people_in_by_name,
    photos_must_be_what_they_say,
    a_photo_is_never_served_as_a_page,
);
