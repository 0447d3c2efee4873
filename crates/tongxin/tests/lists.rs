//! Lists at any size: the directory's totals come from kept counts that every change keeps in
//! step, its first page walks an index chosen by the subtree's share of the tree, and lists
//! past the count cap say "10,000+" rather than counting everything.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Engine, TestApp, id_number};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tongxin_store::{Actor, PageRequest, PeopleQuery, PersonOrder};

/// The directory's total for `unit` as the API reports it, and whether it was capped.
async fn listed_total(api: &Api, unit: i64, status: &str) -> u64 {
    let reply = api
        .get(&format!(
            "/people?unit_id={unit}&status={status}&per_page=1"
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = reply.json();
    assert_eq!(page["total_capped"], json!(false));
    page["total"].as_u64().unwrap()
}

/// The people on record under a unit's path, counted by hand.
async fn recount(app: &TestApp, code: &str, archived: bool) -> u64 {
    let path = app.unit(code).await.path.as_str().to_owned();
    let status = if archived { "NOT NULL" } else { "NULL" };
    let sql = format!(
        "SELECT COUNT(*) FROM people WHERE unit_path LIKE '{path}%' AND archived_at IS {status}"
    );
    u64::try_from(app.db.raw().await.count(&sql).await).unwrap()
}

/// Every unit's listed totals agree with a recount, and `tongxin check` finds nothing.
async fn assert_totals(app: &TestApp, api: &Api, step: &str) {
    for code in ["150100", "150102", "150102100", "150102100200", "150105"] {
        let unit = app.unit(code).await.id;
        for (status, archived) in [("active", false), ("archived", true)] {
            assert_eq!(
                listed_total(api, unit, status).await,
                recount(app, code, archived).await,
                "{step}: {status} people of {code}"
            );
        }
    }
    let report = app.store.check().await.unwrap();
    assert!(report.faults.is_empty(), "{step}: {:?}", report.faults);
}

async fn create(api: &Api, unit: i64, name: &str) -> Value {
    let reply = api
        .post_json("/people", &json!({ "unit_id": unit, "name": name }))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

async fn kept_counts_follow_every_change(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let village = app.unit("150102100200").await.id;
    let community = app.unit("150105001001").await.id;
    assert_totals(&app, &admin, "empty").await;

    let first = create(&admin, village, "张三").await;
    let second = create(&admin, village, "张三丰").await;
    create(&admin, community, "李四").await;
    assert_totals(&app, &admin, "created").await;

    // Moved to another county, archived, restored.
    let mut moved = first.clone();
    moved["unit_id"] = json!(community);
    let reply = admin
        .put_json(&format!("/people/{}", first["id"]), &moved)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_totals(&app, &admin, "moved").await;
    let archive = format!("/people/{}/archive", second["id"]);
    assert_eq!(
        admin.post_json(&archive, &json!({})).await.status,
        StatusCode::OK
    );
    assert_totals(&app, &admin, "archived").await;
    let restore = format!("/people/{}/restore", second["id"]);
    assert_eq!(
        admin.post_json(&restore, &json!({})).await.status,
        StatusCode::OK
    );

    // Merged: the other record is archived.
    let reply = admin
        .post_json(
            &format!("/people/{}/merge", second["id"]),
            &json!({ "other_id": first["id"], "version": 3 }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_totals(&app, &admin, "merged").await;

    // Imported in bulk; a refused file changes nothing.
    let good = format!(
        "姓名,单位代码,身份证号\n王五,150102100200,{}\n赵六,150102001001,\n",
        id_number("15010219800101123")
    );
    let reply = admin.post_bytes("/people/import", good.into_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let bad = "姓名,单位代码\n钱七,150102100200\n孙八,999\n".to_owned();
    admin.post_bytes("/people/import", bad.into_bytes()).await;
    assert_totals(&app, &admin, "imported").await;

    // A township moves to the other county, with its village and people.
    let township = app.unit("150102100").await.id;
    let reply = admin
        .patch_json(
            &format!("/units/{township}"),
            &json!({ "parent_id": app.unit("150105").await.id }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_totals(&app, &admin, "unit moved").await;
    app.finish().await;
}

/// A file of `n` people in the unit `code`, for the import route.
fn people_file(code: &str, n: usize, prefix: &str) -> Vec<u8> {
    let mut file = "姓名,单位代码\n".to_owned();
    for i in 0..n {
        file.push_str(&format!("{prefix}{i:03},{code}\n"));
    }
    file.into_bytes()
}

async fn the_first_page_walks_an_index(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    // Most people in one community, a few in one village.
    for (code, n, prefix) in [("150102001001", 120, "甲"), ("150102100200", 5, "乙")] {
        let reply = admin
            .post_bytes("/people/import", people_file(code, n, prefix))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    let city = app.unit("150100").await.id;
    let village = app.unit("150102100200").await.id;
    let system = Actor::system("test");
    let page = PageRequest::new(None, None);
    let plan = |unit_id: i64, order: PersonOrder| {
        let query = PeopleQuery {
            unit_id: Some(unit_id),
            order,
            ..PeopleQuery::default()
        };
        let store = app.store.clone();
        let system = system.clone();
        async move {
            store
                .explain_people_list(&system, &query, page, common::START)
                .await
                .unwrap()
                .join("\n")
        }
    };
    if engine == Engine::Sqlite {
        // The whole city: the pinyin index in order, no sort of the subtree.
        let city_plan = plan(city, PersonOrder::Name).await;
        assert!(city_plan.contains("idx_people_sort_order"), "{city_plan}");
        assert!(!city_plan.contains("TEMP B-TREE"), "{city_plan}");
        // Sorted by unit, or by name backwards: an index in order, no sort either.
        for order in [PersonOrder::Unit, PersonOrder::NameDescending] {
            let reordered = plan(city, order).await;
            assert!(!reordered.contains("TEMP B-TREE"), "{order:?}: {reordered}");
        }
        // One village: its few rows through the path index.
        let village_plan = plan(village, PersonOrder::Name).await;
        assert!(
            village_plan.contains("idx_people_unit_sort"),
            "{village_plan}"
        );
    }
    // Either plan lists the same people in the same order as a sort of the whole directory.
    for unit in [city, village] {
        let reply = admin.get(&format!("/people?unit_id={unit}")).await;
        let names: Vec<String> = reply.json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "unit {unit}");
        let expected = if unit == city { 50 } else { 5 };
        assert_eq!(names.len(), expected);
    }
    app.finish().await;
}

/// The audit log's page is read along its key for a top auditor (the whole log is theirs: no
/// sort of it), and through the path index for a county's auditor with few rows.
async fn the_audit_log_page_walks_its_key(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let policy = tongxin_store::Policy {
        second_factor: tongxin_store::SecondFactorRule::Optional,
        ..tongxin_store::Policy::default()
    };
    let page = PageRequest::new(None, None);
    let mut plans = Vec::new();
    for username in ["auditor", "saihan.auditor"] {
        let credentials = tongxin_store::Credentials {
            username,
            password: common::PASSWORD,
            code: None,
        };
        let (_, auditor) = app
            .store
            .login(
                credentials,
                tongxin_store::SessionKind::Api,
                common::START,
                None,
                &policy,
            )
            .await
            .unwrap();
        let query = tongxin_store::AuditQuery::default();
        let plan = app
            .store
            .explain_audit_log(&auditor, &query, page)
            .await
            .unwrap()
            .join("\n");
        // Whatever the plan, the page is the newest rows in reach.
        let listed = app.store.audit_log(&auditor, &query, page).await.unwrap();
        let seqs: Vec<i64> = listed.items.iter().map(|e| e.seq).collect();
        let mut newest_first = seqs.clone();
        newest_first.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(seqs, newest_first);
        assert!(!seqs.is_empty(), "{username}");
        plans.push(plan);
    }
    if engine == Engine::Sqlite {
        assert!(!plans[0].contains("TEMP B-TREE"), "{}", plans[0]);
        assert!(!plans[0].contains("idx_audit_unit_path"), "{}", plans[0]);
        assert!(plans[1].contains("idx_audit_unit_path"), "{}", plans[1]);
    }
    app.finish().await;
}

/// Past the cap a filtered list stops counting: the API says so, the page says "10000+", and
/// the pager still offers the next page. A search stops at its own cap.
async fn a_long_filtered_list_says_more_than_the_cap(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let cap = usize::try_from(tongxin_store::COUNT_CAP).unwrap();
    let mut file = "姓名,单位代码,性别\n".to_owned();
    for i in 0..=cap {
        file.push_str(&format!("丙{i:05},150102100200,男\n"));
    }
    let reply = admin.post_bytes("/people/import", file.into_bytes()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);

    let last_counted = tongxin_store::COUNT_CAP / 50;
    let page = admin
        .get(&format!("/people?gender=male&page={last_counted}"))
        .await
        .json();
    assert_eq!(page["total"], json!(tongxin_store::COUNT_CAP));
    assert_eq!(page["total_capped"], json!(true));
    assert_eq!(page["items"].as_array().unwrap().len(), 50);
    // Unfiltered, the kept count is exact.
    let all = admin.get("/people?per_page=1").await.json();
    assert_eq!(all["total"], json!(cap + 1));
    assert_eq!(all["total_capped"], json!(false));

    let browser = app.login("admin").await;
    let html = browser
        .get(&format!("/directory?gender=male&page={last_counted}"))
        .await
        .body;
    assert!(html.contains("10000+"), "the page says the total is capped");
    assert!(
        html.contains("rel=\"next\""),
        "a page follows the last counted one"
    );

    // A search counts to its own, lower cap; across the city its many candidates are read
    // along the name order, in a unit where few of them can be, through the candidates.
    let search = admin.get("/people?q=丙0").await.json();
    assert_eq!(search["total"], json!(1000));
    assert_eq!(search["total_capped"], json!(true));
    let names: Vec<&str> = search["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..50).map(|i| format!("丙{i:05}")).collect();
    assert_eq!(names, expected);
    let second = admin.get("/people?q=丙0&page=2").await.json();
    assert_eq!(second["items"][0]["name"], json!("丙00050"));
    let community = app.unit("150102001001").await.id;
    let elsewhere = admin
        .get(&format!("/people?q=丙0&unit_id={community}"))
        .await
        .json();
    assert_eq!(elsewhere["total"], json!(0));
    assert_eq!(elsewhere["total_capped"], json!(false));
    if engine == Engine::Sqlite {
        let system = Actor::system("test");
        let plan = |unit_id: Option<i64>| {
            let query = PeopleQuery {
                q: Some("丙0".to_owned()),
                unit_id,
                ..PeopleQuery::default()
            };
            let store = app.store.clone();
            let system = system.clone();
            async move {
                store
                    .explain_people_list(
                        &system,
                        &query,
                        PageRequest::new(None, None),
                        common::START,
                    )
                    .await
                    .unwrap()
                    .join("\n")
            }
        };
        let city = app.unit("150100").await.id;
        let city_plan = plan(Some(city)).await;
        assert!(city_plan.contains("idx_people_sort_order"), "{city_plan}");
        assert!(!city_plan.contains("FOR ORDER BY"), "{city_plan}");
        let community_plan = plan(Some(community)).await;
        assert!(
            !community_plan.contains("idx_people_sort_order"),
            "{community_plan}"
        );
    }
    app.finish().await;
}

engine_tests!(
    the_audit_log_page_walks_its_key,
    kept_counts_follow_every_change,
    the_first_page_walks_an_index,
    a_long_filtered_list_says_more_than_the_cap,
);
