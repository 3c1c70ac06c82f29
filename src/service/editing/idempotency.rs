//! `Idempotency-Key` for creates: the first request with a key runs and its response is
//! kept for 24 h; a retry with the same key and body gets that response again, a retry
//! with another body gets 422, and one that arrives while the first is still running gets
//! 409. Keys are scoped to the API key that sent them. The claim is a primary-key insert,
//! so concurrent requests with one key cannot both run, on any number of instances.

use chrono::Duration;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};

use super::now;
use crate::error::{AppError, FieldError, Result};
use crate::service::sql::SqlBuilder;

/// How long a completed response is replayed.
pub const RETENTION_HOURS: i64 = 24;
/// A claim still in flight after this long is taken to be abandoned (its request died).
const ABANDONED_AFTER_SECONDS: i64 = 60;

/// A stored response to replay.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub location: Option<String>,
    pub etag: Option<String>,
}

#[derive(Debug)]
pub enum Claim {
    /// Run the request, then [`complete`] or [`release`] this key.
    Fresh(String),
    Replay(StoredResponse),
}

fn sha256(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// Fingerprint of a request: method, path and body.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    sha256(&[method.as_bytes(), path.as_bytes(), body])
}

pub async fn claim(
    db: &DatabaseConnection,
    actor: Option<&str>,
    key: &str,
    request: &str,
) -> Result<Claim> {
    let valid = !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| b.is_ascii_graphic());
    if !valid {
        return Err(AppError::bad_request(
            "Idempotency-Key must be 1-255 visible ASCII characters",
        ));
    }
    let key_hash = sha256(&[actor.unwrap_or_default().as_bytes(), key.as_bytes()]);
    let backend = db.get_database_backend();
    let at = now();
    let mut sql = SqlBuilder::new(backend);
    sql.push("DELETE FROM idempotency_keys WHERE expires_at < ")
        .bind(at);
    db.execute_raw(sql.build()).await?;
    let mut sql = SqlBuilder::new(backend);
    sql.push(
        "INSERT INTO idempotency_keys (key_hash, request_hash, status, created_at, expires_at) \
         VALUES (",
    );
    sql.bind(key_hash.clone())
        .push(", ")
        .bind(request.to_owned());
    sql.push(", NULL, ").bind(at).push(", ");
    sql.bind(at + Duration::hours(RETENTION_HOURS));
    sql.push(") ON CONFLICT (key_hash) DO NOTHING");
    if db.execute_raw(sql.build()).await?.rows_affected() == 1 {
        return Ok(Claim::Fresh(key_hash));
    }
    let mut sql = SqlBuilder::new(backend);
    sql.push(
        "SELECT request_hash, status, body, location, etag, created_at, expires_at \
         FROM idempotency_keys WHERE key_hash = ",
    )
    .bind(key_hash.clone());
    let Some(row) = db.query_one_raw(sql.build()).await? else {
        return Err(AppError::Conflict(
            "a request with this Idempotency-Key just finished; retry".into(),
        ));
    };
    let stored_request: String = row.try_get("", "request_hash")?;
    let status: Option<i64> = row.try_get("", "status")?;
    let created_at: chrono::DateTime<chrono::Utc> = row.try_get("", "created_at")?;
    let expires_at: chrono::DateTime<chrono::Utc> = row.try_get("", "expires_at")?;
    let abandoned =
        status.is_none() && created_at < at - Duration::seconds(ABANDONED_AFTER_SECONDS);
    if expires_at < at || abandoned {
        // Take the key over, unless another request just did.
        let mut sql = SqlBuilder::new(backend);
        sql.push("UPDATE idempotency_keys SET request_hash = ")
            .bind(request.to_owned());
        sql.push(", status = NULL, body = NULL, location = NULL, etag = NULL, created_at = ")
            .bind(at);
        sql.push(", expires_at = ")
            .bind(at + Duration::hours(RETENTION_HOURS));
        sql.push(" WHERE key_hash = ").bind(key_hash.clone());
        sql.push(" AND created_at = ").bind(created_at);
        if db.execute_raw(sql.build()).await?.rows_affected() == 1 {
            return Ok(Claim::Fresh(key_hash));
        }
        return Err(AppError::Conflict(
            "a request with this Idempotency-Key is in flight".into(),
        ));
    }
    if stored_request != request {
        return Err(AppError::Validation(vec![FieldError {
            pointer: String::new(),
            detail: "this Idempotency-Key was used with a different request; use a new key".into(),
        }]));
    }
    match status {
        None => Err(AppError::Conflict(
            "a request with this Idempotency-Key is in flight; retry when it has finished".into(),
        )),
        Some(status) => Ok(Claim::Replay(StoredResponse {
            status: u16::try_from(status).unwrap_or(200),
            body: row
                .try_get::<Option<String>>("", "body")?
                .unwrap_or_default(),
            location: row.try_get("", "location")?,
            etag: row.try_get("", "etag")?,
        })),
    }
}

/// Stores the response of a claimed request.
pub async fn complete(
    db: &DatabaseConnection,
    key_hash: &str,
    response: &StoredResponse,
) -> Result<()> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push("UPDATE idempotency_keys SET status = ")
        .bind(i64::from(response.status));
    sql.push(", body = ").bind(response.body.clone());
    sql.push(", location = ").bind(response.location.clone());
    sql.push(", etag = ").bind(response.etag.clone());
    sql.push(" WHERE key_hash = ").bind(key_hash.to_owned());
    db.execute_raw(sql.build()).await?;
    Ok(())
}

/// Frees a claimed key after the request failed, so a retry runs it again.
pub async fn release(db: &DatabaseConnection, key_hash: &str) -> Result<()> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push("DELETE FROM idempotency_keys WHERE key_hash = ")
        .bind(key_hash.to_owned());
    sql.push(" AND status IS NULL");
    db.execute_raw(sql.build()).await?;
    Ok(())
}
