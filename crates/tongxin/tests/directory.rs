//! The directory (issue 3, first part): sectors, people with protected fields, history,
//! version checks, duplicates by ID number, and search, over the API on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Engine, TestApp, id_number};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn sector(api: &Api, code: &str, name: &str) -> i64 {
    let reply = api
        .post_json("/sectors", &json!({ "code": code, "name": name }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

async fn add(api: &Api, person: Value) -> Value {
    let reply = api.post_json("/people", &person).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn people_are_kept_with_protected_fields(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let minzhu = sector(&admin, "minzhu", "民主党派").await;
    let staff = app.api("saihan.staff").await;
    let unit = app.unit("150105001").await.id;
    let id = id_number("15010519800101123");

    let created = add(
        &staff,
        json!({
            "unit_id": unit, "name": "张伟", "gender": "男", "birth_date": "1980/1/1",
            "id_number": id, "phone": "138 1234 5678", "employer": "内蒙古大学",
            "sectors": [{ "sector_id": minzhu, "role": "委员", "since": "2018-06-01" }],
            "tags": ["专家", "青年"]
        }),
    )
    .await;
    let person = created["id"].as_i64().unwrap();
    assert_eq!(
        created["id_number"],
        "150105********123".to_owned() + &id[17..]
    );
    assert_eq!(created["phone"], "138****5678");
    assert_eq!(created["birth_date"], "1980-01-01");
    assert_eq!(created["sectors"][0]["sector"], "民主党派");
    assert_eq!(created["tags"], json!(["专家", "青年"]));
    assert_eq!(created["version"], 1);

    // Reveal is explicit and audited; leaders may read but not reveal.
    let revealed = staff
        .post_json(
            &format!("/people/{person}/reveal"),
            &json!({ "field": "id_number" }),
        )
        .await;
    assert_eq!(revealed.json()["value"], id);
    let leader = app.api("saihan.leader").await;
    assert_eq!(
        leader.get(&format!("/people/{person}")).await.status,
        StatusCode::OK
    );
    let refused = leader
        .post_json(
            &format!("/people/{person}/reveal"),
            &json!({ "field": "phone" }),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=person.reveal")
        .await
        .json();
    assert_eq!(audit["total"], 1);
    assert_eq!(audit["items"][0]["detail"]["field"], "id_number");

    // Neither the ID number nor the phone is anywhere in the database in clear.
    let raw = app.db.raw().await;
    match engine {
        Engine::Sqlite => {
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").await;
            let common::Database::Sqlite { dir } = &app.db else {
                unreachable!()
            };
            let mut bytes = std::fs::read(dir.join("tongxin.db")).unwrap();
            bytes.extend(std::fs::read(dir.join("tongxin.db-wal")).unwrap_or_default());
            let text = String::from_utf8_lossy(&bytes);
            assert!(!text.contains(&id), "plain ID number in the database file");
            assert!(
                !text.contains("13812345678"),
                "plain phone in the database file"
            );
            assert!(text.contains("内蒙古大学"), "the scan does see plain text");
        }
        Engine::Postgres => {
            let dump = raw
                .text("SELECT string_agg(p::text, '|') FROM people p")
                .await;
            assert!(
                !dump.contains(&id) && !dump.contains("13812345678"),
                "{dump}"
            );
        }
    }

    // The same ID number again is refused and points at the existing record.
    let again = staff
        .post_json(
            "/people",
            &json!({ "unit_id": unit, "name": "张伟", "id_number": id }),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["error"]["existing_id"], person);
    // From a sibling subtree it is refused too, without revealing where.
    let xincheng = app.api("xincheng").await;
    let elsewhere = xincheng
        .post_json(
            "/people",
            &json!({ "unit_id": app.unit("150102").await.id, "name": "张伟", "id_number": id }),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::CONFLICT);
    assert_eq!(elsewhere.json()["error"]["existing_id"], Value::Null);
    app.finish().await;
}

async fn edits_keep_history_and_never_clobber(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("saihan.staff").await;
    let admin = app.api("saihan").await;
    let unit = app.unit("150105").await.id;
    let person = add(
        &staff,
        json!({ "unit_id": unit, "name": "李娜", "title": "主任" }),
    )
    .await;
    let id = person["id"].as_i64().unwrap();

    let first = staff.patch_json(&format!("/people/{id}"), &json!({})).await;
    assert_eq!(first.status, StatusCode::METHOD_NOT_ALLOWED);
    let ok = app_put(&staff, id, json!({ "version": 1, "unit_id": unit, "name": "李娜", "title": "副主任", "phone": "13900001111" })).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.json()["version"], 2);

    // A second editor who read version 1 is refused and told what changed.
    let stale = app_put(
        &admin,
        id,
        json!({ "version": 1, "unit_id": unit, "name": "李娜", "title": "科长" }),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let body = stale.json();
    assert_eq!(body["error"]["code"], "conflict");
    let changes = body["error"]["changes"].as_array().unwrap();
    assert!(changes.iter().any(|c| c["field"] == "title"
        && c["old"] == "主任"
        && c["new"] == "副主任"
        && c["by"] == "saihan.staff"));
    assert!(
        changes
            .iter()
            .any(|c| c["field"] == "phone" && c["new"] == "139****1111"),
        "masked in history"
    );
    assert_eq!(
        staff.get(&format!("/people/{id}")).await.json()["title"],
        "副主任"
    );

    let history = staff.get(&format!("/people/{id}/history")).await.json();
    let fields: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"title") && fields.last() == Some(&"created"),
        "{fields:?}"
    );
    assert!(!history.to_string().contains("13900001111"));

    // On the page, archiving asks once more, naming the person; restoring does not.
    let browser = app.login("saihan.staff").await;
    let page = browser.get(&format!("/people/{id}")).await.body;
    let confirm = page
        .split("<details class=\"confirm\">")
        .nth(1)
        .and_then(|rest| rest.split("</details>").next())
        .unwrap_or_else(|| panic!("no confirmation: {page}"));
    assert!(
        confirm.contains(&format!("action=\"/people/{id}/archive\""))
            && confirm.contains("确定归档李娜吗？")
            && confirm.contains("确认归档"),
        "{confirm}"
    );
    assert_eq!(page.matches("/archive\"").count(), 1, "one way to archive");

    // Archive and restore are history too.
    let archived = staff
        .post_json(&format!("/people/{id}/archive"), &json!({}))
        .await;
    assert_eq!(archived.json()["archived"], true);
    assert_eq!(staff.get("/people").await.json()["total"], 0);
    assert_eq!(
        staff.get("/people?status=archived").await.json()["total"],
        1
    );
    staff
        .post_json(&format!("/people/{id}/restore"), &json!({}))
        .await;
    let history = staff.get(&format!("/people/{id}/history")).await.json();
    assert_eq!(history["items"][0]["field"], "status");
    // The page says it in words.
    let page = browser.get(&format!("/people/{id}")).await.body;
    assert!(
        page.contains(">已归档</td>") && page.contains(">在册</td>"),
        "{page}"
    );
    assert!(!page.contains(">archived<") && !page.contains(">active<"));
    app.finish().await;
}

async fn app_put(api: &Api, id: i64, body: Value) -> common::Reply {
    api.put_json(&format!("/people/{id}"), &body).await
}

async fn bad_person_input_is_refused(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("saihan.staff").await;
    let raw = app.db.raw().await;
    let unit = app.unit("150105").await.id;
    let mut wrong_check = id_number("15010519800101123");
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '1' { '2' } else { '1' });
    for (body, field, code) in [
        (
            json!({ "unit_id": unit, "name": "" }),
            "person_name",
            "required",
        ),
        (
            json!({ "unit_id": unit, "name": "王", "id_number": wrong_check }),
            "id_number",
            "id_number_checksum",
        ),
        (
            json!({ "unit_id": unit, "name": "王", "id_number": id_number("15010519800230123") }),
            "id_number",
            "id_number_birth_date",
        ),
        (
            json!({ "unit_id": unit, "name": "王", "phone": "1381234567" }),
            "phone",
            "phone_format",
        ),
        (
            json!({ "unit_id": unit, "name": "王", "gender": "未知" }),
            "gender",
            "gender_value",
        ),
        (
            json!({ "unit_id": unit, "name": "王", "birth_date": "2099-01-01" }),
            "birth_date",
            "date_format",
        ),
        (
            json!({ "unit_id": unit, "name": "王", "ethnicity": "蒙古族" }),
            "ethnicity",
            "not_enabled",
        ),
        (
            json!({ "unit_id": unit, "name": "王", "sectors": [{ "sector_id": 999 }] }),
            "sector",
            "not_found",
        ),
        (
            json!({ "unit_id": app.unit("150102").await.id, "name": "王" }),
            "unit",
            "not_found",
        ),
    ] {
        let reply = staff.post_json("/people", &body).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"]["field"], field, "{body}");
        assert_eq!(reply.error_code(), code, "{body}");
        assert!(!reply.error_message().is_empty());
    }
    assert_eq!(raw.count("SELECT COUNT(*) FROM people").await, 0);

    // Ethnicity is collected once a top administrator enables it with a purpose.
    app.store
        .set_sensitive_field(
            &admin_actor(&app).await,
            common::START,
            tongxin_store::SensitiveField::Ethnicity,
            Some("少数民族代表人士统计".into()),
        )
        .await
        .unwrap();
    let ok = staff
        .post_json(
            "/people",
            &json!({ "unit_id": unit, "name": "巴特尔", "ethnicity": "蒙古族" }),
        )
        .await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    assert_eq!(ok.json()["ethnicity"], "***");
    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=sensitive_field")
        .await
        .json();
    assert_eq!(audit["total"], 1);
    app.finish().await;
}

/// The top administrator as an actor, through a login.
async fn admin_actor(app: &TestApp) -> tongxin_store::Actor {
    let policy = tongxin_store::Policy {
        second_factor: tongxin_store::SecondFactorRule::Optional,
        ..Default::default()
    };
    let (_, actor) = app
        .store
        .login(
            tongxin_store::Credentials {
                username: "admin",
                password: common::PASSWORD,
                code: None,
            },
            tongxin_store::SessionKind::Api,
            common::START,
            None,
            &policy,
        )
        .await
        .unwrap();
    actor
}

async fn search_by_name_pinyin_initials_and_phone(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let minzhu = sector(&admin, "minzhu", "民主党派").await;
    let staff = app.api("saihan.staff").await;
    let saihan = app.unit("150105").await.id;
    let street = app.unit("150105001").await.id;
    for (unit, name, gender, birth, phone, sectors, tags) in [
        (
            saihan,
            "张伟",
            "男",
            "1980-05-01",
            "13812345678",
            vec![minzhu],
            vec!["专家"],
        ),
        (
            street,
            "张伟华",
            "男",
            "1995-05-01",
            "13900005678",
            vec![],
            vec![],
        ),
        (
            street,
            "欧阳娜娜",
            "女",
            "2000-01-01",
            "",
            vec![minzhu],
            vec!["青年"],
        ),
        (
            saihan,
            "王芳",
            "女",
            "1970-03-03",
            "13700001234",
            vec![],
            vec!["专家"],
        ),
    ] {
        let mut body = json!({
            "unit_id": unit, "name": name, "gender": gender, "birth_date": birth, "phone": phone,
            "sectors": sectors.iter().map(|s| json!({ "sector_id": s })).collect::<Vec<_>>(),
            "tags": tags,
        });
        if phone.is_empty() {
            body.as_object_mut().unwrap().remove("phone");
        }
        add(&staff, body).await;
    }
    let xincheng = app.api("xincheng").await;
    add(
        &xincheng,
        json!({ "unit_id": app.unit("150102").await.id, "name": "张伟" }),
    )
    .await;

    let search = |q: &str| {
        let (path, staff) = (format!("/people?q={q}"), &staff);
        async move { staff.get(&path).await }
    };
    assert_eq!(
        names(&search("张伟").await.json()),
        vec!["张伟", "张伟华"],
        "sibling's 张伟 is not listed"
    );
    assert_eq!(names(&search("伟华").await.json()), vec!["张伟华"]);
    assert_eq!(names(&search("阳娜").await.json()), vec!["欧阳娜娜"]);
    assert_eq!(
        names(&search("zhangwei").await.json()),
        vec!["张伟", "张伟华"]
    );
    assert_eq!(names(&search("zwh").await.json()), vec!["张伟华"]);
    assert_eq!(names(&search("5678").await.json()), vec!["张伟", "张伟华"]);
    assert_eq!(names(&search("1234").await.json()), vec!["王芳"]);
    assert_eq!(search("不存在").await.json()["total"], 0);

    let filter = |query: &str| {
        let (path, staff) = (format!("/people?{query}"), &staff);
        async move { staff.get(&path).await }
    };
    assert_eq!(
        names(&filter(&format!("sector_id={minzhu}")).await.json()),
        vec!["欧阳娜娜", "张伟"]
    );
    assert_eq!(
        names(&filter("tag=专家").await.json()),
        vec!["王芳", "张伟"]
    );
    assert_eq!(
        names(&filter("gender=female").await.json()),
        vec!["欧阳娜娜", "王芳"]
    );
    // Ages on 2026-11-30: 46, 31, 26, 56.
    assert_eq!(
        names(&filter("age_min=30&age_max=50").await.json()),
        vec!["张伟", "张伟华"]
    );
    assert_eq!(
        names(&filter(&format!("unit_id={street}")).await.json()),
        vec!["欧阳娜娜", "张伟华"]
    );
    let paged = filter("per_page=2&page=2").await.json();
    assert_eq!(paged["total"], 4);
    assert_eq!(names(&paged), vec!["张伟", "张伟华"]);
    assert_eq!(
        filter("gender=unknown").await.status,
        StatusCode::BAD_REQUEST
    );

    // A person of a sibling unit is not found on any route.
    let theirs = xincheng.get("/people").await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    for path in [
        format!("/people/{theirs}"),
        format!("/people/{theirs}/history"),
    ] {
        assert_eq!(
            staff.get(&path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    for action in ["archive", "restore", "reveal"] {
        let reply = staff
            .post_json(
                &format!("/people/{theirs}/{action}"),
                &json!({ "field": "phone" }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action}");
    }
    let put = staff
        .put_json(
            &format!("/people/{theirs}"),
            &json!({ "version": 1, "unit_id": saihan, "name": "x" }),
        )
        .await;
    assert_eq!(put.status, StatusCode::NOT_FOUND);

    // Moving a unit carries its people along, in scope and in search.
    let street_unit = app.unit("150105001").await.id;
    let moved = app
        .api("admin")
        .await
        .patch_json(
            &format!("/units/{street_unit}"),
            &json!({ "parent_id": app.unit("150102").await.id }),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    assert_eq!(names(&search("张伟").await.json()), vec!["张伟"]);
    assert_eq!(
        names(&xincheng.get("/people?q=张伟").await.json()),
        vec!["张伟", "张伟华"]
    );
    assert!(app.store.check().await.unwrap().faults.is_empty());
    app.finish().await;
}

async fn sectors_are_kept_by_top_administrators(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let a = sector(&admin, "minzhu", "民主党派").await;
    let b = sector(&admin, "wudangpai", "无党派人士").await;
    let dup = admin
        .post_json("/sectors", &json!({ "code": "minzhu", "name": "重复" }))
        .await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(dup.json()["error"]["field"], "sector_code");
    let county = app.api("saihan").await;
    let refused = county
        .post_json("/sectors", &json!({ "code": "x", "name": "县级自建" }))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        county.get("/sectors").await.json()["total"],
        2,
        "everyone reads the list"
    );

    admin
        .patch_json(&format!("/sectors/{b}"), &json!({ "move_up": true }))
        .await;
    let order: Vec<i64> = admin.get("/sectors").await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, vec![b, a]);
    admin
        .patch_json(&format!("/sectors/{a}"), &json!({ "archived": true }))
        .await;
    assert_eq!(admin.get("/sectors").await.json()["total"], 1);
    assert_eq!(
        admin.get("/sectors?include_archived=true").await.json()["total"],
        2
    );
    app.finish().await;
}

async fn the_directory_pages(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let minzhu = sector(&admin, "minzhu", "民主党派").await;
    let staff = app.login("saihan.staff").await;

    let empty = staff.get("/directory").await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        empty.body.contains("没有找到符合条件的人员"),
        "{}",
        empty.body
    );

    let minzhu_box = format!("sector_{minzhu}");
    let minzhu_role = format!("role_{minzhu}");
    let refused = staff
        .submit(
            "/people/new",
            "/people/new",
            &[
                ("name", "赵敏"),
                ("unit_code", "150105"),
                ("phone", "1381234567"),
                ("id_number", "123"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("手机号应为 11 位手机号码"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("身份证号应为 18 位"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"赵敏\""),
        "typed values are kept"
    );
    // Each message is tied to its field for screen readers, and the summary takes the focus
    // and links to the messages.
    assert!(
        refused
            .body
            .contains("<p class=\"field-error\" id=\"phone-error\">手机号应为 11 位手机号码")
            && refused.body.contains(
                "<input aria-invalid=\"true\" aria-describedby=\"phone-error\" id=\"phone\""
            ),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" autofocus>")
            && refused.body.contains("href=\"#phone-error\"")
            && refused.body.contains("href=\"#id_number-error\""),
        "{}",
        refused.body
    );
    assert!(
        !refused
            .body
            .contains("aria-describedby=\"person_name-error\"")
    );
    // The summary reads in the form's order (the name above the unit), whatever order the
    // checks ran in.
    let blank = staff
        .submit(
            "/people/new",
            "/people/new",
            &[("name", ""), ("unit_code", ""), ("birth_date", "x")],
        )
        .await;
    common::assert_summary_order(&blank.body, &["person_name", "unit", "birth_date"]);

    let created = staff
        .submit(
            "/people/new",
            "/people/new",
            &[
                ("name", "赵敏"),
                ("unit_code", "150105001"),
                ("gender", "female"),
                ("birth_date", "1990-02-03"),
                ("phone", "13812345678"),
                ("employer", "呼和浩特市第一中学"),
                (minzhu_box.as_str(), "on"),
                (minzhu_role.as_str(), "会员"),
                ("tags", "教师、青年"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let location = created.location.unwrap();
    let path = location.trim_end_matches("?done=created").to_owned();
    assert_ne!(path, location, "the page says the person was added");
    let page = staff.get(&location).await;
    assert!(page.body.contains("已新增人员"), "{}", page.body);
    assert!(page.body.contains("138****5678") && !page.body.contains("13812345678"));
    assert!(
        page.body.contains("民主党派 · 会员") && page.body.contains("教师"),
        "{}",
        page.body
    );

    let revealed = staff
        .submit(&path, &format!("{path}/reveal"), &[("field", "phone")])
        .await;
    assert_eq!(revealed.status, StatusCode::OK);
    assert!(revealed.body.contains("13812345678"));
    assert!(revealed.body.contains("本次查看已记入审计日志"));

    // Two editors: the second, working from the old version, sees what changed.
    let edit = format!("{path}/edit");
    let form = staff.get(&edit).await;
    assert!(
        !form.body.contains("13812345678"),
        "protected values are not put in the form"
    );
    let other = app.login("saihan").await;
    let saved = other
        .submit(
            &edit,
            &edit,
            &[
                ("name", "赵敏"),
                ("unit_code", "150105001"),
                ("title", "教研组长"),
                ("version", "1"),
                (minzhu_box.as_str(), "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stale = staff
        .post_raw(
            &edit,
            &[
                ("_csrf", &form.csrf()),
                ("name", "赵敏"),
                ("unit_code", "150105001"),
                ("title", "校长"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert!(
        stale.body.contains("保存前该记录已被他人修改") && stale.body.contains("教研组长"),
        "{}",
        stale.body
    );
    assert!(
        stale.body.contains("value=\"校长\""),
        "what was typed is kept"
    );
    let after = staff.get(&path).await;
    assert!(after.body.contains("教研组长"));
    assert!(
        after.body.contains("138****5678"),
        "an empty protected field keeps its value"
    );

    // A protected value is removed only when asked to.
    let form = staff.get(&edit).await;
    let version = form
        .body
        .split("name=\"version\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let cleared = staff
        .post_raw(
            &edit,
            &[
                ("_csrf", &form.csrf()),
                ("name", "赵敏"),
                ("unit_code", "150105001"),
                ("title", "校长"),
                ("version", &version),
                ("clear_phone", "1"),
                (minzhu_box.as_str(), "on"),
            ],
        )
        .await;
    assert_eq!(cleared.status, StatusCode::SEE_OTHER, "{}", cleared.body);
    let record = staff.get(&path).await.body;
    assert!(
        !record.contains("<dt>手机号</dt>"),
        "the phone is gone: {record}"
    );
    assert!(
        record.contains("教研组长") || record.contains("校长"),
        "the rest was saved"
    );

    let found = staff.get("/directory?q=zm").await;
    assert!(found.body.contains("赵敏") && found.body.contains("共 1 条结果"));
    let by_sector = staff.get(&format!("/directory?sector={minzhu}")).await;
    assert!(by_sector.body.contains("赵敏"));
    let elsewhere = staff.get("/directory?unit=150102").await;
    assert!(
        elsewhere.body.contains("共 0 条结果"),
        "a unit outside the subtree matches nobody"
    );

    // A sibling administrator gets 404 on every page of this person.
    let sibling = app.login("xincheng").await;
    for page in ["", "/edit"] {
        assert_eq!(
            sibling.get(&format!("{path}{page}")).await.status,
            StatusCode::NOT_FOUND
        );
    }
    for action in ["reveal", "archive", "restore", "edit"] {
        let reply = sibling
            .submit(
                "/directory",
                &format!("{path}/{action}"),
                &[("field", "phone"), ("name", "x"), ("unit_code", "150102")],
            )
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{action}");
    }
    let theirs = sibling.get("/directory?q=赵敏").await;
    assert!(theirs.body.contains("共 0 条结果"), "{}", theirs.body);
    app.finish().await;
}

async fn the_sectors_page(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.login("admin").await;
    let created = admin
        .submit(
            "/sectors",
            "/sectors",
            &[("code", "minzhu"), ("name", "民主党派")],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER);
    // Back to the list, saying what was done.
    let said = created.location.clone().unwrap_or_default();
    assert_eq!(said, "/sectors?done=sector_created");
    assert!(admin.get(&said).await.body.contains("已新增界别。"));
    admin
        .submit(
            "/sectors",
            "/sectors",
            &[("code", "shanghui"), ("name", "工商联与商会")],
        )
        .await;
    let duplicate = admin
        .submit(
            "/sectors",
            "/sectors",
            &[("code", "minzhu"), ("name", "重复")],
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        duplicate.body.contains("该界别代码已被使用"),
        "{}",
        duplicate.body
    );

    let api = app.api("admin").await;
    let second = api.get("/sectors").await.json()["items"][1]["id"]
        .as_i64()
        .unwrap();
    admin
        .submit(
            "/sectors",
            &format!("/sectors/{second}"),
            &[("action", "up")],
        )
        .await;
    assert_eq!(
        api.get("/sectors").await.json()["items"][0]["name"],
        "工商联与商会"
    );

    let no_purpose = admin
        .submit(
            "/sectors",
            "/sectors/fields",
            &[
                ("field", "religion"),
                ("action", "enable"),
                ("purpose", " "),
            ],
        )
        .await;
    assert_eq!(no_purpose.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        no_purpose.body.contains("请填写用途"),
        "{}",
        no_purpose.body
    );
    let enabled = admin
        .submit(
            "/sectors",
            "/sectors/fields",
            &[
                ("field", "religion"),
                ("action", "enable"),
                ("purpose", "宗教界代表人士联系"),
            ],
        )
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER);
    assert!(
        admin
            .get("/sectors")
            .await
            .body
            .contains("宗教界代表人士联系")
    );
    let form = app.login("saihan.staff").await.get("/people/new").await;
    assert!(form.body.contains("name=\"religion\"") && !form.body.contains("name=\"ethnicity\""));

    // County administrators use the list but do not keep it.
    let county = app.login("saihan").await;
    assert_eq!(county.get("/sectors").await.status, StatusCode::FORBIDDEN);
    assert!(!county.get("/").await.body.contains("href=\"/sectors\""));
    app.finish().await;
}

async fn likely_duplicates_are_flagged_side_by_side(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("saihan.staff").await;
    let saihan = app.unit("150105").await.id;
    let street = app.unit("150105001").await.id;
    let a = add(&staff, json!({ "unit_id": saihan, "name": "张伟", "birth_date": "1980-01-01", "employer": "内蒙古大学" })).await;
    let b = add(&staff, json!({ "unit_id": street, "name": "张伟", "birth_date": "1980-01-01", "employer": "内蒙古师范大学" })).await;
    let c = add(
        &staff,
        json!({ "unit_id": saihan, "name": "张卫", "phone": "13812345678" }),
    )
    .await;
    let d = add(
        &staff,
        json!({ "unit_id": street, "name": "李娜", "phone": "13812345678" }),
    )
    .await;
    add(
        &staff,
        json!({ "unit_id": saihan, "name": "张伟", "birth_date": "1981-01-01" }),
    )
    .await;
    let ids = |v: Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(
        ids(staff
            .get(&format!("/people/{}/duplicates", a["id"]))
            .await
            .json()),
        vec![b["id"].as_i64().unwrap()]
    );
    assert_eq!(
        ids(staff
            .get(&format!("/people/{}/duplicates", c["id"]))
            .await
            .json()),
        vec![d["id"].as_i64().unwrap()]
    );

    let browser = app.login("saihan.staff").await;
    let page = browser.get(&format!("/people/{}", a["id"])).await;
    assert!(
        page.body.contains("可能与本条记录是同一人"),
        "{}",
        page.body
    );
    let compare = browser
        .get(&format!("/people/{}/compare/{}", a["id"], b["id"]))
        .await;
    assert_eq!(compare.status, StatusCode::OK);
    assert!(compare.body.contains("内蒙古师范大学") && compare.body.contains("class=\"differs\""));

    // The other record must be in scope too.
    let xincheng = app.api("xincheng").await;
    let theirs = add(&xincheng, json!({ "unit_id": app.unit("150102").await.id, "name": "张伟", "birth_date": "1980-01-01" })).await;
    assert_eq!(
        browser
            .get(&format!("/people/{}/compare/{}", a["id"], theirs["id"]))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert!(
        !ids(staff
            .get(&format!("/people/{}/duplicates", a["id"]))
            .await
            .json())
        .contains(&theirs["id"].as_i64().unwrap())
    );
    app.finish().await;
}

async fn organizations_and_affiliations(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let minzhu = sector(&admin, "minzhu", "民主党派").await;
    let staff = app.api("saihan.staff").await;
    let saihan = app.unit("150105").await.id;
    let reply = staff
        .post_json(
            "/organizations",
            &json!({ "unit_id": saihan, "name": "民盟赛罕区委员会", "kind": "party_committee", "sector_id": minzhu, "address": "大学东街 1 号" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let committee = reply.json();
    assert_eq!(committee["sector"]["name"], "民主党派");
    let hall = staff
        .post_json(
            "/organizations",
            &json!({ "unit_id": app.unit("150105001").await.id, "name": "敕勒川文化会堂", "kind": "venue", "latitude": 40.81, "longitude": 111.70 }),
        )
        .await
        .json();
    assert_eq!(hall["is_venue"], true, "a venue hosts activities");
    for (body, field, code) in [
        (
            json!({ "unit_id": saihan, "name": "", "kind": "school" }),
            "organization_name",
            "required",
        ),
        (
            json!({ "unit_id": saihan, "name": "某校", "kind": "castle" }),
            "kind",
            "not_found",
        ),
        (
            json!({ "unit_id": saihan, "name": "某校", "kind": "school", "latitude": 95.0, "longitude": 1.0 }),
            "coordinates",
            "out_of_range",
        ),
        (
            json!({ "unit_id": app.unit("150102").await.id, "name": "某校", "kind": "school" }),
            "unit",
            "not_found",
        ),
    ] {
        let reply = staff.post_json("/organizations", &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.json()["error"]["field"], field, "{body}");
        assert_eq!(reply.error_code(), code, "{body}");
    }
    assert_eq!(staff.get("/organizations?q=赛罕").await.json()["total"], 1);
    assert_eq!(
        staff.get("/organizations?venues_only=true").await.json()["total"],
        1
    );
    assert_eq!(
        staff
            .get(&format!("/organizations?sector_id={minzhu}"))
            .await
            .json()["total"],
        1
    );

    let person = add(&staff, json!({ "unit_id": saihan, "name": "张伟" })).await;
    let pid = person["id"].as_i64().unwrap();
    let link = staff
        .post_json(
            &format!("/people/{pid}/affiliations"),
            &json!({ "organization_id": committee["id"], "position": "主委", "since": "2021-06-01" }),
        )
        .await;
    assert_eq!(link.status, StatusCode::CREATED, "{}", link.body);
    let bad_period = staff
        .post_json(
            &format!("/people/{pid}/affiliations"),
            &json!({ "organization_id": committee["id"], "since": "2021-06-01", "until": "2020-01-01" }),
        )
        .await;
    assert_eq!(bad_period.status, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = staff
        .get(&format!("/organizations/{}", committee["id"]))
        .await
        .json();
    assert_eq!(detail["members"][0]["person"]["name"], "张伟");
    assert_eq!(detail["members"][0]["position"], "主委");
    assert_eq!(
        staff
            .get(&format!("/people/{pid}/affiliations"))
            .await
            .json()["total"],
        1
    );

    // Scope: a sibling sees neither the organization nor the link, and cannot link to it.
    let xincheng = app.api("xincheng").await;
    let org = committee["id"].as_i64().unwrap();
    assert_eq!(
        xincheng.get(&format!("/organizations/{org}")).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(xincheng.get("/organizations").await.json()["total"], 0);
    let theirs = add(
        &xincheng,
        json!({ "unit_id": app.unit("150102").await.id, "name": "李娜" }),
    )
    .await;
    let cross = xincheng
        .post_json(
            &format!("/people/{}/affiliations", theirs["id"]),
            &json!({ "organization_id": org }),
        )
        .await;
    assert_eq!(cross.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(cross.json()["error"]["field"], "organization");
    let link_id = link.json()["id"].as_i64().unwrap();
    assert_eq!(
        xincheng
            .delete(&format!("/affiliations/{link_id}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    for action in ["archive", "restore"] {
        let reply = xincheng
            .post_json(&format!("/organizations/{org}/{action}"), &json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND);
    }
    assert_eq!(
        staff
            .delete(&format!("/affiliations/{link_id}"))
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    // Organizations move with their unit.
    let street = app.unit("150105001").await.id;
    admin
        .patch_json(
            &format!("/units/{street}"),
            &json!({ "parent_id": app.unit("150102").await.id }),
        )
        .await;
    assert_eq!(xincheng.get("/organizations").await.json()["total"], 1);
    assert!(app.store.check().await.unwrap().faults.is_empty());

    // The pages.
    let browser = app.login("saihan.staff").await;
    let list = browser.get("/organizations").await;
    assert!(
        list.body.contains("民盟赛罕区委员会") && list.body.contains("民主党派地方组织"),
        "{}",
        list.body
    );
    let refused = browser
        .submit(
            "/organizations",
            "/organizations",
            &[("name", ""), ("kind", "school"), ("unit_code", "150105")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("请填写组织名称"), "{}", refused.body);
    let created = browser
        .submit(
            "/organizations",
            "/organizations",
            &[
                ("name", "赛罕区青年商会"),
                ("kind", "chamber"),
                ("unit_code", "150105"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = browser.get(created.location.as_deref().unwrap()).await;
    assert!(page.body.contains("赛罕区青年商会") && page.body.contains("商会"));
    let sibling = app.login("xincheng").await;
    assert_eq!(
        sibling
            .get(created.location.as_deref().unwrap())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

async fn a_record_read_can_be_sent_back_whole(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("saihan.staff").await;
    let unit = app.unit("150105001").await.id;
    let id_number = id_number("15010519800101123");
    let created = add(
        &staff,
        json!({ "unit_id": unit, "name": "张伟", "id_number": id_number, "phone": "13812345678" }),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    // GET, change one field, PUT the whole thing back: masked values stay as they were.
    let mut record = staff.get(&format!("/people/{id}")).await.json();
    record["title"] = json!("主任");
    record["unit_id"] = json!(unit);
    let saved = staff.put_json(&format!("/people/{id}"), &record).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["title"], "主任");
    let reveal = |field: &str| {
        let staff = &staff;
        let field = field.to_owned();
        async move {
            staff
                .post_json(&format!("/people/{id}/reveal"), &json!({ "field": field }))
                .await
                .json()["value"]
                .clone()
        }
    };
    assert_eq!(reveal("id_number").await, json!(id_number));
    assert_eq!(reveal("phone").await, json!("13812345678"));
    // An emptied protected field is cleared.
    record["version"] = saved.json()["version"].clone();
    record["phone"] = json!(null);
    let cleared = staff.put_json(&format!("/people/{id}"), &record).await;
    assert_eq!(cleared.status, StatusCode::OK, "{}", cleared.body);
    assert_eq!(cleared.json()["phone"], Value::Null);
    assert_eq!(cleared.json()["id_number"], record["id_number"]);
    app.finish().await;
}

/// The directory sorts by pinyin syllable by syllable (巴 before 白 and 宝, 杜 before 段,
/// 范 before 方), in either direction, or by unit; an unknown sort key is the default order.
async fn the_directory_sorts_syllable_by_syllable(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("saihan.staff").await;
    let saihan = app.unit("150105").await.id;
    let street = app.unit("150105001").await.id;
    for (unit, name) in [
        (street, "白鹤"),
        (saihan, "宝玉"),
        (street, "巴雅"),
        (saihan, "段誉"),
        (street, "杜甫"),
        (saihan, "方芳"),
        (street, "范冰"),
    ] {
        add(&staff, json!({ "unit_id": unit, "name": name })).await;
    }
    let by_name = ["巴雅", "白鹤", "宝玉", "杜甫", "段誉", "范冰", "方芳"];
    let listed = |sort: &'static str| {
        let staff = &staff;
        async move { names(&staff.get(&format!("/people?sort={sort}")).await.json()) }
    };
    assert_eq!(listed("name").await, by_name);
    assert_eq!(
        listed("-name").await,
        by_name.iter().rev().copied().collect::<Vec<_>>()
    );
    assert_eq!(
        listed("nonsense").await,
        by_name,
        "an unknown key is ignored"
    );
    // The county's own people come before the street's (the street's path extends the
    // county's), each unit in pinyin order.
    assert_eq!(
        listed("unit").await,
        ["宝玉", "段誉", "方芳", "巴雅", "白鹤", "杜甫", "范冰"]
    );
    assert_eq!(
        listed("-unit").await,
        ["范冰", "杜甫", "白鹤", "巴雅", "方芳", "段誉", "宝玉"]
    );

    // The page's headers sort and say so; a nonsense key falls back to the default.
    let browser = app.login("saihan.staff").await;
    let page = browser.get("/directory?sort=name&status=all").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(r#"aria-sort="ascending"><a href="/directory?status=all&#38;sort=-name""#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"aria-sort="none"><a href="/directory?status=all&#38;sort=unit""#),
        "{}",
        page.body
    );
    let odd = browser.get("/directory?sort=1%3Bdrop&per_page=7").await;
    assert_eq!(odd.status, StatusCode::OK);
    let order: Vec<usize> = by_name
        .iter()
        .map(|n| {
            odd.body
                .find(&format!(">{n}</a>"))
                .unwrap_or_else(|| panic!("{n}"))
        })
        .collect();
    assert!(order.is_sorted(), "{order:?}");
    app.finish().await;
}

/// The people ticked in the directory are exported, tagged, archived (after a page naming
/// them) or invited together; a batch holding anyone the caller may not change is refused
/// whole, naming them, and changes nothing.
async fn batch_actions_over_the_people_picked(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("saihan.staff").await;
    let street = app.unit("150105001").await.id;
    let mut ids = Vec::new();
    for name in ["白鹤", "宝玉", "巴雅"] {
        ids.push(add(&staff, json!({ "unit_id": street, "name": name })).await["id"].clone());
    }
    let [a, b, c] = [0, 1, 2].map(|i| ids[i].as_i64().unwrap().to_string());
    let outside = add(
        &app.api("xincheng").await,
        json!({ "unit_id": app.unit("150102").await.id, "name": "赵敏" }),
    )
    .await["id"]
        .as_i64()
        .unwrap()
        .to_string();
    let browser = app.login("saihan.staff").await;
    let list = browser.get("/directory?q=b").await;
    assert!(
        list.body
            .contains(&format!(r#"name="person" value="{a}" form="batch""#)),
        "{}",
        list.body
    );
    let batch = |fields: Vec<(&'static str, String)>| {
        let browser = &browser;
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            browser
                .submit("/directory", "/directory/batch", &fields)
                .await
        }
    };

    // Tagging two, from a searched list: back to it, saying how many.
    let tagged = batch(vec![
        ("person", a.clone()),
        ("person", b.clone()),
        ("action", "tag".into()),
        ("tag", "青年骨干".into()),
        ("back", "q=b".into()),
    ])
    .await;
    assert_eq!(tagged.status, StatusCode::SEE_OTHER, "{}", tagged.body);
    let back = tagged.location.clone().unwrap_or_default();
    assert_eq!(back, "/directory?q=b&done=people_tagged:2");
    assert!(
        browser
            .get(&back)
            .await
            .body
            .contains("已为 2 人添加标签。")
    );
    assert_eq!(
        staff.get(&format!("/people/{a}")).await.json()["tags"],
        json!(["青年骨干"])
    );
    let history = browser.get(&format!("/people/{a}")).await.body;
    assert!(history.contains("青年骨干"), "{history}");

    // One person outside the caller's subtree refuses the batch whole, naming them.
    let refused = batch(vec![
        ("person", c.clone()),
        ("person", outside.clone()),
        ("action", "tag".into()),
        ("tag", "专家".into()),
    ])
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains(&format!("编号为 {outside} 的人员")),
        "{}",
        refused.body
    );
    assert_eq!(
        staff.get(&format!("/people/{c}")).await.json()["tags"],
        json!([])
    );
    let api_refused = staff
        .post_json(
            "/people/batch",
            &json!({ "person_ids": [c.parse::<i64>().unwrap(), outside.parse::<i64>().unwrap()], "action": "archive" }),
        )
        .await;
    assert_eq!(api_refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(api_refused.error_code(), "refused_people");
    assert_eq!(
        staff.get(&format!("/people/{c}")).await.json()["archived"],
        json!(false)
    );

    // Export: the export page for exactly those picked.
    let export = batch(vec![
        ("person", a.clone()),
        ("person", c.clone()),
        ("action", "export".into()),
    ])
    .await;
    assert_eq!(export.status, StatusCode::SEE_OTHER);
    let export_page = export.location.clone().unwrap_or_default();
    let filter = export_page.split_once('?').unwrap().1.to_owned();
    assert_eq!(filter, format!("status=all&ids={a}%2C{c}"));
    let file = browser
        .submit(
            &export_page,
            "/directory/export",
            &[("filter", &filter), ("format", "csv")],
        )
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert!(
        file.body.contains("白鹤") && file.body.contains("巴雅") && !file.body.contains("宝玉")
    );

    // Inviting: a page to choose among activities still to be held.
    let kind = app
        .api("admin")
        .await
        .post_json(
            "/activity-kinds",
            &json!({ "code": "talk", "name": "座谈会" }),
        )
        .await
        .json()["id"]
        .clone();
    let activity = staff
        .post_json(
            "/activities",
            &json!({ "kind_id": kind, "unit_id": app.unit("150105").await.id, "title": "界别座谈会",
                     "starts_at": "2026-12-09T09:00", "ends_at": "2026-12-09T11:00" }),
        )
        .await;
    assert_eq!(activity.status, StatusCode::CREATED, "{}", activity.body);
    let activity = activity.json()["id"].as_i64().unwrap().to_string();
    let later = staff
        .post_json(
            "/activities",
            &json!({ "kind_id": kind, "unit_id": app.unit("150105").await.id, "title": "年终座谈会",
                     "starts_at": "2026-12-29T09:00", "ends_at": "2026-12-29T11:00" }),
        )
        .await;
    assert_eq!(later.status, StatusCode::CREATED, "{}", later.body);
    let choose = batch(vec![
        ("person", a.clone()),
        ("person", b.clone()),
        ("action", "invite".into()),
    ])
    .await;
    assert_eq!(choose.status, StatusCode::OK);
    assert!(
        choose.body.contains("界别座谈会") && choose.body.contains("宝玉"),
        "{}",
        choose.body
    );
    // The soonest first (and chosen already).
    let soonest = choose.body.find("界别座谈会").unwrap_or_default();
    let after = choose.body.find("年终座谈会").unwrap_or_default();
    assert!(soonest < after, "{}", choose.body);
    let invited = batch(vec![
        ("person", a.clone()),
        ("person", b.clone()),
        ("action", "invite".into()),
        ("activity", activity.clone()),
    ])
    .await;
    assert_eq!(
        invited.location.as_deref(),
        Some(format!("/activities/{activity}?done=invited:2").as_str())
    );

    // Archiving: a page naming everyone first, then the archive.
    let confirm = batch(vec![
        ("person", a.clone()),
        ("person", c.clone()),
        ("action", "archive".into()),
    ])
    .await;
    assert_eq!(confirm.status, StatusCode::OK);
    assert!(
        confirm.body.contains("白鹤")
            && confirm.body.contains("巴雅")
            && confirm.body.contains("确认归档")
    );
    assert_eq!(
        staff.get(&format!("/people/{a}")).await.json()["archived"],
        json!(false)
    );
    let archived = batch(vec![
        ("person", a.clone()),
        ("person", c.clone()),
        ("action", "archive".into()),
        ("confirmed", "yes".into()),
    ])
    .await;
    assert_eq!(
        archived.location.as_deref(),
        Some("/directory?done=people_archived:2")
    );
    assert_eq!(
        staff.get(&format!("/people/{c}")).await.json()["archived"],
        json!(true)
    );
    let nobody = batch(vec![("action", "archive".into())]).await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A leader reads the directory but changes nobody.
    let leader = app.login("saihan.leader").await;
    let read_only = leader
        .submit(
            "/directory",
            "/directory/batch",
            &[("person", b.as_str()), ("action", "tag"), ("tag", "x")],
        )
        .await;
    assert_eq!(read_only.status, StatusCode::FORBIDDEN);
    app.finish().await;
}

engine_tests!(
    a_record_read_can_be_sent_back_whole,
    organizations_and_affiliations,
    likely_duplicates_are_flagged_side_by_side,
    the_sectors_page,
    the_directory_pages,
    people_are_kept_with_protected_fields,
    edits_keep_history_and_never_clobber,
    bad_person_input_is_refused,
    search_by_name_pinyin_initials_and_phone,
    the_directory_sorts_syllable_by_syllable,
    batch_actions_over_the_people_picked,
    sectors_are_kept_by_top_administrators,
);
