//! Finding people: the directory's list and search box, through the name, pinyin and phone
//! indexes, with sector, tag and status filters.

use sea_orm::sea_query::{ExprTrait, Query, SimpleExpr, UnionType};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, Order, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Select, Statement,
};
use tongxin_core::{Gender, Timestamp, UnitPath};
use tongxin_text::{QueryKind, bigrams, classify_query};

use crate::access::{self, Actor, Unguarded};
use crate::directory::population::{Population, Shape};
use crate::entity::{affiliation, name_gram, organization, person};
use crate::error::Result;
use crate::error::StoreError;
use crate::like;
use crate::page::{
    Page, PageRequest, Total, capped_count, capped_count_hinted, through_key, with_index,
};
use crate::units::people_counts;
use crate::{Engine, Store};

use super::{PersonStatus, PersonSummary, date_text, years_before};

/// Filters of the directory search.
#[derive(Debug, Clone, Default)]
pub struct PeopleQuery {
    /// A name substring (2+ characters), full pinyin or initials, or a phone's last 4 digits.
    pub q: Option<String>,
    /// Only this unit's subtree (within the actor's).
    pub unit_id: Option<i64>,
    pub sector_id: Option<i64>,
    pub tag: Option<String>,
    pub gender: Option<Gender>,
    pub age_min: Option<u32>,
    pub age_max: Option<u32>,
    pub status: PersonStatus,
    pub order: PersonOrder,
    /// Only these people (picked in the list for an export); empty for no such limit.
    pub ids: Vec<i64>,
}

/// The orders the directory offers, each served by an index at any size.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PersonOrder {
    /// By pinyin, syllable by syllable (the name order index).
    #[default]
    Name,
    NameDescending,
    /// By unit, grouped along the tree, then by pinyin within a unit (the path index).
    Unit,
    UnitDescending,
}

impl PersonOrder {
    /// The order a list's `sort` parameter names (`name`, `-name`, `unit`, `-unit`); none
    /// for anything else, which a list answers in its default order.
    pub fn parse(param: &str) -> Option<PersonOrder> {
        Some(match param {
            "name" => PersonOrder::Name,
            "-name" => PersonOrder::NameDescending,
            "unit" => PersonOrder::Unit,
            "-unit" => PersonOrder::UnitDescending,
            _ => return None,
        })
    }

    fn descending(self) -> bool {
        matches!(
            self,
            PersonOrder::NameDescending | PersonOrder::UnitDescending
        )
    }
}

impl Store {
    /// The people of the actor's subtree that match `query`, as a query to run.
    pub(crate) async fn people_matching(
        &self,
        actor: &Actor,
        query: &PeopleQuery,
        now: Timestamp,
    ) -> Result<Matching> {
        actor.require_staff_area()?;
        let subtree = match query.unit_id {
            Some(unit_id) => self.subtree_of(actor, unit_id).await?,
            None => actor.unit_path().clone(),
        };
        let population = Population {
            subtree: subtree.clone(),
            sectors: query.sector_id.into_iter().collect(),
            tags: query
                .tag
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
                .into_iter()
                .collect(),
            with_archived: query.status != PersonStatus::Active,
        };
        // A text search yields few candidates and should drive the query; membership and
        // tag filters are then checked per candidate rather than listed in full (SQLite's
        // planner would otherwise walk a whole sector's list).
        let shape = if query.q.as_deref().is_some_and(|q| !q.trim().is_empty()) {
            Shape::PerPerson
        } else {
            Shape::Lists
        };
        let mut select =
            access::visible::<person::Entity>(actor).filter(population.on_people(shape));
        if query.status == PersonStatus::Archived {
            select = select.filter(person::Column::ArchivedAt.is_not_null());
        }
        if let Some(gender) = query.gender {
            select = select.filter(person::Column::Gender.eq(gender.as_str()));
        }
        let today = now.date();
        if let Some(min) = query.age_min {
            let latest = years_before(today, min);
            select = select.filter(person::Column::BirthDate.lte(date_text(latest)));
        }
        if let Some(max) = query.age_max {
            let earliest = years_before(today, max.saturating_add(1));
            select = select.filter(person::Column::BirthDate.gt(date_text(earliest)));
        }
        if let Some(q) = query.q.as_deref().filter(|q| !q.trim().is_empty()) {
            select = select.filter(self.text_condition(q));
        }
        if !query.ids.is_empty() {
            select = select.filter(person::Column::Id.is_in(query.ids.iter().copied()));
        }
        Ok(Matching { select, subtree })
    }

    /// Searches the directory of the actor's subtree, ordered by pinyin.
    pub async fn search_people(
        &self,
        actor: &Actor,
        query: &PeopleQuery,
        page: PageRequest,
        now: Timestamp,
    ) -> Result<Page<PersonSummary>> {
        let listing = self.people_listing(actor, query, page, now).await?;
        let engine = self.engine();
        let rows = async {
            let statement = listing.statement(page, engine);
            Ok::<_, StoreError>(
                listing
                    .select
                    .clone()
                    .from_raw_sql(statement)
                    .all(&self.db)
                    .await?,
            )
        };
        let (total, rows) = match listing.total {
            Some(total) => (total, rows.await?),
            // The count and the page read the same rows: on two connections at once.
            None => {
                let count = async {
                    if listing.searched {
                        // Through the candidates' ids, whatever the page walks: an index on
                        // the counted columns would tempt SQLite into reading the subtree.
                        capped_count_hinted(
                            listing.select.clone(),
                            &self.db,
                            SEARCH_COUNT_CAP,
                            |select| through_key(select, engine, "people"),
                        )
                        .await
                    } else {
                        capped_count(listing.select.clone(), &self.db).await
                    }
                };
                tokio::try_join!(count, rows)?
            }
        };
        let items = self.summaries(rows).await?;
        Ok(Page::new(items, total, page))
    }

    /// The plan of the directory's list for `query`, as the database describes it (`EXPLAIN
    /// QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL): for the test that pins it.
    pub async fn explain_people_list(
        &self,
        actor: &Actor,
        query: &PeopleQuery,
        page: PageRequest,
        now: Timestamp,
    ) -> Result<Vec<String>> {
        let listing = self.people_listing(actor, query, page, now).await?;
        let mut statement = listing.statement(page, self.engine());
        let (prefix, column) = match self.engine() {
            Engine::Sqlite => ("EXPLAIN QUERY PLAN ", "detail"),
            Engine::Postgres => ("EXPLAIN ", "QUERY PLAN"),
        };
        statement.sql = format!("{prefix}{}", statement.sql);
        let rows = self.db.query_all_raw(statement).await?;
        rows.iter()
            .map(|row| Ok(row.try_get::<String>("", column)?))
            .collect()
    }

    /// The query behind a page of the directory, the plan it should follow and, where the
    /// kept counts give it, its total.
    async fn people_listing(
        &self,
        actor: &Actor,
        query: &PeopleQuery,
        page: PageRequest,
        now: Timestamp,
    ) -> Result<Listing> {
        let Matching { select, subtree } = self.people_matching(actor, query, now).await?;
        let text = query.q.as_deref().filter(|q| !q.trim().is_empty());
        let ids = subtree.ids();
        let (Some(top), Some(root)) = (ids.first(), ids.last()) else {
            // The whole tree (the command line): the name order serves a list; a search's
            // candidates drive it.
            let plan = match text {
                Some(_) => ListPlan::CandidatesThenSort,
                None => ListPlan::NameOrder,
            };
            return Ok(Listing {
                select,
                plan,
                order: query.order,
                total: None,
                searched: text.is_some(),
            });
        };
        let [tree, counted] = people_counts::of_units(&self.db, &[*top, *root]).await?[..] else {
            return Err(StoreError::NotFound);
        };
        if let Some(text) = text {
            let candidates = match first_gram(text) {
                Some(gram) => Some(self.gram_holders(&gram).await?),
                None => None,
            };
            return Ok(Listing {
                select,
                plan: ListPlan::for_search(page, candidates, counted.all(), tree.all()),
                order: query.order,
                total: None,
                searched: true,
            });
        }
        let plan = match query.order {
            // The path index is in this order: walking it is both plans at once.
            PersonOrder::Unit | PersonOrder::UnitDescending => ListPlan::SubtreeThenSort,
            PersonOrder::Name | PersonOrder::NameDescending => {
                ListPlan::choose(page, counted.all(), tree.all())
            }
        };
        let unfiltered = query.ids.is_empty()
            && query.sector_id.is_none()
            && query.tag.as_deref().is_none_or(|t| t.trim().is_empty())
            && query.gender.is_none()
            && query.age_min.is_none()
            && query.age_max.is_none();
        let total = unfiltered.then(|| {
            Total::exact(match query.status {
                PersonStatus::Active => counted.active,
                PersonStatus::Archived => counted.archived,
                PersonStatus::All => counted.all(),
            })
        });
        Ok(Listing {
            select,
            plan,
            order: query.order,
            total,
            searched: false,
        })
    }

    /// How many names hold `gram`: one range of the grams' key.
    async fn gram_holders(&self, gram: &str) -> Result<u64> {
        Ok(access::unguarded::<name_gram::Entity>(Unguarded::Planning)
            .filter(name_gram::Column::Gram.eq(gram))
            .count(&self.db)
            .await?)
    }

    /// The condition for the search box: a name substring through the bigram index, pinyin or
    /// initials as an indexed prefix, or a phone's last four digits through its blind index.
    /// The people a search box text finds, as a list of candidate ids (from the bigram,
    /// pinyin or phone-tail indexes) that drives the rest of the query, plus what the
    /// candidates must also satisfy.
    fn text_condition(&self, q: &str) -> Condition {
        let people_where = |condition: SimpleExpr| {
            Query::select()
                .column(person::Column::Id)
                .from(person::Entity)
                .and_where(condition)
                .to_owned()
        };
        match classify_query(q) {
            QueryKind::Hanzi(text) => {
                // People who hold a position in an organization of that name (the organization
                // list is small next to the directory); which organizations count is the
                // access layer's decision.
                let affiliated = Query::select()
                    .column(affiliation::Column::PersonId)
                    .from(affiliation::Entity)
                    .and_where(
                        affiliation::Column::OrganizationId.in_subquery(
                            Query::select()
                                .column(organization::Column::Id)
                                .from(organization::Entity)
                                .cond_where(access::organizations_finding_people())
                                .and_where(like::contains(organization::Column::Name, &text))
                                .to_owned(),
                        ),
                    )
                    .to_owned();
                // Names holding the text's first bigram (for a name typed from its start, the
                // surname and one more character: few people), then the text itself.
                let Some(first) = first_gram(&text) else {
                    return Condition::all().add(like::starts_with(person::Column::Name, &text));
                };
                let mut candidates = Query::select()
                    .column(name_gram::Column::PersonId)
                    .from(name_gram::Entity)
                    .and_where(name_gram::Column::Gram.eq(first))
                    .to_owned();
                candidates.union(UnionType::Distinct, affiliated.clone());
                Condition::all()
                    .add(person::Column::Id.in_subquery(candidates))
                    .add(
                        Condition::any()
                            .add(like::contains(person::Column::Name, &text))
                            .add(person::Column::Id.in_subquery(affiliated)),
                    )
            }
            QueryKind::PhoneTail(digits) => {
                let tail = self.keys.blind_index("phone_tail", &digits);
                Condition::all().add(
                    person::Column::Id
                        .in_subquery(people_where(person::Column::PhoneTailIndex.eq(tail))),
                )
            }
            QueryKind::Pinyin(letters) => {
                let upper = format!("{letters}{{");
                let mut candidates = people_where(
                    person::Column::NamePinyin
                        .gte(letters.as_str())
                        .and(person::Column::NamePinyin.lt(upper.as_str())),
                );
                candidates.union(
                    UnionType::All,
                    people_where(
                        person::Column::NameInitials
                            .gte(letters.as_str())
                            .and(person::Column::NameInitials.lt(upper.as_str())),
                    ),
                );
                Condition::all().add(person::Column::Id.in_subquery(candidates))
            }
            QueryKind::Other(text) => Condition::any()
                .add(like::contains(person::Column::Name, &text))
                .add(like::contains(person::Column::Employer, &text)),
        }
    }
}

/// The people a directory query matches, and the subtree it was asked over.
pub(crate) struct Matching {
    pub select: Select<person::Entity>,
    pub subtree: UnitPath,
}

/// A search box text's first bigram, through which a name search finds its candidates.
fn first_gram(q: &str) -> Option<String> {
    match classify_query(q) {
        QueryKind::Hanzi(text) => bigrams(&text).into_iter().next(),
        _ => None,
    }
}

/// A search counts its matches up to this many ("1000+"): past it, a person narrows the
/// search rather than pages through it, and an exact count of a common name's thousands of
/// candidates would cost more than the page.
const SEARCH_COUNT_CAP: u64 = 1_000;

/// A page of the directory about to be read.
struct Listing {
    select: Select<person::Entity>,
    /// The index to walk.
    plan: ListPlan,
    order: PersonOrder,
    /// The total from the kept counts, when no filter but the subtree and status applies.
    total: Option<Total>,
    /// A search box text applies: the count goes through the candidates.
    searched: bool,
}

impl Listing {
    /// The statement for the page, in the order asked for, ties broken by id.
    fn statement(&self, page: PageRequest, engine: Engine) -> Statement {
        let direction = if self.order.descending() {
            Order::Desc
        } else {
            Order::Asc
        };
        let mut select = self.select.clone();
        if matches!(self.order, PersonOrder::Unit | PersonOrder::UnitDescending) {
            select = select.order_by(person::Column::UnitPath, direction.clone());
        }
        let select = select
            .order_by(person::Column::NameSort, direction.clone())
            .order_by(person::Column::Id, direction)
            .offset(page.offset())
            .limit(page.per_page);
        match self.plan.index() {
            Some(index) => with_index(select, engine, "people", index),
            None => select.build(engine.backend()),
        }
    }
}

/// Which index a page of the directory walks. Walking the name order reads about
/// (offset + page) × tree ÷ matches index entries before the page is full; the subtree's
/// path index (or a search's candidates) reads every match and sorts them. The kept counts
/// (and for a name, its first bigram's holders) tell which is fewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListPlan {
    /// The pinyin index in order, testing each row's path: a large share of the tree.
    NameOrder,
    /// The subtree's rows through the path index, then sorted: a small share.
    SubtreeThenSort,
    /// A search's candidates (from the bigram, pinyin or phone-tail indexes), then sorted.
    CandidatesThenSort,
}

/// An entry of the name index costs a fraction of a row found by its id (measured ≈ 0.2 µs
/// against ≈ 1.6 µs at a million people): the walk may read this many entries per candidate.
const ENTRIES_PER_ROW: u64 = 4;

impl ListPlan {
    fn choose(page: PageRequest, subtree: u64, tree: u64) -> ListPlan {
        let walked = (page.offset() + page.per_page).saturating_mul(tree);
        if walked < subtree.saturating_mul(subtree) {
            ListPlan::NameOrder
        } else {
            ListPlan::SubtreeThenSort
        }
    }

    /// A search walks the name order only when its candidates are many and the subtree a
    /// large share of the tree (a common surname across the city); the walk then tests each
    /// entry against the candidates and reads only the rows it keeps.
    fn for_search(page: PageRequest, candidates: Option<u64>, subtree: u64, tree: u64) -> ListPlan {
        let Some(candidates) = candidates else {
            return ListPlan::CandidatesThenSort;
        };
        // Matches expected in the subtree if the candidates spread like the people.
        let matches = candidates
            .saturating_mul(subtree)
            .checked_div(tree)
            .unwrap_or_default();
        let walked = (page.offset() + page.per_page)
            .saturating_mul(tree)
            .checked_div(matches);
        match walked {
            Some(walked) if walked < candidates.saturating_mul(ENTRIES_PER_ROW) => {
                ListPlan::NameOrder
            }
            _ => ListPlan::CandidatesThenSort,
        }
    }

    /// The index SQLite is told to use; none when the candidates drive the query.
    pub(crate) fn index(self) -> Option<&'static str> {
        match self {
            ListPlan::NameOrder => Some("idx_people_sort_order"),
            ListPlan::SubtreeThenSort => Some("idx_people_unit_sort"),
            ListPlan::CandidatesThenSort => None,
        }
    }
}
