//! The direct channel beyond handling, over HTTP: research topics that members sign up for in
//! teams and report on; what follows a case: leader instructions, adoption and publication recorded with
//! evidence by the receiving side (and refused to the handler, members and leaders, or without
//! evidence, level or a sensible date); and a supervision finding's rectification plan, whose
//! steps the rectifying unit reports done with evidence and the supervising side checks before
//! the finding can be reported complete and verified; and the figures of the channel for a
//! part of the tree, as JSON, as a page of charts and as XLSX; and surveys a target population
//! answers once, anonymously when the survey says so; and the shared settings page (handling
//! times, the working calendar, outside departments) kept by the top administrator.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::linked_member;
use common::{Api, Engine, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn step(api: &Api, id: i64, body: Value) -> common::Reply {
    api.post_json(&format!("/cases/{id}/transitions"), &body)
        .await
}

async fn ok(reply: common::Reply) -> Value {
    assert!(reply.status.is_success(), "{} {}", reply.status, reply.body);
    reply.json()
}

/// The page a form's redirect leads to, where the done message shows.
async fn followed(browser: &common::Browser, reply: common::Reply) -> common::Reply {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    browser.get(reply.location.as_deref().unwrap()).await
}

fn refused(reply: &common::Reply, code: &str) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(reply.error_code(), code, "{}", reply.body);
}

async fn outcomes_are_recorded_with_evidence_by_the_receiving_side(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    let saihan = app.api("saihan").await;
    let case = ok(member
        .post_json(
            "/cases",
            &json!({ "type": "opinion", "title": "关于农村客运班线的反映", "category": "livelihood",
                     "body": "部分村庄班车停运。" }),
        )
        .await)
    .await;
    let id = case["id"].as_i64().unwrap();
    ok(step(&staff, id, json!({ "action": "accept" })).await).await;
    ok(step(
        &app.api("admin").await,
        id,
        json!({ "action": "assign", "unit_id": app.unit("150105").await.id }),
    )
    .await)
    .await;
    ok(step(
        &saihan,
        id,
        json!({ "action": "answer", "body": "已恢复两条班线。" }),
    )
    .await)
    .await;

    let path = format!("/cases/{id}/outcomes");
    let instruction = json!({ "outcome": "instruction", "level": "city", "on": "2026-11-30",
                              "summary": "请交通局研究落实", "reference": "呼政批〔2026〕12号" });
    // Bad input, each refused with nothing written.
    let raw = app.db.raw().await;
    let count = format!("SELECT COUNT(*) FROM case_outcomes WHERE case_id = {id}");
    let mut no_level = instruction.clone();
    no_level["level"] = Value::Null;
    refused(&staff.post_json(&path, &no_level).await, "required");
    let mut adoption_with_level = instruction.clone();
    adoption_with_level["outcome"] = json!("adoption");
    refused(
        &staff.post_json(&path, &adoption_with_level).await,
        "not_a_choice",
    );
    let mut no_evidence = instruction.clone();
    no_evidence["reference"] = Value::Null;
    refused(&staff.post_json(&path, &no_evidence).await, "required");
    let mut future = instruction.clone();
    future["on"] = json!("2026-12-31");
    refused(&staff.post_json(&path, &future).await, "out_of_range");
    let mut early = instruction.clone();
    early["on"] = json!("2026-11-01");
    refused(
        &staff.post_json(&path, &early).await,
        "due_before_submission",
    );
    let mut bad_date = instruction.clone();
    bad_date["on"] = json!("2026-13-01");
    refused(&staff.post_json(&path, &bad_date).await, "date_format");
    let mut unknown = instruction.clone();
    unknown["outcome"] = json!("praise");
    refused(&staff.post_json(&path, &unknown).await, "not_a_choice");
    // The handler, the member and a leader do not record outcomes; a unit beside it does not
    // even see the case.
    assert_eq!(
        saihan.post_json(&path, &instruction).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        member.post_json(&path, &instruction).await.status,
        StatusCode::FORBIDDEN
    );
    let leader = app.api("saihan.leader").await;
    assert!(matches!(
        leader.post_json(&path, &instruction).await.status,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    assert_eq!(raw.count(&count).await, 0);

    // The receiving unit records the instruction; the city above it records the adoption,
    // with a file of the case as its evidence.
    let recorded = ok(staff.post_json(&path, &instruction).await).await;
    assert_eq!(recorded["level"], "city");
    let file = ok(staff
        .post_bytes(
            &format!("/cases/{id}/files?file_name=采纳通知.txt"),
            "市交通局采纳通知".as_bytes().to_vec(),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    let admin = app.api("admin").await;
    let mut foreign_file = json!({ "outcome": "adoption", "on": "2026-11-30",
                                   "summary": "纳入农村客运提升方案", "file_id": file + 1000 });
    refused(&admin.post_json(&path, &foreign_file).await, "not_found");
    foreign_file["file_id"] = json!(file);
    ok(admin.post_json(&path, &foreign_file).await).await;
    assert_eq!(raw.count(&count).await, 2);

    // Everyone who reads the case reads its outcomes and the timeline explains them.
    let seen = member.get(&format!("/cases/{id}")).await.json();
    let outcomes: Vec<&str> = seen["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["instruction", "adoption"], "{seen}");
    let actions: Vec<&str> = seen["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.ends_with(&["instruction", "file", "adoption"]),
        "{actions:?}"
    );
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM audit_log WHERE action = 'case.outcome'")
            .await,
        2
    );

    // From the case's page: a bulletin publication.
    let browser = app.login("xincheng").await;
    let page = browser.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("呼政批〔2026〕12号"), "{}", page.body);
    let form = browser
        .submit(
            &format!("/cases/{id}"),
            &path,
            &[
                ("outcome", "bulletin"),
                ("level", ""),
                ("on", "2026-11-30"),
                ("summary", "刊发于《社情民意》第 8 期"),
                ("reference", "2026年第8期"),
            ],
        )
        .await;
    let form = followed(&browser, form).await;
    assert!(form.body.contains("已登记"), "{}", form.body);
    let wrong = browser
        .submit(
            &format!("/cases/{id}"),
            &path,
            &[
                ("outcome", "instruction"),
                ("on", "2026-11-30"),
                ("summary", "缺少层级"),
                ("reference", "x"),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("批示层级"), "{}", wrong.body);
    assert_eq!(raw.count(&count).await, 3);
    app.finish().await;
}

async fn a_finding_is_rectified_step_by_step_and_checked(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    let saihan = app.api("saihan").await;
    let finding = ok(staff
        .post_json(
            "/cases",
            &json!({ "type": "supervision", "title": "公交站台无障碍设施缺失", "category": "livelihood",
                     "body": "民主监督发现三处站台缺少盲道。", "submitter_id": person }),
        )
        .await)
    .await;
    let id = finding["id"].as_i64().unwrap();
    ok(step(
        &app.api("admin").await,
        id,
        json!({ "action": "assign", "unit_id": app.unit("150105").await.id }),
    )
    .await)
    .await;
    // No plan yet: the plan step is refused.
    refused(
        &step(&saihan, id, json!({ "action": "plan" })).await,
        "required",
    );
    let plan = format!("/cases/{id}/plan");
    refused(
        &saihan
            .post_json(
                &plan,
                &json!({ "title": "补设盲道", "due_on": "2026-11-01" }),
            )
            .await,
        "due_before_submission",
    );
    refused(
        &saihan
            .post_json(&plan, &json!({ "title": " ", "due_on": "2026-12-20" }))
            .await,
        "required",
    );
    // The supervising side does not write the plan.
    assert_eq!(
        staff
            .post_json(
                &plan,
                &json!({ "title": "补设盲道", "due_on": "2026-12-20" })
            )
            .await
            .status,
        StatusCode::CONFLICT
    );
    let first = ok(saihan
        .post_json(
            &plan,
            &json!({ "title": "补设盲道", "due_on": "2026-12-20" }),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    let second = ok(saihan
        .post_json(
            &plan,
            &json!({ "title": "设置语音提示", "due_on": "2026-12-31" }),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    ok(step(&saihan, id, json!({ "action": "plan", "body": "两项整改" })).await).await;
    // Completion waits for every step.
    let complete = json!({ "action": "complete", "body": "整改完成" });
    refused(
        &step(&saihan, id, complete.clone()).await,
        "plan_unfinished",
    );
    let done = |s: i64| format!("/cases/{id}/plan/{s}/done");
    let check = |s: i64| format!("/cases/{id}/plan/{s}/check");
    refused(
        &saihan.post_json(&done(first), &json!({})).await,
        "required",
    );
    ok(saihan
        .post_json(&done(first), &json!({ "evidence": "已补设盲道 120 米" }))
        .await)
    .await;
    refused(
        &saihan
            .post_json(&done(first), &json!({ "evidence": "再次报告" }))
            .await,
        "already_decided",
    );
    ok(saihan
        .post_json(&done(second), &json!({ "evidence": "已安装" }))
        .await)
    .await;
    // The rectifying unit does not check its own work.
    assert_eq!(
        saihan
            .post_json(&check(first), &json!({ "accept": true }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    ok(staff
        .post_json(&check(first), &json!({ "accept": true }))
        .await)
    .await;
    refused(
        &staff
            .post_json(&check(second), &json!({ "accept": false }))
            .await,
        "required",
    );
    let sent_back = ok(staff
        .post_json(
            &check(second),
            &json!({ "accept": false, "note": "仅安装一处，另两处未见" }),
        )
        .await)
    .await;
    assert_eq!(sent_back["checked"], "rejected");
    assert_eq!(sent_back["done_at"], Value::Null);
    refused(
        &step(&saihan, id, complete.clone()).await,
        "plan_unfinished",
    );
    ok(saihan
        .post_json(&done(second), &json!({ "evidence": "三处均已安装" }))
        .await)
    .await;
    ok(step(&saihan, id, complete).await).await;
    // Verification waits for every step to be checked and accepted.
    refused(
        &step(&staff, id, json!({ "action": "verify" })).await,
        "plan_unfinished",
    );
    ok(staff
        .post_json(&check(second), &json!({ "accept": true }))
        .await)
    .await;
    let closed = ok(step(&staff, id, json!({ "action": "verify" })).await).await;
    assert_eq!(closed["state"], "closed");
    assert!(closed["ended"].as_bool().unwrap());

    let seen = staff.get(&format!("/cases/{id}")).await.json();
    let checked: Vec<&str> = seen["plan"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["checked"].as_str().unwrap())
        .collect();
    assert_eq!(checked, ["accepted", "accepted"]);
    let actions: Vec<&str> = seen["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "submit",
            "assign",
            "plan_step",
            "plan_step",
            "plan",
            "plan_step_done",
            "plan_step_done",
            "plan_step_accepted",
            "plan_step_rejected",
            "plan_step_done",
            "complete",
            "plan_step_accepted",
            "verify"
        ]
    );
    // Once closed, the plan is no longer changed.
    assert_eq!(
        saihan
            .post_json(&plan, &json!({ "title": "追加", "due_on": "2026-12-31" }))
            .await
            .status,
        StatusCode::CONFLICT
    );

    // The finding's page shows the plan and, to the handler, a form per open step.
    let browser = app.login("saihan").await;
    let page = browser.get(&format!("/cases/{id}")).await;
    assert!(page.body.contains("设置语音提示"), "{}", page.body);
    assert!(page.body.contains("核查通过"), "{}", page.body);
    app.finish().await;
}

async fn a_plan_is_worked_from_the_finding_page(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    let id = ok(staff
        .post_json(
            "/cases",
            &json!({ "type": "supervision", "title": "社区食堂卫生问题", "category": "livelihood",
                     "body": "后厨通风不足。", "submitter_id": person }),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    ok(step(
        &app.api("admin").await,
        id,
        json!({ "action": "assign", "unit_id": app.unit("150105").await.id }),
    )
    .await)
    .await;
    let handler = app.login("saihan").await;
    let page = format!("/cases/{id}");
    let added = handler
        .submit(
            &page,
            &format!("/cases/{id}/plan"),
            &[("title", "加装排风设备"), ("due_on", "2026-12-15")],
        )
        .await;
    let added = followed(&handler, added).await;
    assert!(added.body.contains("已添加整改步骤"), "{}", added.body);
    let bad = handler
        .submit(
            &page,
            &format!("/cases/{id}/plan"),
            &[("title", "加装排风设备"), ("due_on", "十二月")],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let step_id = app
        .db
        .raw()
        .await
        .count(&format!(
            "SELECT id FROM case_plan_steps WHERE case_id = {id}"
        ))
        .await;
    let marked = handler
        .submit(
            &page,
            &format!("/cases/{id}/plan/{step_id}/done"),
            &[("evidence", "已安装两台排风扇")],
        )
        .await;
    let marked = followed(&handler, marked).await;
    assert!(marked.body.contains("已报告该步骤完成"), "{}", marked.body);
    assert!(marked.body.contains("已安装两台排风扇"), "{}", marked.body);
    app.finish().await;
}

async fn figures_count_the_callers_part_of_the_tree(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    let saihan = app.api("saihan").await;
    let admin = app.api("admin").await;
    let answered = ok(member
        .post_json(
            "/cases",
            &json!({ "type": "suggestion", "title": "关于增设公交线路的建议", "category": "livelihood",
                     "body": "新建小区出行不便。" }),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    ok(member
        .post_json(
            "/cases",
            &json!({ "type": "opinion", "title": "群众反映停车难", "category": "society",
                     "body": "老旧小区停车位不足。" }),
        )
        .await)
    .await;
    ok(step(&staff, answered, json!({ "action": "accept" })).await).await;
    ok(step(
        &admin,
        answered,
        json!({ "action": "assign", "unit_id": app.unit("150105").await.id }),
    )
    .await)
    .await;
    ok(step(
        &saihan,
        answered,
        json!({ "action": "answer", "body": "已开通新线路。" }),
    )
    .await)
    .await;
    ok(step(
        &member,
        answered,
        json!({ "action": "rate", "satisfaction": "satisfied" }),
    )
    .await)
    .await;
    ok(staff
        .post_json(
            &format!("/cases/{answered}/outcomes"),
            &json!({ "outcome": "instruction", "level": "city", "on": "2026-11-30",
                     "summary": "请交通局落实", "reference": "批字12号" }),
        )
        .await)
    .await;

    // The district that received both: two cases, one answered on its due date's right side,
    // one satisfied rating, one city-level instruction.
    let figures = ok(staff.get("/cases/statistics").await).await;
    assert_eq!(figures["total"], 2, "{figures}");
    assert_eq!(figures["answered"], 1);
    assert_eq!(figures["median_working_days"], 0.0);
    assert_eq!(figures["on_time"]["rate"], 100.0);
    assert_eq!(figures["satisfaction"]["rate"], 100.0);
    assert_eq!(figures["outcomes"]["instructions"], 1);
    let levels = &figures["outcomes"]["instructions_by_level"];
    assert_eq!(
        levels[1],
        json!({ "key": "city", "label": "city", "count": 1 })
    );
    let types: Vec<(&str, u64)> = figures["by_type"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap(), t["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        types,
        [
            ("suggestion", 1),
            ("opinion", 1),
            ("research", 0),
            ("direct", 0),
            ("supervision", 0)
        ]
    );
    // The member's person is in no sector: both cases count there, by sector and outcome.
    assert_eq!(
        figures["by_sector"],
        json!([{ "key": "none", "label": "", "count": 2 }])
    );
    assert_eq!(figures["outcomes"]["by_sector"][0]["instructions"], 1);
    let township = &figures["by_unit"][0];
    assert_eq!(township["label"], app.unit("150102001").await.name);
    assert_eq!(township["count"], 2);
    // The city counts them under the district; the handling district received none; a
    // period after they were submitted holds none.
    let city = ok(admin.get("/cases/statistics").await).await;
    assert_eq!(city["total"], 2);
    assert_eq!(city["by_unit"][0]["label"], app.unit("150102").await.name);
    assert_eq!(ok(saihan.get("/cases/statistics").await).await["total"], 0);
    let later = ok(admin.get("/cases/statistics?from=2026-12-01").await).await;
    assert_eq!(later["total"], 0);
    let only = ok(admin.get("/cases/statistics?type=opinion").await).await;
    assert_eq!(only["total"], 1);
    // Leaders read figures; members do not; another subtree is refused by name.
    assert_eq!(
        app.api("saihan.leader")
            .await
            .get("/cases/statistics")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        member.get("/cases/statistics").await.status,
        StatusCode::FORBIDDEN
    );
    let outside = format!("/cases/statistics?unit_id={}", app.unit("150105").await.id);
    refused(&staff.get(&outside).await, "not_found");
    refused(
        &staff.get("/cases/statistics?from=2026-13-01").await,
        "date_format",
    );
    refused(
        &staff
            .get("/cases/statistics?from=2026-12-01&to=2026-11-01")
            .await,
        "ends_before_start",
    );
    refused(
        &staff.get("/cases/statistics?type=praise").await,
        "not_a_choice",
    );

    // The page draws the charts; the export is a workbook.
    let browser = app.login("xincheng").await;
    let page = browser.get("/cases/statistics").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("<svg"), "{}", page.body);
    assert!(page.body.contains("建言献策"), "{}", page.body);
    assert!(page.body.contains("100.0%"), "{}", page.body);
    let bad = browser.get("/cases/statistics?from=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let export = browser
        .get("/cases/statistics/export?type=suggestion")
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.headers["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml"),
        "{:?}",
        export.headers
    );
    assert!(export.body.starts_with("PK"));
    app.finish().await;
}

async fn members_sign_up_for_a_topic_in_teams_and_report(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    // A second member of the district, to share a team.
    let village = app.unit("150102001001").await.id;
    let mate_person = ok(staff
        .post_json("/people", &json!({ "unit_id": village, "name": "吴桐" }))
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    common::records::account(&app, "xincheng.mate", "150102", tongxin_core::Role::Member).await;
    ok(staff
        .put_json(
            &format!("/people/{mate_person}/member"),
            &json!({ "username": "xincheng.mate" }),
        )
        .await)
    .await;
    let mate = app.api("xincheng.mate").await;

    // Staff publish; bad input is refused; members cannot publish.
    let topics = "/research-topics";
    refused(
        &staff
            .post_json(
                topics,
                &json!({ "title": "课题", "body": "说明", "due_on": "2026-11-01" }),
            )
            .await,
        "out_of_range",
    );
    refused(
        &staff
            .post_json(
                topics,
                &json!({ "title": "", "body": "说明", "due_on": "2026-12-31" }),
            )
            .await,
        "required",
    );
    assert_eq!(
        member
            .post_json(
                topics,
                &json!({ "title": "课题", "body": "说明", "due_on": "2026-12-31" })
            )
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let topic = ok(staff
        .post_json(
            topics,
            &json!({ "title": "社区养老服务调研", "body": "围绕居家养老开展调研。", "due_on": "2026-12-04" }),
        )
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    // The unit beside the district does not see it; the member does.
    assert_eq!(
        app.api("saihan")
            .await
            .get(&format!("{topics}/{topic}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = ok(member.get(topics).await).await;
    assert_eq!(listed["items"][0]["id"], topic, "{listed}");

    // A report before joining a team is refused; so is a report of another type.
    let report = json!({ "type": "research", "title": "社区养老服务调研报告", "category": "society",
                         "body": "调研发现……", "topic_id": topic });
    refused(&member.post_json("/cases", &report).await, "required");
    let teams = format!("{topics}/{topic}/teams");
    let team = ok(member
        .post_json(&teams, &json!({ "name": "银龄小组" }))
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    refused(
        &member
            .post_json(&teams, &json!({ "name": "第二小组" }))
            .await,
        "repeated",
    );
    refused(
        &mate.post_json(&teams, &json!({ "name": "银龄小组" })).await,
        "taken",
    );
    assert_eq!(
        staff
            .post_json(&teams, &json!({ "name": "员工组" }))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let join = format!("{topics}/{topic}/teams/{team}/members");
    assert_eq!(
        mate.post_json(&join, &json!({})).await.status,
        StatusCode::NO_CONTENT
    );
    refused(&mate.post_json(&join, &json!({})).await, "repeated");
    let mut wrong_type = report.clone();
    wrong_type["type"] = json!("suggestion");
    refused(
        &member.post_json("/cases", &wrong_type).await,
        "not_a_choice",
    );

    // The report is a research case linked to the topic, the teammate its co-submitter.
    let case = ok(member.post_json("/cases", &report).await).await;
    assert_eq!(case["type"], "research");
    assert_eq!(case["cosubmitters"][0]["name"], "吴桐", "{case}");
    let detail = ok(staff.get(&format!("{topics}/{topic}")).await).await;
    assert_eq!(detail["reports"][0]["id"], case["id"], "{detail}");
    assert_eq!(detail["teams"][0]["members"], json!(["周明", "吴桐"]));

    // From the portal: the member sees their team and the report link; past the deadline
    // neither joining nor reporting is taken.
    let phone = app.login("xincheng.member").await;
    let page = phone.get("/my-research").await;
    assert!(page.body.contains("银龄小组"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("/my-submissions/new?topic_id={topic}")),
        "{}",
        page.body
    );
    let form = phone
        .get(&format!("/my-submissions/new?topic_id={topic}"))
        .await;
    assert!(form.body.contains("name=\"topic_id\""), "{}", form.body);
    app.clock.advance_minutes(5 * 24 * 60);
    let late = app.api("xincheng.member").await;
    refused(&late.post_json("/cases", &report).await, "past_deadline");
    refused(
        &app.api("xincheng.mate")
            .await
            .post_json(&teams, &json!({ "name": "迟到组" }))
            .await,
        "past_deadline",
    );
    // The staff page lists the topic as closed with its team and report.
    let desk = app.login("xincheng").await;
    let list = desk.get(topics).await;
    assert!(list.body.contains("社区养老服务调研"), "{}", list.body);
    assert!(list.body.contains("已截止"), "{}", list.body);
    let shown = desk.get(&format!("{topics}/{topic}")).await;
    assert!(shown.body.contains("吴桐"), "{}", shown.body);
    app.finish().await;
}

async fn a_population_answers_a_survey_once_and_anonymously(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    linked_member(&app).await;
    let member = app.api("xincheng.member").await;
    let staff = app.api("xincheng").await;
    let questions = json!([
        { "kind": "single", "prompt": "您对社区养老服务满意吗？", "choices": ["满意", "一般", "不满意"], "required": true },
        { "kind": "multiple", "prompt": "您最需要哪些服务？", "choices": ["助餐", "助医", "助浴"], "required": true },
        { "kind": "text", "prompt": "其他建议", "required": false }
    ]);
    let survey = |anonymous: bool, extra: Value| {
        let mut body = json!({ "title": "社区养老服务需求调查", "intro": "请如实填写。",
            "anonymous": anonymous, "closes_on": "2026-12-10", "questions": questions.clone() });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        body
    };
    // Bad input, refused whole.
    let raw = app.db.raw().await;
    refused(
        &staff
            .post_json("/surveys", &survey(true, json!({ "questions": [] })))
            .await,
        "required",
    );
    refused(
        &staff
            .post_json(
                "/surveys",
                &survey(
                    true,
                    json!({ "questions": [
                { "kind": "single", "prompt": "只有一个选项", "choices": ["是"] }] }),
                ),
            )
            .await,
        "too_short",
    );
    let text_with_choices = staff
        .post_json(
            "/surveys",
            &survey(
                true,
                json!({ "questions": [
            { "kind": "text", "prompt": "填空题", "choices": ["甲", "乙"] }] }),
            ),
        )
        .await;
    refused(&text_with_choices, "not_a_choice");
    assert!(
        text_with_choices.error_message().contains("填空题"),
        "{}",
        text_with_choices.body
    );
    refused(
        &staff
            .post_json(
                "/surveys",
                &survey(true, json!({ "closes_on": "2026-11-01" })),
            )
            .await,
        "out_of_range",
    );
    assert_eq!(
        member
            .post_json("/surveys", &survey(true, json!({})))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(raw.count("SELECT COUNT(*) FROM surveys").await, 0);

    let anonymous = ok(staff.post_json("/surveys", &survey(true, json!({}))).await).await;
    let id = anonymous["id"].as_i64().unwrap();
    let q: Vec<i64> = anonymous["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    // The district beside does not see it; the member is asked.
    assert_eq!(
        app.api("saihan")
            .await
            .get(&format!("/surveys/{id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = ok(member.get("/surveys").await).await;
    assert_eq!(listed["items"][0]["id"], id, "{listed}");
    let answers = format!("/surveys/{id}/answers");
    let answer = |a: Value, b: Value, c: Value| json!({ "answers": { q[0].to_string(): a, q[1].to_string(): b, q[2].to_string(): c } });
    refused(
        &member
            .post_json(&answers, &answer(json!([]), json!([0]), json!("")))
            .await,
        "required",
    );
    refused(
        &member
            .post_json(&answers, &answer(json!([0, 1]), json!([0]), json!("")))
            .await,
        "not_a_choice",
    );
    refused(
        &member
            .post_json(&answers, &answer(json!([7]), json!([0]), json!("")))
            .await,
        "not_a_choice",
    );
    assert_eq!(raw.count("SELECT COUNT(*) FROM survey_takers").await, 0);
    assert_eq!(
        member
            .post_json(
                &answers,
                &answer(json!([0]), json!([0, 2]), json!("希望增加上门服务"))
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    refused(
        &member
            .post_json(&answers, &answer(json!([1]), json!([1]), json!("")))
            .await,
        "already_decided",
    );
    assert_eq!(
        staff
            .post_json(&answers, &answer(json!([1]), json!([1]), json!("")))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let results = ok(staff.get(&format!("/surveys/{id}/results")).await).await;
    assert_eq!(results["survey"]["respondents"], 1);
    assert_eq!(results["questions"][0]["counts"], json!([1, 0, 0]));
    assert_eq!(results["questions"][1]["counts"], json!([1, 0, 1]));
    assert_eq!(
        results["questions"][2]["texts"],
        json!(["希望增加上门服务"])
    );
    // Anonymous: who answered is kept, never with what.
    assert_eq!(raw.count("SELECT COUNT(*) FROM survey_takers").await, 1);
    assert_eq!(raw.count("SELECT COUNT(*) FROM survey_responses").await, 0);
    // A named survey keeps each person's answers.
    let named = ok(staff.post_json("/surveys", &survey(false, json!({}))).await).await;
    let named_q: Vec<i64> = named["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_i64().unwrap())
        .collect();
    let named_id = named["id"].as_i64().unwrap();
    assert_eq!(
        member
            .post_json(
                &format!("/surveys/{named_id}/answers"),
                &json!({ "answers": { named_q[0].to_string(): [2], named_q[1].to_string(): [1] } }),
            )
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(raw.count("SELECT COUNT(*) FROM survey_responses").await, 1);
    // A survey for a sector the member is not in does not reach them.
    let sector = ok(app
        .api("admin")
        .await
        .post_json("/sectors", &json!({ "code": "zongjiao", "name": "宗教界" }))
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    let narrowed = ok(staff
        .post_json("/surveys", &survey(true, json!({ "sector_ids": [sector] })))
        .await)
    .await["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        member.get(&format!("/surveys/{narrowed}")).await.status,
        StatusCode::NOT_FOUND
    );
    // Closed early, or past its day: no more answers.
    assert_eq!(
        staff
            .post_json(&format!("/surveys/{narrowed}/close"), &json!({}))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let later = ok(staff.post_json("/surveys", &survey(true, json!({}))).await).await;
    let later_q = later["questions"][0]["id"].as_i64().unwrap();
    let later_id = later["id"].as_i64().unwrap();

    // From the pages: the member answers the last one on the phone; staff read the charts.
    let phone = app.login("xincheng.member").await;
    let home = phone.get("/my-activities").await;
    assert!(
        home.body.contains(&format!("/my-surveys/{later_id}")),
        "{}",
        home.body
    );
    let list = phone.get("/my-surveys").await;
    assert!(list.body.contains("社区养老服务需求调查"), "{}", list.body);
    let form_page = format!("/my-surveys/{later_id}");
    let missing = phone.submit(&form_page, &form_page, &[]).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.body.contains("您对社区养老服务满意吗"),
        "{}",
        missing.body
    );
    let sent = phone
        .submit(
            &form_page,
            &form_page,
            &[
                (&format!("q{later_q}"), "1"),
                (&format!("q{}", later_q + 1), "0"),
                (&format!("q{}", later_q + 1), "1"),
            ],
        )
        .await;
    let sent = followed(&phone, sent).await;
    assert!(sent.body.contains("谢谢参与"), "{}", sent.body);
    let desk = app.login("xincheng").await;
    let shown = desk.get(&format!("/surveys/{later_id}")).await;
    assert!(shown.body.contains("<svg"), "{}", shown.body);
    let export = desk.get(&format!("/surveys/{later_id}/export")).await;
    assert!(export.body.starts_with("PK"));
    app.clock.advance_minutes(12 * 24 * 60);
    refused(
        &app.api("xincheng.member")
            .await
            .post_json(&answers, &answer(json!([1]), json!([1]), json!("")))
            .await,
        "past_deadline",
    );
    app.finish().await;
}

async fn the_top_administrator_keeps_the_channel_settings_from_a_page(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.login("admin").await;
    let page = "/cases/settings";
    let shown = admin.get(page).await;
    assert!(shown.body.contains("建言献策"), "{}", shown.body);
    // Handling time: refused when not a number of days, saved otherwise (workflow kept).
    let types = "/cases/settings/types";
    let wrong = admin
        .submit(
            page,
            types,
            &[("type", "suggestion"), ("default_days", "十五")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let zero = admin
        .submit(
            page,
            types,
            &[("type", "suggestion"), ("default_days", "0")],
        )
        .await;
    assert_eq!(zero.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = admin
        .submit(
            page,
            types,
            &[("type", "suggestion"), ("default_days", "12")],
        )
        .await;
    assert!(
        followed(&admin, saved)
            .await
            .body
            .contains("已保存办理时限")
    );
    let api = app.api("admin").await;
    let kinds = ok(api.get("/case-types").await).await;
    let suggestion = kinds["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "suggestion")
        .unwrap()
        .clone();
    assert_eq!(suggestion["default_days"], 12);
    // The calendar, line by line; a wrong line is named and nothing is saved.
    let calendar = "/cases/settings/calendar";
    let bad = admin
        .submit(
            &format!("{page}?year=2027"),
            calendar,
            &[
                ("year", "2027"),
                ("marks", "2027-02-14 work\n2027-02-30 off"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("2027-02-30 off"), "{}", bad.body);
    let good = admin
        .submit(
            &format!("{page}?year=2027"),
            calendar,
            &[
                ("year", "2027"),
                ("marks", "2027-02-14 work\n2027-02-16 off"),
            ],
        )
        .await;
    assert!(followed(&admin, good).await.body.contains("2027-02-16 off"));
    let marks = ok(api.get("/calendar/2027").await).await;
    assert_eq!(marks["items"].as_array().unwrap().len(), 2, "{marks}");
    // Outside departments, added and retired.
    let added = admin
        .submit(
            page,
            "/cases/settings/departments",
            &[("name", "市交通运输局")],
        )
        .await;
    assert!(followed(&admin, added).await.body.contains("市交通运输局"));
    let taken = admin
        .submit(
            page,
            "/cases/settings/departments",
            &[("name", "市交通运输局")],
        )
        .await;
    assert_eq!(taken.status, StatusCode::UNPROCESSABLE_ENTITY);
    let id = ok(api.get("/departments").await).await["items"][0]["id"]
        .as_i64()
        .unwrap();
    let retired = admin
        .submit(
            page,
            &format!("/cases/settings/departments/{id}/archive"),
            &[],
        )
        .await;
    assert!(
        !followed(&admin, retired)
            .await
            .body
            .contains("市交通运输局")
    );
    // Staff read the page; they keep nothing.
    let desk = app.login("xincheng").await;
    let read = desk.get(page).await;
    assert!(read.body.contains("readonly"), "{}", read.body);
    let refused_change = desk
        .submit(
            page,
            types,
            &[("type", "suggestion"), ("default_days", "5")],
        )
        .await;
    assert_eq!(refused_change.status, StatusCode::FORBIDDEN);
    app.finish().await;
}

engine_tests!(
    the_top_administrator_keeps_the_channel_settings_from_a_page,
    a_population_answers_a_survey_once_and_anonymously,
    members_sign_up_for_a_topic_in_teams_and_report,
    outcomes_are_recorded_with_evidence_by_the_receiving_side,
    a_finding_is_rectified_step_by_step_and_checked,
    a_plan_is_worked_from_the_finding_page,
    figures_count_the_callers_part_of_the_tree,
);
