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

use std::collections::HashMap;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};
use uuid::Uuid;

use super::{After, Ranked, hit_order};
use crate::domain::Collection;
use crate::domain::listing::SearchTerms;
use crate::error::Result;
use crate::service::Visibility;
use crate::service::fulltext::{SearchSql, fts5_match};
use crate::service::sql::SqlBuilder;

/// FTS5's bm25 constants.
const K1: f64 = 1.2;
const IDF_FLOOR: f64 = 1e-6;

/// The first `want` hits after `after` over `types`, best first.
pub(super) async fn rank(
    db: &DatabaseConnection,
    visibility: Visibility,
    terms: &SearchTerms,
    types: &[Collection],
    want: usize,
    after: Option<&After>,
) -> Result<Vec<Ranked>> {
    let mut best: Vec<Ranked> = Vec::with_capacity(want * 2);
    for (collection, bound) in score_bounds(db, terms, types).await? {
        if best.len() >= want && best[want - 1].score >= bound {
            break;
        }
        let from_index = match after {
            None => top_from_index(db, visibility, terms, collection, want).await?,
            Some(_) => None,
        };
        let hits = match from_index {
            Some(hits) => hits,
            None => top_exact(db, visibility, terms, collection, want, after).await?,
        };
        best.extend(hits);
        best.sort_by(Ranked::order);
        best.truncate(want);
    }
    Ok(best)
}

/// Each collection that can match, with a score no row of it reaches, highest first. One
/// statement reads every collection's row count (FTS5's own, from its averages record)
/// and each phrase's number of matching rows.
async fn score_bounds(
    db: &DatabaseConnection,
    terms: &SearchTerms,
    types: &[Collection],
) -> Result<Vec<(Collection, f64)>> {
    let phrases: Vec<String> = terms.each().map(|term| fts5_match(&term)).collect();
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push("SELECT ");
    for (n, collection) in types.iter().enumerate() {
        let fts = format!("{}_fts", collection.table());
        if n > 0 {
            sql.push(", ");
        }
        sql.push(&format!(
            "(SELECT block FROM {fts}_data WHERE id = 1) AS rows_{n}"
        ));
        for (i, phrase) in phrases.iter().enumerate() {
            sql.push(&format!(", (SELECT COUNT(*) FROM {fts} WHERE {fts} MATCH "))
                .bind(phrase.clone())
                .push(&format!(") AS hits_{n}_{i}"));
        }
    }
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Ok(Vec::new());
    };
    let mut bounds = Vec::with_capacity(types.len());
    for (n, collection) in types.iter().enumerate() {
        let averages: Option<Vec<u8>> = row.try_get("", &format!("rows_{n}"))?;
        let rows = averages.as_deref().and_then(leading_varint).unwrap_or(0) as f64;
        let mut idf_sum = 0.0;
        let mut matches = true;
        for i in 0..phrases.len() {
            let hits = row.try_get::<i64>("", &format!("hits_{n}_{i}"))? as f64;
            matches &= hits > 0.0;
            idf_sum += ((rows - hits + 0.5) / (hits + 0.5)).ln().max(IDF_FLOOR);
        }
        if matches {
            // A hair above the bound: SQLite computes the scores in its own order.
            bounds.push((*collection, (K1 + 1.0) * idf_sum * (1.0 + 1e-9)));
        }
    }
    bounds.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(bounds)
}

/// The first varint of a record (SQLite's format, which FTS5 uses): the row count of
/// an FTS5 averages record.
fn leading_varint(bytes: &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(9) {
        if i == 8 {
            return Some((value << 8) | u64::from(*byte));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// The collection's first `want` hits, ranked on its full-text index alone and then
/// looked up by rowid; `None` when those rows cannot be shown to be the page (too few
/// visible among them, or ties at the edge of what was ranked).
async fn top_from_index(
    db: &DatabaseConnection,
    visibility: Visibility,
    terms: &SearchTerms,
    collection: Collection,
    want: usize,
) -> Result<Option<Vec<Ranked>>> {
    let search = SearchSql::new(DbBackend::Sqlite, collection, terms)?;
    let table = collection.table();
    let depth = want * 2 + 8;
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push(&format!("SELECT {table}_fts.rowid AS rid, "));
    search.push_score(&mut sql);
    sql.push(&format!(" AS score FROM {table}_fts WHERE "));
    search.push_match(&mut sql);
    sql.push(&format!(" ORDER BY score DESC LIMIT {depth}"));
    let mut scored: Vec<(i64, f64)> = Vec::with_capacity(depth);
    for row in db.query_all_raw(sql.build()).await? {
        scored.push((row.try_get("", "rid")?, row.try_get("", "score")?));
    }
    if scored.is_empty() {
        return Ok(Some(Vec::new()));
    }
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push(&format!(
        "SELECT t.rowid AS rid, t.id AS id FROM {table} t WHERE t.rowid IN "
    ))
    .bind_list(scored.iter().map(|(rid, _)| *rid));
    sql.push(&format!(" AND {}", visibility.status_filter("t")));
    let mut ids: HashMap<i64, Uuid> = HashMap::with_capacity(scored.len());
    for row in db.query_all_raw(sql.build()).await? {
        ids.insert(row.try_get("", "rid")?, row.try_get("", "id")?);
    }
    let mut hits: Vec<Ranked> = scored
        .iter()
        .filter_map(|(rid, score)| {
            ids.get(rid).map(|id| Ranked {
                collection,
                id: *id,
                score: *score,
            })
        })
        .collect();
    hits.sort_by(Ranked::order);
    let lowest_ranked = scored.last().map_or(f64::NEG_INFINITY, |(_, score)| *score);
    let complete = scored.len() < depth
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
    visibility: Visibility,
    terms: &SearchTerms,
    collection: Collection,
    want: usize,
    after: Option<&After>,
) -> Result<Vec<Ranked>> {
    let search = SearchSql::new(DbBackend::Sqlite, collection, terms)?;
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push("SELECT id, score FROM (");
    search.push_scored_matches(&mut sql, "t.id AS id", &visibility.status_filter("t"));
    sql.push(") hits");
    if let Some(after) = after {
        // The type is fixed here: a literal in its place in the order.
        sql.push(" WHERE ");
        after.push_after(&mut sql, &hit_order(&format!("'{collection}'")))?;
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

#[cfg(test)]
mod tests {
    use super::leading_varint;

    #[test]
    fn varints_read_as_sqlite_writes_them() {
        assert_eq!(leading_varint(&[0x05, 0xff]), Some(5));
        assert_eq!(leading_varint(&[0x81, 0x00]), Some(128));
        assert_eq!(leading_varint(&[0x81, 0x9c, 0x20]), Some(20_000));
        assert_eq!(leading_varint(&[0x80]), None);
        assert_eq!(leading_varint(&[0xff; 9]), Some(u64::MAX));
    }
}
