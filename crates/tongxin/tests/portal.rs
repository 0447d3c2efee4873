//! The member portal and the phone layout as people meet them: a member lands on what awaits
//! them, greeted by the name on record, with a bottom bar and none of the staff chrome; staff
//! get a menu drawer and lists that fold into cards. Both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::{linked_member, plan, setup, start_campaign};
use common::{Engine, TestApp};
use reqwest::StatusCode;
use serde_json::json;

/// The text of the element that starts with `open` up to the next `close`.
fn section<'a>(page: &'a str, open: &str, close: &str) -> &'a str {
    let start = page
        .find(open)
        .unwrap_or_else(|| panic!("no {open} in {page}"));
    let rest = &page[start..];
    &rest[..rest.find(close).map_or(rest.len(), |end| end + close.len())]
}

async fn members_land_on_what_awaits_them(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;

    // Not yet linked to a record: the portal still works, under the account's name.
    let browser = app.login("xincheng.member").await;
    let home = browser.get("/").await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.location.as_deref(), Some("/my-activities"));
    let page = browser.get("/my-activities").await.body;
    let bar = section(&page, "<nav class=\"bottom-bar\"", "</nav>");
    for link in [
        "/my-activities\" aria-current=\"page\"",
        "/my-submissions\"",
        "/me\"",
    ] {
        assert!(bar.contains(&format!("href=\"{link}")), "{link}: {bar}");
    }
    for staff_chrome in [
        "href=\"/directory\"",
        "class=\"current-unit\"",
        "id=\"nav\"",
    ] {
        assert!(!page.contains(staff_chrome), "{staff_chrome}: {page}");
    }
    assert!(page.contains("您目前没有收到活动邀请"), "{page}");

    // Linked and invited: greeted by the person's name, the next activity on top and the
    // invitation under "awaiting your answer" with its buttons.
    let person = linked_member(&app).await;
    let staff = app.api("xincheng").await;
    let id = plan(&staff, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let invited = staff
        .post_json(
            &format!("/activities/{id}/invitations"),
            &json!({ "person_ids": [person] }),
        )
        .await;
    assert!(invited.status.is_success(), "{}", invited.body);
    let page = browser.get("/my-activities").await.body;
    assert!(page.contains("<h1>您好，周明</h1>"), "{page}");
    let next = section(&page, "<section class=\"next-up\"", "</section>");
    assert!(
        next.contains("学习贯彻二十大精神研讨会") && next.contains("2026-12-05 14:30"),
        "{next}"
    );
    let awaiting = section(&page, "等待您答复", "</ul>");
    assert!(
        awaiting.contains(&format!("action=\"/my-activities/{id}\""))
            && awaiting.contains("我会参加"),
        "{awaiting}"
    );

    // Answered, it leaves "awaiting" and stays the next activity.
    let answered = browser
        .submit(
            "/my-activities",
            &format!("/my-activities/{id}"),
            &[("status", "confirmed")],
        )
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    let page = browser.get("/my-activities").await.body;
    assert!(!page.contains("等待您答复"), "{page}");
    assert!(section(&page, "<section class=\"next-up\"", "</section>").contains("已确认"));

    // "Me" gathers the account; "my submissions" says what is coming.
    let me = browser.get("/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        me.body.contains("<h1>周明</h1>") && me.body.contains("光明社区"),
        "{}",
        me.body
    );
    for link in ["/my-record", "/my-record/access", "/calendar", "/password"] {
        assert!(me.body.contains(&format!("href=\"{link}\"")), "{link}");
    }
    assert!(me.body.contains("action=\"/logout\""));
    assert!(
        section(&me.body, "<nav class=\"bottom-bar\"", "</nav>")
            .contains("href=\"/me\" aria-current=\"page\"")
    );
    let submissions = browser.get("/my-submissions").await;
    assert_eq!(submissions.status, StatusCode::OK);
    assert!(
        submissions.body.contains("建言献策")
            && submissions.body.contains("href=\"/my-submissions/new\""),
        "{}",
        submissions.body
    );

    // These pages are the member's: staff have their own.
    let staff_browser = app.login("xincheng").await;
    for path in ["/me", "/my-submissions"] {
        assert_eq!(
            staff_browser.get(path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    app.finish().await;
}

async fn staff_pages_fold_for_a_phone(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    setup(&app).await;
    let browser = app.login("xincheng").await;
    let page = browser.get("/directory").await.body;
    // The menu is a drawer the top bar's button opens, with the account inside it.
    assert!(
        page.contains("<a class=\"menu-toggle button\" href=\"#nav\">菜单</a>"),
        "{page}"
    );
    let drawer = section(&page, "<nav class=\"sidenav\" id=\"nav\"", "</nav>");
    assert!(
        drawer.contains("关闭菜单") && drawer.contains("action=\"/logout\""),
        "{drawer}"
    );
    assert!(!page.contains("bottom-bar"));
    // Each row names its card: the person's name on top, the facts labelled.
    let row = section(&page, "<tbody>", "</tr>");
    assert!(
        row.contains("<td class=\"title\"><a href=\"/people/"),
        "{row}"
    );
    assert!(row.contains("data-label=\"所属单位\""), "{row}");
    app.finish().await;
}

async fn home_pages_say_what_needs_doing(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, ..) = setup(&app).await;
    let admin = app.api("admin").await;
    start_campaign(&app, &admin, sector).await;
    let county = app.api("xincheng").await;
    // This week (the clock stands on Monday 2026-11-30): an activity on Saturday.
    plan(&county, &app, kind, json!({})).await;
    // A member's proposal awaits a decision.
    linked_member(&app).await;
    let proposed = app
        .api("xincheng.member")
        .await
        .post_json(
            "/me/proposals",
            &json!({ "changes": { "employer": "内蒙古大学" } }),
        )
        .await;
    assert!(proposed.status.is_success(), "{}", proposed.body);
    // An account locked out by wrong passwords.
    let browser = app.browser();
    for _ in 0..5 {
        browser.login("saihan.staff", "wrong password").await;
    }

    // Eight more, the last on Sunday: the list shows the week's first eight, in order.
    for n in 0..8 {
        let hour = 8 + n;
        plan(
            &county,
            &app,
            kind,
            json!({ "title": format!("周日座谈 {n}"), "starts_at": format!("2026-12-06T{hour:02}:00"), "ends_at": format!("2026-12-06T{hour:02}:30") }),
        )
        .await;
    }
    let staff = app.login("xincheng").await.get("/").await.body;
    let week = section(&staff, "id=\"todo-week\"", "</section>");
    assert!(
        week.contains("学习贯彻二十大精神研讨会") && week.contains("2026-12-05 14:30"),
        "{week}"
    );
    let saturday = week.find("学习贯彻二十大精神研讨会").unwrap_or_default();
    let first_sunday = week.find("周日座谈 0").unwrap_or_default();
    assert!(saturday < first_sunday, "{week}");
    assert!(
        week.contains("周日座谈 6") && !week.contains("周日座谈 7"),
        "{week}"
    );
    let campaigns = section(&staff, "id=\"todo-campaigns\"", "</section>");
    assert!(
        campaigns.contains("学习贯彻党的二十大精神") && campaigns.contains("覆盖率最低的下级单位"),
        "{campaigns}"
    );
    assert!(
        campaigns.contains("海拉尔东路街道") && campaigns.contains("未覆盖 2 人"),
        "{campaigns}"
    );
    let proposals = section(&staff, "id=\"todo-proposals\"", "</section>");
    assert!(proposals.contains("审核 1 条本人申报"), "{proposals}");
    // Leaders read the same list in reading words.
    let leader = app.login("saihan.leader").await.get("/").await.body;
    assert!(
        leader.contains("您可以查看本单位及下级单位的情况"),
        "{leader}"
    );
    assert!(!leader.contains("审核 "), "{leader}");
    // Administrators also see who is locked out.
    let admin_home = app.login("admin").await.get("/").await.body;
    let locked = section(&admin_home, "id=\"todo-locked\"", "</section>");
    assert!(locked.contains("saihan.staff"), "{locked}");
    app.finish().await;
}

async fn lists_page_by_number_and_size(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (_, sector, ..) = setup(&app).await;
    let browser = app.login("admin").await;
    // Four people, one a page: numbered pages around the current one, the size kept in every
    // link, "go to page" bounded by the last, and a reset.
    let page = browser.get("/directory?per_page=1&page=2").await;
    assert_eq!(page.status, StatusCode::OK);
    let pager = section(&page.body, "<nav class=\"pager\"", "</nav>");
    assert!(pager.contains("第 2 / 4 页，共 4 条"), "{pager}");
    for n in 1..=4 {
        assert!(
            pager.contains(&format!("href=\"/directory?per_page=1&#38;page={n}\"")),
            "page {n}: {pager}"
        );
    }
    assert!(
        pager.contains("aria-current=\"page\" class=\"current\">2</a>"),
        "{pager}"
    );
    assert!(
        pager.contains("name=\"per_page\" value=\"1\"") && pager.contains("max=\"4\""),
        "{pager}"
    );
    assert!(
        page.body
            .contains("<a class=\"button\" href=\"/directory\">重置</a>")
    );
    // Filters travel with the pages; a page size that is not offered is clamped, not refused.
    let filtered = browser
        .get(&format!("/directory?sector={sector}&per_page=500"))
        .await;
    assert_eq!(filtered.status, StatusCode::OK);
    let pager = section(&filtered.body, "<nav class=\"pager\"", "</nav>");
    assert!(pager.contains("<option value=\"200\" selected>"), "{pager}");
    assert!(
        pager.contains(&format!("name=\"sector\" value=\"{sector}\"")),
        "{pager}"
    );
    // The sector is a column of the directory, on the page and in the API.
    assert!(
        filtered
            .body
            .contains("<td data-label=\"界别\">民主党派</td>"),
        "{}",
        filtered.body
    );
    let listed = app
        .api("admin")
        .await
        .get(&format!("/people?sector_id={sector}"))
        .await;
    assert_eq!(
        listed.json()["items"][0]["sectors"],
        serde_json::json!(["民主党派"]),
        "{}",
        listed.body
    );
    app.finish().await;
}

async fn the_unit_picker_offers_units_of_ones_subtree(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.login("xincheng").await;
    let guangming = serde_json::json!({
        "code": "150102001001",
        "name": "光明社区",
        "above": "呼和浩特市 › 新城区 › 海拉尔东路街道",
    });
    // By a part of the name, the start of the code, the pinyin or its initials.
    for typed in ["光明", "150102001", "guangming", "gmsq"] {
        let reply = staff
            .get(&format!("/units/choices?q={}", common::encode(typed)))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{typed}");
        let offered: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
        assert!(
            offered.as_array().unwrap().contains(&guangming),
            "{typed}: {offered}"
        );
    }
    // Only one's own subtree; members have no units to pick.
    let other = app.login("saihan.staff").await;
    assert_eq!(other.get("/units/choices?q=guangming").await.body, "[]");
    let member = app.login("xincheng.member").await;
    assert!(
        !member
            .get("/units/choices?q=guangming")
            .await
            .status
            .is_success()
    );
    // Every field that takes a unit offers the picker, with a link to the unit search for a
    // browser without script; the script is served from the binary.
    for path in [
        "/people/new",
        "/activities/new",
        "/directory",
        "/organizations",
    ] {
        let page = staff.get(path).await.body;
        assert!(
            page.contains("data-unit-picker>") && page.contains("查找单位代码"),
            "{path}: {page}"
        );
    }
    let script = app.browser().get("/static/unit-picker.js").await;
    assert!(
        script.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/javascript")
    );
    assert!(script.body.contains("/units/choices?q="));
    app.finish().await;
}

async fn pages_show_where_a_record_is_filed(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, _, people, _) = setup(&app).await;
    let county = app.api("xincheng").await;
    let activity = plan(&county, &app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let browser = app.login("xincheng").await;
    let crumbs = |page: &str| -> Vec<String> {
        section(page, "<nav class=\"breadcrumb\"", "</nav>")
            .split("<li><a href=\"/units/")
            .skip(1)
            .filter_map(|li| li.split('>').nth(1)?.split('<').next().map(str::to_owned))
            .collect()
    };
    // From the top of the reader's own tree down to the unit the record is filed under.
    let person = browser.get(&format!("/people/{}", people[0])).await.body;
    assert_eq!(crumbs(&person), ["新城区", "海拉尔东路街道", "光明社区"]);
    let activity = browser.get(&format!("/activities/{activity}")).await.body;
    assert_eq!(crumbs(&activity), ["新城区"]);
    let town = app.unit("150102100").await.id;
    let material = county
        .post_bytes(
            &format!("/materials?unit_id={town}&file_name=a.txt"),
            "学习材料".as_bytes().to_vec(),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let material = browser.get(&format!("/materials/{material}")).await.body;
    assert_eq!(crumbs(&material), ["新城区", "保合少镇"]);
    let city = app.login("admin").await;
    let person = city.get(&format!("/people/{}", people[0])).await.body;
    assert_eq!(
        crumbs(&person),
        ["呼和浩特市", "新城区", "海拉尔东路街道", "光明社区"]
    );
    let staff = app
        .api("admin")
        .await
        .get("/accounts?q=saihan.staff")
        .await
        .json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let account = city.get(&format!("/accounts/{staff}")).await.body;
    assert_eq!(crumbs(&account)[..2], ["呼和浩特市", "赛罕区"]);
    app.finish().await;
}

async fn lists_start_from_the_unit_chosen_in_the_top_bar(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let county = app.api("xincheng").await;
    plan(&county, &app, kind, json!({})).await;
    let browser = app.login("xincheng").await;
    // The top bar's unit leads to the switcher.
    let home = browser.get("/").await.body;
    assert!(
        home.contains("<a class=\"current-unit\" href=\"/scope\""),
        "{home}"
    );
    assert_eq!(
        browser
            .get("/directory")
            .await
            .body
            .matches("<td class=\"title\">")
            .count(),
        3
    );
    // Start from 保合少镇: the directory shows its one person, the activity list nothing of
    // 新城区 itself, and the chip says where lists start.
    let set = browser
        .submit("/scope", "/scope", &[("unit_code", "150102100")])
        .await;
    assert_eq!(set.status, StatusCode::SEE_OTHER, "{}", set.body);
    let directory = browser.get("/directory").await.body;
    assert_eq!(
        directory.matches("<td class=\"title\">").count(),
        1,
        "{directory}"
    );
    assert!(directory.contains("赵敏") && directory.contains("起始单位：保合少镇"));
    let activities = browser.get("/activities").await.body;
    assert!(
        !activities.contains("学习贯彻二十大精神研讨会"),
        "{activities}"
    );
    // Both say where in the tree they stand.
    for page in [&directory, &activities] {
        let crumbs = section(page, "<nav class=\"breadcrumb\"", "</nav>");
        assert!(
            crumbs.contains("新城区") && crumbs.contains("保合少镇"),
            "{crumbs}"
        );
    }
    // Another filter still wins; a unit outside one's subtree is refused; clearing goes back.
    let other = browser.get("/directory?unit=150102001").await.body;
    assert_eq!(other.matches("<td class=\"title\">").count(), 2);
    let refused = browser
        .submit("/scope", "/scope", &[("unit_code", "150105")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    browser
        .submit("/scope", "/scope", &[("unit_code", "")])
        .await;
    assert_eq!(
        browser
            .get("/directory")
            .await
            .body
            .matches("<td class=\"title\">")
            .count(),
        3
    );
    app.finish().await;
}

async fn one_box_searches_everything_filed_in_the_tree(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let county = app.api("xincheng").await;
    plan(
        &county,
        &app,
        kind,
        json!({ "title": "王芳同志先进事迹报告会" }),
    )
    .await;
    let browser = app.login("xincheng").await;
    let home = browser.get("/").await.body;
    assert!(home.contains("<form method=\"get\" action=\"/search\" class=\"global-search\""));
    // Grouped by kind, each with a link to its whole list.
    let found = browser
        .get(&format!("/search?q={}", common::encode("王芳")))
        .await;
    assert_eq!(found.status, StatusCode::OK);
    let people = section(&found.body, "id=\"found-people\"", "</section>");
    assert!(
        people.contains("王芳") && people.contains("/directory?q="),
        "{people}"
    );
    let activities = section(&found.body, "id=\"found-activities\"", "</section>");
    assert!(
        activities.contains("王芳同志先进事迹报告会"),
        "{activities}"
    );
    let units = browser
        .get(&format!("/search?q={}", common::encode("光明")))
        .await
        .body;
    assert!(section(&units, "id=\"found-units\"", "</section>").contains("150102001001"));
    // Only one's own subtree: another county finds none of it.
    let other = app.login("saihan").await;
    let theirs = other
        .get(&format!("/search?q={}", common::encode("王芳")))
        .await
        .body;
    assert!(theirs.contains("没有找到相关内容"), "{theirs}");
    app.finish().await;
}

/// Organizations, materials, activities and accounts turn round from their sorting header
/// (and by `sort` in the API); organizations and materials start from the unit chosen in the
/// top bar as the directory and activities do.
async fn other_lists_sort_and_start_from_the_chosen_unit(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, ..) = setup(&app).await;
    let county = app.api("xincheng").await;
    let xincheng = app.unit("150102").await.id;
    let town = app.unit("150102100").await.id;
    for (name, unit) in [("甲商会", xincheng), ("乙商会", town), ("丙商会", xincheng)] {
        let made = county
            .post_json(
                "/organizations",
                &json!({ "unit_id": unit, "name": name, "kind": "chamber" }),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    for (file, unit) in [("市区材料.txt", xincheng), ("镇里材料.txt", town)] {
        let made = county
            .post_bytes(
                &format!(
                    "/materials?unit_id={unit}&file_name={}",
                    common::encode(file)
                ),
                "学习材料".as_bytes().to_vec(),
            )
            .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    for day in ["2026-12-05", "2026-12-12"] {
        plan(
            &county,
            &app,
            kind,
            json!({ "title": format!("{day} 座谈"), "starts_at": format!("{day}T09:00"), "ends_at": format!("{day}T11:00") }),
        )
        .await;
    }
    let names = |reply: &common::Reply, key: &str| -> Vec<String> {
        reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i[key].as_str().unwrap().to_owned())
            .collect()
    };
    for (list, key, reverse) in [
        ("/organizations", "name", "-name"),
        ("/materials", "title", "uploaded"),
        ("/activities", "title", "starts_at"),
    ] {
        let natural = names(&county.get(list).await, key);
        let reversed = names(&county.get(&format!("{list}?sort={reverse}")).await, key);
        assert!(natural.len() >= 2, "{list}: {natural:?}");
        assert_eq!(
            reversed,
            natural.iter().rev().cloned().collect::<Vec<_>>(),
            "{list}"
        );
    }
    let admin = app.api("admin").await;
    let accounts = names(&admin.get("/accounts?per_page=200").await, "username");
    let backwards = names(
        &admin.get("/accounts?per_page=200&sort=-username").await,
        "username",
    );
    assert_eq!(
        backwards,
        accounts.iter().rev().cloned().collect::<Vec<_>>()
    );

    // The pages' headers say which way they run and lead the other way.
    let browser = app.login("xincheng").await;
    for (page, header) in [
        (
            "/organizations",
            r#"aria-sort="ascending"><a href="/organizations?sort=-name""#,
        ),
        (
            "/organizations?sort=-name",
            r#"aria-sort="descending"><a href="/organizations?sort=name""#,
        ),
        (
            "/materials",
            r#"aria-sort="descending"><a href="/materials?sort=uploaded""#,
        ),
        (
            "/activities",
            r#"aria-sort="descending"><a href="/activities?sort=starts_at""#,
        ),
        (
            "/activities?sort=starts_at",
            r#"aria-sort="ascending"><a href="/activities?sort=-starts_at""#,
        ),
    ] {
        let body = browser.get(page).await.body;
        assert!(body.contains(header), "{page}: {body}");
    }
    let accounts_page = app
        .login("admin")
        .await
        .get("/accounts?sort=-username")
        .await
        .body;
    assert!(accounts_page.contains(r#"aria-sort="descending"><a href="/accounts?sort=username""#));

    // From 保合少镇: its own organization and material only.
    browser
        .submit("/scope", "/scope", &[("unit_code", "150102100")])
        .await;
    let organizations = browser.get("/organizations").await.body;
    assert!(
        organizations.contains("乙商会") && !organizations.contains("甲商会"),
        "{organizations}"
    );
    let materials = browser.get("/materials").await.body;
    // An account manager starting from 赛罕区 sees its accounts only.
    let city = app.login("admin").await;
    city.submit("/scope", "/scope", &[("unit_code", "150105")])
        .await;
    let accounts = city.get("/accounts").await.body;
    assert!(
        accounts.contains("saihan.staff") && !accounts.contains("xincheng.member"),
        "{accounts}"
    );
    assert!(
        materials.contains("镇里材料") && !materials.contains("市区材料"),
        "{materials}"
    );
    app.finish().await;
}

/// The three administrators' home pages say whether the newest audit rows verify, and what
/// broke when they do not; nobody else's does.
async fn administrators_see_whether_the_audit_chain_verifies(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.login("admin").await;
    let auditor = app.login("auditor").await;
    for home in [admin.get("/").await.body, auditor.get("/").await.body] {
        assert!(home.contains("条审计记录核验无误"), "{home}");
    }
    let staff = app.login("saihan.staff").await.get("/").await.body;
    assert!(!staff.contains("审计日志"), "{staff}");

    let raw = app.db.raw().await;
    // The newest row removed: the log ends before its recorded head.
    raw.execute("DELETE FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)")
        .await;
    let home = admin.get("/").await.body;
    assert!(
        home.contains("最新的记录被删除") && home.contains("role=\"alert\""),
        "{home}"
    );
    // An older row rewritten: its hash no longer matches, and that is said first.
    raw.execute("UPDATE audit_log SET action = 'forged' WHERE seq = 2")
        .await;
    let home = admin.get("/").await.body;
    assert!(home.contains("第 2 条审计记录的内容与其哈希不符"), "{home}");
    app.finish().await;
}

engine_tests!(
    one_box_searches_everything_filed_in_the_tree,
    lists_start_from_the_unit_chosen_in_the_top_bar,
    other_lists_sort_and_start_from_the_chosen_unit,
    pages_show_where_a_record_is_filed,
    the_unit_picker_offers_units_of_ones_subtree,
    lists_page_by_number_and_size,
    home_pages_say_what_needs_doing,
    administrators_see_whether_the_audit_chain_verifies,
    members_land_on_what_awaits_them,
    staff_pages_fold_for_a_phone,
);
