//! The inbox and the events wired to it, over HTTP: invitations and their changes and
//! cancellation, the reminder the day before, proposals awaiting review and their decision,
//! imports finished, the weekly coverage summary; merging within a window, the count in the
//! top bar, marking read, and keeping 90 days.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::{linked_member, plan, setup, start_campaign};
use common::{Api, Browser, Engine, TestApp, poll};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// The account's notifications once `count` are there (jobs deliver them beside the request).
async fn inbox(api: &Api, count: usize) -> Vec<Value> {
    poll("the notifications to arrive", || async {
        let items = api.get("/me/notifications").await.json()["items"]
            .as_array()
            .unwrap()
            .clone();
        (items.len() >= count).then_some(items)
    })
    .await
}

/// The newest notification's text once one of `kind` is there.
async fn newest_of(api: &Api, kind: &str) -> Value {
    poll("a notification of its kind", || async {
        let items = api.get("/me/notifications").await.json()["items"]
            .as_array()
            .unwrap()
            .clone();
        items.into_iter().find(|n| n["kind"] == kind)
    })
    .await
}

async fn invitations_and_their_changes_reach_the_invited_member(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let member_person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    let activity = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let invited = staff
        .post_json(
            &format!("/activities/{activity}/invitations"),
            &json!({ "person_ids": [member_person] }),
        )
        .await;
    assert!(invited.status.is_success(), "{}", invited.body);
    let member = app.api("xincheng.member").await;
    let first = newest_of(&member, "activity.invited").await;
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .contains("学习贯彻二十大精神研讨会"),
        "{first}"
    );
    assert_eq!(first["link"], "/my-activities");
    assert_eq!(first["read"], false);

    // Two changes within minutes merge into one unread row.
    for starts in ["2026-12-05T15:00", "2026-12-05T15:30"] {
        let ends = "2026-12-05T17:30";
        let changed = staff
            .put_json(
                &format!("/activities/{activity}"),
                &json!({ "kind_id": kind, "unit_id": app.unit("150102").await.id,
                         "title": "学习贯彻二十大精神研讨会", "starts_at": starts,
                         "ends_at": ends, "place": "区委党校报告厅" }),
            )
            .await;
        assert!(changed.status.is_success(), "{}", changed.body);
    }
    let changed = poll("both changes to be merged", || async {
        let n = newest_of(&member, "activity.changed").await;
        (n["merged"] == 2).then_some(n)
    })
    .await;
    assert!(
        changed["text"].as_str().unwrap().contains("15:30"),
        "the merged row tells the latest: {changed}"
    );
    assert!(
        changed["text"].as_str().unwrap().contains("共 2 条"),
        "{changed}"
    );

    // Cancelled: told too. The top bar counts what is unread.
    let cancelled = staff
        .post_json(
            &format!("/activities/{activity}/state"),
            &json!({ "state": "cancelled", "reason": "场地维修" }),
        )
        .await;
    assert!(cancelled.status.is_success(), "{}", cancelled.body);
    newest_of(&member, "activity.cancelled").await;
    let browser = app.login("xincheng.member").await;
    let page = browser.get("/my-activities").await;
    assert!(page.body.contains("class=\"badge\">3<"), "{}", page.body);

    // Opening one marks it read and follows its link; "mark all read" clears the rest.
    let items = inbox(&member, 3).await;
    let id = items[0]["id"].as_i64().unwrap();
    let opened = browser
        .submit("/notifications", &format!("/notifications/{id}/open"), &[])
        .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER);
    assert_eq!(opened.location.as_deref(), Some("/my-activities"));
    assert_eq!(member.get("/me/notifications").await.json()["unread"], 2);
    let cleared = browser
        .submit("/notifications", "/notifications/read-all", &[])
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER);
    assert_eq!(member.get("/me/notifications").await.json()["unread"], 0);
    let page = browser.get("/notifications").await;
    assert!(page.body.contains("已取消"), "{}", page.body);
    assert!(!page.body.contains("class=\"badge\""), "{}", page.body);

    // Someone else's notification is not found.
    let other = app.api("xincheng").await;
    assert_eq!(
        other
            .post_json(&format!("/me/notifications/{id}/read"), &json!({}))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Kept 90 days: the nightly clean-up removes older ones.
    app.clock.advance_minutes(91 * 24 * 60);
    // (A session does not outlive such a jump: sign in again.)
    let member = app.api("xincheng.member").await;
    poll("old notifications to be removed", || async {
        let total = member.get("/me/notifications").await.json()["total"].clone();
        (total == 0).then_some(())
    })
    .await;
    app.finish().await;
}

async fn members_who_have_not_answered_are_reminded_the_day_before(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let member_person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    // Wednesday: reminded on Tuesday morning. Thursday's invitation is answered already.
    let mut ids = Vec::new();
    for (title, day) in [("周三座谈会", "2026-12-02"), ("周四座谈会", "2026-12-03")] {
        let id = plan(
            &staff,
            &app,
            kind,
            json!({ "title": title, "starts_at": format!("{day}T10:00"),
                    "ends_at": format!("{day}T11:00") }),
        )
        .await["id"]
            .as_i64()
            .unwrap();
        let invited = staff
            .post_json(
                &format!("/activities/{id}/invitations"),
                &json!({ "person_ids": [member_person] }),
            )
            .await;
        assert!(invited.status.is_success(), "{}", invited.body);
        ids.push(id);
    }
    let member = app.api("xincheng.member").await;
    inbox(&member, 2).await;
    let browser = app.login("xincheng.member").await;
    let answered = browser
        .submit(
            "/my-activities",
            &format!("/my-activities/{}", ids[1]),
            &[("status", "confirmed")],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);

    // Tuesday 09:01 in Beijing.
    app.clock.advance_minutes(17 * 60 + 1);
    let member = app.api("xincheng.member").await;
    let reminder = newest_of(&member, "activity.reminder").await;
    assert!(
        reminder["text"].as_str().unwrap().contains("周三座谈会"),
        "{reminder}"
    );
    // Wednesday 09:01: Thursday's was answered, so no reminder for it.
    app.clock.advance_minutes(24 * 60);
    let raw = app.db.raw().await;
    poll("Wednesday's reminder job to run", || async {
        (raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'activities.remind' AND state = 'done'")
            .await
            == 3)
            .then_some(())
    })
    .await;
    poll("every notify job to finish", || async {
        (raw.count("SELECT COUNT(*) FROM jobs WHERE kind = 'notify' AND state <> 'done'")
            .await
            == 0)
            .then_some(())
    })
    .await;
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM notifications WHERE kind = 'activity.reminder'")
            .await,
        1
    );
    app.finish().await;
}

async fn proposals_go_to_staff_and_decisions_to_the_member(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let proposed = member
        .post_json(
            "/me/proposals",
            &json!({ "changes": { "employer": "呼和浩特市第一中学" } }),
        )
        .await;
    assert!(proposed.status.is_success(), "{}", proposed.body);
    // The member's village has no staff: the county's administrators are told.
    let county = app.api("xincheng").await;
    let awaiting = newest_of(&county, "proposal.awaiting").await;
    assert!(
        awaiting["text"].as_str().unwrap().contains("周明"),
        "{awaiting}"
    );
    assert_eq!(awaiting["link"], "/proposals");
    let elsewhere = app.api("saihan").await;
    assert_eq!(elsewhere.get("/me/notifications").await.json()["total"], 0);

    let proposal = proposed.json()["items"][0]["id"].as_i64().unwrap();
    let rejected = county
        .post_json(
            &format!("/proposals/{proposal}/reject"),
            &json!({ "reason": "请附单位证明" }),
        )
        .await;
    assert!(rejected.status.is_success(), "{}", rejected.body);
    let decided = newest_of(&member, "proposal.rejected").await;
    assert!(
        decided["text"].as_str().unwrap().contains("请附单位证明"),
        "{decided}"
    );
    app.finish().await;
}

async fn an_import_tells_whoever_started_it(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser: Browser = app.login("saihan.staff").await;
    let upload = browser
        .upload(
            "/directory/import",
            "/directory/import",
            "名单.csv",
            "姓名,单位代码\n张伟,150105\n".as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(upload.status, StatusCode::SEE_OTHER, "{}", upload.body);
    let staff = app.api("saihan.staff").await;
    let told = newest_of(&staff, "import.finished").await;
    assert!(
        told["text"].as_str().unwrap().contains("已导入 1 人"),
        "{told}"
    );
    assert_eq!(told["link"].as_str(), upload.location.as_deref());
    app.finish().await;
}

async fn units_with_a_live_campaign_hear_of_it_each_monday(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (_, sector, ..) = setup(&app).await;
    let admin = app.api("admin").await;
    let campaign = start_campaign(&app, &admin, sector).await;
    // Next Monday 08:01 in Beijing (START is Monday 16:00).
    app.clock.advance_minutes((7 * 24 - 8) * 60 + 1);
    let admin = app.api("admin").await;
    let weekly = newest_of(&admin, "campaign.weekly").await;
    assert!(
        weekly["text"]
            .as_str()
            .unwrap()
            .contains("学习贯彻党的二十大精神"),
        "{weekly}"
    );
    assert!(
        weekly["text"].as_str().unwrap().contains("0 / 2"),
        "{weekly}"
    );
    assert_eq!(weekly["link"], format!("/campaigns/{campaign}"));
    app.finish().await;
}

engine_tests!(
    invitations_and_their_changes_reach_the_invited_member,
    members_who_have_not_answered_are_reminded_the_day_before,
    proposals_go_to_staff_and_decisions_to_the_member,
    an_import_tells_whoever_started_it,
    units_with_a_live_campaign_hear_of_it_each_monday,
);
