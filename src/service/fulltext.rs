//! Full-text matching and relevance scores over the indexes prepared by the migrations
//! (PostgreSQL tsvector + GIN, SQLite FTS5), behind one interface.

use sea_orm::{ConnectionTrait, DbBackend};

use crate::db::fts5_rank::QueryStatistics;
use crate::domain::Collection;
use crate::domain::listing::SearchTerms;
use crate::error::{AppError, Result};
use crate::service::Visibility;
use crate::service::sql::SqlBuilder;

mod statistics;

pub use statistics::{DATABASE_IDENTITY, phrases, statistics};

/// Whether a search needs the collection's statistics up front: SQLite scores preview
/// readers' drafts with the published index's (`ts_rank` needs none).
fn needs_statistics(visibility: Visibility, backend: DbBackend) -> bool {
    visibility == Visibility::All && backend != DbBackend::Postgres
}

/// Collections with a full-text index.
pub fn searchable() -> impl Iterator<Item = Collection> {
    Collection::ALL
        .into_iter()
        .filter(|c| migration::SEARCHABLE.iter().any(|(t, _)| *t == c.table()))
}

/// PostgreSQL `to_tsquery` text: `word & prefix:*`. Words hold letters and digits only
/// (`SearchTerms`), so no operator of the syntax can appear.
fn tsquery(terms: &SearchTerms) -> String {
    terms
        .words()
        .iter()
        .map(|(w, prefix)| if *prefix { format!("{w}:*") } else { w.clone() })
        .collect::<Vec<_>>()
        .join(" & ")
}

/// SQLite FTS5 MATCH text: `"word" "prefix"*` (implicit AND).
pub fn fts5_match(terms: &SearchTerms) -> String {
    terms
        .words()
        .iter()
        .map(|(w, prefix)| {
            if *prefix {
                format!("\"{w}\"*")
            } else {
                format!("\"{w}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Full-text matching and scoring for one collection, on either engine. Higher scores are
/// better on both.
pub struct SearchSql {
    backend: DbBackend,
    table: &'static str,
    query: String,
    weights: String,
    /// Preview readers: an item with a draft matches by its draft's text.
    drafts: Option<DraftMatching>,
}

/// How drafts are matched for preview readers: through their own index (see the
/// `draft_search` migration), scored on the same scale as the published matches.
struct DraftMatching {
    /// SQLite: the collection's published statistics for the query, so that a draft is
    /// scored as if it stood in its collection (`None`: the collection is empty).
    statistics: Option<QueryStatistics>,
}

impl SearchSql {
    pub fn new(backend: DbBackend, collection: Collection, terms: &SearchTerms) -> Result<Self> {
        let columns = migration::SEARCHABLE
            .iter()
            .find(|(table, _)| *table == collection.table())
            .map(|(_, columns)| *columns)
            .ok_or_else(|| {
                AppError::invalid_parameter(format!("q: {collection} are not searchable"))
            })?;
        let weights = columns
            .iter()
            .map(|(_, weight, _)| match weight {
                'A' => "10.0",
                'B' => "4.0",
                'C' => "2.0",
                _ => "1.0",
            })
            .collect::<Vec<_>>()
            .join(", ");
        Ok(Self {
            backend,
            table: collection.table(),
            query: match backend {
                DbBackend::Postgres => tsquery(terms),
                _ => fts5_match(terms),
            },
            weights,
            drafts: None,
        })
    }

    /// The search as `visibility` reads: for preview readers, items with a draft match
    /// and score by the draft's text instead of their stored text.
    pub async fn for_reader(
        db: &impl ConnectionTrait,
        visibility: Visibility,
        collection: Collection,
        terms: &SearchTerms,
    ) -> Result<Self> {
        let backend = db.get_database_backend();
        let statistics = match needs_statistics(visibility, backend) {
            true => statistics(db, &[collection], terms).await?.pop().flatten(),
            false => None,
        };
        Ok(Self::new(backend, collection, terms)?.read_by(visibility, statistics))
    }

    /// [`Self::for_reader`] for each of `collections`, their statistics read together.
    pub async fn for_readers(
        db: &impl ConnectionTrait,
        visibility: Visibility,
        collections: &[Collection],
        terms: &SearchTerms,
    ) -> Result<Vec<Self>> {
        let backend = db.get_database_backend();
        let statistics = match needs_statistics(visibility, backend) {
            true => statistics(db, collections, terms).await?,
            false => vec![None; collections.len()],
        };
        collections
            .iter()
            .zip(statistics)
            .map(|(collection, statistics)| {
                Ok(Self::new(backend, *collection, terms)?.read_by(visibility, statistics))
            })
            .collect()
    }

    /// Preview readers match drafts, scored with `statistics` on SQLite.
    fn read_by(mut self, visibility: Visibility, statistics: Option<QueryStatistics>) -> Self {
        if visibility == Visibility::All {
            self.drafts = Some(DraftMatching { statistics });
        }
        self
    }

    /// SQLite: the columns' weights, as the score's arguments (`10.0, 4.0, …`).
    pub fn weights(&self) -> &str {
        &self.weights
    }

    /// Pushes the FROM clause of a search over the collection, aliased `t`, for matching
    /// only. On SQLite the FTS5 table drives the join (CROSS JOIN fixes the order): MATCH
    /// must be answered by the full-text index, never tested row by row.
    pub fn push_from(&self, sql: &mut SqlBuilder) {
        match (&self.drafts, self.backend) {
            (Some(drafts), _) => self.push_with_drafts(sql, drafts, false),
            (None, DbBackend::Postgres) => {
                sql.push(&format!("{} t", self.table));
            }
            (None, _) => {
                sql.push(&format!(
                    "{0}_fts CROSS JOIN {0} t ON t.rowid = {0}_fts.rowid",
                    self.table
                ));
            }
        }
    }

    /// [`SearchSql::push_from`] for a query that also computes [`SearchSql::push_score`].
    pub fn push_scored_from(&self, sql: &mut SqlBuilder) {
        match (&self.drafts, self.backend) {
            (Some(drafts), _) => self.push_with_drafts(sql, drafts, true),
            (None, DbBackend::Sqlite) => {
                sql.push(&format!(
                    "{} CROSS JOIN {1} t ON t.rowid = {1}_fts.rowid",
                    self.index_from(),
                    self.table
                ));
            }
            _ => self.push_from(sql),
        }
    }

    /// SQLite: the full-text index alone, with each row's size for the score (the
    /// `_docsize` record, read in the query's own loop: see `db::fts5_rank`).
    pub fn index_from(&self) -> String {
        docsize_join(
            &format!("{}_fts", self.table),
            &format!("{}_ds", self.table),
        )
    }

    /// The match condition (with [`SearchSql::push_from`] as the FROM clause).
    pub fn push_match(&self, sql: &mut SqlBuilder) {
        match (&self.drafts, self.backend) {
            // The matches are the FROM clause's.
            (Some(_), _) => {
                sql.push("1 = 1");
            }
            (None, DbBackend::Postgres) => self.push_tsmatch(sql, "t.search"),
            (None, _) => self.push_fts5_match(sql, &format!("{}_fts", self.table)),
        }
    }

    /// `SELECT <columns>, <score> AS score FROM … WHERE <status_filter> AND <match>`: the
    /// collection's visible matches with their relevance (`t` is the item table).
    pub fn push_scored_matches(&self, sql: &mut SqlBuilder, columns: &str, status_filter: &str) {
        sql.push(&format!("SELECT {columns}, "));
        self.push_score(sql);
        sql.push(" AS score FROM ");
        self.push_scored_from(sql);
        sql.push(&format!(" WHERE {status_filter} AND "));
        self.push_match(sql);
    }

    /// The relevance of the current row, computed in the same pass as the match (FTS5
    /// `bm25`, through `salve_bm25`; PostgreSQL `ts_rank`); higher is better. On SQLite
    /// the FROM clause must be [`SearchSql::push_scored_from`] or [`SearchSql::index_from`].
    /// The query is a bound parameter: no text derived from the request is ever written
    /// into SQL. (`ts_rank_cd`, cover density, made a search over 965 matching techniques
    /// 50% slower — 0.84 against 0.56 ms — for an order that differs only in how close
    /// several query terms sit.)
    pub fn push_score(&self, sql: &mut SqlBuilder) {
        self.push_score_given(sql, None);
    }

    /// [`SearchSql::push_score`], on SQLite with the collection's statistics for this
    /// query where the caller has read them (otherwise the ranking counts them again).
    pub fn push_score_given(&self, sql: &mut SqlBuilder, statistics: Option<&QueryStatistics>) {
        match (&self.drafts, self.backend) {
            (Some(_), _) => {
                sql.push("m.score");
            }
            (None, DbBackend::Postgres) => self.push_rank(sql, "t.search"),
            (None, _) => self.push_bm25(
                sql,
                (
                    &format!("{}_fts", self.table),
                    &format!("{}_ds", self.table),
                ),
                statistics,
            ),
        }
    }

    /// The matches of a preview reader as a derived table `m (id, score)` joined to the
    /// item `t` (`m (id)` unless `scored`): items without a draft by their stored text,
    /// items with one by the draft's.
    fn push_with_drafts(&self, sql: &mut SqlBuilder, drafts: &DraftMatching, scored: bool) {
        let table = self.table;
        let no_draft = "NOT EXISTS (SELECT 1 FROM drafts d0 WHERE d0.item_id = t0.id)";
        sql.push("(SELECT t0.id AS id");
        match self.backend {
            DbBackend::Postgres => {
                if scored {
                    sql.push(", ");
                    self.push_rank(sql, "t0.search");
                    sql.push(" AS score");
                }
                sql.push(&format!(" FROM {table} t0 WHERE {no_draft} AND "));
                self.push_tsmatch(sql, "t0.search");
                sql.push(" UNION ALL SELECT d0.item_id");
                if scored {
                    sql.push(", ");
                    self.push_rank(sql, "d0.search");
                }
                sql.push(&format!(
                    " FROM drafts d0 WHERE d0.collection = '{table}' AND "
                ));
                self.push_tsmatch(sql, "d0.search");
                sql.push(&format!(") m JOIN {table} t ON t.id = m.id"));
            }
            _ => {
                let statistics = drafts.statistics.as_ref();
                let (fts, ds) = (format!("{table}_fts"), format!("{table}_ds"));
                if scored {
                    sql.push(", ");
                    self.push_bm25(sql, (&fts, &ds), statistics);
                    sql.push(" AS score");
                }
                sql.push(&format!(
                    " FROM {} CROSS JOIN {table} t0 ON t0.rowid = {fts}.rowid \
                     WHERE {no_draft} AND ",
                    index_source(&fts, &ds, scored)
                ));
                self.push_fts5_match(sql, &fts);
                let (fts, ds) = (format!("{table}_draft_fts"), format!("{table}_dds"));
                sql.push(" UNION ALL SELECT d0.item_id");
                if scored {
                    sql.push(", ");
                    self.push_bm25(sql, (&fts, &ds), statistics);
                }
                sql.push(&format!(
                    " FROM {} CROSS JOIN drafts d0 ON d0.rowid = {fts}.rowid WHERE ",
                    index_source(&fts, &ds, scored)
                ));
                self.push_fts5_match(sql, &fts);
                sql.push(&format!(") m CROSS JOIN {table} t ON t.id = m.id"));
            }
        }
    }

    fn push_tsmatch(&self, sql: &mut SqlBuilder, vector: &str) {
        sql.push(&format!("{vector} @@ to_tsquery('english', "))
            .bind(self.query.clone())
            .push(")");
    }

    fn push_rank(&self, sql: &mut SqlBuilder, vector: &str) {
        sql.push(&format!("ts_rank({vector}, to_tsquery('english', "))
            .bind(self.query.clone())
            .push("))::float8");
    }

    fn push_fts5_match(&self, sql: &mut SqlBuilder, fts: &str) {
        sql.push(&format!("{fts} MATCH ")).bind(self.query.clone());
    }

    /// `salve_bm25` over the FTS5 table `fts`, its `_docsize` joined as `ds`.
    fn push_bm25(
        &self,
        sql: &mut SqlBuilder,
        (fts, ds): (&str, &str),
        statistics: Option<&QueryStatistics>,
    ) {
        let function = crate::db::fts5_rank::FUNCTION;
        sql.push(&format!("-{function}({fts}, {ds}.sz, {}", self.weights));
        if let Some(statistics) = statistics {
            sql.push(", ").bind(statistics.encode());
        }
        sql.push(")");
    }
}

/// An FTS5 table with its rows' sizes (`<fts>_docsize` aliased `ds`).
/// SQLite: the full-text index as a FROM item, with each row's size when it is scored.
fn index_source(fts: &str, ds: &str, scored: bool) -> String {
    match scored {
        true => docsize_join(fts, ds),
        false => fts.to_owned(),
    }
}

fn docsize_join(fts: &str, ds: &str) -> String {
    format!("{fts} CROSS JOIN {fts}_docsize {ds} ON {ds}.id = {fts}.rowid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_syntax_quotes_every_word() {
        let terms = SearchTerms::parse("Trig* point'; DROP TABLE x; -- \"massage\" OR NEAR(")
            .expect("terms");
        assert_eq!(
            fts5_match(&terms),
            "\"trig\"* \"point\" \"drop\" \"table\" \"x\" \"massage\" \"or\" \"near\""
        );
        assert_eq!(
            tsquery(&SearchTerms::parse("foam rol*").expect("terms")),
            "foam & rol:*"
        );
    }

    /// The search text reaches SQL only as bound values, in the match and in the score.
    #[test]
    fn search_text_is_always_bound() {
        let terms = SearchTerms::parse("massage o'brien").expect("terms");
        for backend in [DbBackend::Postgres, DbBackend::Sqlite] {
            let search = SearchSql::new(backend, Collection::Techniques, &terms).expect("search");
            let mut sql = SqlBuilder::new(backend);
            search.push_score(&mut sql);
            sql.push(" WHERE ");
            search.push_match(&mut sql);
            let statement = sql.build();
            assert!(!statement.sql.contains("massage"), "{}", statement.sql);
            assert!(!statement.sql.contains("brien"), "{}", statement.sql);
            let values = statement.values.expect("bound values");
            let bound = match backend {
                DbBackend::Postgres => 2,
                _ => 1,
            };
            assert_eq!(values.0.len(), bound, "{}", statement.sql);
        }
    }
}
