//! The study-material library (issue 4, point 6): TXT, HTML and DOCX uploads, repair of text
//! mangled by Simplified-to-Traditional converters, display in either script, full-text search,
//! attachment to campaigns and activities, and every bad file refused with nothing written. On
//! both engines.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;

use common::activity::{plan, setup};
use common::{Api, Engine, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

const MANGLED: &str = include_str!("fixtures/materials/work-plan.converted-zh-Hant.txt");
/// The sample as it should read, written out by hand from the mangled one.
const EXPECTED: &str = include_str!("fixtures/materials/work-plan.expected-zh-Hans.txt");

async fn upload(api: &Api, app: &TestApp, file_name: &str, bytes: Vec<u8>) -> common::Reply {
    let unit = app.unit("150102").await.id;
    api.post_bytes(
        &format!(
            "/materials?unit_id={unit}&file_name={}",
            common::encode(file_name)
        ),
        bytes,
    )
    .await
}

fn docx(document_xml: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(b"<Types/>").unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    zip.write_all(document_xml.as_bytes()).unwrap();
    zip.finish().unwrap().into_inner()
}

async fn the_mangled_sample_is_repaired(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("xincheng").await;
    let reply = upload(
        &staff,
        &app,
        "2023年统战工作计划.txt",
        MANGLED.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let material = reply.json();
    assert_eq!(material["title"], "2023年统战工作计划");
    assert_eq!(material["kind"], "txt");
    assert_eq!(material["repairs"], 302);
    // The one place where a character was lost before the file reached us is pointed out.
    assert_eq!(material["suspects"], json!(["作為、敢擔當?shù)慕y("]));
    let id = material["id"].as_i64().unwrap();
    let simplified = staff
        .get(&format!("/materials/{id}?script=zh-Hans"))
        .await
        .json();
    assert_eq!(simplified["text"].as_str().unwrap(), EXPECTED.trim_end());
    let traditional = staff
        .get(&format!("/materials/{id}?script=zh-Hant"))
        .await
        .json();
    let text = traditional["text"].as_str().unwrap();
    assert!(
        text.starts_with("習近平總書記在黨的二十大報告中提出要“完善大統戰工作格局，堅持"),
        "{text}"
    );
    assert!(
        text.contains("(作者系呼和浩特市委常委、統戰部部長)"),
        "{text}"
    );
    let (status, _, original) = staff.get_bytes(&format!("/materials/{id}/file")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(original, MANGLED.as_bytes());
    app.finish().await;
}

async fn materials_are_found_by_their_text_in_either_script(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("xincheng").await;
    upload(&staff, &app, "工作计划.txt", MANGLED.as_bytes().to_vec()).await;
    let html = "<html><head><title>x</title><style>p{}</style></head><body><h1>同心大讲堂</h1>\
                <p>铸牢中华民族共同体意识&nbsp;专题讲座</p><script>alert(1)</script></body></html>";
    let reply = upload(&staff, &app, "讲座.html", html.as_bytes().to_vec()).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let doc = docx(
        r#"<w:document xmlns:w="w"><w:body><w:p><w:r><w:t>民营经济统战工作</w:t></w:r></w:p><w:p><w:r><w:t>促进“两个健康”</w:t></w:r></w:p></w:body></w:document>"#,
    );
    let reply = upload(&staff, &app, "民营经济.docx", doc).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let docx_id = reply.json()["id"].as_i64().unwrap();
    let text = staff.get(&format!("/materials/{docx_id}")).await.json();
    assert_eq!(text["text"], "民营经济统战工作\n促进“两个健康”");

    let found = |q: &str| {
        let staff = &staff;
        let q = common::encode(q);
        async move { staff.get(&format!("/materials?q={q}")).await.json() }
    };
    let titles = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(titles(&found("统战干部队伍").await), vec!["工作计划"]);
    assert_eq!(titles(&found("統戰幹部隊伍").await), vec!["工作计划"]);
    assert_eq!(titles(&found("共同体意识").await).len(), 2);
    assert_eq!(titles(&found("alert").await).len(), 0);
    assert_eq!(titles(&found("两个健康").await).len(), 2);
    // Another county's staff do not see them.
    let saihan = app.api("saihan").await;
    assert_eq!(saihan.get("/materials").await.json()["total"], 0);
    assert_eq!(
        saihan.get(&format!("/materials/{docx_id}")).await.status,
        StatusCode::NOT_FOUND
    );
    app.finish().await;
}

async fn bad_files_are_refused_and_nothing_is_written(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let staff = app.api("xincheng").await;
    // A zip whose directory claims an enormous unpacked size: a zip bomb.
    let mut bomb = docx("<w:document/>");
    let central = bomb.windows(4).rposition(|w| w == b"PK\x01\x02").unwrap();
    bomb[central + 24..central + 28].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    for (name, bytes, code) in [
        ("计划.docx", b"not a zip at all".to_vec(), "not_a_docx"),
        ("计划.docx", bomb, "zip_bomb"),
        ("计划.txt", png, "content_mismatch"),
        ("计划.pdf", b"%PDF-1.7".to_vec(), "unknown_file_kind"),
        (
            "计划.txt",
            vec![b'a'; 10 * 1024 * 1024 + 1],
            "file_too_large",
        ),
        ("空白.txt", b"   \n".to_vec(), "required"),
    ] {
        let reply = upload(&staff, &app, name, bytes).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            reply.body
        );
        assert_eq!(reply.error_code(), code, "{name}");
        assert!(reply.error_message().contains("文件"), "{}", reply.body);
    }
    assert_eq!(staff.get("/materials").await.json()["total"], 0);
    let db = app.db.raw().await;
    assert_eq!(db.count("SELECT COUNT(*) FROM attachments").await, 0);
    app.finish().await;
}

async fn materials_attach_to_campaigns_and_activities(engine: Engine) {
    let app = TestApp::with_fixture(engine).await;
    let (kind, sector, ..) = setup(&app).await;
    let staff = app.api("xincheng").await;
    let material = upload(&staff, &app, "工作计划.txt", MANGLED.as_bytes().to_vec())
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let activity = plan(&staff, &app, kind, json!({ "material_ids": [material] })).await;
    let shown = staff
        .get(&format!("/activities/{}", activity["id"]))
        .await
        .json();
    assert_eq!(shown["materials"][0]["title"], "工作计划");
    let campaign = staff
        .post_json(
            "/campaigns",
            &json!({ "unit_id": app.unit("150102").await.id, "title": "专题学习",
                     "starts_on": "2026-12-01", "ends_on": "2026-12-31",
                     "target_unit_id": app.unit("150102").await.id, "sector_ids": [sector],
                     "material_ids": [material] }),
        )
        .await;
    assert_eq!(campaign.status, StatusCode::CREATED, "{}", campaign.body);
    let shown = staff
        .get(&format!("/campaigns/{}", campaign.json()["id"]))
        .await
        .json();
    assert_eq!(shown["materials"][0]["id"], material);
    // A material of another county cannot be attached.
    let saihan = app.api("saihan").await;
    let refused = saihan
        .post_json(
            "/activities",
            &json!({ "kind_id": kind, "unit_id": app.unit("150105").await.id, "title": "x",
                     "starts_at": "2026-12-05T14:30", "ends_at": "2026-12-05T15:30",
                     "material_ids": [material] }),
        )
        .await;
    assert_eq!(refused.error_code(), "not_found");
    app.finish().await;
}

engine_tests!(
    the_mangled_sample_is_repaired,
    materials_are_found_by_their_text_in_either_script,
    bad_files_are_refused_and_nothing_is_written,
    materials_attach_to_campaigns_and_activities,
);
