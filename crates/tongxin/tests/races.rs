//! Simultaneous creates of one unique thing: exactly one succeeds, and every other request
//! hears the same clear refusal the check before the write gives, never a 500 — whichever of
//! them the database's unique key, rather than the check, had to stop.

#![allow(clippy::unwrap_used)]

mod common;

use common::{Api, Engine, PASSWORD, TestApp, id_number};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// How many requests race.
const RACERS: usize = 8;

/// Sends `body` to `path` from `RACERS` tasks at once; returns the replies' statuses and codes.
async fn race(api: &Api, path: &str, body: Value) -> Vec<(StatusCode, String)> {
    let mut tasks = tokio::task::JoinSet::new();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(RACERS));
    for _ in 0..RACERS {
        let (api, path, body, start) = (api.clone(), path.to_owned(), body.clone(), start.clone());
        tasks.spawn(async move {
            start.wait().await;
            let reply = api.post_json(&path, &body).await;
            let code = if reply.status.is_success() {
                String::new()
            } else {
                reply.error_code()
            };
            (reply.status, code)
        });
    }
    tasks.join_all().await
}

/// One created, the rest refused with `status` and `code`.
fn assert_one_winner(what: &str, replies: &[(StatusCode, String)], status: StatusCode, code: &str) {
    let created = replies
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{what}: {replies:?}");
    for (s, c) in replies.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!((*s, c.as_str()), (status, code), "{what}: {replies:?}");
    }
}

async fn simultaneous_creates_of_one_key_answer_one_created_and_clear_refusals(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let county = app.unit("150105").await.id;
    let taken = StatusCode::UNPROCESSABLE_ENTITY;

    let units = race(
        &admin,
        "/units",
        json!({ "parent_id": county, "code": "150105003", "name": "巴彦街道" }),
    )
    .await;
    assert_one_winner("unit code", &units, taken, "taken");

    let accounts = race(
        &admin,
        "/accounts",
        json!({ "unit_code": "150105", "username": "saihan.new", "role": "staff", "password": PASSWORD }),
    )
    .await;
    assert_one_winner("user name", &accounts, taken, "taken");

    let sectors = race(
        &admin,
        "/sectors",
        json!({ "code": "minzhu", "name": "民主党派" }),
    )
    .await;
    assert_one_winner("sector code", &sectors, taken, "taken");
    let sector = admin.get("/sectors").await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();

    let fields = race(
        &admin,
        &format!("/sectors/{sector}/fields"),
        json!({ "key": "terms", "label": "任职届数", "kind": "number" }),
    )
    .await;
    assert_one_winner("sector field key", &fields, taken, "taken");

    let kinds = race(
        &admin,
        "/activity-kinds",
        json!({ "code": "forum", "name": "论坛" }),
    )
    .await;
    assert_one_winner("activity kind code", &kinds, taken, "taken");

    let staff = app.api("saihan.staff").await;
    let unit = app.unit("150105001").await.id;
    let people = race(
        &staff,
        "/people",
        json!({ "unit_id": unit, "name": "张伟", "id_number": id_number("15010519800101123") }),
    )
    .await;
    assert_one_winner("ID number", &people, StatusCode::CONFLICT, "duplicate");

    app.finish().await;
}

engine_tests!(simultaneous_creates_of_one_key_answer_one_created_and_clear_refusals);
