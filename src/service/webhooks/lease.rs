//! The dispatch lease: a row naming the instance that dispatches and until when. The
//! holder renews it every few seconds; any instance takes it once it has expired, so a
//! dead dispatcher is replaced within [`LEASE_FOR`].

use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::db::{BACKGROUND, WriteGate};
use crate::error::Result;
use crate::service::interchange::now;
use crate::service::sql::SqlBuilder;

const LEASE: &str = "dispatcher";
pub const LEASE_FOR: chrono::Duration = chrono::Duration::seconds(10);

/// Takes or renews the lease for `holder`; whether it holds it.
pub(super) async fn hold(db: &DatabaseConnection, gate: &WriteGate, holder: &str) -> Result<bool> {
    let at = now();
    let backend = db.get_database_backend();
    let _turn = gate.turn().await;
    let conn = gate.connection().unwrap_or(db);
    let mut sql = SqlBuilder::new(backend);
    sql.push(BACKGROUND)
        .push("UPDATE webhook_lease SET holder = ")
        .bind(holder.to_owned());
    sql.push(", expires_at = ").bind(at + LEASE_FOR);
    sql.push(" WHERE name = ").bind(LEASE);
    sql.push(" AND (holder = ").bind(holder.to_owned());
    sql.push(" OR expires_at < ").bind(at).push(")");
    if conn.execute_raw(sql.build()).await?.rows_affected() == 1 {
        return Ok(true);
    }
    let mut sql = SqlBuilder::new(backend);
    sql.push(BACKGROUND)
        .push("INSERT INTO webhook_lease (name, holder, expires_at) VALUES (")
        .bind(LEASE)
        .push(", ")
        .bind(holder.to_owned())
        .push(", ")
        .bind(at + LEASE_FOR)
        .push(") ON CONFLICT (name) DO NOTHING");
    Ok(conn.execute_raw(sql.build()).await?.rows_affected() == 1)
}

/// This process's claim on dispatching.
pub struct Lease {
    db: DatabaseConnection,
    holder: String,
}

impl Lease {
    pub(super) fn new(db: DatabaseConnection, holder: String) -> Self {
        Self { db, holder }
    }

    /// Gives the lease up (at shutdown) if held, so another instance takes over at once.
    pub async fn release(&self) {
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(BACKGROUND)
            .push("DELETE FROM webhook_lease WHERE name = ")
            .bind(LEASE)
            .push(" AND holder = ")
            .bind(self.holder.clone());
        if let Err(error) = self.db.execute_raw(sql.build()).await {
            tracing::warn!(%error, "could not give up the webhook dispatch lease");
        }
    }
}
