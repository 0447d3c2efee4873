//! The API answers as `openapi.json` declares: the JSON of every list and show route, and the
//! error body, is validated against the schema the document gives for it. Objects are read
//! strictly — every property the document names must be there, and no other — so a handler
//! that adds, drops or retypes a field fails here until the document follows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::records::{Records, file_records};
use common::{Engine, TestApp};
use reqwest::StatusCode;
use serde_json::{Map, Value, json};

/// The concrete URL (under `/api/v1`) that exercises a documented GET path, with the records'
/// ids in place of its parameters; `None` for a path this test has no sample for yet.
fn concrete(path: &str, r: &Records) -> Option<String> {
    let path = path.strip_prefix("/api/v1")?;
    let id = match path.split('/').nth(1)? {
        "units" => Some(r.unit),
        "accounts" => Some(r.account),
        "people" => Some(r.person),
        "organizations" => Some(r.organization),
        "activities" => Some(r.activity),
        "campaigns" => Some(r.campaign),
        "materials" => Some(r.material),
        "sectors" => Some(r.sector),
        "jobs" => Some(r.job),
        "cases" => Some(r.case),
        "research-topics" => Some(r.topic),
        "surveys" => Some(r.survey),
        _ => None,
    };
    if path.contains("{id}") && id.is_none() {
        return None;
    }
    let concrete = path
        .replace("{id}", &id.unwrap_or_default().to_string())
        .replace("{photo}", &r.photo.to_string())
        .replace("{field_id}", &r.field.to_string())
        .replace("{year}", "2026");
    (!concrete.contains('{')).then_some(concrete)
}

/// The document's schema made strict: an object lists all its properties as required (unless
/// it says which are) and allows no others (unless it says otherwise).
fn strict(schema: &mut Value) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                let names: Vec<Value> = properties.keys().map(|k| json!(k)).collect();
                map.entry("required").or_insert(Value::Array(names));
                map.entry("additionalProperties").or_insert(json!(false));
            }
            for (key, value) in map.iter_mut() {
                if key == "properties" {
                    if let Value::Object(properties) = value {
                        properties.values_mut().for_each(strict);
                    }
                } else {
                    strict(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(strict),
        _ => {}
    }
}

/// What in `instance` disagrees with `schema`, whose `$ref`s point into the document's
/// components.
fn disagreements(
    schema: &Value,
    components: &Value,
    instance: &Value,
    context: &str,
) -> Vec<String> {
    let mut root = Map::new();
    root.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    root.insert("allOf".into(), json!([schema]));
    root.insert("components".into(), components.clone());
    let mut root = Value::Object(root);
    strict(&mut root);
    let validator = jsonschema::validator_for(&root)
        .unwrap_or_else(|e| panic!("{context}: the document's schema does not compile: {e}"));
    let mut found: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{context}: {e} at {}", e.instance_path()))
        .collect();
    found.dedup_by(|a, b| a.split(" at ").next() == b.split(" at ").next());
    if !found.is_empty() {
        found.push(format!("{context} answered: {instance}"));
    }
    found
}

async fn every_list_and_show_answers_as_the_document_declares(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    let (records, owner) = file_records(&app, &admin).await;
    let auditor = app.api("auditor").await;
    let document = admin.get("/openapi.json").await.json();
    let components = document["components"].clone();
    let mut checked = Vec::new();
    let mut wrong = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let schema = &item["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        if schema.is_null() || path == "/api/v1/openapi.json" {
            continue; // not a GET, or not JSON (exports, photos, files)
        }
        let url = concrete(path, &records)
            .unwrap_or_else(|| panic!("{path}: give this test a sample for its parameters"));
        let caller = if path.starts_with("/api/v1/me") {
            &owner
        } else if path == "/api/v1/audit" {
            &auditor
        } else {
            &admin
        };
        let reply = caller.get(&url).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {url}: {}", reply.body);
        let body = reply.json();
        if let Some(items) = body["items"].as_array() {
            assert!(
                !items.is_empty() || path.ends_with("/duplicates"),
                "GET {url} lists nothing, so its items go unchecked"
            );
        }
        wrong.extend(disagreements(
            schema,
            &components,
            &body,
            &format!("GET {url}"),
        ));
        checked.push(path.clone());
    }
    assert!(checked.len() >= 20, "only {checked:?}");

    // The error body, as every route documents it.
    let missing = admin.get("/units/999999999").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    let error = &document["paths"]["/api/v1/units/{id}"]["get"]["responses"]["404"]["content"]["application/json"]
        ["schema"];
    wrong.extend(disagreements(error, &components, &missing.json(), "a 404"));
    let refused = admin
        .post_json("/units", &json!({ "code": "bad", "name": "" }))
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.body);
    let error = &document["paths"]["/api/v1/units"]["post"]["responses"][refused.status.as_str()]["content"]
        ["application/json"]["schema"];
    assert!(!error.is_null(), "{} is not documented", refused.status);
    wrong.extend(disagreements(
        error,
        &components,
        &refused.json(),
        "a refusal",
    ));
    assert!(
        wrong.is_empty(),
        "the API does not answer as openapi.json declares:\n{}",
        wrong.join("\n")
    );
    app.finish().await;
}

async fn the_api_reference_is_a_page_of_the_binary(engine: Engine) {
    let app = TestApp::empty(engine).await;
    let browser = app.browser();
    let document: Value =
        serde_json::from_str(&browser.get("/api/v1/openapi.json").await.body).unwrap();
    let page = browser.get("/api-reference").await;
    assert_eq!(page.status, StatusCode::OK);
    for path in document["paths"].as_object().unwrap().keys() {
        assert!(
            page.body.contains(&format!("<code>{path}</code>")),
            "{path}"
        );
    }
    for schema in document["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
    {
        assert!(
            page.body.contains(&format!("id=\"schema-{schema}\"")),
            "{schema}"
        );
    }
    assert!(!page.body.contains("<script"), "no script");
    assert!(
        !page.body.contains("src=\"http"),
        "nothing fetched from elsewhere"
    );
    // Every page's footer leads there.
    let login = browser.get("/login").await;
    assert!(
        login.body.contains("href=\"/api-reference\""),
        "{}",
        login.body
    );
    app.finish().await;
}

engine_tests!(
    every_list_and_show_answers_as_the_document_declares,
    the_api_reference_is_a_page_of_the_binary,
);
