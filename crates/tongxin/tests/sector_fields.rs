//! A sector's own fields (issue 3, point 1): defined by top administrators, checked on every
//! person saved or imported, kept in history, carried by import templates; on both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Engine, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tongxin_tabular::{Format, Limits};

/// The 民主党派 sector with a required single choice, a number, a date and a multiple choice.
async fn setup(app: &TestApp) -> (i64, Api) {
    let admin = app.api("admin").await;
    let reply = admin
        .post_json("/sectors", &json!({ "code": "minzhu", "name": "民主党派" }))
        .await;
    let sector = reply.json()["id"].as_i64().unwrap();
    for field in [
        json!({ "key": "party", "label": "所属党派", "kind": "choice", "required": true,
                "choices": ["民革", "民盟", "民建"] }),
        json!({ "key": "terms", "label": "任职届数", "kind": "number" }),
        json!({ "key": "joined", "label": "入党时间", "kind": "date" }),
        json!({ "key": "circles", "label": "所在界别小组", "kind": "choices",
                "choices": ["经济", "教育", "科技"] }),
    ] {
        let reply = admin
            .post_json(&format!("/sectors/{sector}/fields"), &field)
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    (sector, admin)
}

async fn fields_are_defined_by_top_administrators(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (sector, admin) = setup(&app).await;
    let listed = admin.get("/sectors").await.json();
    let fields = &listed["items"][0]["fields"];
    assert_eq!(fields.as_array().unwrap().len(), 4);
    assert_eq!(fields[0]["key"], "party");
    assert_eq!(fields[0]["kind"], "choice");
    assert_eq!(fields[0]["required"], true);
    assert_eq!(fields[0]["choices"], json!(["民革", "民盟", "民建"]));

    let path = format!("/sectors/{sector}/fields");
    for (body, field, code) in [
        (
            json!({ "key": "Party", "label": "x", "kind": "text" }),
            "field_key",
            "field_key_format",
        ),
        (
            json!({ "key": "party", "label": "重复", "kind": "text" }),
            "field_key",
            "taken",
        ),
        (
            json!({ "key": "size", "label": "规模", "kind": "choice" }),
            "field_choices",
            "required",
        ),
        (
            json!({ "key": "size", "label": "规模", "kind": "choices", "choices": ["大", "大"] }),
            "field_choices",
            "repeated",
        ),
        (
            json!({ "key": "size", "label": "规模", "kind": "colour" }),
            "field_kind",
            "not_found",
        ),
        (
            json!({ "key": "size", "label": " ", "kind": "text" }),
            "field_label",
            "required",
        ),
    ] {
        let reply = admin.post_json(&path, &body).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(reply.json()["error"]["field"], field, "{body}");
        assert_eq!(reply.error_code(), code, "{body}");
    }
    let county = app.api("saihan").await;
    let refused = county
        .post_json(&path, &json!({ "key": "x", "label": "x", "kind": "text" }))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let missing = admin
        .post_json(
            "/sectors/999999/fields",
            &json!({ "key": "x", "label": "x", "kind": "text" }),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Relabel, add a choice, make optional; a field of another sector is not found here.
    let party = fields[0]["id"].as_i64().unwrap();
    let changed = admin
        .patch_json(
            &format!("/sectors/{sector}/fields/{party}"),
            &json!({ "label": "党派", "required": false, "choices": ["民革", "民盟", "民建", "民进"] }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(changed.json()["label"], "党派");
    assert_eq!(changed.json()["choices"].as_array().unwrap().len(), 4);
    let emptied = admin
        .patch_json(
            &format!("/sectors/{sector}/fields/{party}"),
            &json!({ "label": "党派", "choices": [] }),
        )
        .await;
    assert_eq!(emptied.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(emptied.json()["error"]["field"], "field_choices");
    let elsewhere = admin
        .patch_json(
            &format!("/sectors/{}/fields/{party}", sector + 1),
            &json!({ "archived": true }),
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);
    let audited = app
        .api("auditor")
        .await
        .get("/audit?action=sector.field")
        .await
        .json();
    assert_eq!(audited["total"], 5, "{audited}");
    app.finish().await;
}

async fn person_in(staff: &Api, unit: i64, sector: i64, values: Value) -> common::Reply {
    staff
        .post_json(
            "/people",
            &json!({
                "unit_id": unit, "name": "张伟",
                "sectors": [{ "sector_id": sector, "role": "委员", "values": values }]
            }),
        )
        .await
}

async fn values_are_checked_kept_and_historied(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (sector, admin) = setup(&app).await;
    let staff = app.api("saihan.staff").await;
    let unit = app.unit("150105001").await.id;

    for (values, code, label) in [
        (json!({}), "required", "民主党派·所属党派"),
        (
            json!({ "party": "民进" }),
            "not_a_choice",
            "民主党派·所属党派",
        ),
        (
            json!({ "party": "民革", "terms": "三" }),
            "number_format",
            "民主党派·任职届数",
        ),
        (
            json!({ "party": "民革", "joined": "1999-02-30" }),
            "date_format",
            "民主党派·入党时间",
        ),
        (
            json!({ "party": "民革", "circles": "经济、体育" }),
            "not_a_choice",
            "民主党派·所在界别小组",
        ),
        (
            json!({ "party": "民革", "shoe": "42" }),
            "not_found",
            "民主党派·shoe",
        ),
    ] {
        let reply = person_in(&staff, unit, sector, values.clone()).await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{values}");
        let error = &reply.json()["error"];
        assert_eq!(error["field"], "sector_field", "{values}");
        assert_eq!(error["code"], code, "{values}");
        assert_eq!(error["label"], label, "{values}");
        assert!(
            error["message"].as_str().unwrap().contains(label),
            "{error}"
        );
    }
    assert_eq!(
        staff.get("/people").await.json()["total"],
        0,
        "nothing written"
    );

    let created = person_in(
        &staff,
        unit,
        sector,
        json!({ "party": "民盟", "terms": "2", "joined": "1999/7/1", "circles": "科技；经济" }),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let person = created.json();
    let values = &person["sectors"][0]["values"];
    assert_eq!(
        values,
        &json!({ "party": "民盟", "terms": "2", "joined": "1999-07-01", "circles": "经济、科技" })
    );
    let id = person["id"].as_i64().unwrap();

    // Archiving a field keeps its values through later saves, which no longer send them.
    let fields = admin.get("/sectors").await.json()["items"][0]["fields"].clone();
    let joined = fields[2]["id"].as_i64().unwrap();
    admin
        .patch_json(
            &format!("/sectors/{sector}/fields/{joined}"),
            &json!({ "archived": true }),
        )
        .await;
    let saved = staff
        .put_json(
            &format!("/people/{id}"),
            &json!({
                "version": 1, "unit_id": unit, "name": "张伟",
                "sectors": [{ "sector_id": sector, "role": "委员",
                              "values": { "party": "民建", "terms": "2", "circles": "经济、科技" } }]
            }),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let shown = staff.get(&format!("/people/{id}")).await.json();
    assert_eq!(shown["sectors"][0]["values"]["party"], "民建");
    // The archived field's value stays, and cannot be changed any more.
    assert_eq!(shown["sectors"][0]["values"]["joined"], "1999-07-01");
    let mut resent = shown.clone();
    resent["sectors"][0]["values"]["joined"] = json!("2001-01-01");
    let saved = staff
        .put_json(
            &format!("/people/{id}"),
            &json!({
                "version": shown["version"], "unit_id": unit, "name": "张伟",
                "sectors": resent["sectors"]
            }),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.json()["sectors"][0]["values"]["joined"], "1999-07-01");

    let history = staff.get(&format!("/people/{id}/history")).await.json();
    let sector_change = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["field"] == "sector" && h["version"] == 2)
        .expect("the sector change is in history");
    assert!(
        sector_change["old"]
            .as_str()
            .unwrap()
            .contains("所属党派：民盟"),
        "{sector_change}"
    );
    assert!(
        sector_change["new"]
            .as_str()
            .unwrap()
            .contains("所属党派：民建"),
        "{sector_change}"
    );
    app.finish().await;
}

async fn templates_and_imports_carry_the_fields(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (sector, _) = setup(&app).await;
    let staff = app.api("saihan.staff").await;

    let (status, content_type, csv) = staff
        .get_bytes(&format!("/people/template?sector={sector}&format=csv"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.starts_with("text/csv"));
    let header = String::from_utf8(csv).unwrap();
    assert!(header.starts_with('\u{feff}'));
    assert!(
        header.contains("姓名")
            && header.contains("民主党派·所属党派")
            && header.contains("民主党派·所在界别小组"),
        "{header}"
    );
    assert!(!header.contains("宗教信仰"), "religion is not enabled");
    let (status, content_type, xlsx) = staff
        .get_bytes(&format!("/people/template?sector={sector}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.contains("spreadsheetml"));
    let table = tongxin_tabular::read(&xlsx, Format::Xlsx, &Limits::default()).unwrap();
    assert!(table.headers.iter().any(|h| h == "民主党派·入党时间"));
    assert_eq!(
        staff.get("/people/template?sector=999999").await.status,
        StatusCode::NOT_FOUND
    );

    // Problems in the sector's columns are reported by line and column; nothing is written.
    let bad = "姓名,单位代码,界别,民主党派·所属党派,minzhu·terms\n\
               张伟,150105,民主党派,,3\n\
               李娜,150105,,民进,\n\
               王芳,150105,,民革,x\n";
    let reply = staff
        .post_bytes("/people/import", bad.as_bytes().to_vec())
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let problems: Vec<(u64, String, String)> = reply.json()["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["column"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            (2, "民主党派·所属党派".to_owned(), "required".to_owned()),
            (3, "民主党派·所属党派".to_owned(), "not_a_choice".to_owned()),
            (
                4,
                "民主党派·任职届数".to_owned(),
                "number_format".to_owned()
            ),
        ]
    );
    assert_eq!(staff.get("/people").await.json()["total"], 0);

    let good = "姓名,单位代码,民主党派·所属党派,民主党派·所在界别小组\n\
                张伟,150105,民革,教育、经济\n";
    let reply = staff
        .post_bytes("/people/import", good.as_bytes().to_vec())
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let list = staff.get("/people").await.json();
    let id = list["items"][0]["id"].as_i64().unwrap();
    let person = staff.get(&format!("/people/{id}")).await.json();
    assert_eq!(
        person["sectors"][0]["sector"], "民主党派",
        "a value joins the sector"
    );
    assert_eq!(
        person["sectors"][0]["values"],
        json!({ "party": "民革", "circles": "经济、教育" })
    );

    // An export of the sector carries its fields, headed as the template heads them.
    let export = staff
        .post_json(&format!("/people/export?sector_id={sector}"), &json!({}))
        .await
        .body;
    let mut lines = export.lines();
    let header = lines.next().unwrap();
    assert!(
        header.ends_with(
            "民主党派·所属党派,民主党派·任职届数,民主党派·入党时间,民主党派·所在界别小组"
        ),
        "{header}"
    );
    assert!(
        lines.next().unwrap().ends_with("民革,,,经济、教育"),
        "{export}"
    );
    app.finish().await;
}

async fn the_sector_and_person_pages(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (sector, _) = setup(&app).await;
    let admin = app.login("admin").await;
    let page = admin.get(&format!("/sectors/{sector}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("所属党派") && page.body.contains("多选"));
    let added = admin
        .submit(
            &format!("/sectors/{sector}"),
            &format!("/sectors/{sector}/fields"),
            &[
                ("key", "office"),
                ("label", "社会职务"),
                ("kind", "text"),
                ("required", "true"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let refused = admin
        .submit(
            &format!("/sectors/{sector}"),
            &format!("/sectors/{sector}/fields"),
            &[("key", "9x"), ("label", "社会职务"), ("kind", "text")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("字段代码须以小写字母开头"),
        "{}",
        refused.body
    );

    let staff = app.login("saihan.staff").await;
    let form = staff.get("/people/new").await;
    assert!(
        form.body
            .contains(&format!("name=\"value_{sector}_party\""))
    );
    assert!(
        form.body
            .contains(&format!("name=\"value_{sector}_circles.1\""))
    );
    let unit = app.unit("150105001").await.code;
    let sector_box = format!("sector_{sector}");
    let party = format!("value_{sector}_party");
    let office = format!("value_{sector}_office");
    let circle_a = format!("value_{sector}_circles.1");
    let circle_c = format!("value_{sector}_circles.3");
    let missing = staff
        .submit(
            "/people/new",
            "/people/new",
            &[
                ("unit_code", unit.as_str()),
                ("name", "张伟"),
                (sector_box.as_str(), "on"),
                (party.as_str(), "民盟"),
            ],
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.body.contains("请填写「民主党派·社会职务」"),
        "{}",
        missing.body
    );
    let created = staff
        .submit(
            "/people/new",
            "/people/new",
            &[
                ("unit_code", unit.as_str()),
                ("name", "张伟"),
                (sector_box.as_str(), "on"),
                (party.as_str(), "民盟"),
                (office.as_str(), "市政协委员"),
                (circle_a.as_str(), "经济"),
                (circle_c.as_str(), "科技"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let shown = staff.get(created.location.as_deref().unwrap()).await;
    assert!(
        shown.body.contains("所属党派：民盟") && shown.body.contains("所在界别小组：经济、科技"),
        "{}",
        shown.body
    );
    let import = staff.get("/directory/import").await;
    assert!(
        import
            .body
            .contains(&format!("/directory/template?sector={sector}"))
    );
    app.finish().await;
}

engine_tests!(
    fields_are_defined_by_top_administrators,
    values_are_checked_kept_and_historied,
    templates_and_imports_carry_the_fields,
    the_sector_and_person_pages,
);
