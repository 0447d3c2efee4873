//! The browser suite: Debian's Chromium, driven over WebDriver, uses the real server as people
//! do — logging in, searching, sorting and tagging in the directory, a refused form by
//! keyboard, the unit picker, an invitation, QR check-in on a phone, coverage drill-down, the
//! member portal — and axe-core checks every page it passes for WCAG 2.1 A and AA violations.
//!
//! Ignored by a plain `cargo test` (a machine may have no browser); run it with
//! `cargo test -p tongxin --test browser -- --ignored` after installing `chromium`,
//! `chromium-driver` and `npm ci --prefix crates/tongxin/tests/browser` (README, "Tests").

mod browser {
    pub mod chromium;
}
mod common;

use fantoccini::key::Key;
use reqwest::StatusCode;
use serde_json::json;

use browser::chromium::{Chromium, Screen, Step, ensure};
use common::activity::{linked_member, plan, setup, start_campaign};
use common::{Engine, PASSWORD, TestApp};

/// One scenario as one test: the fixture on SQLite (the engines' differences are the HTTP
/// tests' business), a browser of its own, and a screenshot kept if it fails.
macro_rules! in_chromium {
    ($($name:ident on $screen:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs Chromium: cargo test -p tongxin --test browser -- --ignored"]
            async fn $name() {
                let app = TestApp::with_fixture(Engine::Sqlite).await;
                let chromium = Chromium::open(&app.url(""), Screen::$screen).await;
                let outcome = scenarios::$name(&chromium, &app).await;
                chromium.conclude(stringify!($name), outcome).await;
                app.finish().await;
            }
        )*
    };
}

in_chromium!(
    login_then_search_and_sort_the_directory on Desktop,
    a_refused_person_form_by_keyboard on Desktop,
    the_unit_picker_offers_units_as_one_types on Desktop,
    inviting_a_sector_of_a_district on Desktop,
    checking_in_by_qr_code_on_a_phone on Phone,
    drilling_down_a_campaigns_coverage on Desktop,
    the_member_portal_on_a_phone on Phone,
);

mod scenarios {
    use super::*;

    pub async fn login_then_search_and_sort_the_directory(
        chromium: &Chromium,
        app: &TestApp,
    ) -> Step {
        let staff = app.api("saihan.staff").await;
        let street = app.unit("150105001").await.id;
        for name in ["白鹤", "宝玉", "巴雅"] {
            let reply = staff
                .post_json("/people", &json!({ "unit_id": street, "name": name }))
                .await;
            assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
        }
        // Asked for while logged out: the login page, then back where one was going.
        chromium.goto("/directory").await?;
        chromium.find("#username").await?;
        chromium.check_accessibility().await?;
        chromium.log_in("saihan.staff", PASSWORD).await?;
        let at = chromium.location().await?;
        ensure(at.starts_with("/directory"), || format!("landed on {at}"))?;
        chromium.check_accessibility().await?;

        chromium.fill("#q", "b").await?;
        chromium
            .click("form.query-form button[type=submit]")
            .await?;
        chromium.arrive_where(|at| at.contains("q=b")).await?;
        chromium.find("table.data").await?;
        let names = chromium.texts("table.data td.title a").await?;
        ensure(names == ["巴雅", "白鹤", "宝玉"], || {
            format!("pinyin order, syllable by syllable: {names:?}")
        })?;
        chromium.check_accessibility().await?;

        // The name header turns the order round and keeps the search.
        chromium.click("th[aria-sort=ascending] a").await?;
        chromium.find("th[aria-sort=descending]").await?;
        let names = chromium.texts("table.data td.title a").await?;
        ensure(names == ["宝玉", "白鹤", "巴雅"], || {
            format!("descending: {names:?}")
        })?;
        let at = chromium.location().await?;
        ensure(at.contains("q=b") && at.contains("sort=-name"), || {
            format!("the sort and the search kept in the address: {at}")
        })?;

        // Two rows ticked and tagged together; back to the same list, saying so.
        for row in chromium
            .find_all("td.pick input[type=checkbox]")
            .await?
            .iter()
            .take(2)
        {
            row.click().await?;
        }
        chromium.fill("#batch-tag", "青年骨干").await?;
        chromium
            .click("#batch button[name=action][value=tag]")
            .await?;
        chromium.wait_for_text("已为 2 人添加标签。").await?;
        let at = chromium.location().await?;
        ensure(at.contains("sort=-name"), || {
            format!("back to the list: {at}")
        })?;
        chromium.check_accessibility().await
    }

    pub async fn a_refused_person_form_by_keyboard(chromium: &Chromium, _app: &TestApp) -> Step {
        chromium.goto("/login").await?;
        chromium.log_in("saihan.staff", PASSWORD).await?;
        chromium.goto("/people/new").await?;
        chromium.fill("#phone", "123").await?;
        chromium
            .click("form[action='/people/new'] button[type=submit]")
            .await?;
        chromium.find(".error-summary").await?;
        // The focus is on the summary, whose first link leads to the first refused field.
        let focused = chromium.focused().await?;
        ensure(focused.contains("error-summary"), || {
            format!("focus after a refused save: {focused}")
        })?;
        chromium.check_accessibility().await?;
        chromium.press(Key::Tab).await?;
        let focused = chromium.focused().await?;
        ensure(focused.contains("href=\"#person_name-error\""), || {
            format!("the summary's first link: {focused}")
        })?;
        // Reached by keyboard, it shows a focus ring of 3:1 contrast at least.
        let (style, ratio) = chromium.focus_ring_contrast().await?;
        ensure(style != "none" && ratio >= 3.0, || {
            format!("focus ring {style}, contrast {ratio:.2}:1")
        })?;
        chromium.press(Key::Enter).await?;
        let at = chromium.location().await?;
        ensure(at.ends_with("/people/new"), || {
            format!("stayed on the form: {at}")
        })?;
        chromium.press(Key::Tab).await?;
        let focused = chromium.focused().await?;
        ensure(
            focused.contains("id=\"person_name\"")
                && focused.contains("aria-invalid=\"true\"")
                && focused.contains("aria-describedby=\"person_name-error\""),
            || format!("from the message, the field it is about: {focused}"),
        )
    }

    pub async fn the_unit_picker_offers_units_as_one_types(
        chromium: &Chromium,
        _app: &TestApp,
    ) -> Step {
        chromium.goto("/login").await?;
        chromium.log_in("saihan.staff", PASSWORD).await?;
        chromium.goto("/directory").await?;
        chromium.click("details.more-filters summary").await?;
        for typed in ["金桥", "jinqiao"] {
            chromium.fill("#unit", typed).await?;
            let offered = chromium
                .find("datalist option[value='150105001001']")
                .await?;
            let label = offered.attr("label").await?.unwrap_or_default();
            ensure(label.contains("金桥社区"), || {
                format!("{typed}: offered {label}")
            })?;
        }
        chromium.check_accessibility().await?;
        chromium.fill("#unit", "150105001001").await?;
        chromium
            .click("form.query-form button[type=submit]")
            .await?;
        // The list narrowed to the unit says where it stands.
        let trail = chromium.find("nav.breadcrumb").await?.text().await?;
        ensure(
            trail.contains("赛罕区") && trail.contains("金桥社区"),
            || format!("breadcrumb: {trail}"),
        )?;
        chromium.check_accessibility().await
    }

    pub async fn inviting_a_sector_of_a_district(chromium: &Chromium, app: &TestApp) -> Step {
        let (kind, sector, ..) = setup(app).await;
        let staff = app.api("xincheng").await;
        let id = plan(&staff, app, kind, json!({})).await["id"]
            .as_i64()
            .unwrap_or_default();
        chromium.goto("/login").await?;
        chromium.log_in("xincheng", PASSWORD).await?;
        chromium.goto(&format!("/activities/{id}")).await?;
        chromium.check_accessibility().await?;
        chromium.fill("#f_unit", "150102").await?;
        chromium
            .find("#f_sector")
            .await?
            .select_by_value(&sector.to_string())
            .await?;
        chromium
            .click("form:has(input[name=by][value=filter]) button[type=submit]")
            .await?;
        chromium.wait_for_text("已新邀请 2 人").await?;
        let page = chromium.body_text().await?;
        ensure(page.contains("王芳") && page.contains("李强"), || {
            format!("the invited listed: {page}")
        })?;
        chromium.check_accessibility().await
    }

    pub async fn checking_in_by_qr_code_on_a_phone(chromium: &Chromium, app: &TestApp) -> Step {
        let (kind, ..) = setup(app).await;
        let person = linked_member(app).await;
        let staff = app.api("xincheng").await;
        let activity = plan(
            &staff,
            app,
            kind,
            json!({ "title": "同心大讲堂", "starts_at": "2026-11-30T15:30", "ends_at": "2026-11-30T17:00" }),
        )
        .await;
        let id = activity["id"].as_i64().unwrap_or_default();
        staff
            .post_json(
                &format!("/activities/{id}/invitations"),
                &json!({ "person_ids": [person] }),
            )
            .await;
        let link = staff
            .post_json(&format!("/activities/{id}/check-in-link"), &json!({}))
            .await
            .json();
        let url = link["url"].as_str().unwrap_or_default();
        let scanned = &url[url.find("/check-in").unwrap_or_default()..];

        // The phone's camera opens the link; the member logs in and comes back to it.
        chromium.goto(scanned).await?;
        chromium.log_in("xincheng.member", PASSWORD).await?;
        chromium.find("form[action='/check-in'] button").await?;
        let page = chromium.body_text().await?;
        for shown in ["同心大讲堂", "区委党校报告厅", "现在可以签到"] {
            ensure(page.contains(shown), || {
                format!("{shown} before the button: {page}")
            })?;
        }
        ensure(!chromium.scrolls_sideways().await?, || {
            "the scan page scrolls sideways at 375 px".to_owned()
        })?;
        chromium.check_accessibility().await?;
        chromium.click("form[action='/check-in'] button").await?;
        chromium.wait_for_text("已签到").await?;
        chromium.check_accessibility().await
    }

    pub async fn drilling_down_a_campaigns_coverage(chromium: &Chromium, app: &TestApp) -> Step {
        let admin = app.api("admin").await;
        let (_, sector, ..) = setup(app).await;
        let campaign = start_campaign(app, &admin, sector).await;
        chromium.goto("/login").await?;
        chromium.log_in("admin", PASSWORD).await?;
        chromium.goto(&format!("/campaigns/{campaign}")).await?;
        chromium.check_accessibility().await?;
        let first = chromium.find("table.data td.title a").await?;
        let unit = first.text().await?;
        first.click().await?;
        chromium.arrive_where(|at| at.contains("unit=")).await?;
        let here = chromium
            .find("nav.breadcrumb a[aria-current=page]")
            .await?
            .text()
            .await?;
        ensure(here == unit, || {
            format!("drilled into {unit}, the trail ends at {here}")
        })?;
        chromium.check_accessibility().await
    }

    pub async fn the_member_portal_on_a_phone(chromium: &Chromium, app: &TestApp) -> Step {
        linked_member(app).await;
        chromium.goto("/login").await?;
        chromium.check_accessibility().await?;
        chromium.log_in("xincheng.member", PASSWORD).await?;
        let at = chromium.location().await?;
        ensure(at == "/my-activities", || format!("a member lands on {at}"))?;
        chromium.find(".bottom-bar").await?;
        chromium.wait_for_text("周明").await?;
        ensure(!chromium.scrolls_sideways().await?, || {
            "the portal scrolls sideways at 375 px".to_owned()
        })?;
        chromium.check_accessibility().await?;
        chromium.click(".bottom-bar a[href='/me']").await?;
        chromium
            .find(".bottom-bar a[href='/me'][aria-current=page]")
            .await?;
        chromium.check_accessibility().await
    }
}
