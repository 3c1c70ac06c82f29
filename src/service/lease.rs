//! Leases of the background work one instance of a deployment does at a time (webhook
//! dispatch, scheduled publishing): a row per lease naming the instance that holds it and
//! until when. The holder renews it every few seconds; any instance takes it once it has
//! expired, so a dead holder is replaced within [`LEASE_FOR`]. (The table kept the name of
//! its first lease, `webhook_lease`.)

use sea_orm::{ConnectionTrait, DatabaseConnection};

use crate::db::{BACKGROUND, WriteGate};
use crate::error::Result;
use crate::service::interchange::now;
use crate::service::sql::SqlBuilder;

pub const LEASE_FOR: chrono::Duration = chrono::Duration::seconds(10);

/// Takes or renews the lease `name` for `holder`; whether it holds it.
pub async fn hold(
    db: &DatabaseConnection,
    gate: &WriteGate,
    name: &str,
    holder: &str,
) -> Result<bool> {
    let at = now();
    let backend = db.get_database_backend();
    let _turn = gate.turn().await;
    let conn = gate.connection().unwrap_or(db);
    let mut sql = SqlBuilder::new(backend);
    sql.push(BACKGROUND)
        .push("UPDATE webhook_lease SET holder = ")
        .bind(holder.to_owned());
    sql.push(", expires_at = ").bind(at + LEASE_FOR);
    sql.push(" WHERE name = ").bind(name.to_owned());
    sql.push(" AND (holder = ").bind(holder.to_owned());
    sql.push(" OR expires_at < ").bind(at).push(")");
    if conn.execute_raw(sql.build()).await?.rows_affected() == 1 {
        return Ok(true);
    }
    let mut sql = SqlBuilder::new(backend);
    sql.push(BACKGROUND)
        .push("INSERT INTO webhook_lease (name, holder, expires_at) VALUES (")
        .bind(name.to_owned())
        .push(", ")
        .bind(holder.to_owned())
        .push(", ")
        .bind(at + LEASE_FOR)
        .push(") ON CONFLICT (name) DO NOTHING");
    Ok(conn.execute_raw(sql.build()).await?.rows_affected() == 1)
}

/// This process's claim on a lease.
pub struct Lease {
    db: DatabaseConnection,
    name: &'static str,
    holder: String,
}

impl Lease {
    pub fn new(db: DatabaseConnection, name: &'static str, holder: String) -> Self {
        Self { db, name, holder }
    }

    /// Gives the lease up (at shutdown) if held, so another instance takes over at once.
    pub async fn release(&self) {
        let mut sql = SqlBuilder::new(self.db.get_database_backend());
        sql.push(BACKGROUND)
            .push("DELETE FROM webhook_lease WHERE name = ")
            .bind(self.name)
            .push(" AND holder = ")
            .bind(self.holder.clone());
        if let Err(error) = self.db.execute_raw(sql.build()).await {
            tracing::warn!(%error, lease = self.name, "could not give up the lease");
        }
    }
}
