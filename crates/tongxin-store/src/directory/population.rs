//! A population of the directory — the live people of a unit subtree, in any of some sectors
//! and with any of some tags — as the directory search, invitations by filter and campaign
//! targets all mean it. One definition, so "who is in it" cannot differ between them.

use sea_orm::sea_query::{
    Alias, Condition, DynIden, Expr, ExprTrait, IntoIden, Query, SimpleExpr, SqliteQueryBuilder,
};
use sea_orm::{ColumnTrait, Value};
use tongxin_core::UnitPath;

use crate::entity::{person, person_sector, person_tag};

/// The live people of `subtree`, in any of `sectors` (everyone when none are named) and with
/// any of `tags` (everyone when none are named).
#[derive(Debug, Clone)]
pub(crate) struct Population {
    pub subtree: UnitPath,
    pub sectors: Vec<i64>,
    pub tags: Vec<String>,
    /// Archived people too: the directory's archive view, never a target.
    pub with_archived: bool,
}

/// How the sector and tag parts are asked, which decides the plan: `PerPerson` (EXISTS on the
/// membership's key) when something else — a search, a few ids — drives the query; `Lists`
/// (the members of the sectors as a list) when the population itself is listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    PerPerson,
    Lists,
}

impl Population {
    /// The live people of a subtree.
    pub(crate) fn of(subtree: UnitPath) -> Population {
        Population {
            subtree,
            sectors: Vec::new(),
            tags: Vec::new(),
            with_archived: false,
        }
    }
}

impl Population {
    /// The condition on the rows of `people`, named `table` in the query around it.
    pub(crate) fn condition(&self, table: DynIden, shape: Shape) -> Condition {
        let column = |c: person::Column| Expr::col((table.clone(), c));
        let mut condition = Condition::all()
            .add(column(person::Column::UnitPath).gte(self.subtree.as_str()))
            .add(column(person::Column::UnitPath).lt(self.subtree.upper_bound()));
        if !self.with_archived {
            condition = condition.add(column(person::Column::ArchivedAt).is_null());
        }
        if !self.sectors.is_empty() {
            condition = condition.add(belongs(
                &table,
                shape,
                person_sector::Entity.into_iden(),
                person_sector::Column::PersonId.into_iden(),
                person_sector::Column::SectorId.is_in(self.sectors.clone()),
            ));
        }
        if !self.tags.is_empty() {
            condition = condition.add(belongs(
                &table,
                shape,
                person_tag::Entity.into_iden(),
                person_tag::Column::PersonId.into_iden(),
                person_tag::Column::Tag.is_in(self.tags.clone()),
            ));
        }
        condition
    }

    /// The condition on the `people` table itself, for the store's query builder.
    pub(crate) fn on_people(&self, shape: Shape) -> Condition {
        self.condition(person::Entity.into_iden(), shape)
    }

    /// The same condition as SQL text with `?` placeholders and its values, on `people`
    /// aliased `alias`: for the campaign statements that run it over many people at once.
    pub(crate) fn sql(&self, alias: &str) -> (String, Vec<Value>) {
        let (sql, values) = Query::select()
            .expr(Expr::cust("1"))
            .cond_where(self.condition(Alias::new(alias).into_iden(), Shape::PerPerson))
            .build(SqliteQueryBuilder);
        let condition = sql
            .split_once(" WHERE ")
            .map(|(_, c)| c.to_owned())
            .unwrap_or_else(|| String::from("1 = 1"));
        (condition, values.0)
    }
}

/// The person in `table` has a row in `links` (keyed by `person`) that meets `condition`.
fn belongs(
    table: &DynIden,
    shape: Shape,
    links: DynIden,
    person: DynIden,
    condition: SimpleExpr,
) -> SimpleExpr {
    let mut rows = Query::select();
    rows.from(links.clone()).and_where(condition);
    match shape {
        Shape::PerPerson => {
            rows.expr(Expr::cust("1"))
                .and_where(Expr::col((links, person)).equals((table.clone(), person::Column::Id)));
            Expr::exists(rows.to_owned())
        }
        Shape::Lists => {
            rows.column((links, person));
            Expr::col((table.clone(), person::Column::Id)).in_subquery(rows.to_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_form_names_the_alias_and_binds_every_value() {
        let population = Population {
            sectors: vec![3, 4],
            tags: vec!["青年".to_owned()],
            ..Population::of(UnitPath::from_stored("/1/5/".to_owned()))
        };
        let (sql, values) = population.sql("p");
        assert!(sql.starts_with("\"p\".\"unit_path\" >= ?"), "{sql}");
        assert_eq!(sql.matches('?').count(), values.len(), "{sql}");
        assert_eq!(values.len(), 2 + 2 + 1, "bounds, sectors, tag");
        assert!(!sql.contains("WHERE \"p\""), "{sql}");
    }
}
