//! One record of every kind, filed at 新城区 (150102), for the tests that walk every kind.

use reqwest::StatusCode;
use serde_json::json;
use tongxin_core::{Clock, Password, Role, Username};

use super::activity::{plan, setup};
use super::{Api, PASSWORD, START, TestApp};
use crate::common;

/// The records every probe works on, all filed at 新城区 (150102).
pub struct Records {
    pub unit: i64,
    pub account: i64,
    pub sector: i64,
    pub field: i64,
    pub kind: i64,
    pub person: i64,
    pub organization: i64,
    pub affiliation: i64,
    pub activity: i64,
    pub photo: i64,
    pub campaign: i64,
    pub material: i64,
    pub saved_filter: i64,
    pub proposal: i64,
    /// The city administrator's view of the person, as the person's access log shows it.
    pub person_access: i64,
    /// A job of the unit that stopped failed (no handler knows its kind).
    pub job: i64,
    /// A notification in the owner's inbox.
    pub notification: i64,
    /// A webhook of the unit.
    pub channel: i64,
    /// The owner's case, received by the unit and handed to its sibling 赛罕区 (150105).
    pub case: i64,
    /// An outside department cases can be handed to.
    pub department: i64,
    /// A research topic the unit published.
    pub topic: i64,
    /// A survey the unit published for its own subtree.
    pub survey: i64,
}

/// A survey of `unit` for its subtree, published by `admin`.
pub async fn publish_survey(admin: &Api, unit: i64) -> i64 {
    let reply = admin
        .post_json(
            "/surveys",
            &json!({ "unit_id": unit, "target_unit_id": unit, "title": "学习需求调查",
                     "closes_on": "2026-12-31",
                     "questions": [{ "kind": "text", "prompt": "您希望学习什么？" }] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

/// A research topic of `unit`, published by `admin`, open until the end of the year.
pub async fn publish_topic(admin: &Api, unit: i64) -> i64 {
    let reply = admin
        .post_json(
            "/research-topics",
            &json!({ "unit_id": unit, "title": "城郊农村养老服务调研",
                     "body": "了解农村互助养老现状。", "due_on": "2026-12-31" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

/// An outside department, added by the city administrator.
pub async fn add_department(admin: &Api) -> i64 {
    let count = admin.get("/departments").await.json()["total"]
        .as_i64()
        .unwrap_or(0);
    let reply = admin
        .post_json(
            "/departments",
            &json!({ "name": format!("市住建局{count}") }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

/// A suggestion the member `owner` submits, taken in by `admin` and assigned to `handler`.
pub async fn handled_case(admin: &Api, owner: &Api, handler: i64) -> i64 {
    let submitted = owner
        .post_json(
            "/cases",
            &json!({ "type": "suggestion", "title": "关于改造老旧小区的建议", "category": "livelihood",
                     "body": "建议加快老旧小区改造。" }),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED, "{}", submitted.body);
    let id = submitted.json()["id"].as_i64().unwrap();
    for step in [
        json!({ "action": "accept" }),
        json!({ "action": "assign", "unit_id": handler }),
    ] {
        let reply = admin
            .post_json(&format!("/cases/{id}/transitions"), &step)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    id
}

/// A webhook of `unit`, to a public address given as a number (no name to look up).
pub async fn add_channel(admin: &Api, unit: i64) -> i64 {
    let reply = admin
        .post_json(
            &format!("/units/{unit}/channels"),
            &json!({ "kind": "webhook", "name": "矩阵推送", "url": "https://203.0.113.10/hook",
                     "secret": "s", "events": ["campaign.weekly"] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

/// A job filed under unit 150102 that fails at once and waits for an administrator.
pub async fn failed_job(app: &TestApp) -> i64 {
    let now = app.clock.now();
    let job = tongxin_store::NewJob::new("matrix.unknown", json!({}), now)
        .unit(Some(app.unit("150102").await.path.as_str().to_owned()));
    let id = app.store.enqueue_job(now, &job).await.unwrap().unwrap();
    wait_failed(app, id).await;
    id
}

/// Waits until job `id` has stopped failed.
pub async fn wait_failed(app: &TestApp, id: i64) {
    let db = app.db.raw().await;
    let sql = format!("SELECT COUNT(*) FROM jobs WHERE id = {id} AND state = 'failed'");
    common::poll("the job to stop failed", || async {
        (db.count(&sql).await == 1).then_some(())
    })
    .await;
}

/// A notification delivered to the account `owner` speaks for.
pub async fn notify(app: &TestApp, owner: &Api) -> i64 {
    let account = owner.get("/me").await.json()["id"].as_i64().unwrap();
    let notice = tongxin_store::Notice {
        kind: "proposal.approved".to_owned(),
        subject: "matrix".to_owned(),
        link: "/my-record".to_owned(),
        params: json!({}),
    };
    match app
        .store
        .deliver_notification(app.clock.now(), account, &notice, "matrix", 0, false)
        .await
        .unwrap()
    {
        tongxin_store::Delivered::New(id) | tongxin_store::Delivered::Merged(id) => id,
        tongxin_store::Delivered::Already => unreachable!("a new key"),
    }
}

pub async fn affiliate(admin: &Api, person: i64, organization: i64) -> i64 {
    let reply = admin
        .post_json(
            &format!("/people/{person}/affiliations"),
            &json!({ "organization_id": organization, "position": "校长" }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

pub async fn save_filter(admin: &Api, unit: i64) -> i64 {
    let reply = admin
        .post_json(
            "/saved-filters",
            &json!({ "name": "矩阵条件", "unit_id": unit, "tags": ["矩阵"] }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

pub async fn propose(owner: &Api) -> i64 {
    let reply = owner
        .post_json(
            "/me/proposals",
            &json!({ "changes": { "employer": "矩阵新单位" } }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["items"][0]["id"].as_i64().unwrap()
}

pub async fn account(app: &TestApp, name: &str, unit: &str, role: Role) {
    app.store
        .add_user_as_system(
            START,
            unit,
            Username::parse(name).unwrap(),
            role,
            Password::parse(PASSWORD).unwrap(),
        )
        .await
        .unwrap();
}

/// Files one record of every kind at 新城区 and returns them with the owner's client.
pub async fn file_records(app: &TestApp, admin: &Api) -> (Records, Api) {
    let (kind, sector, ..) = setup(app).await;
    let unit = app.unit("150102").await.id;
    let field = admin
        .post_json(
            &format!("/sectors/{sector}/fields"),
            &json!({ "key": "party", "label": "所属党派", "kind": "text" }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    account(app, "record.account", "150102", Role::Staff).await;
    // A token of its own, so that the account's token list has something to show.
    app.api("record.account").await;
    let account_id = admin.get("/accounts?q=record.account").await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let person = admin
        .post_json(
            "/people",
            &json!({ "unit_id": unit, "name": "矩阵人", "sectors": [{ "sector_id": sector }],
                     "tags": ["矩阵"] }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    account(app, "record.owner", "150102", Role::Member).await;
    let linked = admin
        .put_json(
            &format!("/people/{person}/member"),
            &json!({ "username": "record.owner" }),
        )
        .await;
    assert!(linked.status.is_success(), "{}", linked.body);
    let owner = app.api("record.owner").await;
    let opened = admin.get(&format!("/people/{person}")).await;
    assert_eq!(opened.status, StatusCode::OK, "{}", opened.body);
    let person_access = owner.get("/me/record/access").await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let organization = admin
        .post_json(
            "/organizations",
            &json!({ "unit_id": unit, "name": "矩阵学校", "kind": "school" }),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let affiliation = affiliate(admin, person, organization).await;
    let activity = plan(admin, app, kind, json!({})).await["id"]
        .as_i64()
        .unwrap();
    let invited = admin
        .post_json(
            &format!("/activities/{activity}/invitations"),
            &json!({ "person_ids": [person] }),
        )
        .await;
    assert!(invited.status.is_success(), "{}", invited.body);
    let photo = admin
        .post_bytes(
            &format!("/activities/{activity}/photos?file_name=合影.png"),
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
        )
        .await;
    assert_eq!(photo.status, StatusCode::CREATED, "{}", photo.body);
    let campaign = admin
        .post_json(
            "/campaigns",
            &json!({ "unit_id": unit, "title": "矩阵专题", "starts_on": "2026-12-01",
                     "ends_on": "2026-12-31", "target_unit_id": unit, "sector_ids": [sector] }),
        )
        .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.body);
    let material = admin
        .post_bytes(
            &format!("/materials?unit_id={unit}&file_name=matrix.txt"),
            "学习材料正文".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(material.status, StatusCode::CREATED, "{}", material.body);
    let records = Records {
        unit,
        account: account_id,
        sector,
        field,
        kind,
        person,
        organization,
        affiliation,
        activity,
        photo: photo.json()["id"].as_i64().unwrap(),
        campaign: campaign.json()["id"].as_i64().unwrap(),
        material: material.json()["id"].as_i64().unwrap(),
        saved_filter: save_filter(admin, unit).await,
        proposal: propose(&owner).await,
        person_access,
        job: failed_job(app).await,
        notification: notify(app, &owner).await,
        channel: add_channel(admin, unit).await,
        case: handled_case(admin, &owner, app.unit("150105").await.id).await,
        department: add_department(admin).await,
        topic: publish_topic(admin, unit).await,
        survey: publish_survey(admin, unit).await,
    };
    // A second, alike suggestion: the first lists it among its similar open cases.
    let alike = owner
        .post_json(
            "/cases",
            &json!({ "type": "suggestion", "title": "关于改造老旧小区的建议（补充）",
                     "category": "livelihood", "body": "补充几处小区。" }),
        )
        .await;
    assert_eq!(alike.status, StatusCode::CREATED, "{}", alike.body);
    (records, owner)
}
