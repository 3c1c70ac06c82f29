//! Stored GraphQL documents by SHA-256 (persisted queries), shared by all instances on
//! the database.

use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};

use crate::error::Result;
use crate::service::sql::SqlBuilder;

/// The lowercase hex SHA-256 of a document, as clients send it.
pub fn hash(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

pub async fn find(db: &DatabaseConnection, hash: &str) -> Result<Option<String>> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push("SELECT document FROM persisted_queries WHERE hash = ")
        .bind(hash.to_owned());
    let row = db.query_one_raw(sql.build()).await?;
    Ok(row
        .map(|r| r.try_get::<String>("", "document"))
        .transpose()?)
}

/// Notes that a document was used now (the quota drops the least recently used first).
pub async fn touch(db: &DatabaseConnection, hash: &str) -> Result<()> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push("UPDATE persisted_queries SET last_used_at = ")
        .bind(now_millis())
        .push(" WHERE hash = ")
        .bind(hash.to_owned());
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Stores a document under its hash (idempotent), then drops the least recently used
/// documents until all of them fit in `quota_bytes`.
pub async fn store(db: &DatabaseConnection, document: &str, quota_bytes: u64) -> Result<String> {
    let hash = hash(document);
    let bytes = i64::try_from(document.len()).unwrap_or(i64::MAX);
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push("INSERT INTO persisted_queries (hash, document, bytes, last_used_at) VALUES (")
        .bind(hash.clone())
        .push(", ")
        .bind(document.to_owned())
        .push(", ")
        .bind(bytes)
        .push(", ")
        .bind(now_millis())
        .push(") ON CONFLICT (hash) DO UPDATE SET last_used_at = excluded.last_used_at");
    db.execute_raw(sql.build()).await?;
    enforce_quota(db, quota_bytes).await?;
    Ok(hash)
}

async fn enforce_quota(db: &DatabaseConnection, quota_bytes: u64) -> Result<()> {
    let backend = db.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    sql.push("SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS total FROM persisted_queries");
    let total: i64 = match db.query_one_raw(sql.build()).await? {
        Some(row) => row.try_get("", "total")?,
        None => 0,
    };
    if u64::try_from(total).unwrap_or(0) <= quota_bytes {
        return Ok(());
    }
    let mut sql = SqlBuilder::new(backend);
    sql.push("SELECT hash, bytes FROM persisted_queries ORDER BY last_used_at DESC, hash");
    let mut kept = 0u64;
    let mut dropped = Vec::new();
    for row in db.query_all_raw(sql.build()).await? {
        let bytes: i64 = row.try_get("", "bytes")?;
        kept = kept.saturating_add(u64::try_from(bytes).unwrap_or(0));
        if kept > quota_bytes {
            dropped.push(row.try_get::<String>("", "hash")?);
        }
    }
    for chunk in dropped.chunks(500) {
        let mut sql = SqlBuilder::new(backend);
        sql.push("DELETE FROM persisted_queries WHERE hash IN (");
        for (i, hash) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(hash.clone());
        }
        sql.push(")");
        db.execute_raw(sql.build()).await?;
    }
    Ok(())
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
