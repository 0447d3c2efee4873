//! The API reference: `openapi.json`, the document the contract test holds the handlers to,
//! rendered as one readable page served from the binary (no script, no CDN).

use std::sync::LazyLock;

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::chrome::Ctx;
use crate::api::OPENAPI;
use crate::error::AppError;

/// One documented operation.
struct Operation {
    anchor: String,
    method: String,
    path: String,
    summary: String,
    parameters: Vec<Field>,
    body: Vec<Field>,
    responses: Vec<Answer>,
}

/// A parameter, or one (possibly nested, dotted) property of a body or schema.
struct Field {
    name: String,
    place: String,
    kind: Kind,
    required: bool,
    description: String,
}

/// A type as shown: plain text, or the name of a schema defined below.
struct Kind {
    text: String,
    schema: Option<String>,
}

struct Answer {
    status: String,
    description: String,
    kind: Option<Kind>,
    fields: Vec<Field>,
}

struct Group {
    tag: String,
    operations: Vec<Operation>,
}

struct Schema {
    name: String,
    fields: Vec<Field>,
}

/// What the page shows, read from the document once.
struct Reference {
    description: String,
    base: String,
    groups: Vec<Group>,
    schemas: Vec<Schema>,
}

#[derive(Template)]
#[template(path = "api_reference.html")]
struct ReferencePage {
    ctx: Ctx,
    description: &'static str,
    base: &'static str,
    groups: &'static [Group],
    schemas: &'static [Schema],
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().to_owned()
}

fn schema_name(reference: &str) -> Option<String> {
    reference
        .strip_prefix("#/components/schemas/")
        .map(str::to_owned)
}

/// How a schema's type reads: `integer`, `string | null`, `array of Unit`, `one of: a, b`.
fn kind_of(schema: &Value) -> Kind {
    if let Some(reference) = schema["$ref"].as_str() {
        return Kind {
            text: schema_name(reference).unwrap_or_default(),
            schema: schema_name(reference),
        };
    }
    if let Some(options) = schema["oneOf"].as_array() {
        let kinds: Vec<Kind> = options.iter().map(kind_of).collect();
        return Kind {
            text: kinds
                .iter()
                .map(|k| k.text.as_str())
                .collect::<Vec<_>>()
                .join(" | "),
            schema: kinds.into_iter().find_map(|k| k.schema),
        };
    }
    let mut text = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(" | "),
        _ => String::from("any"),
    };
    let mut linked = None;
    if text.starts_with("array") {
        let items = kind_of(&schema["items"]);
        text = format!("array of {}", items.text);
        linked = items.schema;
    }
    if let Some(format) = schema["format"].as_str() {
        text.push_str(&format!(" ({format})"));
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(text_of_value).collect();
        text = format!("one of: {}", values.join(", "));
    }
    Kind {
        text,
        schema: linked,
    }
}

fn text_of_value(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The properties of an object schema, nested ones under dotted names.
fn fields_of(schema: &Value, prefix: &str, out: &mut Vec<Field>) {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        fields_of(part, prefix, out);
    }
    let Some(properties) = schema["properties"].as_object() else {
        return;
    };
    for (name, property) in properties {
        let dotted = format!("{prefix}{name}");
        out.push(Field {
            kind: kind_of(property),
            required: required.contains(&name.as_str()),
            description: text(&property["description"]),
            place: String::new(),
            name: dotted.clone(),
        });
        let nested = if property["type"] == "array" {
            &property["items"]
        } else {
            property
        };
        if nested["properties"].is_object() {
            let inner = if property["type"] == "array" {
                format!("{dotted}[].")
            } else {
                format!("{dotted}.")
            };
            fields_of(nested, &inner, out);
        }
    }
}

fn json_schema(content: &Value) -> &Value {
    &content["content"]["application/json"]["schema"]
}

fn operation(path: &str, method: &str, op: &Map<String, Value>) -> Operation {
    let parameters = op
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| Field {
            name: text(&p["name"]),
            place: text(&p["in"]),
            kind: kind_of(&p["schema"]),
            required: p["required"].as_bool().unwrap_or(false),
            description: text(&p["description"]),
        })
        .collect();
    let mut body = Vec::new();
    if let Some(request) = op.get("requestBody") {
        fields_of(json_schema(request), "", &mut body);
    }
    let responses = op
        .get("responses")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(status, answer)| {
            let schema = json_schema(answer);
            let mut fields = Vec::new();
            let kind = if schema.is_null() {
                None
            } else {
                fields_of(schema, "", &mut fields);
                Some(kind_of(schema))
            };
            Answer {
                status: status.clone(),
                description: text(&answer["description"]),
                kind,
                fields,
            }
        })
        .collect();
    Operation {
        anchor: format!("{method}-{path}")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect(),
        method: method.to_ascii_uppercase(),
        path: path.to_owned(),
        summary: op.get("summary").map(text).unwrap_or_default(),
        parameters,
        body,
        responses,
    }
}

/// The page's content, read from the document (compiled in, so once per process).
static REFERENCE: LazyLock<Result<Reference, String>> = LazyLock::new(|| {
    serde_json::from_str(OPENAPI)
        .map(|document| reference(&document))
        .map_err(|e| e.to_string())
});

fn reference(document: &Value) -> Reference {
    let mut groups: Vec<Group> = Vec::new();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(op) = op.as_object() else { continue };
            let tag = op
                .get("tags")
                .and_then(|t| t[0].as_str())
                .unwrap_or("other")
                .to_owned();
            let operation = operation(path, method, op);
            match groups.iter_mut().find(|g| g.tag == tag) {
                Some(group) => group.operations.push(operation),
                None => groups.push(Group {
                    tag,
                    operations: vec![operation],
                }),
            }
        }
    }
    let schemas = document["components"]["schemas"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, schema)| {
            let mut fields = Vec::new();
            fields_of(schema, "", &mut fields);
            Schema {
                name: name.clone(),
                fields,
            }
        })
        .collect();
    Reference {
        description: text(&document["info"]["description"]),
        base: text(&document["servers"][0]["url"]),
        groups,
        schemas,
    }
}

pub async fn page(ctx: Ctx) -> Result<Response, AppError> {
    let reference = REFERENCE
        .as_ref()
        .map_err(|e| AppError::internal("openapi.json", e.clone()))?;
    let page = ReferencePage {
        ctx: ctx.with_section("api_reference"),
        description: &reference.description,
        base: &reference.base,
        groups: &reference.groups,
        schemas: &reference.schemas,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}
