//! The direct channel over HTTP: a member's suggestion from submission to the rated answer,
//! handled by a unit outside the submitter's subtree; the workflow refusing steps (409 naming
//! the allowed ones); bad input refused with nothing written; deadlines reminded and marked by
//! the daily job as the clock moves; and random walks through the workflow that always leave
//! each case in a defined state with a timeline that explains it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::linked_member;
use common::{Api, Engine, TestApp, poll};
use rand::{RngExt, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn submit(member: &Api, title: &str) -> Value {
    let reply = member
        .post_json(
            "/cases",
            &json!({ "type": "suggestion", "title": title, "category": "livelihood",
                     "body": "建议加快改造进度，增设电梯。", "name_withheld": true }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

async fn step(api: &Api, id: i64, body: Value) -> common::Reply {
    api.post_json(&format!("/cases/{id}/transitions"), &body)
        .await
}

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

async fn a_suggestion_goes_from_submission_to_a_rated_answer(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    let saihan = app.api("saihan").await;
    let case = submit(&member, "关于老旧小区加装电梯的建议").await;
    let id = case["id"].as_i64().unwrap();
    assert_eq!(case["state"], "submitted");
    assert_eq!(case["actions"], json!(["withdraw"]));
    // The receiving side hears of it, and 赛罕区 (beside it) cannot see it yet.
    newest_of(&staff, "case.submitted").await;
    assert_eq!(
        saihan.get(&format!("/cases/{id}")).await.status,
        StatusCode::NOT_FOUND
    );

    assert_eq!(
        step(&staff, id, json!({ "action": "accept" })).await.status,
        StatusCode::OK
    );
    // Assigned to 赛罕区, outside the submitter's subtree: due in 15 working days from
    // Monday 30 November, 21 December.
    let assigned = step(
        &app.api("admin").await,
        id,
        json!({ "action": "assign", "unit_id": app.unit("150105").await.id }),
    )
    .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    assert_eq!(assigned.json()["due_on"], "2026-12-21");
    assert_eq!(assigned.json()["deadline"], "green");
    newest_of(&saihan, "case.assigned").await;

    // The handler sees the case but not the submitter's name, and can answer.
    let seen = saihan.get(&format!("/cases/{id}")).await.json();
    assert_eq!(seen["submitter"], Value::Null, "{seen}");
    assert_eq!(seen["actions"], json!(["escalate", "answer"]), "{seen}");
    assert!(!seen.to_string().contains("周明"), "{seen}");
    let listed = saihan.get("/cases?sort=due").await.json();
    assert_eq!(listed["items"][0]["id"], id, "{listed}");
    // Its leader reads, never acts.
    let leader = app.api("saihan.leader").await;
    assert_eq!(
        leader.get(&format!("/cases/{id}")).await.status,
        StatusCode::OK
    );
    let refused = step(&leader, id, json!({ "action": "answer", "body": "x" })).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // An internal note the member never reads; an answer they do.
    let note = saihan
        .post_json(
            &format!("/cases/{id}/replies"),
            &json!({ "body": "已联系住建部门核实", "internal": true }),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.body);
    let answered = step(
        &saihan,
        id,
        json!({ "action": "answer", "body": "已列入明年改造计划。" }),
    )
    .await;
    assert_eq!(answered.status, StatusCode::OK, "{}", answered.body);
    newest_of(&member, "case.answered").await;
    let mine = member.get(&format!("/cases/{id}")).await.json();
    assert_eq!(mine["answer"], "已列入明年改造计划。");
    assert!(!mine.to_string().contains("已联系住建部门核实"), "{mine}");
    assert_eq!(mine["actions"], json!(["rate"]));

    // Not satisfied: reopened once, answered again, then satisfied and closed.
    let rated = step(
        &member,
        id,
        json!({ "action": "rate", "satisfaction": "not_satisfied" }),
    )
    .await;
    assert_eq!(rated.json()["actions"], json!(["reopen"]), "{}", rated.body);
    assert_eq!(
        step(&member, id, json!({ "action": "reopen" }))
            .await
            .status,
        StatusCode::OK
    );
    step(
        &saihan,
        id,
        json!({ "action": "answer", "body": "已协调提前到本年度。" }),
    )
    .await;
    let rated = step(
        &member,
        id,
        json!({ "action": "rate", "satisfaction": "satisfied" }),
    )
    .await;
    assert_eq!(
        rated.json()["actions"],
        json!([]),
        "reopened only once: {}",
        rated.body
    );
    let closed = step(&staff, id, json!({ "action": "close" })).await;
    assert_eq!(closed.json()["state"], "closed", "{}", closed.body);
    assert_eq!(closed.json()["ended"], true);

    // The timeline tells it all, in order.
    let timeline = staff.get(&format!("/cases/{id}")).await.json()["timeline"].clone();
    let actions: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit", "accept", "assign", "note", "answer", "rate", "reopen", "answer", "rate",
            "close"
        ]
    );
    // The member's page shows the same steps but the note.
    let browser = app.login("xincheng.member").await;
    let page = browser.get(&format!("/my-submissions/{id}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("已协调提前到本年度"), "{}", page.body);
    assert!(!page.body.contains("已联系住建部门核实"));
    app.finish().await;
}

async fn steps_and_input_the_channel_refuses(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    let admin = app.api("admin").await;
    let id = submit(&member, "关于增设公交站点的建议").await["id"]
        .as_i64()
        .unwrap();
    let raw = app.db.raw().await;
    let events = format!("SELECT COUNT(*) FROM case_events WHERE case_id = {id}");

    // A step the workflow does not allow from here names the ones it does.
    let wrong = step(&staff, id, json!({ "action": "answer", "body": "x" })).await;
    assert_eq!(wrong.status, StatusCode::CONFLICT, "{}", wrong.body);
    assert_eq!(
        wrong.json()["error"]["allowed"],
        json!(["accept", "return", "merge"])
    );
    assert!(
        wrong.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("受理")
    );
    // A return needs its reason; an assignment due before the submission is refused.
    let no_reason = step(&staff, id, json!({ "action": "return" })).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    step(&staff, id, json!({ "action": "accept" })).await;
    let early = step(
        &staff,
        id,
        json!({ "action": "assign", "unit_id": app.unit("150102").await.id,
                "due_on": "2026-11-01" }),
    )
    .await;
    assert_eq!(
        early.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        early.body
    );
    assert_eq!(early.error_code(), "due_before_submission");
    // A file whose bytes are not what its name says.
    let file = member
        .post_bytes(
            &format!("/cases/{id}/files?file_name=照片.pdf"),
            b"<html>not a pdf</html>".to_vec(),
        )
        .await;
    assert_eq!(
        file.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        file.body
    );
    assert_eq!(file.error_code(), "content_mismatch");
    assert_eq!(raw.count(&events).await, 2, "submit and accept only");
    // Someone outside its reach: 404, whatever they try.
    let saihan = app.api("saihan").await;
    assert_eq!(
        step(&saihan, id, json!({ "action": "accept" }))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    // Returned: the case is closed to replies.
    step(
        &staff,
        id,
        json!({ "action": "return", "body": "不属于受理范围" }),
    )
    .await;
    let late = member
        .post_json(&format!("/cases/{id}/replies"), &json!({ "body": "补充" }))
        .await;
    assert_eq!(
        late.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        late.body
    );
    newest_of(&member, "case.returned").await;

    // An administrator's workflow with a state nothing reaches, or with no end, is refused.
    let types = admin.get("/case-types").await.json();
    let mut workflow = types["items"][0]["workflow"].clone();
    workflow["states"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "code": "limbo", "end": false }));
    let refused = admin
        .put_json(
            "/case-types/suggestion",
            &json!({ "default_days": 15, "workflow": workflow }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.error_code(), "workflow_unreachable");
    assert!(refused.body.contains("limbo"), "{}", refused.body);
    let mut endless = types["items"][0]["workflow"].clone();
    for state in endless["states"].as_array_mut().unwrap() {
        state["end"] = json!(false);
    }
    let refused = admin
        .put_json(
            "/case-types/suggestion",
            &json!({ "default_days": 15, "workflow": endless }),
        )
        .await;
    assert_eq!(refused.error_code(), "workflow_no_end");
    // A county administrator may not change it at all.
    assert_eq!(
        staff
            .put_json(
                "/case-types/suggestion",
                &json!({ "default_days": 15, "workflow": types["items"][0]["workflow"] }),
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    app.finish().await;
}

async fn deadlines_are_reminded_and_marked_as_the_days_pass(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    let id = submit(&member, "关于河道治理的建议").await["id"]
        .as_i64()
        .unwrap();
    step(&staff, id, json!({ "action": "accept" })).await;
    // Due Thursday 3 December, three working days away: amber from the start.
    let assigned = step(
        &staff,
        id,
        json!({ "action": "assign", "unit_id": app.unit("150102").await.id,
                "due_on": "2026-12-03" }),
    )
    .await;
    assert_eq!(assigned.json()["deadline"], "amber", "{}", assigned.body);

    // By Tuesday 08:31 in Beijing the morning job has reminded the handler once.
    app.clock.advance_minutes(16 * 60 + 31);
    let staff = app.api("xincheng").await;
    let reminder = newest_of(&staff, "case.due_soon").await;
    assert!(
        reminder["text"].as_str().unwrap().contains("2026-12-03"),
        "{reminder}"
    );
    // Saturday 08:31: past due, marked overdue and listed red; the handler asks for more
    // time and the receiving side agrees.
    app.clock.advance_minutes(4 * 24 * 60);
    let staff = app.api("xincheng").await;
    newest_of(&staff, "case.overdue").await;
    let overdue = staff.get("/cases?overdue=true").await.json();
    assert_eq!(overdue["items"][0]["id"], id, "{overdue}");
    assert_eq!(overdue["items"][0]["deadline"], "red");
    assert_eq!(overdue["items"][0]["overdue"], true);
    let raw = app.db.raw().await;
    assert_eq!(
        raw.count(&format!(
            "SELECT COUNT(*) FROM case_events WHERE case_id = {id} AND action = 'overdue'"
        ))
        .await,
        1
    );
    // An approved extension moves the due date and clears the mark.
    let asked = staff
        .post_json(
            &format!("/cases/{id}/extensions"),
            &json!({ "due_on": "2026-12-18", "reason": "需要现场勘察" }),
        )
        .await;
    assert_eq!(asked.status, StatusCode::CREATED, "{}", asked.body);
    let request = asked.json()["id"].as_i64().unwrap();
    let decided = staff
        .post_json(
            &format!("/cases/{id}/extensions/{request}"),
            &json!({ "approve": true }),
        )
        .await;
    assert_eq!(decided.json()["state"], "approved", "{}", decided.body);
    let case = staff.get(&format!("/cases/{id}")).await.json();
    assert_eq!(case["due_on"], "2026-12-18");
    assert_eq!(case["overdue"], false);
    app.finish().await;
}

async fn members_and_staff_work_cases_from_their_pages(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let phone = app.login("xincheng.member").await;
    let raw = app.db.raw().await;

    // A file whose bytes are not what its name says refuses the whole submission.
    let refused = phone
        .upload(
            "/my-submissions/new",
            "/my-submissions",
            "现场.pdf",
            b"<html>not a pdf</html>".to_vec(),
            &[
                ("type", "opinion"),
                ("category", "ecology"),
                ("title", "河道有异味"),
                ("body", "近一周河道有异味。"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("河道有异味"),
        "the form keeps what was typed"
    );
    assert_eq!(raw.count("SELECT COUNT(*) FROM cases").await, 0);
    // With a real PDF, the case and its file are stored together.
    let sent = phone
        .upload(
            "/my-submissions/new",
            "/my-submissions",
            "现场.pdf",
            b"%PDF-1.7 photo".to_vec(),
            &[
                ("type", "opinion"),
                ("category", "ecology"),
                ("title", "河道有异味"),
                ("body", "近一周河道有异味。"),
                ("name_withheld", "1"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let mine = sent.location.clone().unwrap();
    assert!(mine.starts_with("/my-submissions/"), "{mine}");
    let id: i64 = mine
        .trim_start_matches("/my-submissions/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(raw.count("SELECT COUNT(*) FROM case_files").await, 1);
    let page = phone.get(&mine).await;
    assert!(
        page.body.contains("现场.pdf") && page.body.contains("已提交"),
        "{}",
        page.body
    );
    let list = phone.get("/my-submissions").await;
    assert!(list.body.contains("河道有异味"), "{}", list.body);

    // Staff accept and assign from the case page; the list shows the due date in words.
    let desk = app.login("xincheng").await;
    let case_page = format!("/cases/{id}");
    let accepted = desk
        .submit(
            &case_page,
            &format!("/cases/{id}/act"),
            &[("action", "accept")],
        )
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let unit = app.unit("150102").await.id.to_string();
    let assigned = desk
        .submit(
            &case_page,
            &format!("/cases/{id}/act"),
            &[
                ("action", "assign"),
                ("unit_id", &unit),
                ("due_on", "2026-12-03"),
            ],
        )
        .await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{}", assigned.body);
    let list = desk.get("/cases").await;
    assert!(list.body.contains("2026-12-03 · 即将到期"), "{}", list.body);
    // A step the workflow does not allow is refused on the page too, naming what is.
    let wrong = desk
        .submit(
            &case_page,
            &format!("/cases/{id}/act"),
            &[("action", "accept")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::CONFLICT);
    assert!(wrong.body.contains("答复"), "{}", wrong.body);
    // Staff submit for a person from the person's page.
    let person = raw.count("SELECT submitter_id FROM cases LIMIT 1").await;
    let person_page = desk.get(&format!("/people/{person}")).await;
    let entry = format!("/cases/new?submitter_id={person}");
    assert!(person_page.body.contains(&entry), "{}", person_page.body);
    let form = desk.get(&entry).await;
    assert!(form.body.contains("周明"), "{}", form.body);
    let submitted = desk
        .submit(
            &entry,
            "/cases",
            &[
                ("submitter_id", &person.to_string()),
                ("type", "direct"),
                ("category", "governance"),
                ("title", "请市领导关注河道治理"),
                ("body", "详见附件。"),
            ],
        )
        .await;
    assert_eq!(
        submitted.status,
        StatusCode::SEE_OTHER,
        "{}",
        submitted.body
    );
    // An answer without text keeps the page with the message, nothing written.
    let events = format!("SELECT COUNT(*) FROM case_events WHERE case_id = {id}");
    let before = raw.count(&events).await;
    let empty = desk
        .submit(
            &case_page,
            &format!("/cases/{id}/act"),
            &[("action", "answer")],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(raw.count(&events).await, before);
    let noted = desk
        .submit(
            &case_page,
            &format!("/cases/{id}/write"),
            &[("kind", "note"), ("body", "内部：已约环保部门")],
        )
        .await;
    assert_eq!(noted.status, StatusCode::SEE_OTHER, "{}", noted.body);
    let answered = desk
        .submit(
            &case_page,
            &format!("/cases/{id}/act"),
            &[("action", "answer"), ("body", "已安排清淤。")],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);

    // The member reads the answer (never the note) and rates it from the phone.
    let page = phone.get(&format!("/my-submissions/{id}")).await;
    assert!(page.body.contains("已安排清淤"), "{}", page.body);
    assert!(!page.body.contains("已约环保部门"));
    let rated = phone
        .submit(
            &format!("/my-submissions/{id}"),
            &format!("/my-submissions/{id}"),
            &[("action", "rate"), ("satisfaction", "basically")],
        )
        .await;
    assert_eq!(rated.status, StatusCode::SEE_OTHER, "{}", rated.body);
    let page = desk.get(&case_page).await;
    assert!(page.body.contains("基本满意"), "{}", page.body);
    // Another member's page of it is not theirs to open.
    assert_eq!(
        app.login("saihan.staff").await.get(&case_page).await.status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

async fn merges_departments_co_submitters_and_the_calendar(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let member_person = linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    let admin = app.api("admin").await;

    // Staff submit on behalf of another person, with the member as co-submitter: the member
    // follows it too.
    let other = staff
        .post_json(
            "/people",
            &json!({ "unit_id": app.unit("150102").await.id, "name": "李华" }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let joint = staff
        .post_json(
            "/cases",
            &json!({ "type": "suggestion", "title": "关于老旧小区加装电梯的联名建议",
                     "category": "livelihood", "body": "联名。", "submitter_id": other,
                     "cosubmitter_ids": [member_person] }),
        )
        .await;
    assert_eq!(joint.status, StatusCode::CREATED, "{}", joint.body);
    let joint = joint.json()["id"].as_i64().unwrap();
    assert_eq!(
        member.get(&format!("/cases/{joint}")).await.status,
        StatusCode::OK
    );
    // Co-submitters follow but do not rate or withdraw: that is the submitter's.
    assert_eq!(
        member.get(&format!("/cases/{joint}")).await.json()["actions"],
        json!([])
    );

    // A similar one is offered for merging, and merged: the target's timeline says so.
    let single = submit(&member, "关于老旧小区加装电梯的建议").await["id"]
        .as_i64()
        .unwrap();
    let similar = staff.get(&format!("/cases/{single}/similar")).await.json();
    assert_eq!(similar["items"][0]["id"], joint, "{similar}");
    let merged = step(
        &staff,
        single,
        json!({ "action": "merge", "merge_into": joint }),
    )
    .await;
    assert_eq!(merged.json()["state"], "merged", "{}", merged.body);
    assert_eq!(merged.json()["merged_into"], joint);
    assert_eq!(merged.json()["ended"], true);
    let target = staff.get(&format!("/cases/{joint}")).await.json();
    assert!(
        target["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "merged_from" && e["detail"]["case"] == single),
        "{target}"
    );

    // Handed to an outside department: the receiving unit answers on its behalf.
    let department = admin
        .post_json("/departments", &json!({ "name": "市住房和城乡建设局" }))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        admin
            .post_json("/departments", &json!({ "name": "市住房和城乡建设局" }))
            .await
            .error_code(),
        "taken"
    );
    step(&staff, joint, json!({ "action": "accept" })).await;
    // The top administrator declares 1–3 December days off: 15 working days now end later.
    let calendar = admin
        .put_json(
            "/calendar/2026",
            &json!({ "items": [
                { "day": "2026-12-01", "mark": "off" }, { "day": "2026-12-02", "mark": "off" },
                { "day": "2026-12-03", "mark": "off" } ] }),
        )
        .await;
    assert_eq!(calendar.status, StatusCode::OK, "{}", calendar.body);
    assert_eq!(
        staff
            .put_json("/calendar/2026", &json!({ "items": [] }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let assigned = step(
        &staff,
        joint,
        json!({ "action": "assign", "department_id": department }),
    )
    .await;
    assert_eq!(assigned.status, StatusCode::OK, "{}", assigned.body);
    assert_eq!(assigned.json()["due_on"], "2026-12-24");
    assert_eq!(assigned.json()["department"]["name"], "市住房和城乡建设局");
    assert!(
        assigned.json()["actions"]
            .as_array()
            .unwrap()
            .contains(&json!("answer")),
        "{}",
        assigned.body
    );
    // An archived department is not offered again.
    assert_eq!(
        admin
            .delete(&format!("/departments/{department}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(admin.get("/departments").await.json()["total"], 0);
    app.finish().await;
}

/// Every action a workflow names, for the random walk to try (allowed or not).
const ACTIONS: [&str; 11] = [
    "accept", "return", "merge", "withdraw", "assign", "reassign", "escalate", "answer", "rate",
    "reopen", "close",
];

async fn random_steps_keep_every_case_in_a_defined_state(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let actors = [
        member.clone(),
        app.api("xincheng").await,
        app.api("admin").await,
        app.api("saihan").await,
    ];
    let handler = app.unit("150105").await.id;
    let workflow = actors[2].get("/case-types").await.json()["items"][0]["workflow"].clone();
    let states: Vec<String> = workflow["states"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_owned())
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(14);
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            submit(&member, &format!("随机建议{n}")).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    for _ in 0..60 {
        let id = ids[rng.random_range(0..ids.len())];
        let actor = &actors[rng.random_range(0..actors.len())];
        let action = ACTIONS[rng.random_range(0..ACTIONS.len())];
        let other = ids.iter().copied().find(|o| *o != id).unwrap();
        let body = json!({ "action": action, "body": "随机说明", "unit_id": handler,
                           "merge_into": other, "satisfaction": "not_satisfied" });
        let reply = step(actor, id, body).await;
        assert!(
            matches!(reply.status.as_u16(), 200 | 403 | 404 | 409 | 422),
            "{action}: {} {}",
            reply.status,
            reply.body
        );
        // The case is in a state its workflow defines, and its timeline leads there step by
        // step from the start.
        let case = actors[2].get(&format!("/cases/{id}")).await.json();
        let state = case["state"].as_str().unwrap();
        assert!(states.iter().any(|s| s == state), "{state}");
        let mut at = workflow["start"].as_str().unwrap().to_owned();
        for event in case["timeline"].as_array().unwrap() {
            if let (Some(from), Some(to)) = (event["from"].as_str(), event["to"].as_str()) {
                assert_eq!(from, at, "{}", case["timeline"]);
                at = to.to_owned();
            }
        }
        assert_eq!(at, state, "{}", case["timeline"]);
    }
    app.finish().await;
}

engine_tests!(
    a_suggestion_goes_from_submission_to_a_rated_answer,
    members_and_staff_work_cases_from_their_pages,
    merges_departments_co_submitters_and_the_calendar,
    steps_and_input_the_channel_refuses,
    deadlines_are_reminded_and_marked_as_the_days_pass,
    random_steps_keep_every_case_in_a_defined_state,
);
