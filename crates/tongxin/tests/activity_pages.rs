//! The pages of issue 4 as people use them: planning and running an activity, the member's QR
//! scan, the calendar and its iCalendar feed, a campaign's coverage page with "plan next batch",
//! and the material library; each refusing what is outside the user's subtree. Both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::{linked_member, plan, setup};
use common::{Engine, TestApp};
use reqwest::StatusCode;
use serde_json::json;

fn location(reply: &common::Reply) -> String {
    reply.location.clone().unwrap_or_default()
}

async fn staff_plan_and_run_an_activity_from_the_pages(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, people, _) = setup(&app).await;
    let browser = app.login("xincheng").await;
    let kind_text = kind.to_string();
    // A refused form keeps what was typed and says what is wrong.
    let refused = browser
        .submit(
            "/activities/new",
            "/activities/new",
            &[
                ("title", "界别委员读书会"),
                ("kind_id", &kind_text),
                ("unit_code", "150102"),
                ("starts_at", "2026-12-08T15:00"),
                ("ends_at", "2026-12-08T14:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Several problems are summed up in the form's order, whatever order the checks ran in.
    let several = browser
        .submit(
            "/activities/new",
            "/activities/new",
            &[
                ("title", ""),
                ("kind_id", &kind_text),
                ("unit_code", ""),
                ("starts_at", "2026-12-08T15:00"),
                ("ends_at", "soon"),
            ],
        )
        .await;
    common::assert_summary_order(&several.body, &["activity_title", "unit", "ends_at"]);
    assert!(
        refused.body.contains("结束时间必须晚于开始时间"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("界别委员读书会"));
    let created = browser
        .submit(
            "/activities/new",
            "/activities/new",
            &[
                ("title", "界别委员读书会"),
                ("kind_id", &kind_text),
                ("unit_code", "150102"),
                ("starts_at", "2026-12-08T14:00"),
                ("ends_at", "2026-12-08T16:00"),
                ("place", "新城区图书馆"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page_path = location(&created);
    let id: i64 = page_path.rsplit('/').next().unwrap().parse().unwrap();
    // Nothing but a place: no empty box of details.
    let fresh = browser.get(&page_path).await.body;
    assert!(fresh.contains("新城区图书馆") && !fresh.contains("<dl class=\"details\">"));

    // Invite by filter: the sector within 新城区.
    let sector_text = sector.to_string();
    // A filter without a unit asks for one rather than saying it was not found.
    let no_unit = browser
        .submit(
            &page_path,
            &format!("/activities/{id}/invitations"),
            &[("by", "filter"), ("unit_code", " ")],
        )
        .await;
    assert_eq!(no_unit.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_unit.body.contains("请填写") && !no_unit.body.contains("找不到"),
        "{}",
        no_unit.body
    );
    let invited = browser
        .submit(
            &page_path,
            &format!("/activities/{id}/invitations"),
            &[
                ("by", "filter"),
                ("unit_code", "150102"),
                ("sector", &sector_text),
                ("save_as", "新城区民主党派"),
            ],
        )
        .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let shown = browser.get(&location(&invited)).await;
    assert!(shown.body.contains("已新邀请 2 人"), "{}", shown.body);
    assert!(shown.body.contains("王芳") && shown.body.contains("李强"));
    assert!(shown.body.contains("按常用条件邀请") && shown.body.contains("新城区民主党派"));
    // Picking: search, then tick.
    let picking = browser.get(&format!("{page_path}?pick=zhao")).await;
    assert!(picking.body.contains("赵敏"), "{}", picking.body);
    let third = people[2].to_string();
    let picked = browser
        .submit(
            &page_path,
            &format!("/activities/{id}/invitations"),
            &[("by", "people"), ("person", &third)],
        )
        .await;
    assert_eq!(picked.status, StatusCode::SEE_OTHER);

    // Bulk marking of the ticked rows.
    let (first, second) = (people[0].to_string(), people[1].to_string());
    let marked = browser
        .submit(
            &page_path,
            &format!("/activities/{id}/attendance"),
            &[
                ("person", &first),
                ("person", &second),
                ("status", "attended"),
            ],
        )
        .await;
    assert_eq!(marked.status, StatusCode::SEE_OTHER, "{}", marked.body);
    let shown = browser.get(&location(&marked)).await;
    assert!(
        shown.body.contains("已更新 2 人的出席情况"),
        "{}",
        shown.body
    );
    let export = browser
        .submit(
            &format!("/activities/{id}"),
            &format!("/activities/{id}/attendance/export"),
            &[("format", "csv")],
        )
        .await;
    assert!(
        export.body.contains("李强,光明社区,出席"),
        "{}",
        export.body
    );

    // Held once it has begun (2026-12-08 14:00 in Beijing), then summarized; the minutes show.
    app.clock.advance_minutes(9 * 24 * 60);
    let browser = app.login("xincheng").await;
    let held = browser
        .submit(
            &page_path,
            &format!("/activities/{id}/state"),
            &[("state", "held")],
        )
        .await;
    assert_eq!(held.status, StatusCode::SEE_OTHER);
    let summarized = browser
        .submit(
            &page_path,
            &format!("/activities/{id}/state"),
            &[("state", "summarized"), ("minutes", "到会 3 人。")],
        )
        .await;
    assert_eq!(summarized.status, StatusCode::SEE_OTHER);
    let shown = browser.get(&page_path).await;
    assert!(shown.body.contains("到会 3 人。") && shown.body.contains("已总结"));
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let photo = browser
        .upload(
            &page_path,
            &format!("/activities/{id}/photos"),
            "合影.jpg",
            png,
            &[],
        )
        .await;
    assert_eq!(photo.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        photo.body.contains("照片的内容与扩展名不符"),
        "{}",
        photo.body
    );

    // Past its check-in window the room's screen says so instead of showing a code; the list
    // and calendar show the activity.
    let screen = browser.get(&format!("/activities/{id}/check-in")).await;
    assert!(
        screen.body.contains("签到已于 2026-12-08 17:00 结束") && !screen.body.contains("<svg"),
        "{}",
        screen.body
    );
    let list = browser.get("/activities").await;
    assert!(list.body.contains("界别委员读书会"));
    let month = browser
        .get("/activities/calendar?view=month&date=2026-12-01")
        .await;
    assert!(
        month.body.contains("14:00 界别委员读书会"),
        "{}",
        month.body
    );
    let week = browser
        .get("/activities/calendar?view=week&date=2026-12-09")
        .await;
    assert!(week.body.contains("界别委员读书会"));
    let other_week = browser
        .get("/activities/calendar?view=week&date=2026-12-20")
        .await;
    assert!(!other_week.body.contains("界别委员读书会"));

    // Another county sees none of it.
    let saihan = app.login("saihan").await;
    for path in [
        page_path.clone(),
        format!("/activities/{id}/check-in"),
        format!("/activities/{id}/check-in/staff"),
        format!("/activities/{id}/edit"),
    ] {
        assert_eq!(
            saihan.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let export = saihan
        .submit(
            "/",
            &format!("/activities/{id}/attendance/export"),
            &[("format", "csv")],
        )
        .await;
    assert_eq!(export.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

async fn a_member_scans_logs_in_and_is_checked_in_once(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    let id = plan(
        &staff,
        &app,
        kind,
        json!({ "title": "同心大讲堂", "starts_at": "2026-11-30T15:30", "ends_at": "2026-11-30T17:00" }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    staff
        .post_json(
            &format!("/activities/{id}/invitations"),
            &json!({ "person_ids": [person] }),
        )
        .await;
    let link = staff
        .post_json(&format!("/activities/{id}/check-in-link"), &json!({}))
        .await
        .json();
    let url = link["url"].as_str().unwrap();
    let path = &url[url.find("/check-in").unwrap()..];

    // The room's screen: the code while check-in is open, the count beside it, no menus,
    // refreshed every 30 seconds (each code is valid for 90), and a warning that without a
    // public address the code points at the listen address.
    let room = app.login("xincheng").await;
    let screen = room.get(&format!("/activities/{id}/check-in")).await.body;
    for shown in [
        "<svg",
        "/check-in?a=",
        r#"<meta http-equiv="refresh" content="30">"#,
        "<p class=\"room-count\" role=\"status\"><strong>0</strong> 人已签到</p>",
        "尚未设置公开地址",
    ] {
        assert!(screen.contains(shown), "{shown}: {screen}");
    }
    assert!(!screen.contains("id=\"nav\"") && !screen.contains("class=\"topbar\""));

    // The phone is not logged in: the scan leads to the login page and back.
    let phone = app.browser();
    let first = phone.get(path).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert!(
        location(&first).starts_with("/login?next="),
        "{}",
        location(&first)
    );
    let login = phone.login("xincheng.member", common::PASSWORD).await;
    assert_eq!(login.status, StatusCode::SEE_OTHER);
    let page = phone.get(path).await;
    assert_eq!(page.status, StatusCode::OK);
    // What, when and where, and that check-in is open, before the button.
    let before_button = &page.body[..page.body.find("确认签到").expect("a button")];
    for shown in [
        "同心大讲堂",
        "2026-11-30 15:30 – 2026-11-30 17:00",
        "区委党校报告厅",
        "2026-11-30 14:30 – 2026-11-30 18:00",
        "现在可以签到",
    ] {
        assert!(before_button.contains(shown), "{shown}: {before_button}");
    }
    let query: Vec<(String, String)> =
        serde_urlencoded::from_str(path.split_once('?').unwrap().1).unwrap();
    let fields: Vec<(&str, &str)> = query
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let done = phone.submit(path, "/check-in", &fields).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(done.body.contains("已签到") && done.body.contains("同心大讲堂"));
    let again = phone.submit(path, "/check-in", &fields).await;
    assert!(again.body.contains("已经签到过了"), "{}", again.body);
    let mine = phone.get("/my-activities").await;
    assert!(mine.body.contains("同心大讲堂") && mine.body.contains("出席"));

    // A link to an activity days away says check-in is not open, with no button to press.
    let later = plan(
        &staff,
        &app,
        kind,
        json!({ "title": "界别协商座谈会", "starts_at": "2026-12-09T09:00", "ends_at": "2026-12-09T11:00" }),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    let link = staff
        .post_json(&format!("/activities/{later}/check-in-link"), &json!({}))
        .await
        .json();
    let url = link["url"].as_str().unwrap();
    let early = phone.get(&url[url.find("/check-in").unwrap()..]).await;
    assert_eq!(early.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        early.body.contains("界别协商座谈会")
            && early.body.contains("暂时无法签到")
            && early.body.contains("现在不在签到时间内")
            && !early.body.contains("确认签到"),
        "{}",
        early.body
    );

    // A forged link says so.
    let mut forged = fields.clone();
    forged.retain(|(k, _)| *k != "sig");
    forged.push(("sig", "00"));
    let refused = phone.submit(path, "/check-in", &forged).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("签到链接无效"), "{}", refused.body);
    app.finish().await;
}

async fn the_calendar_feed_subscribes_without_a_login(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let staff = app.api("xincheng").await;
    plan(&staff, &app, kind, json!({})).await;
    let browser = app.login("xincheng").await;
    let page = browser.get("/calendar").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/ical/"), "no feed before one is made");
    let made = browser.submit("/calendar", "/calendar/reset", &[]).await;
    assert_eq!(made.status, StatusCode::OK);
    let start = made.body.find("/ical/").unwrap();
    let feed_path: String = made.body[start..start + 6 + 64].to_owned();
    // The address is shown once: the database keeps only its hash.
    let again = browser.get("/calendar").await;
    assert!(!again.body.contains("/ical/"), "{}", again.body);
    let token = &feed_path["/ical/".len()..];
    assert_eq!(
        app.db
            .raw()
            .await
            .count(&format!(
                "SELECT COUNT(*) FROM users WHERE calendar_token = '{token}'"
            ))
            .await,
        0
    );
    let anonymous = app.browser();
    let feed = anonymous.get(&feed_path).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(
        feed.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    assert!(feed.body.contains("BEGIN:VEVENT"), "{}", feed.body);
    assert!(
        feed.body.contains("SUMMARY:学习贯彻二十大精神研讨会"),
        "{}",
        feed.body
    );
    assert!(
        feed.body.contains("DTSTART:20261205T063000Z"),
        "{}",
        feed.body
    );
    assert!(feed.body.contains("LOCATION:区委党校报告厅"));
    // A new address retires the old one, and so does a password reset.
    let reset = browser.submit("/calendar", "/calendar/reset", &[]).await;
    assert_eq!(reset.status, StatusCode::OK);
    assert_eq!(
        anonymous.get(&feed_path).await.status,
        StatusCode::NOT_FOUND
    );
    let start = reset.body.find("/ical/").unwrap();
    let second: String = reset.body[start..start + 6 + 64].to_owned();
    assert_eq!(anonymous.get(&second).await.status, StatusCode::OK);
    let xincheng_id = staff.get("/me").await.json()["id"].as_i64().unwrap();
    let security_page = app.login("security").await;
    let reset_password = security_page
        .submit(
            &format!("/accounts/{xincheng_id}"),
            &format!("/accounts/{xincheng_id}/reset-password"),
            &[],
        )
        .await;
    assert_eq!(
        reset_password.status,
        StatusCode::OK,
        "{}",
        reset_password.body
    );
    assert_eq!(anonymous.get(&second).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        anonymous
            .get(&format!("/ical/{}", "0".repeat(64)))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

async fn the_campaign_page_shows_coverage_and_plans_the_next_batch(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, ..) = setup(&app).await;
    let browser = app.login("admin").await;
    let sector_text = sector.to_string();
    let empty = browser
        .submit(
            "/campaigns",
            "/campaigns",
            &[
                ("title", "空目标"),
                ("unit_code", "150100"),
                ("starts_on", "2026-11-01"),
                ("ends_on", "2027-01-31"),
                ("target_unit_code", "150105"),
                ("sector", &sector_text),
            ],
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        empty.body.contains("目标人群中没有任何人员"),
        "{}",
        empty.body
    );
    let created = browser
        .submit(
            "/campaigns",
            "/campaigns",
            &[
                ("title", "学习贯彻党的二十大精神"),
                ("unit_code", "150100"),
                ("starts_on", "2026-11-01"),
                ("ends_on", "2027-01-31"),
                ("target_unit_code", "150102"),
                ("sector", &sector_text),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let landing = location(&created);
    let page = browser.get(&landing).await;
    assert!(page.body.contains("已开始主题活动"), "the page says so");
    let path = landing
        .trim_end_matches("?done=campaign_created")
        .to_owned();
    assert!(page.body.contains("海拉尔东路街道"), "{}", page.body);
    assert!(page.body.contains("0.0%"));
    assert!(page.body.contains("王芳") && page.body.contains("李强"));
    let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
    let kind_text = kind.to_string();
    let planned = browser
        .submit(
            &path,
            &format!("/campaigns/{id}/next-batch"),
            &[
                ("title", "第一批集中学习"),
                ("kind_id", &kind_text),
                ("unit_code", "150102001"),
                ("starts_at", "2026-12-10T09:00"),
                ("ends_at", "2026-12-10T11:00"),
            ],
        )
        .await;
    assert_eq!(planned.status, StatusCode::SEE_OTHER, "{}", planned.body);
    let activity = browser.get(&location(&planned)).await;
    assert!(activity.body.contains("已新邀请 2 人"), "{}", activity.body);
    assert!(activity.body.contains("学习贯彻党的二十大精神"));
    // Edit the title and the target; archive and restore.
    let edit = format!("/campaigns/{id}/edit");
    let form = browser.get(&edit).await;
    assert!(form.body.contains("学习贯彻党的二十大精神") && form.body.contains("150102"));
    let backwards = browser
        .submit(
            &edit,
            &edit,
            &[
                ("title", "学习贯彻党的二十大精神（第二阶段）"),
                ("unit_code", "150100"),
                ("starts_on", "2026-11-01"),
                ("ends_on", "2026-10-01"),
                ("target_unit_code", "150102"),
                ("sector", &sector_text),
            ],
        )
        .await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        backwards.body.contains("必须晚于开始时间"),
        "{}",
        backwards.body
    );
    let saved = browser
        .submit(
            &edit,
            &edit,
            &[
                ("title", "学习贯彻党的二十大精神（第二阶段）"),
                ("unit_code", "150100"),
                ("starts_on", "2026-11-01"),
                ("ends_on", "2027-03-31"),
                ("target_unit_code", "150102001"),
                ("sector", &sector_text),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let page = browser.get(&path).await;
    assert!(page.body.contains("（第二阶段）") && page.body.contains("光明社区"));
    let archived = browser
        .submit(
            &edit,
            &format!("/campaigns/{id}/archived"),
            &[("archived", "true")],
        )
        .await;
    assert_eq!(archived.status, StatusCode::SEE_OTHER);
    assert!(
        !browser
            .get("/campaigns")
            .await
            .body
            .contains("（第二阶段）")
    );
    let saihan = app.login("saihan").await;
    assert_eq!(saihan.get(&path).await.status, StatusCode::NOT_FOUND);
    assert_eq!(saihan.get(&edit).await.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

async fn the_library_page_reports_repairs_and_switches_script(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let browser = app.login("xincheng").await;
    let bytes = include_bytes!("fixtures/materials/work-plan.converted-zh-Hant.txt").to_vec();
    let uploaded = browser
        .upload(
            "/materials",
            "/materials",
            "工作计划.txt",
            bytes,
            &[("title", "首府统战工作计划"), ("unit_code", "150102")],
        )
        .await;
    assert_eq!(uploaded.status, StatusCode::OK, "{}", uploaded.body);
    assert!(uploaded.body.contains("修复了 302 处"), "{}", uploaded.body);
    assert!(
        uploaded.body.contains("敢擔當?shù)慕y("),
        "{}",
        uploaded.body
    );
    let start = uploaded.body.find("/materials/").unwrap();
    let end = start + uploaded.body[start..].find('"').unwrap();
    let path = uploaded.body[start..end].to_owned();
    let simplified = browser.get(&path).await;
    assert!(simplified.body.contains("统筹推进"), "{}", simplified.body);
    let traditional = browser.get(&format!("{path}?script=zh-Hant")).await;
    assert!(
        traditional.body.contains("統籌推進")
            && traditional.body.contains("<h1>首府統戰工作計劃</h1>"),
        "the title is converted too: {}",
        traditional.body
    );
    let found = browser
        .get(&format!("/materials?q={}", common::encode("統戰幹部")))
        .await;
    assert!(found.body.contains("首府统战工作计划"));
    let refused = browser
        .upload(
            "/materials",
            "/materials",
            "计划.docx",
            b"plain".to_vec(),
            &[("unit_code", "150102")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("不是有效的 DOCX 文档"),
        "{}",
        refused.body
    );
    let saihan = app.login("saihan").await;
    assert_eq!(saihan.get(&path).await.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

engine_tests!(
    staff_plan_and_run_an_activity_from_the_pages,
    a_member_scans_logs_in_and_is_checked_in_once,
    the_calendar_feed_subscribes_without_a_login,
    the_campaign_page_shows_coverage_and_plans_the_next_batch,
    the_library_page_reports_repairs_and_switches_script,
);
