//! SQLite: a collection's statistics for a query, as `bm25` reads them (its rows and
//! tokens, from FTS5's averages record, and each phrase's matching rows).
//!
//! Counting a phrase's rows walks its whole doclist. The counts are kept per phrase
//! together with the index's structure record (`<fts>_data` id 10), which lists every
//! segment of the index and changes with every write to it (segments are never changed in
//! place): a count is reused only while the structure it was counted under is current, so
//! a reused count is always the one counting again would give. Two databases can have
//! the same structure record (a process may serve several, as the tests do), so counts
//! are kept per database too, under the random `database` identity every database is
//! given at startup (`server_secrets`); without one, nothing is kept.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};

use sea_orm::{ConnectionTrait, DbBackend, QueryResult};

use super::fts5_match;
use crate::db::fts5_rank::QueryStatistics;
use crate::domain::Collection;
use crate::domain::listing::SearchTerms;
use crate::error::Result;
use crate::service::sql::SqlBuilder;

/// Counts kept at most (the phrases come from clients): the map is emptied when full.
const MAX_COUNTS: usize = 4_096;

/// The name of the database's identity in `server_secrets`.
pub const DATABASE_IDENTITY: &str = "database";

/// (database, table, phrase) → (the structure record counted under, matching rows).
type Counts = HashMap<(String, &'static str, String), (Vec<u8>, u64)>;

/// What one statement read: the database's identity and each collection's records.
struct Records {
    database: Option<String>,
    /// Per collection: FTS5's averages record and the structure record (empty: none).
    collections: Vec<(Option<Vec<u8>>, Vec<u8>)>,
}

static COUNTS: LazyLock<Mutex<Counts>> = LazyLock::new(Mutex::default);

fn counts() -> std::sync::MutexGuard<'static, Counts> {
    COUNTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Each word of `terms` as its own MATCH text (the phrases `bm25` counts).
pub fn phrases(terms: &SearchTerms) -> Vec<String> {
    terms.each().map(|term| fts5_match(&term)).collect()
}

/// The statistics of each of `collections` for `terms` (`None`: the collection is
/// empty): one statement reads the records, a second counts the phrases not counted
/// under the current structure.
pub async fn statistics(
    db: &impl ConnectionTrait,
    collections: &[Collection],
    terms: &SearchTerms,
) -> Result<Vec<Option<QueryStatistics>>> {
    let phrases = phrases(terms);
    let Some(records) = read_records(db, collections).await? else {
        return Ok(vec![None; collections.len()]);
    };
    let mut hits = known_hits(collections, &records, &phrases);
    count_missing(db, collections, &records, &phrases, &mut hits).await?;
    Ok(records
        .collections
        .iter()
        .zip(hits)
        .map(|((averages, _), hits)| {
            let hits = hits.into_iter().collect::<Option<Vec<u64>>>()?;
            QueryStatistics::from_averages(averages.as_deref()?, hits)
        })
        .collect())
}

/// The database's identity and each collection's averages and structure records, read
/// in one statement (so the identity and the records belong together).
async fn read_records(
    db: &impl ConnectionTrait,
    collections: &[Collection],
) -> Result<Option<Records>> {
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push("SELECT (SELECT value FROM server_secrets WHERE name = ")
        .bind(DATABASE_IDENTITY)
        .push(") AS database");
    for (n, collection) in collections.iter().enumerate() {
        let fts = format!("{}_fts", collection.table());
        sql.push(&format!(
            ", (SELECT block FROM {fts}_data WHERE id = 1) AS rows_{n}, \
             (SELECT block FROM {fts}_data WHERE id = 10) AS structure_{n}"
        ));
    }
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Ok(None);
    };
    let database: Option<String> = row.try_get("", "database")?;
    let mut records = Vec::with_capacity(collections.len());
    for n in 0..collections.len() {
        let averages: Option<Vec<u8>> = row.try_get("", &format!("rows_{n}"))?;
        let structure: Option<Vec<u8>> = row.try_get("", &format!("structure_{n}"))?;
        records.push((averages, structure.unwrap_or_default()));
    }
    Ok(Some(Records {
        database,
        collections: records,
    }))
}

/// The key a phrase's count is kept under, when it can be kept.
fn key(
    records: &Records,
    n: usize,
    collection: Collection,
    phrase: &str,
) -> Option<(String, &'static str, String)> {
    let database = records.database.clone()?;
    if records.collections[n].1.is_empty() {
        return None;
    }
    Some((database, collection.table(), phrase.to_owned()))
}

/// The counts kept under each collection's current structure, per phrase.
fn known_hits(
    collections: &[Collection],
    records: &Records,
    phrases: &[String],
) -> Vec<Vec<Option<u64>>> {
    let kept = counts();
    collections
        .iter()
        .enumerate()
        .map(|(n, collection)| {
            let structure = &records.collections[n].1;
            phrases
                .iter()
                .map(|phrase| {
                    kept.get(&key(records, n, *collection, phrase)?)
                        .filter(|(under, _)| under == structure)
                        .map(|(_, hits)| *hits)
                })
                .collect()
        })
        .collect()
}

/// Counts the phrases `hits` lacks, in one statement, and keeps them.
async fn count_missing(
    db: &impl ConnectionTrait,
    collections: &[Collection],
    records: &Records,
    phrases: &[String],
    hits: &mut [Vec<Option<u64>>],
) -> Result<()> {
    let missing: Vec<(usize, usize)> = hits
        .iter()
        .enumerate()
        .flat_map(|(n, row)| {
            let missing = row.iter().enumerate().filter(|(_, h)| h.is_none());
            missing.map(move |(i, _)| (n, i)).collect::<Vec<_>>()
        })
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let mut sql = SqlBuilder::new(DbBackend::Sqlite);
    sql.push("SELECT ");
    for (k, (n, i)) in missing.iter().enumerate() {
        let fts = format!("{}_fts", collections[*n].table());
        if k > 0 {
            sql.push(", ");
        }
        sql.push(&format!("(SELECT COUNT(*) FROM {fts} WHERE {fts} MATCH "))
            .bind(phrases[*i].clone())
            .push(&format!(") AS hits_{k}"));
    }
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Ok(());
    };
    let mut kept = counts();
    for (k, (n, i)) in missing.into_iter().enumerate() {
        let count = u64::try_from(hits_at(&row, k)?).unwrap_or(0);
        hits[n][i] = Some(count);
        let Some(key) = key(records, n, collections[n], &phrases[i]) else {
            continue;
        };
        if kept.len() >= MAX_COUNTS {
            kept.clear();
        }
        kept.insert(key, (records.collections[n].1.clone(), count));
    }
    Ok(())
}

fn hits_at(row: &QueryResult, k: usize) -> Result<i64> {
    Ok(row.try_get("", &format!("hits_{k}"))?)
}
