//! The people, kind and sector that the activity and campaign tests share.

use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Api, TestApp};

/// A kind, a sector, and people: three in 新城区 (two in the 民主党派 sector, one tagged 青年)
/// and one in 赛罕区. Returns (kind id, sector id, xincheng ids, saihan id).
pub async fn setup(app: &TestApp) -> (i64, i64, Vec<i64>, i64) {
    let admin = app.api("admin").await;
    let kind = admin
        .post_json(
            "/activity-kinds",
            &json!({ "code": "seminar", "name": "学习研讨会" }),
        )
        .await;
    assert_eq!(kind.status, StatusCode::CREATED, "{}", kind.body);
    let sector = admin
        .post_json("/sectors", &json!({ "code": "minzhu", "name": "民主党派" }))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let guangming = app.unit("150102001001").await.id;
    let dongfeng = app.unit("150102100200").await.id;
    let jinqiao = app.unit("150105001001").await.id;
    let mut xincheng = Vec::new();
    for (name, unit, sectors, tags) in [
        ("王芳", guangming, vec![sector], vec![]),
        ("李强", guangming, vec![sector], vec!["青年"]),
        ("赵敏", dongfeng, vec![], vec!["青年"]),
    ] {
        let sectors: Vec<Value> = sectors.iter().map(|s| json!({ "sector_id": s })).collect();
        let reply = admin
            .post_json(
                "/people",
                &json!({ "unit_id": unit, "name": name, "sectors": sectors, "tags": tags }),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        xincheng.push(reply.json()["id"].as_i64().unwrap());
    }
    let saihan = admin
        .post_json("/people", &json!({ "unit_id": jinqiao, "name": "孙杰" }))
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    (
        kind.json()["id"].as_i64().unwrap(),
        sector,
        xincheng,
        saihan,
    )
}

/// Plans an activity of 新城区 at 2026-12-05 14:30–16:30 (China time).
pub async fn plan(api: &Api, app: &TestApp, kind: i64, extra: Value) -> Value {
    let mut body = json!({
        "kind_id": kind,
        "unit_id": app.unit("150102").await.id,
        "title": "学习贯彻二十大精神研讨会",
        "starts_at": "2026-12-05T14:30",
        "ends_at": "2026-12-05T16:30",
        "place": "区委党校报告厅",
        "agenda": "一、传达精神\n二、交流发言",
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let reply = api.post_json("/activities", &body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

/// Links the member account to a person of its unit and returns the person's id.
pub async fn linked_member(app: &TestApp) -> i64 {
    let staff = app.api("xincheng").await;
    let id = staff
        .post_json(
            "/people",
            &json!({ "unit_id": app.unit("150102001001").await.id, "name": "周明" }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let linked = staff
        .put_json(
            &format!("/people/{id}/member"),
            &json!({ "username": "xincheng.member" }),
        )
        .await;
    assert!(linked.status.is_success(), "{}", linked.body);
    id
}

/// A campaign of the city for the 民主党派 sector of 新城区.
pub async fn start_campaign(app: &TestApp, admin: &Api, sector: i64) -> i64 {
    let reply = admin
        .post_json(
            "/campaigns",
            &json!({
                "unit_id": app.unit("150100").await.id,
                "title": "学习贯彻党的二十大精神",
                "starts_on": "2026-11-01",
                "ends_on": "2027-03-31",
                "target_unit_id": app.unit("150102").await.id,
                "sector_ids": [sector],
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}
