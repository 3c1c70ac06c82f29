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

/// Stores a document under its hash (idempotent).
pub async fn store(db: &DatabaseConnection, document: &str) -> Result<String> {
    let hash = hash(document);
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push("INSERT INTO persisted_queries (hash, document) VALUES (")
        .bind(hash.clone())
        .push(", ")
        .bind(document.to_owned())
        .push(") ON CONFLICT DO NOTHING");
    db.execute_raw(sql.build()).await?;
    Ok(hash)
}
