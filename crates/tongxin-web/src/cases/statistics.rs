//! The direct channel's figures for the caller's part of the tree: `/cases/statistics` with
//! bar charts drawn as SVG on the server, `/api/v1/cases/statistics` as JSON, and the same
//! figures as an XLSX table.

use askama::Template;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use tongxin_core::{CaseType, Field, Invalid, Reason};
use tongxin_store::{Actor, CaseStatistics, CaseStatsQuery, OutcomeCounts, Tally};

use crate::AppState;
use crate::activities::pages::unit_id_of;
use crate::directory::api::people::bad_query;
use crate::directory::file::table_download;
use crate::error::AppError;
use crate::pages::chrome::{Ctx, FormErrors};
use crate::session::{ApiUser, CurrentUser};

/// The filters, as the API's query and the page's form send them.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct StatsForm {
    unit_id: Option<i64>,
    /// The page picks the unit by name or code.
    unit_code: String,
    #[serde(rename = "type")]
    case_type: String,
    from: String,
    to: String,
}

impl StatsForm {
    fn query(&self, unit_id: Option<i64>) -> Result<CaseStatsQuery, Invalid> {
        let date = |field: &'static str, text: &str| match text.trim() {
            "" => Ok(None),
            text => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| Invalid::new(Field::Named(field), Reason::DateFormat)),
        };
        let from = date("from", &self.from)?;
        let to = date("to", &self.to)?;
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            return Err(Invalid::new(Field::Named("to"), Reason::EndsBeforeStart));
        }
        Ok(CaseStatsQuery {
            unit_id,
            case_type: match self.case_type.trim() {
                "" => None,
                code => Some(
                    CaseType::parse(code)
                        .ok_or_else(|| Invalid::new(Field::Named("type"), Reason::NotAChoice))?,
                ),
            },
            from,
            to,
        })
    }

    /// The query string that asks for the same figures.
    fn query_string(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("unit_code", self.unit_code.as_str()),
            ("type", self.case_type.as_str()),
            ("from", self.from.as_str()),
            ("to", self.to.as_str()),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

fn tally_json(t: &Tally) -> Value {
    json!({ "key": t.key, "label": t.label, "count": t.count })
}

fn counts_json(c: &OutcomeCounts) -> Value {
    json!({ "instructions": c.instructions, "adoptions": c.adoptions, "bulletins": c.bulletins })
}

fn statistics_json(s: &CaseStatistics) -> Value {
    let tallies = |list: &[Tally]| list.iter().map(tally_json).collect::<Vec<_>>();
    let per = |list: &[(Tally, OutcomeCounts)]| {
        list.iter()
            .map(|(t, c)| {
                let mut row = counts_json(c);
                row["key"] = json!(t.key);
                row["label"] = json!(t.label);
                row
            })
            .collect::<Vec<_>>()
    };
    json!({
        "unit": { "id": s.unit.0, "name": s.unit.1 },
        "total": s.total,
        "open": s.open,
        "answered": s.answered,
        "median_working_days": s.median_working_days,
        "on_time": {
            "answered_with_due": s.answered_with_due,
            "answered_on_time": s.answered_on_time,
            "rate": s.on_time_rate(),
        },
        "satisfaction": { "rated": s.rated, "satisfied": s.satisfied, "rate": s.satisfaction_rate() },
        "by_type": tallies(&s.by_type),
        "by_state": tallies(&s.by_state),
        "by_unit": tallies(&s.by_unit),
        "by_sector": tallies(&s.by_sector),
        "by_category": tallies(&s.by_category),
        "outcomes": {
            "instructions": s.outcomes.instructions,
            "adoptions": s.outcomes.adoptions,
            "bulletins": s.outcomes.bulletins,
            "instructions_by_level": tallies(&s.instructions_by_level),
            "by_unit": per(&s.outcomes_by_unit),
            "by_sector": per(&s.outcomes_by_sector),
        },
    })
}

/// `GET /cases/statistics`: the figures of the caller's subtree (or `unit_id`'s).
pub async fn api(
    State(state): State<AppState>,
    user: ApiUser,
    Query(form): Query<StatsForm>,
) -> Result<Json<Value>, AppError> {
    if !form.unit_code.is_empty() {
        return Err(bad_query("unit_code".to_owned()));
    }
    let query = form.query(form.unit_id)?;
    let figures = state.store.case_statistics(&user.actor, &query).await?;
    Ok(Json(statistics_json(&figures)))
}

/// One bar of a chart, laid out in the SVG's own units.
pub(crate) struct Bar {
    pub label: String,
    pub count: u64,
    pub y: u32,
    pub width: u32,
}

/// A horizontal bar chart.
pub(crate) struct Chart {
    pub id: String,
    pub title: String,
    pub bars: Vec<Bar>,
    pub height: u32,
}

/// Width of the longest bar, in the SVG's units (the label column and the count take the rest).
const BAR_SPAN: u64 = 220;
const ROW_HEIGHT: u32 = 26;

pub(crate) fn chart(id: &str, title: &str, rows: Vec<(String, u64)>) -> Chart {
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let bars: Vec<Bar> = rows
        .into_iter()
        .enumerate()
        .map(|(i, (label, count))| Bar {
            label,
            count,
            y: u32::try_from(i).unwrap_or(0) * ROW_HEIGHT,
            width: u32::try_from(count * BAR_SPAN / max).unwrap_or(0).max(1),
        })
        .collect();
    Chart {
        id: id.to_owned(),
        title: title.to_owned(),
        height: u32::try_from(bars.len()).unwrap_or(0) * ROW_HEIGHT + 4,
        bars,
    }
}

/// One dimension's counts under labels in the reader's language: its id, title and rows.
type Dimension = (&'static str, String, Vec<(String, u64)>);

/// The figures' labels in the reader's language.
fn labelled(ctx: &Ctx, s: &CaseStatistics) -> Vec<Dimension> {
    let plain = |list: &[Tally], label: &dyn Fn(&Tally) -> String| {
        list.iter().map(|t| (label(t), t.count)).collect::<Vec<_>>()
    };
    let own = s.unit.0.to_string();
    let named = |t: &Tally| {
        if t.key == "none" {
            ctx.t("statistics.no_sector").to_owned()
        } else if t.key == own {
            format!("{}{}", t.label, ctx.t("statistics.own_level"))
        } else {
            t.label.clone()
        }
    };
    vec![
        (
            "by_type",
            ctx.t("statistics.by_type").to_owned(),
            plain(&s.by_type, &|t| {
                CaseType::parse(&t.key)
                    .map_or_else(|| t.key.clone(), |c| ctx.case_type(&c).to_owned())
            }),
        ),
        (
            "by_state",
            ctx.t("statistics.by_state").to_owned(),
            plain(&s.by_state, &|t| ctx.case_state(&t.key)),
        ),
        (
            "by_unit",
            ctx.t("statistics.by_unit").to_owned(),
            plain(&s.by_unit, &named),
        ),
        (
            "by_sector",
            ctx.t("statistics.by_sector").to_owned(),
            plain(&s.by_sector, &named),
        ),
        (
            "by_category",
            ctx.t("statistics.by_category").to_owned(),
            plain(&s.by_category, &|t| ctx.case_category(&t.key).to_owned()),
        ),
        (
            "by_level",
            ctx.t("statistics.instructions_by_level").to_owned(),
            plain(&s.instructions_by_level, &|t| {
                ctx.t(&format!("instruction_level.{}", t.key)).to_owned()
            }),
        ),
    ]
}

#[derive(Template)]
#[template(path = "cases/statistics.html")]
struct StatisticsPage {
    ctx: Ctx,
    form: StatsForm,
    figures: Option<CaseStatistics>,
    charts: Vec<Chart>,
    outcome_rows: Vec<(String, OutcomeCounts)>,
    export: String,
    types: [CaseType; 5],
    errors: FormErrors,
}

impl StatisticsPage {
    fn percent(value: Option<f64>) -> String {
        value.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}%"))
    }

    fn on_time(&self) -> String {
        Self::percent(self.figures.as_ref().and_then(CaseStatistics::on_time_rate))
    }

    fn satisfaction(&self) -> String {
        Self::percent(
            self.figures
                .as_ref()
                .and_then(CaseStatistics::satisfaction_rate),
        )
    }

    fn median(&self) -> String {
        self.figures
            .as_ref()
            .and_then(|f| f.median_working_days)
            .map_or_else(|| "—".to_owned(), |d| format!("{d:.1}"))
    }
}

/// The unit the form names, or the reader's chosen scope, or their own unit.
async fn figures_for(
    state: &AppState,
    ctx: &Ctx,
    actor: &Actor,
    form: &StatsForm,
) -> Result<Result<CaseStatistics, Invalid>, AppError> {
    let unit_id = match form.unit_code.trim() {
        "" => ctx.scope.as_ref().map(|u| u.id),
        code => match unit_id_of(state, actor, code).await? {
            Ok(id) => Some(id),
            Err(reason) => return Ok(Err(Invalid::new(Field::Unit, reason))),
        },
    };
    let query = match form.query(unit_id) {
        Ok(query) => query,
        Err(invalid) => return Ok(Err(invalid)),
    };
    match state.store.case_statistics(actor, &query).await {
        Ok(figures) => Ok(Ok(figures)),
        Err(tongxin_store::StoreError::Invalid(invalid)) => Ok(Err(invalid)),
        Err(other) => Err(other.into()),
    }
}

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(form): Query<StatsForm>,
) -> Result<Response, AppError> {
    let result = figures_for(&state, &ctx, &auth.actor, &form).await?;
    let (figures, invalid) = match result {
        Ok(figures) => (Some(figures), Vec::new()),
        Err(invalid) => (None, vec![invalid]),
    };
    let charts = figures
        .as_ref()
        .map(|f| {
            labelled(&ctx, f)
                .into_iter()
                .filter(|(_, _, rows)| !rows.is_empty())
                .map(|(id, title, rows)| chart(id, &title, rows))
                .collect()
        })
        .unwrap_or_default();
    let outcome_rows = figures
        .as_ref()
        .map(|f| {
            f.outcomes_by_unit
                .iter()
                .map(|(t, c)| (t.label.clone(), c.clone()))
                .collect()
        })
        .unwrap_or_default();
    let page = StatisticsPage {
        export: format!("/cases/statistics/export?{}", form.query_string()),
        errors: ctx.errors(&invalid),
        ctx: ctx.with_section("cases"),
        form,
        figures,
        charts,
        outcome_rows,
        types: CaseType::ALL,
    };
    let status = crate::pages::chrome::form_status(&invalid);
    Ok(page.ctx.respond(status, page.render()?))
}

/// The figures as one XLSX table: what is counted, the item, the count.
pub async fn export(
    State(state): State<AppState>,
    ctx: Ctx,
    CurrentUser(auth): CurrentUser,
    Query(form): Query<StatsForm>,
) -> Result<Response, AppError> {
    let figures = match figures_for(&state, &ctx, &auth.actor, &form).await? {
        Ok(figures) => figures,
        Err(invalid) => return Err(AppError::Invalid(vec![invalid])),
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row = |what: &str, item: &str, value: String| {
        rows.push(vec![what.to_owned(), item.to_owned(), value]);
    };
    let summary = ctx.t("statistics.summary");
    row(summary, ctx.t("statistics.unit"), figures.unit.1.clone());
    row(
        summary,
        ctx.t("statistics.total"),
        figures.total.to_string(),
    );
    row(summary, ctx.t("statistics.open"), figures.open.to_string());
    row(
        summary,
        ctx.t("statistics.answered"),
        figures.answered.to_string(),
    );
    row(
        summary,
        ctx.t("statistics.median"),
        figures
            .median_working_days
            .map(|d| format!("{d:.1}"))
            .unwrap_or_default(),
    );
    row(
        summary,
        ctx.t("statistics.on_time"),
        StatisticsPage::percent(figures.on_time_rate()),
    );
    row(
        summary,
        ctx.t("statistics.satisfaction"),
        StatisticsPage::percent(figures.satisfaction_rate()),
    );
    for (key, value) in [
        ("outcome.instruction", figures.outcomes.instructions),
        ("outcome.adoption", figures.outcomes.adoptions),
        ("outcome.bulletin", figures.outcomes.bulletins),
    ] {
        row(summary, ctx.t(key), value.to_string());
    }
    for (_, title, items) in labelled(&ctx, &figures) {
        for (label, count) in items {
            row(&title, &label, count.to_string());
        }
    }
    for (title, per) in [
        (
            ctx.t("statistics.outcomes_by_unit"),
            &figures.outcomes_by_unit,
        ),
        (
            ctx.t("statistics.outcomes_by_sector"),
            &figures.outcomes_by_sector,
        ),
    ] {
        for (t, c) in per {
            let label = if t.key == "none" {
                ctx.t("statistics.no_sector").to_owned()
            } else {
                t.label.clone()
            };
            for (key, value) in [
                ("outcome.instruction", c.instructions),
                ("outcome.adoption", c.adoptions),
                ("outcome.bulletin", c.bulletins),
            ] {
                row(
                    &format!("{title} · {}", ctx.t(key)),
                    &label,
                    value.to_string(),
                );
            }
        }
    }
    table_download(
        vec![
            ctx.t("statistics.dimension").to_owned(),
            ctx.t("statistics.item").to_owned(),
            ctx.t("statistics.value").to_owned(),
        ],
        rows,
        true,
        "case-statistics",
    )
}

#[cfg(test)]
mod tests {
    use super::{BAR_SPAN, chart};

    #[test]
    fn bars_scale_to_the_longest_and_never_vanish() {
        let c = chart(
            "x",
            "t",
            vec![("a".into(), 10), ("b".into(), 5), ("c".into(), 0)],
        );
        let widths: Vec<u32> = c.bars.iter().map(|b| b.width).collect();
        assert_eq!(widths, [BAR_SPAN as u32, BAR_SPAN as u32 / 2, 1]);
        assert_eq!(c.bars[2].y, 52);
    }
}
