//! Full-text matching and relevance scores over the indexes prepared by the migrations
//! (PostgreSQL tsvector + GIN, SQLite FTS5), behind one interface.

use sea_orm::DbBackend;

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
                DbBackend::Postgres => terms.to_tsquery(),
                _ => terms.to_fts5(),
            },
            weights,
        })
    }

    pub fn push_match(&self, sql: &mut SqlBuilder) {
        match self.backend {
            DbBackend::Postgres => {
                sql.push("t.search @@ to_tsquery('english', ")
                    .bind(self.query.clone())
                    .push(")");
            }
            _ => {
                sql.push(&format!(
                    "t.rowid IN (SELECT rowid FROM {}_fts WHERE {}_fts MATCH ",
                    self.table, self.table
                ));
                sql.bind(self.query.clone()).push(")");
            }
        }
    }

    /// A score expression with no bound parameters (the query text is escaped), so it
    /// can be repeated in ORDER BY and keyset conditions.
    pub fn score_expr(&self) -> String {
        let literal = self.query.replace('\'', "''");
        match self.backend {
            DbBackend::Postgres => {
                format!("ts_rank_cd(t.search, to_tsquery('english', '{literal}'))::float8")
            }
            _ => format!(
                "(SELECT -bm25({table}_fts, {weights}) FROM {table}_fts \
                 WHERE {table}_fts MATCH '{literal}' AND {table}_fts.rowid = t.rowid)",
                table = self.table,
                weights = self.weights
            ),
        }
    }

    pub fn push_score(&self, sql: &mut SqlBuilder) {
        sql.push(&self.score_expr());
    }
}
