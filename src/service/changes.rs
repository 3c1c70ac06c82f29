//! Telling every instance which cached content a write made stale.
//!
//! A write records its stale tags inside its own transaction, so they become visible
//! exactly when the write does: on PostgreSQL as a `NOTIFY salve_changes` (delivered to
//! every listening instance on commit), on SQLite as a `change_log` row (one writer at a
//! time, so ids follow commit order and instances poll `id > last seen` every 200 ms).
//! `salve import` records `*` (everything). An instance that loses its PostgreSQL
//! listener, or cannot read the log, drops its whole cache.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend};

use crate::error::Result;
use crate::service::cache::ReadCache;
use crate::service::sql::SqlBuilder;

pub const CHANNEL: &str = "salve_changes";
/// PostgreSQL's NOTIFY payload limit is 8000 bytes; longer lists become `*`.
const MAX_PAYLOAD: usize = 7_900;
const POLL: Duration = Duration::from_millis(200);
/// Change-log rows older than this are deleted (instances poll far more often).
const KEEP_MINUTES: i64 = 60;

/// Records the stale `tags` of a write, inside its transaction.
pub async fn record(conn: &impl ConnectionTrait, tags: &[String]) -> Result<()> {
    if tags.is_empty() {
        return Ok(()); // nothing any cache holds changed (a draft)
    }
    let mut payload = tags.join(" ");
    if payload.len() > MAX_PAYLOAD {
        payload = "*".into();
    }
    let backend = conn.get_database_backend();
    let mut sql = SqlBuilder::new(backend);
    match backend {
        DbBackend::Postgres => {
            sql.push(&format!("SELECT pg_notify('{CHANNEL}', "))
                .bind(payload)
                .push(")");
            conn.query_one_raw(sql.build()).await?;
        }
        _ => {
            sql.push("INSERT INTO change_log (at, tags) VALUES (")
                .bind(crate::service::interchange::now())
                .push(", ")
                .bind(payload)
                .push(")");
            conn.execute_raw(sql.build()).await?;
        }
    }
    Ok(())
}

/// Follows the changes other writers record and invalidates `cache`, for as long as the
/// process runs. SQLite polls on a connection of its own, so the polling never queues
/// behind requests (nor shows in their statement counts).
pub fn spawn_watcher(
    settings: &crate::config::DatabaseSettings,
    db: DatabaseConnection,
    cache: Arc<ReadCache>,
) {
    if !cache.enabled() {
        return;
    }
    match db.get_database_backend() {
        DbBackend::Postgres => {
            tokio::spawn(listen(db, cache));
        }
        _ => {
            let mut own = settings.clone();
            own.db_pool_size = Some(1);
            tokio::spawn(async move {
                match crate::db::connect(&own, &Default::default()).await {
                    Ok(conn) => poll(conn, cache).await,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot watch for changes; the read cache is off");
                        cache.disable();
                    }
                }
            });
        }
    }
}

async fn listen(db: DatabaseConnection, cache: Arc<ReadCache>) {
    use sea_orm::sqlx::postgres::PgListener;
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        let mut listener = match PgListener::connect_with(&pool).await {
            Ok(listener) => listener,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for changes; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        // Anything may have changed while nobody was listening.
        cache.invalidate(["*"]);
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => cache.invalidate(notification.payload().split(' ')),
                Ok(None) => {
                    tracing::warn!("change listener reconnected; dropping the read cache");
                    cache.invalidate(["*"]);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "change listener failed; dropping the read cache");
                    cache.invalidate(["*"]);
                    break;
                }
            }
        }
    }
}

async fn poll(db: DatabaseConnection, cache: Arc<ReadCache>) {
    let mut last = latest_id(&db).await.unwrap_or(0);
    let mut rounds: u64 = 0;
    loop {
        tokio::time::sleep(POLL).await;
        rounds += 1;
        match changes_after(&db, last).await {
            Ok(rows) => {
                for (id, tags) in rows {
                    cache.invalidate(tags.split(' '));
                    last = id;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the change log; dropping the read cache");
                cache.invalidate(["*"]);
                last = latest_id(&db).await.unwrap_or(last);
            }
        }
        if rounds.is_multiple_of(1_500) {
            let mut sql = SqlBuilder::new(db.get_database_backend());
            sql.push("DELETE FROM change_log WHERE at < ")
                .bind(crate::service::interchange::now() - chrono::Duration::minutes(KEEP_MINUTES));
            if let Err(e) = db.execute_raw(sql.build()).await {
                tracing::warn!(error = %e, "cannot prune the change log");
            }
        }
    }
}

async fn latest_id(db: &DatabaseConnection) -> Result<i64> {
    let sql = SqlBuilder::new(db.get_database_backend());
    let mut sql = sql;
    sql.push("SELECT COALESCE(MAX(id), 0) AS id FROM change_log");
    Ok(match db.query_one_raw(sql.build()).await? {
        Some(row) => row.try_get::<i64>("", "id")?,
        None => 0,
    })
}

async fn changes_after(db: &DatabaseConnection, last: i64) -> Result<Vec<(i64, String)>> {
    let mut sql = SqlBuilder::new(db.get_database_backend());
    sql.push("SELECT id, tags FROM change_log WHERE id > ")
        .bind(last)
        .push(" ORDER BY id LIMIT 1000");
    db.query_all_raw(sql.build())
        .await?
        .iter()
        .map(|row| Ok((row.try_get::<i64>("", "id")?, row.try_get("", "tags")?)))
        .collect()
}
