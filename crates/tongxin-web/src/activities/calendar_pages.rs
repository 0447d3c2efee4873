//! The activity calendar of a subtree (month and week), and each account's iCalendar feed for
//! subscribing from a phone.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, Duration, NaiveDate};
use icalendar::{Component, Event, EventLike};
use serde::Deserialize;
use tongxin_store::{ActivityQuery, ActivityView, PageRequest};

use crate::AppState;
use crate::error::AppError;
use crate::forms::{CsrfForm, Query};
use crate::pages::chrome::Ctx;
use crate::session::CurrentUser;

#[derive(Deserialize, Default)]
pub struct CalendarQuery {
    #[serde(default)]
    view: String,
    #[serde(default)]
    date: String,
}

/// One day cell of the calendar.
struct Day {
    date: NaiveDate,
    in_month: bool,
    is_today: bool,
    activities: Vec<ActivityView>,
}

#[derive(Template)]
#[template(path = "activities/calendar.html")]
struct CalendarPage {
    ctx: Ctx,
    week_view: bool,
    title: String,
    weeks: Vec<Vec<Day>>,
    prev: String,
    next: String,
    today: String,
    other_view: String,
}

/// The Monday on or before `date`.
pub(crate) fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

pub async fn calendar(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(query): Query<CalendarQuery>,
) -> Result<Response, AppError> {
    let now = state.clock.now();
    let today = now.date();
    let anchor = NaiveDate::parse_from_str(&query.date, "%Y-%m-%d").unwrap_or(today);
    let week_view = query.view == "week";
    let (first, last, prev, next, title) = if week_view {
        let first = monday_of(anchor);
        let last = first + Duration::days(6);
        (
            first,
            last,
            first - Duration::days(7),
            first + Duration::days(7),
            format!("{} – {}", first.format("%Y-%m-%d"), last.format("%m-%d")),
        )
    } else {
        let month_start = anchor.with_day(1).unwrap_or(anchor);
        let next_month = (month_start + Duration::days(32))
            .with_day(1)
            .unwrap_or(month_start);
        let prev_month = (month_start - Duration::days(1))
            .with_day(1)
            .unwrap_or(month_start);
        let first = monday_of(month_start);
        let last = monday_of(next_month - Duration::days(1)) + Duration::days(6);
        (
            first,
            last,
            prev_month,
            next_month,
            month_start.format("%Y-%m").to_string(),
        )
    };
    let query_range = ActivityQuery {
        from: Some(tongxin_core::Timestamp::start_of_day(first)),
        until: Some(tongxin_core::Timestamp::start_of_day(
            last + Duration::days(1),
        )),
        ..ActivityQuery::default()
    };
    let mut activities = state
        .store
        .activities(
            &auth.actor,
            &query_range,
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items;
    activities.sort_by_key(|a| a.starts_at);
    let month = anchor.month();
    let mut weeks = Vec::new();
    let mut day = first;
    while day <= last {
        let mut week = Vec::with_capacity(7);
        for _ in 0..7 {
            week.push(Day {
                date: day,
                in_month: week_view || day.month() == month,
                is_today: day == today,
                activities: activities
                    .iter()
                    .filter(|a| a.starts_at.date() == day)
                    .cloned()
                    .collect(),
            });
            day += Duration::days(1);
        }
        weeks.push(week);
    }
    let view = if week_view { "week" } else { "month" };
    let page = CalendarPage {
        ctx: ctx.with_section("activities"),
        week_view,
        title,
        weeks,
        prev: format!("/activities/calendar?view={view}&date={prev}"),
        next: format!("/activities/calendar?view={view}&date={next}"),
        today: format!("/activities/calendar?view={view}"),
        other_view: format!(
            "/activities/calendar?view={}&date={anchor}",
            if week_view { "month" } else { "week" }
        ),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Template)]
#[template(path = "calendar_feed.html")]
struct FeedPage {
    ctx: Ctx,
    /// Whether the account has a feed (its address is not kept, only shown when made).
    has_feed: bool,
    /// The https and webcal addresses of a feed just made, shown this once.
    made: Option<(String, String)>,
}

fn feed_urls(state: &AppState, headers: &HeaderMap, token: &str) -> (String, String) {
    let https_url = state.config.absolute(headers, &format!("/ical/{token}"));
    let webcal_url = match https_url.split_once("://") {
        Some((_, rest)) => format!("webcal://{rest}"),
        None => https_url.clone(),
    };
    (https_url, webcal_url)
}

/// The account's calendar feed: whether it has one, and a button to make a new address.
pub async fn feed_page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
) -> Result<Response, AppError> {
    let page = FeedPage {
        ctx: ctx.with_section("calendar"),
        has_feed: state.store.has_calendar_feed(&auth.actor).await?,
        made: None,
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

#[derive(Deserialize)]
pub struct Empty {}

/// Makes a new feed address and shows it once; the old one stops working.
pub async fn reset_feed(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, AppError> {
    let token = state
        .store
        .reset_calendar_token(&auth.actor, state.clock.now())
        .await?;
    let page = FeedPage {
        ctx: ctx.with_section("calendar"),
        has_feed: true,
        made: Some(feed_urls(&state, &headers, &token)),
    };
    Ok(page.ctx.respond(StatusCode::OK, page.render()?))
}

/// The iCalendar feed: no login, the token in the path is the credential.
pub async fn ical(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let activities = state
        .store
        .calendar_feed(token.trim_end_matches(".ics"), state.clock.now())
        .await?;
    let mut calendar = icalendar::Calendar::new();
    calendar.name(state.catalog.get(tongxin_i18n::Lang::default(), "app.name"));
    for a in &activities {
        let utc = |t: tongxin_core::Timestamp| {
            chrono::DateTime::<chrono::Utc>::from_timestamp_micros(t.micros()).unwrap_or_default()
        };
        let mut event = Event::new();
        event
            .uid(&format!("activity-{}@tongxin", a.id))
            .summary(&a.title)
            .starts(utc(a.starts_at))
            .ends(utc(a.ends_at))
            .location(&a.place_text());
        if let Some(agenda) = &a.agenda {
            event.description(agenda);
        }
        if a.state == tongxin_core::ActivityState::Cancelled {
            event.status(icalendar::EventStatus::Cancelled);
        }
        calendar.push(event.done());
    }
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        calendar.done().to_string(),
    )
        .into_response())
}
