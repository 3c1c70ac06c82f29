//! Search across collections on SQLite without ranking every match of every collection.
//!
//! FTS5's `bm25` scores a row Σ idf(p) · F(k1 + 1) / (F + k1(1 − b + b·D/avgdl)) over the
//! query's phrases p, where F is the row's weighted frequency of p and idf(p) =
//! max(ln((N − n + 0.5) / (n + 0.5)), 1e-6) for N rows of which n match p. Since
//! F / (F + c) < 1, no row of a collection scores (k1 + 1) · Σ idf(p) or more: a collection
//! whose bound is below the page's last score so far cannot place a hit on the page, and is
//! never ranked. A common word is common in some collections (low idf) and rarer in
//! others, so most of its matches are in collections that are skipped. Each collection
//! ranked is ranked on its full-text index alone first (its best few matches), and only
//! those are looked up in the table for their id and status; when that cannot be shown to
//! hold the page (drafts among them, ties at the edge, a cursor), the collection is ranked
//! the plain way. Every page is the one the single statement would return.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use uuid::Uuid;

use super::{Ranked, Wanted, hit_order};
use crate::db::fts5_rank::QueryStatistics;
use crate::domain::Collection;
use crate::domain::listing::SearchTerms;
use crate::error::Result;
use crate::service::fulltext::{self, SearchSql};
use crate::service::sql::SqlBuilder;

/// The hits `wanted`, best first.
pub(super) async fn rank(db: &DatabaseConnection, wanted: &Wanted<'_>) -> Result<Vec<Ranked>> {
    let mut best: Vec<Ranked> = Vec::with_capacity(wanted.want * 2);
    for (collection, bound, statistics) in score_bounds(db, wanted.terms, wanted.types).await? {
        if best.len() >= wanted.want && best[wanted.want - 1].score >= bound {
            break;
        }
        let hits = match top_from_index(db, wanted, collection, &statistics).await? {
            Some(hits) => hits,
            None => top_exact(db, wanted, collection).await?,
        };
        best.extend(hits);
        best.sort_by(Ranked::order);
        best.truncate(wanted.want);
    }
    Ok(best)
}

/// Each collection that can match, with a score no row of it reaches (highest first) and
/// its statistics for the query (`fulltext::statistics`).
async fn score_bounds(
    db: &DatabaseConnection,
    terms: &SearchTerms,
    types: &[Collection],
) -> Result<Vec<(Collection, f64, QueryStatistics)>> {
    let all = fulltext::statistics(db, types, terms).await?;
    let mut bounds = Vec::with_capacity(types.len());
    for (collection, statistics) in types.iter().zip(all) {
        let Some(statistics) = statistics else {
            continue;
        };
        if statistics.hits.contains(&0) {
            continue;
        }
        // A hair above the bound: SQLite computes the scores in its own order.
        let bound = statistics.score_bound() * (1.0 + 1e-9);
        bounds.push((*collection, bound, statistics));
    }
    bounds.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(bounds)
}

/// The collection's first `want` hits after the cursor, ranked on its full-text index
/// alone and then looked up by rowid (one statement); `None` when those rows cannot be
/// shown to be the page (too few visible among them, or ties at the edge of what was
/// ranked).
async fn top_from_index(
    db: &DatabaseConnection,
    wanted: &Wanted<'_>,
    collection: Collection,
    statistics: &QueryStatistics,
) -> Result<Option<Vec<Ranked>>> {
    let (want, after) = (wanted.want, wanted.after);
    let search = SearchSql::new(DbBackend::Sqlite, collection, wanted.terms)?;
    let table = collection.table();
    let depth = want * 2 + 8;
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push(&format!(
        "SELECT ranked.score AS score, t.id AS id FROM (SELECT rid, score FROM \
         (SELECT {table}_fts.rowid AS rid, "
    ));
    search.push_score_given(&mut sql, Some(statistics));
    sql.push(&format!(" AS score FROM {} WHERE ", search.index_from()));
    search.push_match(&mut sql);
    sql.push(")");
    if let Some(after) = after {
        // Ties with the cursor's score are sorted out below, by type and id.
        sql.push(" WHERE score <= ").bind(after.score);
    }
    sql.push(&format!(
        " ORDER BY score DESC LIMIT {depth}) ranked LEFT JOIN {table} t \
         ON t.rowid = ranked.rid AND {}",
        wanted.visibility.status_filter("t")
    ));
    let cursor = after.map(|after| Ranked {
        collection: after.kind,
        id: after.id,
        score: after.score,
    });
    let mut scored = 0;
    let mut lowest_ranked = f64::INFINITY;
    let mut hits: Vec<Ranked> = Vec::with_capacity(depth);
    for row in db.query_all_raw(sql.build()).await? {
        let score: f64 = row.try_get("", "score")?;
        scored += 1;
        lowest_ranked = lowest_ranked.min(score);
        // Null: a match the reader may not see.
        let Some(id) = row.try_get::<Option<Uuid>>("", "id")? else {
            continue;
        };
        let hit = Ranked {
            collection,
            id,
            score,
        };
        if cursor
            .as_ref()
            .is_none_or(|cursor| Ranked::order(cursor, &hit).is_lt())
        {
            hits.push(hit);
        }
    }
    if scored == 0 {
        return Ok(Some(Vec::new()));
    }
    hits.sort_by(Ranked::order);
    let complete = scored < depth
        || hits
            .get(want - 1)
            .is_some_and(|last| last.score > lowest_ranked);
    if !complete {
        return Ok(None);
    }
    hits.truncate(want);
    Ok(Some(hits))
}

/// The collection's first `want` hits after `after`, ranking every visible match.
async fn top_exact(
    db: &DatabaseConnection,
    wanted: &Wanted<'_>,
    collection: Collection,
) -> Result<Vec<Ranked>> {
    let want = wanted.want;
    let search = SearchSql::new(DbBackend::Sqlite, collection, wanted.terms)?;
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push("SELECT id, score FROM (");
    let visible = wanted.visibility.status_filter("t");
    search.push_scored_matches(&mut sql, "t.id AS id", &visible);
    sql.push(") hits");
    if let Some(after) = wanted.after {
        // The type is fixed here: a literal in its place in the order.
        sql.push(" WHERE ");
        let keys = hit_order("score", &format!("'{collection}'"));
        after.push_after(&mut sql, &keys, "id")?;
    }
    sql.push(&format!(" ORDER BY score DESC, id ASC LIMIT {want}"));
    let mut hits = Vec::with_capacity(want);
    for row in db.query_all_raw(sql.build()).await? {
        hits.push(Ranked {
            collection,
            id: row.try_get("", "id")?,
            score: row.try_get("", "score")?,
        });
    }
    Ok(hits)
}
