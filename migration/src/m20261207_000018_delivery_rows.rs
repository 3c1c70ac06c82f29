//! Webhook deliveries become one row each, with their event in it: a write that is
//! delivered to one endpoint inserts one row (and its two index entries) instead of a
//! message row, a delivery row and five index entries. The delivery's id is its event's
//! id, shared by the event's deliveries to several endpoints, so the primary key is
//! (endpoint, id), which also serves an endpoint's listing; the `webhook-id` header is
//! that id as `msg_` and 32 hex digits, as the message ids were.
//!
//! Claims go too (`claimed_by`): the dispatcher keeps what it holds in memory. So does the
//! foreign key to the endpoint: on PostgreSQL its check locks the endpoint's row in every
//! write that records an event, and the dispatcher's updates of that row (its last success)
//! then contend with them all. Deleting an endpoint deletes its deliveries; a write that
//! committed alongside that delete can leave one behind, which is never sent (only enabled
//! endpoints' deliveries are) and is pruned.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261206_000017_webhooks as earlier;
use crate::schema::{enum_column, iden, index, text, timestamp, uuid_ref};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The columns both shapes have.
const KEPT: &str = "status, attempts, next_attempt_at, last_attempt_at, last_status, \
    last_error, delivered_at, created_at, retry_from";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .create_table(deliveries("webhook_deliveries_v2"))
            .await?;
        // The message id is `msg_` and the uuid's 32 hex digits, stored as the engine
        // stores uuids (SQLite: 16 bytes).
        let id = match manager.get_database_backend() {
            DbBackend::Sqlite => "unhex(substr(m.id, 5))",
            _ => "CAST(substr(m.id, 5) AS uuid)",
        };
        db.execute_unprepared(&format!(
            "INSERT INTO webhook_deliveries_v2 (endpoint_id, id, event_type, payload, {KEPT}) \
             SELECT d.endpoint_id, {id}, m.event_type, m.payload, {} \
             FROM webhook_deliveries d JOIN webhook_messages m ON m.id = d.message_id",
            prefixed("d.")
        ))
        .await?;
        for table in ["webhook_deliveries", "webhook_messages"] {
            manager
                .drop_table(Table::drop().table(iden(table)).to_owned())
                .await?;
        }
        rename(manager, "webhook_deliveries_v2", "webhook_deliveries").await?;
        manager
            .create_index(index(
                "webhook_deliveries",
                &["endpoint_id", "status", "next_attempt_at"],
            ))
            .await
    }

    /// Splits the rows back into messages and deliveries (each delivery a fresh id).
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let postgres = manager.get_database_backend() == DbBackend::Postgres;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_webhook_deliveries_endpoint_id_status_next_attempt_at")
                    .table(iden("webhook_deliveries"))
                    .to_owned(),
            )
            .await?;
        rename(manager, "webhook_deliveries", "webhook_deliveries_v2").await?;
        // Those of deleted endpoints (never sent) would break the foreign key it had.
        db.execute_unprepared(
            "DELETE FROM webhook_deliveries_v2 WHERE endpoint_id NOT IN \
             (SELECT id FROM webhook_endpoints)",
        )
        .await?;
        manager.create_table(earlier::messages()).await?;
        manager.create_table(earlier::deliveries()).await?;
        let (message, fresh) = match postgres {
            true => (
                "'msg_' || replace(CAST(d.id AS text), '-', '')",
                "gen_random_uuid()",
            ),
            false => ("'msg_' || lower(hex(d.id))", "randomblob(16)"),
        };
        db.execute_unprepared(&format!(
            "INSERT INTO webhook_messages (id, event_type, payload, created_at) \
             SELECT {message}, d.event_type, d.payload, MIN(d.created_at) \
             FROM webhook_deliveries_v2 d GROUP BY d.id, d.event_type, d.payload"
        ))
        .await?;
        db.execute_unprepared(&format!(
            "INSERT INTO webhook_deliveries (id, message_id, endpoint_id, {KEPT}) \
             SELECT {fresh}, {message}, d.endpoint_id, {} FROM webhook_deliveries_v2 d",
            prefixed("d.")
        ))
        .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(iden("webhook_deliveries_v2"))
                    .to_owned(),
            )
            .await?;
        earlier::outbox_indexes(manager).await
    }
}

fn prefixed(prefix: &str) -> String {
    KEPT.split(", ")
        .map(|column| format!("{prefix}{column}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Renames a deliveries table, with the constraints PostgreSQL named after it.
async fn rename(manager: &SchemaManager<'_>, from: &str, to: &str) -> Result<(), DbErr> {
    manager
        .rename_table(Table::rename().table(iden(from), iden(to)).to_owned())
        .await?;
    if manager.get_database_backend() == DbBackend::Postgres {
        for kind in ["pkey", "status_check"] {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE {to} RENAME CONSTRAINT {from}_{kind} TO {to}_{kind}"
                ))
                .await?;
        }
    }
    Ok(())
}

fn deliveries(table: &str) -> TableCreateStatement {
    Table::create()
        .table(iden(table))
        .col(uuid_ref("endpoint_id", true))
        // The event's id: the same in each endpoint's delivery of it.
        .col(ColumnDef::new(iden("id")).uuid().not_null())
        .col(text("event_type", true))
        // The body every attempt sends.
        .col(text("payload", true))
        .col(enum_column("status", earlier::DELIVERY_STATUSES, true))
        .col(ColumnDef::new(iden("attempts")).integer().not_null())
        .col(timestamp("next_attempt_at", true))
        .col(timestamp("last_attempt_at", false))
        .col(ColumnDef::new(iden("last_status")).integer().null())
        .col(text("last_error", false))
        .col(timestamp("delivered_at", false))
        .col(timestamp("created_at", true))
        // Retries stop this long after it (the creation, or the last replay).
        .col(timestamp("retry_from", true))
        .primary_key(Index::create().col(iden("endpoint_id")).col(iden("id")))
        .to_owned()
}
