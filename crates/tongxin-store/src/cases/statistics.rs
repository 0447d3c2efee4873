//! Counting the direct channel for a part of the tree: cases by type, state, unit, sector and
//! category; how long answers take, how many come on time, how satisfied submitters are; and
//! instructions, adoptions and publications. Counted per unit and sector, never per person.
//!
//! A case belongs to the part of the tree that received it. Each figure is one grouped
//! statement over the receiving-path range, so the whole city's page reads no case row.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect,
    RelationDef,
};
use tongxin_core::{CaseType, InstructionLevel, Outcome, Role, Satisfaction, TimeZone, UnitPath};

use crate::Store;
use crate::access::{self, Actor, Unguarded};
use crate::entity::{case, case_outcome, sector, unit};
use crate::error::{Result, StoreError};

/// Which cases to count.
#[derive(Debug, Clone, Default)]
pub struct CaseStatsQuery {
    /// The part of the tree: this unit's subtree; the caller's own by default.
    pub unit_id: Option<i64>,
    pub case_type: Option<CaseType>,
    /// Submitted on or after this day.
    pub from: Option<NaiveDate>,
    /// Submitted on or before this day.
    pub to: Option<NaiveDate>,
}

/// A count under a label: a unit or sector (by id) or a code (a type, a state, a category).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tally {
    pub key: String,
    pub label: String,
    pub count: u64,
}

/// The outcomes counted for one unit or sector.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeCounts {
    pub instructions: u64,
    pub adoptions: u64,
    pub bulletins: u64,
}

/// The figures of one part of the tree.
#[derive(Debug, Clone)]
pub struct CaseStatistics {
    /// The unit whose subtree was counted.
    pub unit: (i64, String),
    pub total: u64,
    pub open: u64,
    pub by_type: Vec<Tally>,
    pub by_state: Vec<Tally>,
    /// Per unit one level down (and the unit itself, for cases it received directly).
    pub by_unit: Vec<Tally>,
    /// Per the submitter's sector at submission; cases of people in no sector under `none`.
    pub by_sector: Vec<Tally>,
    pub by_category: Vec<Tally>,
    /// Cases answered, and the median of their working days from submission to answer.
    pub answered: u64,
    pub median_working_days: Option<f64>,
    /// Answered cases that had a due date, and those answered by it.
    pub answered_with_due: u64,
    pub answered_on_time: u64,
    /// Ratings, and those satisfied or basically satisfied.
    pub rated: u64,
    pub satisfied: u64,
    pub outcomes: OutcomeCounts,
    /// Instructions by the level of the leader.
    pub instructions_by_level: Vec<Tally>,
    pub outcomes_by_unit: Vec<(Tally, OutcomeCounts)>,
    pub outcomes_by_sector: Vec<(Tally, OutcomeCounts)>,
}

impl CaseStatistics {
    /// Share of answers on time, in percent.
    pub fn on_time_rate(&self) -> Option<f64> {
        percent(self.answered_on_time, self.answered_with_due)
    }

    /// Share of ratings satisfied or basically satisfied, in percent.
    pub fn satisfaction_rate(&self) -> Option<f64> {
        percent(self.satisfied, self.rated)
    }
}

fn percent(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 * 100.0 / whole as f64)
}

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn tally(key: impl Into<String>, label: impl Into<String>, count: u64) -> Tally {
    Tally {
        key: key.into(),
        label: label.into(),
        count,
    }
}

/// The median of values given as how many times each occurs; the mean of the middle two
/// for an even count.
fn median(histogram: &BTreeMap<i32, u64>) -> Option<f64> {
    let total: u64 = histogram.values().sum();
    if total == 0 {
        return None;
    }
    // The values at (0-based) positions `(total - 1) / 2` and `total / 2`.
    let at = |position: u64| {
        let mut seen = 0;
        histogram.iter().find_map(|(value, n)| {
            seen += n;
            (seen > position).then_some(f64::from(*value))
        })
    };
    Some((at((total - 1) / 2)? + at(total / 2)?) / 2.0)
}

/// The cases of one shape: how many, and how many of them open.
#[derive(FromQueryResult)]
struct ShapeRow {
    case_type: String,
    state: String,
    category: String,
    sector_id: Option<i64>,
    satisfaction: Option<String>,
    n: i64,
    open: Option<i64>,
}

#[derive(FromQueryResult)]
struct OutcomeRow {
    kind: String,
    level: Option<String>,
    receiving_unit_path: String,
    sector_id: Option<i64>,
    n: i64,
}

fn outcomes_to_cases() -> RelationDef {
    case_outcome::Entity::belongs_to(case::Entity)
        .from(case_outcome::Column::CaseId)
        .to(case::Column::Id)
        .into()
}

impl OutcomeCounts {
    fn add(&mut self, outcome: Outcome, n: u64) {
        match outcome {
            Outcome::Instruction => self.instructions += n,
            Outcome::Adoption => self.adoptions += n,
            Outcome::Bulletin => self.bulletins += n,
        }
    }
}

impl Store {
    /// The figures of the cases received in a part of the tree the actor sees.
    pub async fn case_statistics(
        &self,
        actor: &Actor,
        query: &CaseStatsQuery,
    ) -> Result<CaseStatistics> {
        // Figures are for those who work in the tree; a member reads their own cases only.
        if !matches!(actor.role(), Role::Admin | Role::Staff | Role::Leader) {
            return Err(StoreError::Forbidden);
        }
        let scope = match query.unit_id.or(actor.unit_id()) {
            Some(id) => self.subtree_of(actor, id).await?,
            None => UnitPath::whole_tree(),
        };
        let scope_unit = access::visible::<unit::Entity>(actor)
            .filter(unit::Column::Path.eq(scope.as_str()))
            .one(&self.db)
            .await?;
        // The scope lies in the actor's subtree, and every case received there is theirs to see
        // by the subtree grant of `Kind::Case`: the counts below read no other case. The scope
        // is a prefix test rather than a range so that the grouping follows an index's order
        // (a range would pick the path index and sort every case once per figure).
        let prefix = Expr::expr(
            Func::cust("substr")
                .arg(Expr::col((case::Entity, case::Column::ReceivingUnitPath)))
                .arg(1i32)
                .arg(i32::try_from(scope.as_str().len()).unwrap_or(i32::MAX)),
        )
        .eq(scope.as_str());
        let mut within = Condition::all().add(prefix);
        if let Some(case_type) = query.case_type {
            within = within.add(case::Column::CaseType.eq(case_type.as_str()));
        }
        let zone = TimeZone::SHANGHAI;
        if let Some(from) = query.from {
            within = within.add(case::Column::CreatedAt.gte(zone.start_of(from).micros()));
        }
        if let Some(to) = query.to.and_then(|d| d.succ_opt()) {
            within = within.add(case::Column::CreatedAt.lt(zone.start_of(to).micros()));
        }
        let cases = || access::unguarded::<case::Entity>(Unguarded::Figures).filter(within.clone());
        let shapes = cases()
            .select_only()
            .columns([
                case::Column::CaseType,
                case::Column::State,
                case::Column::Category,
                case::Column::SectorId,
                case::Column::Satisfaction,
            ])
            .column_as(Expr::val(1).count(), "n")
            .column_as(
                Expr::expr(Expr::case(Expr::col(case::Column::ClosedAt).is_null(), 1).finally(0))
                    .sum(),
                "open",
            )
            .group_by(case::Column::CaseType)
            .group_by(case::Column::State)
            .group_by(case::Column::Category)
            .group_by(case::Column::SectorId)
            .group_by(case::Column::Satisfaction)
            .into_model::<ShapeRow>()
            .all(&self.db);
        let paths = cases()
            .select_only()
            .column(case::Column::ReceivingUnitPath)
            .column_as(Expr::val(1).count(), "n")
            .group_by(case::Column::ReceivingUnitPath)
            .into_tuple::<(String, i64)>()
            .all(&self.db);
        let answers = cases()
            .select_only()
            .column(case::Column::AnsweredOnTime)
            .column(case::Column::AnswerDays)
            .column_as(Expr::val(1).count(), "n")
            .filter(case::Column::AnswerDays.is_not_null())
            .group_by(case::Column::AnsweredOnTime)
            .group_by(case::Column::AnswerDays)
            .into_tuple::<(Option<bool>, Option<i32>, i64)>()
            .all(&self.db);
        #[allow(clippy::disallowed_methods)]
        let outcome_rows = case_outcome::Entity::find()
            .select_only()
            .column(case_outcome::Column::Kind)
            .column(case_outcome::Column::Level)
            .column(case::Column::ReceivingUnitPath)
            .column(case::Column::SectorId)
            .column_as(Expr::val(1).count(), "n")
            .join(JoinType::InnerJoin, outcomes_to_cases())
            .filter(within.clone())
            .group_by(case_outcome::Column::Kind)
            .group_by(case_outcome::Column::Level)
            .group_by(case::Column::ReceivingUnitPath)
            .group_by(case::Column::SectorId)
            .into_model::<OutcomeRow>()
            .all(&self.db);
        // Each reads its own index; together they take the time of the longest.
        let (shapes, paths, answers, outcome_rows) =
            tokio::try_join!(shapes, paths, answers, outcome_rows)?;
        let mut types: HashMap<String, i64> = HashMap::new();
        let mut states: HashMap<String, i64> = HashMap::new();
        let mut categories: HashMap<String, i64> = HashMap::new();
        let mut sectors: HashMap<Option<i64>, i64> = HashMap::new();
        let mut satisfaction: HashMap<Option<String>, i64> = HashMap::new();
        let mut open = 0;
        for row in shapes {
            *types.entry(row.case_type).or_default() += row.n;
            *states.entry(row.state).or_default() += row.n;
            *categories.entry(row.category).or_default() += row.n;
            *sectors.entry(row.sector_id).or_default() += row.n;
            *satisfaction.entry(row.satisfaction).or_default() += row.n;
            open += row.open.unwrap_or(0);
        }

        // Units one level down, each counting its subtree; the scope's own cases under it.
        let children: Vec<unit::Model> = access::visible::<unit::Entity>(actor)
            .filter(unit::Column::ParentId.eq(scope_unit.as_ref().map(|u| u.id)))
            .all(&self.db)
            .await?;
        let unit_of = |path: &str| -> (String, String) {
            children
                .iter()
                .find(|c| path.starts_with(&c.path))
                .map(|c| (c.id.to_string(), c.name.clone()))
                .or_else(|| {
                    scope_unit
                        .as_ref()
                        .map(|u| (u.id.to_string(), u.name.clone()))
                })
                .unwrap_or_default()
        };
        let mut units: BTreeMap<(String, String), u64> = children
            .iter()
            .map(|c| ((c.id.to_string(), c.name.clone()), 0))
            .collect();
        for (path, n) in &paths {
            *units.entry(unit_of(path)).or_default() += count(*n);
        }
        let mut by_unit: Vec<Tally> = units
            .into_iter()
            .map(|((key, label), n)| tally(key, label, n))
            .collect();
        by_unit.sort_by(|a, b| b.count.cmp(&a.count).then(a.label.cmp(&b.label)));
        let sector_names: HashMap<i64, String> =
            access::unguarded::<sector::Entity>(Unguarded::Reference)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect();
        let sector_label = |id: Option<i64>| match id {
            Some(id) => (
                id.to_string(),
                sector_names.get(&id).cloned().unwrap_or_default(),
            ),
            None => ("none".to_owned(), String::new()),
        };

        let mut days: BTreeMap<i32, u64> = BTreeMap::new();
        let mut answered_with_due = 0;
        let mut answered_on_time = 0;
        for (on_time, took, n) in &answers {
            let n = count(*n);
            if let Some(took) = took {
                *days.entry(*took).or_default() += n;
            }
            if let Some(on_time) = on_time {
                answered_with_due += n;
                if *on_time {
                    answered_on_time += n;
                }
            }
        }

        let mut outcomes = OutcomeCounts::default();
        let mut levels: BTreeMap<InstructionLevel, u64> = BTreeMap::new();
        let mut outcomes_by_unit: BTreeMap<(String, String), OutcomeCounts> = BTreeMap::new();
        let mut outcomes_by_sector: BTreeMap<(String, String), OutcomeCounts> = BTreeMap::new();
        for row in &outcome_rows {
            let Some(outcome) = Outcome::parse(&row.kind) else {
                continue;
            };
            let n = count(row.n);
            outcomes.add(outcome, n);
            if let Some(level) = row.level.as_deref().and_then(InstructionLevel::parse) {
                *levels.entry(level).or_default() += n;
            }
            outcomes_by_unit
                .entry(unit_of(&row.receiving_unit_path))
                .or_default()
                .add(outcome, n);
            outcomes_by_sector
                .entry(sector_label(row.sector_id))
                .or_default()
                .add(outcome, n);
        }

        let by_code = |rows: Vec<(String, i64)>| -> Vec<Tally> {
            let mut tallies: Vec<Tally> = rows
                .into_iter()
                .map(|(code, n)| tally(code.clone(), code, count(n)))
                .collect();
            tallies.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
            tallies
        };
        let mut by_sector: Vec<Tally> = sectors
            .into_iter()
            .map(|(id, n)| {
                let (key, label) = sector_label(id);
                tally(key, label, count(n))
            })
            .collect();
        by_sector.sort_by(|a, b| b.count.cmp(&a.count).then(a.key.cmp(&b.key)));
        let mut by_type: Vec<Tally> = CaseType::ALL
            .into_iter()
            .map(|t| {
                let n = types.get(t.as_str()).map_or(0, |n| count(*n));
                tally(t.as_str(), t.as_str(), n)
            })
            .collect();
        if let Some(case_type) = query.case_type {
            by_type.retain(|t| t.key == case_type.as_str());
        }
        let rated = satisfaction
            .iter()
            .filter(|(s, _)| s.is_some())
            .map(|(_, n)| count(*n))
            .sum();
        let satisfied = satisfaction
            .iter()
            .filter(|(s, _)| {
                matches!(
                    s.as_deref().and_then(Satisfaction::parse),
                    Some(Satisfaction::Satisfied | Satisfaction::Basically)
                )
            })
            .map(|(_, n)| count(*n))
            .sum();
        let pairs = |map: BTreeMap<(String, String), OutcomeCounts>| {
            map.into_iter()
                .map(|((key, label), counts)| (tally(key, label, 0), counts))
                .collect()
        };
        Ok(CaseStatistics {
            unit: scope_unit.map(|u| (u.id, u.name)).unwrap_or_default(),
            total: paths.iter().map(|(_, n)| count(*n)).sum(),
            open: count(open),
            by_type,
            by_state: by_code(states.into_iter().collect()),
            by_unit,
            by_sector,
            by_category: by_code(categories.into_iter().collect()),
            answered: days.values().sum(),
            median_working_days: median(&days),
            answered_with_due,
            answered_on_time,
            rated,
            satisfied,
            outcomes,
            instructions_by_level: InstructionLevel::ALL
                .into_iter()
                .map(|l| tally(l.as_str(), l.as_str(), levels.get(&l).copied().unwrap_or(0)))
                .collect(),
            outcomes_by_unit: pairs(outcomes_by_unit),
            outcomes_by_sector: pairs(outcomes_by_sector),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    use std::collections::BTreeMap;

    fn of(values: &[i32]) -> BTreeMap<i32, u64> {
        let mut histogram = BTreeMap::new();
        for v in values {
            *histogram.entry(*v).or_default() += 1;
        }
        histogram
    }

    #[test]
    fn medians_of_odd_and_even_counts() {
        assert_eq!(median(&of(&[])), None);
        assert_eq!(median(&of(&[7, 1, 3])), Some(3.0));
        assert_eq!(median(&of(&[4, 1, 3, 10])), Some(3.5));
        assert_eq!(median(&of(&[2, 2, 2, 9])), Some(2.0));
        assert_eq!(median(&of(&[0, 5])), Some(2.5));
    }
}
