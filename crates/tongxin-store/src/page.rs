//! Paging for list queries. A list's total is either kept (the directory's people counts) or
//! counted up to [`COUNT_CAP`], so no request counts a whole subtree.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ConnectionTrait, EntityTrait, Order, PaginatorTrait, QuerySelect, QueryTrait, Select, Statement,
};

use crate::Engine;
use crate::error::Result;

/// Lists count their matches up to this many; past it the total reads "10,000+".
pub const COUNT_CAP: u64 = 10_000;

/// Which page of a list to return; 1-based, with a bounded page size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u64,
    pub per_page: u64,
}

impl PageRequest {
    pub const DEFAULT_PER_PAGE: u64 = 50;
    pub const MAX_PER_PAGE: u64 = 200;

    /// Clamps what a client asked for into a valid request.
    pub fn new(page: Option<u64>, per_page: Option<u64>) -> Self {
        PageRequest {
            page: page.unwrap_or(1).max(1),
            per_page: per_page
                .unwrap_or(Self::DEFAULT_PER_PAGE)
                .clamp(1, Self::MAX_PER_PAGE),
        }
    }

    pub(crate) fn offset(self) -> u64 {
        (self.page - 1).saturating_mul(self.per_page)
    }
}

/// `natural`, the direction of a list's own order, or its opposite when the list is asked for
/// the other way round (a sortable header clicked twice). Either way an index serves it.
pub(crate) fn along(natural: Order, reversed: bool) -> Order {
    match (natural, reversed) {
        (Order::Asc, true) => Order::Desc,
        (Order::Desc, true) => Order::Asc,
        (natural, _) => natural,
    }
}

/// How many match a list's filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    pub count: u64,
    /// More than `count` match: counting stopped at [`COUNT_CAP`].
    pub capped: bool,
}

impl Total {
    pub fn exact(count: u64) -> Total {
        Total {
            count,
            capped: false,
        }
    }
}

/// "230", or "10000+" when counting stopped at the cap.
impl std::fmt::Display for Total {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.count)?;
        if self.capped {
            f.write_str("+")?;
        }
        Ok(())
    }
}

/// Counts the rows of `select` up to [`COUNT_CAP`]: an index walk of at most that many rows.
pub(crate) async fn capped_count<E, C>(select: Select<E>, conn: &C) -> Result<Total>
where
    E: EntityTrait,
    E::Model: Sync,
    C: ConnectionTrait,
{
    let counted = select
        .select_only()
        .expr(Expr::val(1))
        .limit(COUNT_CAP + 1)
        .count(conn)
        .await?;
    Ok(Total {
        count: counted.min(COUNT_CAP),
        capped: counted > COUNT_CAP,
    })
}

/// Counts the rows of `select` up to `cap` through the statement `hint` makes of it (a plan
/// the count must follow, which a bare count would leave to the planner).
pub(crate) async fn capped_count_hinted<E, C>(
    select: Select<E>,
    conn: &C,
    cap: u64,
    hint: impl FnOnce(Select<E>) -> Statement,
) -> Result<Total>
where
    E: EntityTrait,
    C: ConnectionTrait,
{
    let mut statement = hint(select.select_only().expr(Expr::val(1)).limit(cap + 1));
    statement.sql = format!("SELECT COUNT(*) AS n FROM ({}) AS capped", statement.sql);
    let counted: i64 = match conn.query_one_raw(statement).await? {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    };
    let counted = u64::try_from(counted).unwrap_or_default();
    Ok(Total {
        count: counted.min(cap),
        capped: counted > cap,
    })
}

/// The indexes a list of a unit subtree can be read through. Walking the list's order reads
/// about (offset + page) × table ÷ matches rows; the subtree's index reads every match and
/// sorts them. Past [`COUNT_CAP`] matches the walk is the shorter for any page a person reads.
pub(crate) struct Walk {
    pub table: &'static str,
    /// An index in the list's order.
    pub order: &'static str,
    /// The index on the subtree's path.
    pub subtree: &'static str,
}

impl Walk {
    /// The statement for a page of `select` (ordered and limited), through the index the total
    /// calls for.
    pub(crate) fn statement<E: EntityTrait>(
        &self,
        select: Select<E>,
        total: Total,
        engine: Engine,
    ) -> Statement {
        let index = if total.capped {
            self.order
        } else {
            self.subtree
        };
        with_index(select, engine, self.table, index)
    }
}

/// The statement for `select`, told to read `table` through `index` on SQLite, whose planner
/// cannot know what share of a table a path range holds (sea-query has no `INDEXED BY`, so the
/// hint goes into the outer `FROM`). PostgreSQL's planner reads that share from its statistics
/// and is left to choose.
pub(crate) fn with_index<E: EntityTrait>(
    select: Select<E>,
    engine: Engine,
    table: &str,
    index: &str,
) -> Statement {
    hinted(select, engine, table, &format!("INDEXED BY \"{index}\""))
}

/// The statement for `select`, told to reach `table` through its integer key alone on SQLite:
/// a newest-first walk of a table whose key is its order, or lookups of the ids a subquery
/// lists (a search's candidates), where an index on an indexed filter would read far more.
pub(crate) fn through_key<E: EntityTrait>(
    select: Select<E>,
    engine: Engine,
    table: &str,
) -> Statement {
    hinted(select, engine, table, "NOT INDEXED")
}

fn hinted<E: EntityTrait>(select: Select<E>, engine: Engine, table: &str, hint: &str) -> Statement {
    let mut statement = select.build(engine.backend());
    if engine == Engine::Sqlite {
        let from = format!("FROM \"{table}\"");
        let hinted = format!("{from} {hint}");
        statement.sql = statement.sql.replacen(&from, &hinted, 1);
    }
    statement
}

/// One page of results and the total number of matches.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: Total,
    pub page: u64,
    pub per_page: u64,
}

impl<T> Page<T> {
    pub(crate) fn new(items: Vec<T>, total: Total, request: PageRequest) -> Page<T> {
        Page {
            items,
            total,
            page: request.page,
            per_page: request.per_page,
        }
    }

    /// Number of pages (at least 1, so "page 1 of 1" reads well for an empty list); with a
    /// capped total, the pages known so far.
    pub fn pages(&self) -> u64 {
        self.total.count.div_ceil(self.per_page).max(1)
    }

    /// Whether a page follows this one.
    pub fn has_next(&self) -> bool {
        self.page < self.pages() || (self.total.capped && self.items.len() as u64 == self.per_page)
    }
}

#[cfg(test)]
mod tests {
    use crate::accounts::ACCOUNT_WALK;
    use crate::activities::ACTIVITY_WALK;
    use crate::campaigns::UNREACHED_INDEX;
    use crate::directory::organizations::ORGANIZATION_WALK;
    use crate::materials::MATERIAL_WALK;
    use sea_orm::ConnectionTrait;

    use crate::directory::people::ListPlan;
    use crate::{FieldKeys, Store, StoreOptions};

    /// Every index a list names to SQLite exists once migrated: a wrong name would fail only
    /// on lists past the count cap, which the scenario tests do not reach.
    #[tokio::test]
    async fn every_index_a_list_names_exists() {
        let dir = std::env::temp_dir().join(format!("tongxin-walk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}", dir.join("walk.db").display());
        let keys = FieldKeys::from_master(&[7; 32]);
        let store = Store::connect(&url, &StoreOptions::default(), keys)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        store
            .migrate(tongxin_core::Timestamp::from_micros(0))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let named = [
            ("activities", ACTIVITY_WALK.order),
            ("activities", ACTIVITY_WALK.subtree),
            ("organizations", ORGANIZATION_WALK.order),
            ("organizations", ORGANIZATION_WALK.subtree),
            ("users", ACCOUNT_WALK.order),
            ("users", ACCOUNT_WALK.subtree),
            ("materials", MATERIAL_WALK.order),
            ("materials", MATERIAL_WALK.subtree),
            ("campaign_targets", UNREACHED_INDEX),
            ("people", ListPlan::NameOrder.index().unwrap_or_default()),
            (
                "people",
                ListPlan::SubtreeThenSort.index().unwrap_or_default(),
            ),
            ("people", "idx_people_name_birth"),
        ];
        for (table, index) in named {
            let statement = sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "SELECT COUNT(*) AS n FROM sqlite_master \
                 WHERE type = 'index' AND tbl_name = ? AND name = ?",
                [table.into(), index.into()],
            );
            let found: i64 = store
                .db
                .query_one_raw(statement)
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .map(|row| row.try_get("", "n").unwrap_or_else(|e| panic!("{e}")))
                .unwrap_or_default();
            assert_eq!(found, 1, "{table}: no index {index}");
        }
        store.close().await.unwrap_or_else(|e| panic!("{e}"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
