//! Full-text matching and relevance scores over the indexes prepared by the migrations
//! (PostgreSQL tsvector + GIN, SQLite FTS5), behind one interface.

use sea_orm::DbBackend;

use crate::db::fts5_rank::QueryStatistics;
use crate::domain::Collection;
use crate::domain::listing::SearchTerms;
use crate::error::{AppError, Result};
use crate::service::sql::SqlBuilder;

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
        })
    }

    /// SQLite: the columns' weights, as the score's arguments (`10.0, 4.0, …`).
    pub fn weights(&self) -> &str {
        &self.weights
    }

    /// The FROM clause of a search over the collection, aliased `t`, for matching only.
    /// On SQLite the FTS5 table drives the join (CROSS JOIN fixes the order): MATCH must be
    /// answered by the full-text index, never tested row by row.
    pub fn from(&self) -> String {
        match self.backend {
            DbBackend::Postgres => format!("{} t", self.table),
            _ => format!(
                "{0}_fts CROSS JOIN {0} t ON t.rowid = {0}_fts.rowid",
                self.table
            ),
        }
    }

    /// [`SearchSql::from`] for a query that also computes [`SearchSql::push_score`].
    pub fn scored_from(&self) -> String {
        match self.backend {
            DbBackend::Postgres => self.from(),
            _ => format!(
                "{} CROSS JOIN {1} t ON t.rowid = {1}_fts.rowid",
                self.index_from(),
                self.table
            ),
        }
    }

    /// SQLite: the full-text index alone, with each row's size for the score (the
    /// `_docsize` record, read in the query's own loop: see `db::fts5_rank`).
    pub fn index_from(&self) -> String {
        format!(
            "{0}_fts CROSS JOIN {0}_fts_docsize {0}_ds ON {0}_ds.id = {0}_fts.rowid",
            self.table
        )
    }

    /// The match condition (with [`SearchSql::from`] as the FROM clause).
    pub fn push_match(&self, sql: &mut SqlBuilder) {
        match self.backend {
            DbBackend::Postgres => {
                sql.push("t.search @@ to_tsquery('english', ")
                    .bind(self.query.clone())
                    .push(")");
            }
            _ => {
                sql.push(&format!("{}_fts MATCH ", self.table))
                    .bind(self.query.clone());
            }
        }
    }

    /// `SELECT <columns>, <score> AS score FROM … WHERE <status_filter> AND <match>`: the
    /// collection's visible matches with their relevance (`t` is the item table).
    pub fn push_scored_matches(&self, sql: &mut SqlBuilder, columns: &str, status_filter: &str) {
        sql.push(&format!("SELECT {columns}, "));
        self.push_score(sql);
        sql.push(&format!(
            " AS score FROM {} WHERE {status_filter} AND ",
            self.scored_from()
        ));
        self.push_match(sql);
    }

    /// The relevance of the current row, computed in the same pass as the match (FTS5
    /// `bm25`, through `salve_bm25`; PostgreSQL `ts_rank`); higher is better. On SQLite
    /// the FROM clause must be [`SearchSql::scored_from`] or [`SearchSql::index_from`]. The query is a bound parameter:
    /// no text derived from the request is ever written into SQL. (`ts_rank_cd`, cover
    /// density, made a search over 965 matching techniques 50% slower — 0.84 against
    /// 0.56 ms — for an order that differs only in how close several query terms sit.)
    pub fn push_score(&self, sql: &mut SqlBuilder) {
        self.push_score_given(sql, None);
    }

    /// [`SearchSql::push_score`], on SQLite with the collection's statistics for this
    /// query where the caller has read them (otherwise the ranking counts them again).
    pub fn push_score_given(&self, sql: &mut SqlBuilder, statistics: Option<&QueryStatistics>) {
        match self.backend {
            DbBackend::Postgres => {
                sql.push("ts_rank(t.search, to_tsquery('english', ")
                    .bind(self.query.clone())
                    .push("))::float8");
            }
            _ => {
                let (function, table) = (crate::db::fts5_rank::FUNCTION, self.table);
                sql.push(&format!(
                    "-{function}({table}_fts, {table}_ds.sz, {}",
                    self.weights
                ));
                if let Some(statistics) = statistics {
                    sql.push(", ").bind(statistics.encode());
                }
                sql.push(")");
            }
        }
    }
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
