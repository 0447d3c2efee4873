//! The auditor's export of the audit log as CSV, streamed batch by batch (page and API).

use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use std::sync::Arc;

use tongxin_i18n::{Catalog, Lang};
use tongxin_store::{AuditEntry, AuditExport, Store};

/// The header row, in the reader's language.
fn header_row(catalog: &Catalog, lang: Lang) -> Vec<String> {
    let t = |key: &str| catalog.get(lang, key).to_owned();
    vec![
        "#".to_owned(),
        t("audit.when"),
        t("audit.actor"),
        t("audit.action_code"),
        t("audit.action"),
        t("audit.target"),
        t("audit.unit"),
        t("audit.address"),
        t("audit.detail"),
        t("audit.hash"),
    ]
}

fn cells(catalog: &Catalog, lang: Lang, e: &AuditEntry) -> Vec<String> {
    let action_name = catalog
        .lookup(lang, &format!("action.{}", e.action.replace('.', "_")))
        .unwrap_or(&e.action)
        .to_owned();
    let target = match (&e.target_kind, e.target_id, &e.target_label) {
        (Some(kind), Some(id), Some(label)) => format!("{kind} {id} {label}"),
        (_, _, Some(label)) => label.clone(),
        _ => String::new(),
    };
    vec![
        e.seq.to_string(),
        e.at.rfc3339(),
        e.actor_name.clone(),
        e.action.clone(),
        action_name,
        target,
        e.unit
            .as_ref()
            .map(|(_, name)| name.clone())
            .unwrap_or_default(),
        e.ip.clone().unwrap_or_default(),
        e.detail.clone(),
        e.hash.clone(),
    ]
}

/// The export as a CSV download (UTF-8 with a BOM, so spreadsheets read the Chinese right).
pub fn csv_response(
    store: Store,
    catalog: Arc<Catalog>,
    lang: Lang,
    export: AuditExport,
) -> Response {
    let mut head = tongxin_tabular::UTF8_BOM.to_vec();
    head.extend(tongxin_tabular::csv_lines(&[header_row(&catalog, lang)]));
    let batches = futures_util::stream::unfold(Some(export), move |export| {
        let store = store.clone();
        let catalog = catalog.clone();
        async move {
            let mut export = export?;
            match store.next_audit_batch(&mut export).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let lines: Vec<Vec<String>> =
                        rows.iter().map(|e| cells(&catalog, lang, e)).collect();
                    Some((Ok(tongxin_tabular::csv_lines(&lines)), Some(export)))
                }
                Err(e) => {
                    tracing::error!(error = %e, "audit export failed part-way");
                    Some((Err(std::io::Error::other(e.to_string())), None))
                }
            }
        }
    });
    let body =
        futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(batches);
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit-log.csv\"",
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
