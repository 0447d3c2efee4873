//! Importing the directory from CSV and XLSX: encodings detected, every problem reported by
//! line and column, all-or-nothing; over the API and from the command line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, Engine, TestApp, id_number};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn import(api: &Api, body: Vec<u8>, query: &str) -> (StatusCode, Value) {
    let reply = api
        .post_bytes(&format!("/people/import?{query}"), body)
        .await;
    (reply.status, reply.json())
}

fn problems(report: &Value) -> Vec<(u64, String, String)> {
    report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["column"].as_str().unwrap().to_owned(),
                p["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn setup(engine: Engine) -> (TestApp, Api) {
    let app = TestApp::with_fixture(engine).await;
    let admin = app.api("admin").await;
    for (code, name) in [("minzhu", "民主党派"), ("shanghui", "工商联与商会")] {
        let reply = admin
            .post_json("/sectors", &json!({ "code": code, "name": name }))
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let staff = app.api("saihan.staff").await;
    (app, staff)
}

async fn a_clean_file_imports_after_a_dry_run(engine: Engine) {
    let (app, staff) = setup(engine).await;
    let raw = app.db.raw().await;
    let csv = format!(
        "\u{feff}姓名,性别,出生日期,身份证号,手机号,单位代码,界别,工作单位,标签\n\
         张伟,男,1980/1/1,{},13812345678,150105,民主党派;shanghui,内蒙古大学,专家、青年\n\
         李娜,女,1990-05-06,,,150105001,,,\n\
         王芳,female,,,,150105002,工商联与商会,,\n",
        id_number("15010519800101123")
    );
    let (status, report) = import(&staff, csv.clone().into_bytes(), "dry_run=true").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["rows"], 3);
    assert_eq!(report["committed"], false);
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM people").await,
        0,
        "a dry run keeps nothing"
    );

    let (status, report) = import(&staff, csv.into_bytes(), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["committed"], true);
    let people = staff.get("/people?q=zhangwei").await.json();
    let zhang = &people["items"][0];
    assert_eq!(zhang["phone"], "138****5678");
    let full = staff.get(&format!("/people/{}", zhang["id"])).await.json();
    assert_eq!(full["sectors"].as_array().unwrap().len(), 2);
    assert_eq!(full["tags"], json!(["专家", "青年"]));
    assert_eq!(full["birth_date"], "1980-01-01");
    assert_eq!(staff.get("/people").await.json()["total"], 3);
    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=person.import")
        .await
        .json();
    assert_eq!(audit["items"][0]["detail"]["rows"], 3);

    // English headers, any order, GBK as Chinese Excel saves it.
    let gbk_text = "unit_code,name,gender\n150105,赵敏,女\n";
    let (gbk, _, _) = encoding_rs::GB18030.encode(gbk_text);
    let (status, report) = import(&staff, gbk.into_owned(), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        names(&staff.get("/people?q=赵敏").await.json()),
        vec!["赵敏"]
    );
    app.finish().await;
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn every_problem_is_reported_and_nothing_written(engine: Engine) {
    let (app, staff) = setup(engine).await;
    let raw = app.db.raw().await;
    let on_record = id_number("15010519700101123");
    let created = staff
        .post_json("/people", &json!({ "unit_id": app.unit("150105").await.id, "name": "老李", "id_number": on_record }))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let good = id_number("15010519800101123");
    let mut wrong_check = id_number("15010519800101456");
    let last = wrong_check.pop().unwrap();
    wrong_check.push(if last == '1' { '2' } else { '1' });
    let csv = format!(
        "姓名,身份证号,手机号,单位代码,界别\n\
         甲,{good},,150105,\n\
         乙,{wrong_check},,150105,\n\
         丙,,1381234567,150105,\n\
         丁,,,150102,\n\
         戊,,,150105,不存在的界别\n\
         己,{good},,150105,\n\
         庚,{on_record},,150105,\n\
         ,,,150105,\n"
    );
    let (status, report) = import(&staff, csv.into_bytes(), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(report["committed"], false);
    let found = problems(&report);
    for expected in [
        (3, "身份证号", "id_number_checksum"),
        (4, "手机号", "phone_format"),
        (5, "单位代码", "not_found"),
        (6, "界别", "not_found"),
        (7, "身份证号", "duplicate_in_file"),
        (8, "身份证号", "taken"),
        (9, "姓名", "required"),
    ] {
        assert!(
            found
                .iter()
                .any(|(l, c, k)| *l == expected.0 && c == expected.1 && k == expected.2),
            "{expected:?} in {found:?}"
        );
    }
    let message = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["line"] == 7)
        .unwrap()["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("第 2 行"), "{message}");
    let duplicate = report["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["line"] == 8)
        .unwrap();
    assert_eq!(duplicate["existing_id"], created.json()["id"]);
    assert_eq!(
        raw.count("SELECT COUNT(*) FROM people").await,
        1,
        "all or nothing"
    );

    // Headers: unknown and missing columns.
    let (status, report) = import(&staff, "姓名,籍贯\n张三,山西\n".as_bytes().to_vec(), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let found = problems(&report);
    assert!(
        found.contains(&(1, "籍贯".into(), "unknown_column".into())),
        "{found:?}"
    );
    assert!(
        found.contains(&(1, "单位代码".into(), "required".into())),
        "{found:?}"
    );

    // Files that are not tables.
    for (body, code) in [
        (b"".to_vec(), "empty"),
        ("姓名,单位代码\n".as_bytes().to_vec(), "empty"),
        (
            "姓名,单位代码\n张伟,150105\n李娜\n".as_bytes().to_vec(),
            "broken_row",
        ),
        (b"PK\x03\x04not really a workbook".to_vec(), "bad_workbook"),
    ] {
        let (status, report) = import(&staff, body, "").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert_eq!(problems(&report)[0].2, code, "{report}");
    }
    let (gbk, _, _) = encoding_rs::GB18030.encode("李娜,150105\n");
    let mut mixed = "姓名,单位代码\n张伟,150105\n".as_bytes().to_vec();
    mixed.extend_from_slice(&gbk);
    let (_, report) = import(&staff, mixed, "").await;
    assert_eq!(
        problems(&report)[0],
        (3, String::new(), "mixed_encodings".into())
    );
    assert_eq!(raw.count("SELECT COUNT(*) FROM people").await, 1);
    app.finish().await;
}

async fn xlsx_files_import_too(engine: Engine) {
    let (app, staff) = setup(engine).await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["姓名", "出生日期", "单位代码", "手机号"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "巴特尔").unwrap();
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(1985, 7, 1).unwrap();
    let format = rust_xlsxwriter::Format::new().set_num_format("yyyy/m/d");
    sheet
        .write_datetime_with_format(1, 1, &date, &format)
        .unwrap();
    sheet.write_number(1, 2, 150105.0).unwrap();
    sheet.write_number(1, 3, 13912345678.0).unwrap();
    let bytes = workbook.save_to_buffer().unwrap();
    let (status, report) = import(&staff, bytes, "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let person = &staff.get("/people?q=巴特尔").await.json()["items"][0];
    assert_eq!(person["birth_date"], "1985-07-01");
    assert_eq!(person["phone"], "139****5678");
    app.finish().await;
}

/// An ID number a spreadsheet kept as a number (from an XLSX number cell, or saved to CSV in
/// scientific notation) is named as such with the way to fix it, not as a wrong check digit;
/// the template's long-number columns are text from the start.
async fn ids_kept_as_numbers_are_named(engine: Engine) {
    let (app, staff) = setup(engine).await;
    let raw = app.db.raw().await;
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for (col, header) in ["姓名", "身份证号", "单位代码"].iter().enumerate() {
        sheet.write_string(0, col as u16, *header).unwrap();
    }
    sheet.write_string(1, 0, "巴特尔").unwrap();
    sheet.write_number(1, 1, 150102198001011234.0).unwrap();
    sheet.write_number(1, 2, 150105.0).unwrap();
    let (status, report) = import(&staff, workbook.save_to_buffer().unwrap(), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(
        problems(&report),
        [(2, "身份证号".to_owned(), "stored_as_number".to_owned())]
    );
    let message = report["problems"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("末几位已经丢失") && message.contains("文本"),
        "{message}"
    );

    let csv = "姓名,身份证号,单位代码\n巴特尔,1.50102E+17,150105\n";
    let (status, report) = import(&staff, csv.as_bytes().to_vec(), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{report}");
    assert_eq!(
        problems(&report),
        [(2, "身份证号".to_owned(), "stored_as_number".to_owned())]
    );
    assert_eq!(raw.count("SELECT COUNT(*) FROM people").await, 0);

    // The template, read back: the ID number, phone and unit-code columns are text (Excel's
    // built-in number format 49, "@").
    let (status, _, template) = staff.get_bytes("/people/template").await;
    assert_eq!(status, StatusCode::OK);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(template)).unwrap();
    let mut part = |name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let styles = part("xl/styles.xml");
    let sheet = part("xl/worksheets/sheet1.xml");
    let formats: Vec<&str> = styles
        .split("<cellXfs")
        .nth(1)
        .unwrap()
        .split("</cellXfs>")
        .next()
        .unwrap()
        .split("<xf ")
        .skip(1)
        .collect();
    // `<col min="4" max="6" … style="2"/>`: a run of columns and its style, if any.
    let attribute = |element: &str, name: &str| -> Option<usize> {
        element
            .split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|n| n.parse().ok())
    };
    let text_column = |number: usize| {
        let col = sheet
            .split("<col")
            .skip(1)
            .map(|c| format!(" {}", c.trim_start_matches('s')))
            .find(|c| {
                attribute(c, "min").is_some_and(|min| min <= number)
                    && attribute(c, "max").is_some_and(|max| number <= max)
            })
            .unwrap_or_else(|| panic!("no column {number} in {sheet}"));
        let style = attribute(&col, "style").unwrap_or_default();
        formats[style].contains("numFmtId=\"49\"")
    };
    let header = tongxin_exchange::template_header(None, &[]);
    for (number, title) in header.iter().enumerate() {
        let long = ["身份证号", "手机号", "单位代码"].contains(&title.as_str());
        assert_eq!(text_column(number + 1), long, "{title}");
    }
    app.finish().await;
}

async fn the_command_line_imports_people(engine: Engine) {
    let (app, _) = setup(engine).await;
    let dir = std::env::temp_dir().join(format!("tongxin-import-{}", tongxin_store::random_hex()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "姓名,手机号,单位代码\n张伟,123,150105\n").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
            .args(args)
            .envs(app.db.env())
            .env("RUST_LOG", "error")
            .env("LANG", "zh_CN.UTF-8")
            .output()
            .unwrap()
    };
    let out = run(&["import", "people", bad.to_str().unwrap(), "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("bad.csv:2 [手机号]: 手机号应为 11 位手机号码"),
        "{stdout}"
    );

    let good = dir.join("good.csv");
    std::fs::write(&good, "姓名,手机号,单位代码\n张伟,13812345678,150105\n").unwrap();
    let out = run(&["import", "people", good.to_str().unwrap(), "--dry-run"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        app.db
            .raw()
            .await
            .count("SELECT COUNT(*) FROM people")
            .await,
        0
    );
    let out = run(&["import", "people", good.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        app.db
            .raw()
            .await
            .count("SELECT COUNT(*) FROM people")
            .await,
        1
    );
    let _ = std::fs::remove_dir_all(dir);
    app.finish().await;
}

async fn exports_are_masked_neutralised_and_audited(engine: Engine) {
    let (app, staff) = setup(engine).await;
    let id = id_number("15010519800101123");
    let created = staff
        .post_json(
            "/people",
            &json!({
                "unit_id": app.unit("150105001").await.id, "name": "张伟", "gender": "男",
                "id_number": id, "phone": "13812345678", "employer": "=HYPERLINK(\"http://x\")",
                "tags": ["专家", "青年"]
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let xincheng = app.api("xincheng").await;
    xincheng
        .post_json(
            "/people",
            &json!({ "unit_id": app.unit("150102").await.id, "name": "李娜" }),
        )
        .await;

    // Exports are masked unless asked for in clear, with a purpose, by an account given that
    // right by the security administrator.
    let export = |api: &common::Api, path: &'static str, body: serde_json::Value| {
        let api = api.clone();
        async move { api.post_json(path, &body).await }
    };
    let masked = export(&staff, "/people/export?q=zhangwei", json!({})).await;
    assert_eq!(masked.status, StatusCode::OK);
    assert!(masked.body.contains("138****5678") && !masked.body.contains("13812345678"));
    let refused = export(
        &staff,
        "/people/export?q=zhangwei",
        json!({ "clear": true, "purpose": "换届选举名册" }),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no right yet");
    let security = app.api("security").await;
    let staff_id = staff.get("/me").await.json()["id"].as_i64().unwrap();
    let given = security
        .post_json(
            &format!("/accounts/{staff_id}/clear-export"),
            &json!({ "allowed": true }),
        )
        .await;
    assert_eq!(given.status, StatusCode::OK, "{}", given.body);
    let staff = app.api("saihan.staff").await;
    let no_purpose = export(
        &staff,
        "/people/export?q=zhangwei",
        json!({ "clear": true }),
    )
    .await;
    assert_eq!(no_purpose.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(no_purpose.error_code(), "required");
    let csv = export(
        &staff,
        "/people/export?q=zhangwei",
        json!({ "clear": true, "purpose": "换届选举名册" }),
    )
    .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    assert!(csv.body.starts_with('\u{feff}'), "a BOM for Excel");
    let lines: Vec<&str> = csv.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "姓名,性别,出生日期,身份证号,手机号,单位代码,界别,工作单位,职务,政治面貌,学历,标签,备注"
    );
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].starts_with(&format!("张伟,男,,{id},13812345678,150105001,")),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].contains("\"'=HYPERLINK(\"\"http://x\"\")\""),
        "neutralised: {}",
        lines[1]
    );
    assert!(lines[1].contains("专家、青年"));
    // Exports are never a GET.
    assert_eq!(
        staff.get("/people/export").await.status,
        StatusCode::METHOD_NOT_ALLOWED
    );

    // Leaders read, masked. Siblings see nothing of ours.
    let leader = app.api("saihan.leader").await;
    let masked = export(&leader, "/people/export", json!({})).await;
    assert!(masked.body.contains("138****5678") && !masked.body.contains("13812345678"));
    assert!(masked.body.contains("150105********"), "{}", masked.body);
    let theirs = export(&xincheng, "/people/export", json!({})).await;
    assert!(theirs.body.contains("李娜") && !theirs.body.contains("张伟"));

    let audit = app
        .api("auditor")
        .await
        .get("/audit?action=person.export")
        .await
        .json();
    assert_eq!(audit["total"], 4, "the refused ones are not exports");
    let entry = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["actor"] == "saihan.staff" && e["detail"]["protected_in_clear"] == true)
        .unwrap();
    assert_eq!(entry["detail"]["rows"], 1);
    assert_eq!(entry["detail"]["filter"], "q=zhangwei");
    assert_eq!(entry["detail"]["purpose"], "换届选举名册");

    // The command line exports everything, masked unless told otherwise; in clear, what it
    // writes imports again.
    let dir = std::env::temp_dir().join(format!("tongxin-export-{}", tongxin_store::random_hex()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("people.csv");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .args(["export", "people", "--out", file.to_str().unwrap()])
        .args(["--clear", "--purpose", "迁移到新系统"])
        .envs(app.db.env())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.lines().count(), 3, "{written}");
    let (status, report) = import(&staff, written.into_bytes(), "dry_run=true").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "already on record: {report}"
    );
    assert!(problems(&report).iter().any(|(_, _, code)| code == "taken"));

    // The same as a workbook, by the file's extension.
    let workbook = dir.join("people.xlsx");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tongxin"))
        .args(["export", "people", "--out", workbook.to_str().unwrap()])
        .envs(app.db.env())
        .env("RUST_LOG", "error")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Readable by its owner alone, masked without --clear.
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&workbook).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    let bytes = std::fs::read(&workbook).unwrap();
    let table =
        tongxin_tabular::read(&bytes, tongxin_tabular::Format::Xlsx, &Default::default()).unwrap();
    assert_eq!(table.headers[0], "姓名");
    assert_eq!(table.rows.len(), 2);
    assert!(
        table
            .rows
            .iter()
            .all(|r| !r.cells.iter().any(|c| c == "13812345678")),
        "{:?}",
        table.rows
    );
    let _ = std::fs::remove_dir_all(dir);
    app.finish().await;
}

/// A file over the large-import threshold (4 MiB): about 2,200 people with long notes.
fn large_file(bad_last_row: bool) -> Vec<u8> {
    let notes = "备注".repeat(600);
    let mut csv = String::from("姓名,单位代码,手机号,备注\n");
    for i in 0..2_200 {
        let phone = format!("139{:08}", i);
        csv.push_str(&format!(
            "张{},150105,{phone},{notes}\n",
            ["伟", "芳", "敏"][i % 3]
        ));
    }
    if bad_last_row {
        csv.push_str("李娜,150105,123,\n");
    }
    assert!(csv.len() > 4 * 1024 * 1024);
    csv.into_bytes()
}

async fn large_files_rebuild_the_indexes_once(engine: Engine) {
    let (app, staff) = setup(engine).await;
    let raw = app.db.raw().await;
    let indexes = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'people'";
    let before = match engine {
        Engine::Sqlite => raw.count(indexes).await,
        Engine::Postgres => 0,
    };

    // A refused row at the end: nothing is kept, and the indexes are all there.
    let (status, report) = import(&staff, large_file(true), "").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        problems(&report),
        vec![(2_202, "手机号".to_owned(), "phone_format".to_owned())]
    );
    assert_eq!(raw.count("SELECT COUNT(*) FROM people").await, 0);
    if engine == Engine::Sqlite {
        assert_eq!(raw.count(indexes).await, before);
    }

    let (status, report) = import(&staff, large_file(false), "").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["rows"], 2_200);
    if engine == Engine::Sqlite {
        assert_eq!(raw.count(indexes).await, before, "rebuilt before commit");
        assert_eq!(raw.text("PRAGMA integrity_check").await, "ok");
    }
    // Every way of searching still finds them.
    for (q, total) in [("张伟", 734), ("zhangwei", 734), ("zw", 734), ("0007", 1)] {
        let found = staff.get(&format!("/people?q={q}")).await.json();
        assert_eq!(found["total"], total, "{q}");
    }
    app.finish().await;
}

/// One running import per account: imports sent together from one account are refused but
/// for the first, with a message; once it is done the next one runs.
async fn one_import_at_a_time_per_account(engine: Engine) {
    const SENDERS: usize = 4;
    let (app, staff) = setup(engine).await;
    let mut tasks = tokio::task::JoinSet::new();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(SENDERS));
    for _ in 0..SENDERS {
        let (api, start) = (staff.clone(), start.clone());
        tasks.spawn(async move {
            let body = large_file(false);
            start.wait().await;
            import(&api, body, "dry_run=true").await
        });
    }
    let replies = tasks.join_all().await;
    let statuses: Vec<StatusCode> = replies.iter().map(|(s, _)| *s).collect();
    assert!(statuses.contains(&StatusCode::OK), "{statuses:?}");
    let refused: Vec<&Value> = replies
        .iter()
        .filter(|(s, _)| *s != StatusCode::OK)
        .map(|(_, body)| body)
        .collect();
    assert!(!refused.is_empty(), "{statuses:?}");
    for (status, body) in &replies {
        if *status != StatusCode::OK {
            assert_eq!(*status, StatusCode::CONFLICT, "{body}");
            assert_eq!(body["error"]["code"], "import_running", "{body}");
            assert!(
                body["error"]["message"].as_str().unwrap().contains("导入"),
                "{body}"
            );
        }
    }
    let (status, report) = import(&staff, large_file(false), "dry_run=true").await;
    assert_eq!(status, StatusCode::OK, "{report}");
    app.finish().await;
}

/// SQLite only: PostgreSQL writers do not share one lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_blocked_by_an_import_say_so() {
    let app =
        TestApp::with_fixture_and(Engine::Sqlite, &[("TONGXIN_SQLITE_BUSY_TIMEOUT_MS", "100")])
            .await;
    let staff = app.api("saihan.staff").await;
    let unit = app.unit("150105").await.id;
    // Another writer (as a long import would) holds SQLite's write lock.
    let common::RawDb::Sqlite(pool) = app.db.raw().await else {
        unreachable!("a SQLite test");
    };
    let mut holder = pool.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let person = json!({ "unit_id": unit, "name": "张伟" });
    let refused = staff.post_json("/people", &person).await;
    assert_eq!(
        refused.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        refused.body
    );
    assert_eq!(refused.error_code(), "busy");
    assert!(refused.error_message().contains("稍后再试"));
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);
    let saved = staff.post_json("/people", &person).await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.body);
    app.finish().await;
}

/// SQLite only, where another writer can hold the import back deterministically: while an
/// import runs, its page says so and refreshes itself; then it shows the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_import_shows_its_progress() {
    // The server leaves jobs to a worker, started only once the progress page was seen: the
    // page reads the job, wherever it runs.
    let app = TestApp::with_fixture_and(Engine::Sqlite, &[("TONGXIN_RUN_JOBS", "false")]).await;
    let browser = app.login("saihan.staff").await;
    let upload = browser
        .upload(
            "/directory/import",
            "/directory/import",
            "名单.csv",
            "姓名,单位代码\n张伟,150105\n".as_bytes().to_vec(),
            &[],
        )
        .await;
    assert_eq!(upload.status, StatusCode::SEE_OTHER);
    let job = upload.location.clone().unwrap();
    let running = browser.get(&job).await;
    assert_eq!(running.status, StatusCode::OK);
    assert!(
        running.body.contains("http-equiv=\"refresh\"") && running.body.contains("正在导入"),
        "{}",
        running.body
    );
    assert!(running.body.contains("已读取 0 行"), "{}", running.body);
    let worker = app.worker(&[]);
    let done = import_report(&browser, upload).await;
    assert!(done.body.contains("已导入 1 人"), "{}", done.body);
    worker.stop().await;
    app.finish().await;
}

/// Follows an upload to its job page and polls it (bounded) until the report is shown.
async fn import_report(browser: &common::Browser, upload: common::Reply) -> common::Reply {
    assert_eq!(upload.status, StatusCode::SEE_OTHER, "{}", upload.body);
    let job = upload.location.expect("the job's page");
    assert!(job.starts_with("/directory/import/"), "{job}");
    common::poll("the import to finish", || async {
        let page = browser.get(&job).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        (!page.body.contains("http-equiv=\"refresh\"")).then_some(page)
    })
    .await
}

async fn the_import_and_export_pages(engine: Engine) {
    let (app, _) = setup(engine).await;
    let browser = app.login("saihan.staff").await;
    let page = browser.get("/directory/import").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(
        page.body.contains("大小不超过 50 MB"),
        "the limit is stated"
    );

    let bad = "姓名,手机号,单位代码\n张伟,123,150105\n"
        .as_bytes()
        .to_vec();
    let upload = browser
        .upload(
            "/directory/import",
            "/directory/import",
            "名单.csv",
            bad,
            &[],
        )
        .await;
    let reply = import_report(&browser, upload).await;
    assert!(
        reply.body.contains("发现 1 个问题") && reply.body.contains("手机号应为 11 位手机号码"),
        "{}",
        reply.body
    );

    let good = "姓名,手机号,单位代码\n张伟,13812345678,150105\n李娜,,150105001\n"
        .as_bytes()
        .to_vec();
    let upload = browser
        .upload(
            "/directory/import",
            "/directory/import",
            "名单.csv",
            good.clone(),
            &[("check_only", "1")],
        )
        .await;
    let checked = import_report(&browser, upload).await;
    assert!(
        checked.body.contains("已检查 2 行，没有发现问题"),
        "{}",
        checked.body
    );
    // The home page lists how the hour's imports went, to whoever started them.
    let home = browser.get("/").await.body;
    assert!(
        home.contains("最近一小时的导入")
            && home.contains("名单.csv")
            && home.contains("发现 1 个问题，没有导入任何记录。")
            && home.contains("已检查 2 行，没有发现问题。"),
        "{home}"
    );
    let someone_else = app.login("saihan").await.get("/").await.body;
    assert!(!someone_else.contains("名单.csv"), "{someone_else}");
    assert_eq!(
        app.db
            .raw()
            .await
            .count("SELECT COUNT(*) FROM people")
            .await,
        0
    );
    let upload = browser
        .upload(
            "/directory/import",
            "/directory/import",
            "名单.csv",
            good,
            &[],
        )
        .await;
    let job = upload.location.clone().unwrap_or_default();
    let imported = import_report(&browser, upload).await;
    assert!(imported.body.contains("已导入 2 人"), "{}", imported.body);
    // The job is its starter's alone.
    let other = app.login("saihan").await;
    assert_eq!(other.get(&job).await.status, StatusCode::NOT_FOUND);

    // A forged upload is refused before anything is read into the directory.
    let forged = browser
        .upload_with_token("/directory/import", "nope", "a.csv", b"x".to_vec(), &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);

    let list = browser.get("/directory?q=zhangwei").await;
    assert!(
        list.body.contains("/directory/export?q=zhangwei"),
        "the export keeps the search"
    );
    let form = browser.get("/directory/export?q=zhangwei").await;
    assert!(
        form.body.contains("脱敏导出"),
        "no clear export offered: {}",
        form.body
    );
    let csv = browser
        .submit(
            "/directory/export?q=zhangwei",
            "/directory/export",
            &[("filter", "q=zhangwei"), ("format", "csv")],
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.contains("张伟,,,,138****5678,150105"),
        "{}",
        csv.body
    );
    assert!(!csv.body.contains("李娜"));
    // Asking for clear without the right is refused, whatever the form says.
    let forced = browser
        .submit(
            "/directory/export?q=zhangwei",
            "/directory/export",
            &[("filter", "q=zhangwei"), ("clear", "1"), ("purpose", "x")],
        )
        .await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN);

    // The same search as an Excel workbook, from the page and the API.
    let page_xlsx = browser
        .submit(
            "/directory/export?q=zhangwei",
            "/directory/export",
            &[("filter", "q=zhangwei"), ("format", "xlsx")],
        )
        .await;
    assert_eq!(page_xlsx.status, StatusCode::OK);
    assert_eq!(
        page_xlsx.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let staff = app.api("saihan.staff").await;
    let xlsx = reqwest::Client::new()
        .post(app.url("/api/v1/people/export?q=zhangwei&format=xlsx"))
        .bearer_auth(&staff.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        xlsx.headers()["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let workbook = xlsx.bytes().await.unwrap().to_vec();
    let table = tongxin_tabular::read(
        &workbook,
        tongxin_tabular::Format::Xlsx,
        &tongxin_tabular::Limits::default(),
    )
    .unwrap();
    assert_eq!(table.rows.len(), 1);
    assert_eq!(table.rows[0].cells[0], "张伟");
    let wrong = staff
        .post_json("/people/export?format=pdf", &json!({}))
        .await;
    assert_eq!(wrong.status, StatusCode::BAD_REQUEST);
    app.finish().await;
}

engine_tests!(
    one_import_at_a_time_per_account,
    large_files_rebuild_the_indexes_once,
    the_import_and_export_pages,
    exports_are_masked_neutralised_and_audited,
    a_clean_file_imports_after_a_dry_run,
    every_problem_is_reported_and_nothing_written,
    xlsx_files_import_too,
    ids_kept_as_numbers_are_named,
    the_command_line_imports_people,
);
