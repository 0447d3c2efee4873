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

/// Sends `body` to `path` from `RACERS` tasks at once, and checks that exactly one request
/// created `what` and every other was refused with `status` and error `code`.
async fn race_to_create(
    api: &Api,
    what: &str,
    path: &str,
    body: Value,
    refusal: (StatusCode, &str),
) {
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
    let replies = tasks.join_all().await;
    let created = replies
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{what}: {replies:?}");
    for (status, code) in replies.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_eq!((*status, code.as_str()), refusal, "{what}: {replies:?}");
    }
}

async fn simultaneous_creates_of_one_key_answer_one_created_and_clear_refusals(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let county = app.unit("150105").await.id;

    let taken = (StatusCode::UNPROCESSABLE_ENTITY, "taken");
    for (what, path, body) in [
        (
            "unit code",
            "/units",
            json!({ "parent_id": county, "code": "150105003", "name": "巴彦街道" }),
        ),
        (
            "user name",
            "/accounts",
            json!({ "unit_code": "150105", "username": "saihan.new", "role": "staff", "password": PASSWORD }),
        ),
        (
            "sector code",
            "/sectors",
            json!({ "code": "minzhu", "name": "民主党派" }),
        ),
        (
            "activity kind code",
            "/activity-kinds",
            json!({ "code": "forum", "name": "论坛" }),
        ),
    ] {
        race_to_create(&admin, what, path, body, taken).await;
    }

    let sector = admin.get("/sectors").await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    race_to_create(
        &admin,
        "sector field key",
        &format!("/sectors/{sector}/fields"),
        json!({ "key": "terms", "label": "任职届数", "kind": "number" }),
        taken,
    )
    .await;

    let staff = app.api("saihan.staff").await;
    let unit = app.unit("150105001").await.id;
    race_to_create(
        &staff,
        "ID number",
        "/people",
        json!({ "unit_id": unit, "name": "张伟", "id_number": id_number("15010519800101123") }),
        (StatusCode::CONFLICT, "duplicate"),
    )
    .await;

    app.finish().await;
}

engine_tests!(simultaneous_creates_of_one_key_answer_one_created_and_clear_refusals);
