//! Campaigns and coverage (issue 4, point 5): a target population of sectors × subtree × tags,
//! coverage at every level and by sector with the unreached list, planning the next batch, late
//! joiners; and the coverage counters proved equal to a from-scratch recount after random
//! changes. On both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::activity::{plan, setup, start_campaign};
use common::{Engine, RawDb, TestApp};
use rand::{RngExt, SeedableRng};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn figures(coverage: &Value) -> (i64, i64) {
    (
        coverage["targeted"].as_i64().unwrap(),
        coverage["reached"].as_i64().unwrap(),
    )
}

fn child<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["unit"]["name"] == name)
        .unwrap_or_else(|| panic!("no child {name} in {report}"))
}

async fn coverage_drills_down_from_the_city_to_a_village(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, people, _) = setup(&app).await;
    let admin = app.api("admin").await;

    // A target that holds nobody is refused, and nothing is written.
    let empty = admin
        .post_json(
            "/campaigns",
            &json!({ "unit_id": app.unit("150100").await.id, "title": "空", "starts_on": "2026-11-01",
                     "ends_on": "2026-12-31", "target_unit_id": app.unit("150105").await.id,
                     "sector_ids": [sector] }),
        )
        .await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.error_code(), "empty_target");
    assert!(empty.error_message().contains("目标人群"), "{}", empty.body);
    let backwards = admin
        .post_json(
            "/campaigns",
            &json!({ "unit_id": app.unit("150100").await.id, "title": "倒", "starts_on": "2026-11-01",
                     "ends_on": "2026-10-01", "target_unit_id": app.unit("150102").await.id }),
        )
        .await;
    assert_eq!(backwards.error_code(), "ends_before_start");
    assert_eq!(admin.get("/campaigns").await.json()["total"], 0);

    let campaign = start_campaign(&app, &admin, sector).await;
    let shown = admin.get(&format!("/campaigns/{campaign}")).await.json();
    assert_eq!(figures(&shown["coverage"]), (2, 0));

    // The county sees the city's campaign that targets it; another county does not.
    let county = app.api("xincheng").await;
    assert_eq!(county.get("/campaigns").await.json()["total"], 1);
    let saihan = app.api("saihan").await;
    assert_eq!(saihan.get("/campaigns").await.json()["total"], 0);
    assert_eq!(
        saihan
            .get(&format!("/campaigns/{campaign}/coverage"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // The first batch: 王芳 attends.
    let activity = plan(&county, &app, kind, json!({ "campaign_id": campaign })).await;
    let id = activity["id"].as_i64().unwrap();
    county
        .post_json(
            &format!("/activities/{id}/invitations"),
            &json!({ "person_ids": [people[0]] }),
        )
        .await;
    county
        .post_json(
            &format!("/activities/{id}/attendance"),
            &json!({ "person_ids": [people[0]], "status": "attended" }),
        )
        .await;

    let report = admin
        .get(&format!("/campaigns/{campaign}/coverage"))
        .await
        .json();
    assert_eq!(report["unit"]["name"], "新城区");
    assert_eq!(figures(&report["total"]), (2, 1));
    assert_eq!(report["total"]["per_mille"], 500);
    assert_eq!(
        figures(&child(&report, "海拉尔东路街道")["coverage"]),
        (2, 1)
    );
    assert_eq!(figures(&child(&report, "保合少镇")["coverage"]), (0, 0));
    assert_eq!(report["sectors"][0]["sector"]["name"], "民主党派");
    assert_eq!(figures(&report["sectors"][0]["coverage"]), (2, 1));
    let street = app.unit("150102001").await.id;
    let drilled = admin
        .get(&format!("/campaigns/{campaign}/coverage?unit_id={street}"))
        .await
        .json();
    assert_eq!(figures(&child(&drilled, "光明社区")["coverage"]), (2, 1));
    assert_eq!(figures(&child(&drilled, "团结社区")["coverage"]), (0, 0));
    let unreached = admin
        .get(&format!("/campaigns/{campaign}/unreached?unit_id={street}"))
        .await
        .json();
    assert_eq!(unreached["total"], 1);
    assert_eq!(unreached["items"][0]["person"]["name"], "李强");

    // Someone who joins the target later counts from then on.
    let joined = county
        .post_json(
            "/people",
            &json!({ "unit_id": app.unit("150102001002").await.id, "name": "陈静",
                     "sectors": [{ "sector_id": sector }] }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let report = county
        .get(&format!("/campaigns/{campaign}/coverage"))
        .await
        .json();
    assert_eq!(figures(&report["total"]), (3, 1));
    // Moving 李强 to a village of 保合少镇 moves his count with him.
    let mut record = county.get(&format!("/people/{}", people[1])).await.json();
    record["unit_id"] = json!(app.unit("150102100200").await.id);
    let moved = county
        .put_json(&format!("/people/{}", people[1]), &record)
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    let report = county
        .get(&format!("/campaigns/{campaign}/coverage"))
        .await
        .json();
    assert_eq!(figures(&child(&report, "保合少镇")["coverage"]), (1, 0));
    assert_eq!(
        figures(&child(&report, "海拉尔东路街道")["coverage"]),
        (2, 1)
    );

    // The next batch in 新城区 invites exactly its unreached people.
    let batch = county
        .post_json(
            &format!("/campaigns/{campaign}/next-batch"),
            &json!({ "kind_id": kind, "unit_id": app.unit("150102").await.id, "title": "第二批集中学习",
                     "starts_at": "2026-12-12T09:00", "ends_at": "2026-12-12T11:00" }),
        )
        .await;
    assert_eq!(batch.status, StatusCode::CREATED, "{}", batch.body);
    assert_eq!(batch.json()["invited"], 2);
    assert_eq!(batch.json()["campaign"]["id"], campaign);
    let invited = county
        .get(&format!("/activities/{}/invitations", batch.json()["id"]))
        .await
        .json();
    let mut names: Vec<&str> = invited["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["person"]["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, vec!["李强", "陈静"]);

    // Archiving someone takes them out; marking the attendee absent un-reaches her.
    county
        .post_json(&format!("/people/{joined}/archive"), &json!({}))
        .await;
    county
        .post_json(
            &format!("/activities/{id}/attendance"),
            &json!({ "person_ids": [people[0]], "status": "absent" }),
        )
        .await;
    let report = county
        .get(&format!("/campaigns/{campaign}/coverage"))
        .await
        .json();
    assert_eq!(figures(&report["total"]), (2, 0));
    app.finish().await;
}

async fn the_unreached_say_how_to_reach_them(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, people, _) = setup(&app).await;
    let admin = app.api("admin").await;
    let campaign = start_campaign(&app, &admin, sector).await;
    let county = app.api("xincheng").await;
    let batch = plan(&county, &app, kind, json!({ "campaign_id": campaign })).await;
    let batch_id = batch["id"].as_i64().unwrap();
    county
        .post_json(
            &format!("/activities/{batch_id}/invitations"),
            &json!({ "person_ids": [people[0]] }),
        )
        .await;

    // Each unreached person with sectors and whether a batch invites them.
    let unreached = county
        .get(&format!("/campaigns/{campaign}/unreached"))
        .await
        .json();
    assert_eq!(unreached["total"], 2);
    let by_name = |name: &str| {
        unreached["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["person"]["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {unreached}"))
            .clone()
    };
    let wang = by_name("王芳");
    assert_eq!(wang["batch"]["activity"]["id"], batch_id);
    assert_eq!(wang["batch"]["status"], "invited");
    assert_eq!(wang["sectors"], json!(["民主党派"]));
    assert!(by_name("李强")["batch"].is_null());

    // The page lists the batches and the same facts.
    let browser = app.login("xincheng").await;
    let page = browser.get(&format!("/campaigns/{campaign}")).await.body;
    let batches = page
        .split("<h2>批次")
        .nth(1)
        .and_then(|rest| rest.split("</table>").next())
        .unwrap_or_else(|| panic!("no batches: {page}"));
    assert!(
        batches.contains(&format!("href=\"/activities/{batch_id}\""))
            && batches.contains("2026-12-05 14:30"),
        "{batches}"
    );
    assert!(
        page.contains("尚未安排") && page.contains("民主党派"),
        "{page}"
    );

    // Exported as a spreadsheet headed in Chinese, audited, never by GET.
    let unit = app.unit("150102").await.id.to_string();
    let file = browser
        .submit(
            &format!("/campaigns/{campaign}"),
            &format!("/campaigns/{campaign}/unreached/export"),
            &[("format", "csv"), ("unit", &unit)],
        )
        .await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    let lines: Vec<&str> = file.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "姓名,所属单位,界别,手机号,所在批次,邀请情况,纳入目标时间"
    );
    assert_eq!(lines.len(), 3, "{}", file.body);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("李强,光明社区,民主党派,,,尚未安排,")),
        "{}",
        file.body
    );
    let (status, content_type, bytes) = county
        .post_for_bytes(&format!(
            "/campaigns/{campaign}/unreached/export?format=xlsx"
        ))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(content_type.contains("spreadsheetml"), "{content_type}");
    let table =
        tongxin_tabular::read(&bytes, tongxin_tabular::Format::Xlsx, &Default::default()).unwrap();
    assert_eq!(table.headers[0], "姓名");
    assert_eq!(table.rows.len(), 2);
    assert_eq!(
        browser
            .get(&format!("/campaigns/{campaign}/unreached/export"))
            .await
            .status,
        StatusCode::METHOD_NOT_ALLOWED
    );
    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=campaign.unreached_export")
        .await;
    assert_eq!(audit.json()["total"], 2, "{}", audit.body);
    // The audit page says it in words, details included.
    let page = app
        .login("auditor")
        .await
        .get("/audit?action=campaign.unreached_export")
        .await
        .body;
    assert!(
        page.contains("导出未覆盖名单") && page.contains("条数：2；单位：150102"),
        "{page}"
    );
    assert!(!page.contains("campaign.unreached_export</td>") && !page.contains("{&quot;"));

    // A format the export does not write is named, not guessed.
    let pdf = county
        .post_json(
            &format!("/campaigns/{campaign}/unreached/export?format=pdf"),
            &json!({}),
        )
        .await;
    assert_eq!(pdf.status, StatusCode::BAD_REQUEST);
    assert!(pdf.body.contains("format=pdf"), "{}", pdf.body);

    // Another county cannot export it.
    let other = app.api("saihan").await;
    let refused = other
        .post_json(
            &format!("/campaigns/{campaign}/unreached/export"),
            &json!({}),
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    app.finish().await;
}

/// Targeted and reached people of a campaign in a subtree, counted straight from the
/// directory and attendance with SQL of the test's own.
async fn recount(db: &RawDb, campaign: i64, path: &str, sector: Option<i64>) -> (i64, i64) {
    let target = format!(
        "FROM people p, campaigns c WHERE c.id = {campaign} AND p.archived_at IS NULL \
         AND p.unit_path LIKE '{path}%' AND p.unit_path LIKE c.target_unit_path || '%' \
         AND (NOT EXISTS (SELECT 1 FROM campaign_sectors s WHERE s.campaign_id = c.id) \
              OR EXISTS (SELECT 1 FROM person_sectors ps JOIN campaign_sectors s \
                         ON s.sector_id = ps.sector_id WHERE s.campaign_id = c.id AND ps.person_id = p.id)) \
         AND (NOT EXISTS (SELECT 1 FROM campaign_tags t WHERE t.campaign_id = c.id) \
              OR EXISTS (SELECT 1 FROM person_tags pt JOIN campaign_tags t \
                         ON t.tag = pt.tag WHERE t.campaign_id = c.id AND pt.person_id = p.id)) \
         {in_sector}",
        in_sector = match sector {
            Some(s) => format!(
                "AND EXISTS (SELECT 1 FROM person_sectors ps WHERE ps.person_id = p.id AND ps.sector_id = {s})"
            ),
            None => String::new(),
        }
    );
    let reached = "AND EXISTS (SELECT 1 FROM invitations i JOIN activities a ON a.id = i.activity_id \
                   WHERE a.campaign_id = c.id AND i.person_id = p.id AND i.status = 'attended')";
    (
        db.count(&format!("SELECT COUNT(*) {target}")).await,
        db.count(&format!("SELECT COUNT(*) {target} {reached}"))
            .await,
    )
}

async fn coverage_counters_equal_a_recount_after_random_changes(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, _, _) = setup(&app).await;
    let admin = app.api("admin").await;
    let other_sector = admin
        .post_json(
            "/sectors",
            &json!({ "code": "gongshang", "name": "工商联" }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let by_sector = start_campaign(&app, &admin, sector).await;
    let by_tag = admin
        .post_json(
            "/campaigns",
            &json!({ "unit_id": app.unit("150100").await.id, "title": "青年学习", "starts_on": "2026-11-01",
                     "ends_on": "2027-03-31", "target_unit_id": app.unit("150100").await.id,
                     "tags": ["青年"] }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let mut activities = Vec::new();
    for campaign in [by_sector, by_tag] {
        let a = plan(
            &admin,
            &app,
            kind,
            json!({ "campaign_id": campaign, "unit_id": app.unit("150100").await.id }),
        )
        .await;
        activities.push((campaign, a["id"].as_i64().unwrap()));
    }
    let codes = [
        "150100",
        "150102",
        "150102001001",
        "150102001002",
        "150102100200",
        "150105001001",
        "150105002",
    ];
    let mut units = Vec::new();
    for code in codes {
        units.push(app.unit(code).await.id);
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(20261130);
    let mut people: Vec<i64> = Vec::new();
    let db = app.db.raw().await;
    for step in 0..60 {
        match rng.random_range(0..10) {
            // Insert someone with random sectors and tags.
            0..=3 => {
                let mut sectors = Vec::new();
                if rng.random_bool(0.6) {
                    sectors.push(json!({ "sector_id": sector }));
                }
                if rng.random_bool(0.4) {
                    sectors.push(json!({ "sector_id": other_sector }));
                }
                let tags: Vec<&str> = if rng.random_bool(0.5) {
                    vec!["青年"]
                } else {
                    vec![]
                };
                let unit = units[rng.random_range(0..units.len())];
                let reply = admin
                    .post_json(
                        "/people",
                        &json!({ "unit_id": unit, "name": format!("成员{step}"),
                                 "sectors": sectors, "tags": tags }),
                    )
                    .await;
                assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
                people.push(reply.json()["id"].as_i64().unwrap());
            }
            // Move someone to another unit, or change their tags.
            4 | 5 if !people.is_empty() => {
                let id = people[rng.random_range(0..people.len())];
                let mut record = admin.get(&format!("/people/{id}")).await.json();
                if record["archived"] == true {
                    continue;
                }
                record["unit_id"] = json!(units[rng.random_range(0..units.len())]);
                if rng.random_bool(0.3) {
                    record["tags"] = if rng.random_bool(0.5) {
                        json!(["青年"])
                    } else {
                        json!([])
                    };
                }
                let reply = admin.put_json(&format!("/people/{id}"), &record).await;
                assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            }
            // Delete (archive) or restore someone.
            6 if !people.is_empty() => {
                let id = people[rng.random_range(0..people.len())];
                let action = if rng.random_bool(0.7) {
                    "archive"
                } else {
                    "restore"
                };
                admin
                    .post_json(&format!("/people/{id}/{action}"), &json!({}))
                    .await;
            }
            // Attendance comes and goes.
            7 | 8 if !people.is_empty() => {
                let (_, activity) = activities[rng.random_range(0..activities.len())];
                let id = people[rng.random_range(0..people.len())];
                admin
                    .post_json(
                        &format!("/activities/{activity}/invitations"),
                        &json!({ "person_ids": [id] }),
                    )
                    .await;
                let status = if rng.random_bool(0.7) {
                    "attended"
                } else {
                    "absent"
                };
                admin
                    .post_json(
                        &format!("/activities/{activity}/attendance"),
                        &json!({ "person_ids": [id], "status": status }),
                    )
                    .await;
            }
            // Once: a township moves to the other county, with everyone filed below it.
            9 if step > 30 => {
                let township = app.unit("150102100").await;
                if township.parent_id == Some(app.unit("150102").await.id) {
                    let reply = admin
                        .patch_json(
                            &format!("/units/{}", township.id),
                            &json!({ "parent_id": app.unit("150105").await.id }),
                        )
                        .await;
                    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
                }
            }
            _ => {}
        }
        if step % 10 != 9 {
            continue;
        }
        for campaign in [by_sector, by_tag] {
            for code in ["150100", "150102", "150102001", "150105", "150102100"] {
                let unit = app.unit(code).await;
                let report = admin
                    .get(&format!(
                        "/campaigns/{campaign}/coverage?unit_id={}",
                        unit.id
                    ))
                    .await;
                assert_eq!(report.status, StatusCode::OK, "{}", report.body);
                let report = report.json();
                let expected = recount(&db, campaign, unit.path.as_str(), None).await;
                assert_eq!(
                    figures(&report["total"]),
                    expected,
                    "campaign {campaign} at {code}, step {step}"
                );
                for row in report["sectors"].as_array().unwrap() {
                    let s = row["sector"]["id"].as_i64().unwrap();
                    let expected = recount(&db, campaign, unit.path.as_str(), Some(s)).await;
                    assert_eq!(figures(&row["coverage"]), expected, "sector {s} at {code}");
                }
                for c in report["children"].as_array().unwrap() {
                    let child = app.unit(c["unit"]["code"].as_str().unwrap()).await;
                    let expected = recount(&db, campaign, child.path.as_str(), None).await;
                    assert_eq!(figures(&c["coverage"]), expected, "child {}", child.code);
                }
            }
        }
    }
    assert!(people.len() > 10, "the walk made too few people");
    // `tongxin check` agrees, and notices a counter changed behind Tongxin's back.
    assert!(app.store.check().await.unwrap().faults.is_empty());
    db.execute(&format!(
        "UPDATE campaign_counts SET reached = reached + 1 WHERE campaign_id = {by_tag} AND sector_id = 0 \
         AND unit_id = (SELECT MIN(unit_id) FROM campaign_counts WHERE campaign_id = {by_tag})"
    ))
    .await;
    let faults = app.store.check().await.unwrap().faults;
    assert_eq!(
        faults,
        vec![tongxin_store::Fault::CoverageCounters {
            campaign_id: by_tag
        }]
    );
    // So does it for an activity's kept tallies of its invitees.
    let activity = db
        .count("SELECT MIN(activity_id) FROM activity_tallies")
        .await;
    db.execute(&format!(
        "UPDATE activity_tallies SET attended = attended + 1 WHERE activity_id = {activity}"
    ))
    .await;
    let faults = app.store.check().await.unwrap().faults;
    assert!(
        faults.contains(&tongxin_store::Fault::ActivityTallies {
            activity_id: activity
        }),
        "{faults:?}"
    );
    app.finish().await;
}

engine_tests!(
    the_unreached_say_how_to_reach_them,
    coverage_drills_down_from_the_city_to_a_village,
    coverage_counters_equal_a_recount_after_random_changes,
);
