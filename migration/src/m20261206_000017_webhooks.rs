//! Webhooks: endpoints, the outbox of messages each write records in its own transaction,
//! one delivery per message and endpoint (its attempts, its schedule), and the lease that
//! lets one instance at a time dispatch them.

use sea_orm_migration::prelude::*;

use crate::schema::{enum_column, foreign_key, iden, index, text, timestamp, uuid_ref};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub(crate) const DELIVERY_STATUSES: &[&str] = &["pending", "succeeded", "failed"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(endpoints()).await?;
        manager.create_table(messages()).await?;
        manager.create_table(deliveries()).await?;
        manager.create_table(lease()).await?;
        outbox_indexes(manager).await?;
        // Every write reads the enabled endpoints.
        manager
            .create_index(index("webhook_endpoints", &["enabled"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "webhook_lease",
            "webhook_deliveries",
            "webhook_messages",
            "webhook_endpoints",
        ] {
            manager
                .drop_table(Table::drop().table(iden(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

/// The indexes of the messages and deliveries (as this migration left them).
pub(crate) async fn outbox_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for columns in [
        &["endpoint_id", "status", "next_attempt_at"][..],
        &["endpoint_id", "id"],
        &["message_id"],
    ] {
        manager
            .create_index(index("webhook_deliveries", columns))
            .await?;
    }
    manager
        .create_index(index("webhook_messages", &["created_at"]))
        .await
}

fn endpoints() -> TableCreateStatement {
    Table::create()
        .table(iden("webhook_endpoints"))
        .col(ColumnDef::new(iden("id")).uuid().not_null().primary_key())
        .col(text("url", true))
        .col(text("description", false))
        // Space-separated event types and collections (none: every collection).
        .col(text("events", true))
        .col(text("collections", false))
        // `whsec_…`: signing needs the secret itself, so it is kept (and never shown
        // again after it is issued).
        .col(text("secret", true))
        .col(text("previous_secret", false))
        .col(timestamp("previous_expires_at", false))
        .col(ColumnDef::new(iden("enabled")).boolean().not_null())
        .col(text("disabled_reason", false))
        .col(timestamp("disabled_at", false))
        .col(timestamp("last_success_at", false))
        .col(timestamp("last_failure_at", false))
        .col(timestamp("created_at", true))
        .col(timestamp("updated_at", true))
        .to_owned()
}

pub(crate) fn messages() -> TableCreateStatement {
    Table::create()
        .table(iden("webhook_messages"))
        // `msg_…`: the `webhook-id` every attempt and replay carries.
        .col(
            ColumnDef::new(iden("id"))
                .string_len(40)
                .not_null()
                .primary_key(),
        )
        .col(text("event_type", true))
        .col(text("payload", true))
        .col(timestamp("created_at", true))
        .to_owned()
}

pub(crate) fn deliveries() -> TableCreateStatement {
    Table::create()
        .table(iden("webhook_deliveries"))
        .col(ColumnDef::new(iden("id")).uuid().not_null().primary_key())
        .col(ColumnDef::new(iden("message_id")).string_len(40).not_null())
        .col(uuid_ref("endpoint_id", true))
        .col(enum_column("status", DELIVERY_STATUSES, true))
        .col(ColumnDef::new(iden("attempts")).integer().not_null())
        .col(timestamp("next_attempt_at", true))
        .col(timestamp("last_attempt_at", false))
        .col(ColumnDef::new(iden("last_status")).integer().null())
        .col(text("last_error", false))
        .col(timestamp("delivered_at", false))
        .col(timestamp("created_at", true))
        // Retries stop this long after it (the creation, or the last replay).
        .col(timestamp("retry_from", true))
        // The dispatcher that claimed it last: a new one takes back every other's claims.
        .col(text("claimed_by", false))
        .foreign_key(&mut foreign_key(
            "webhook_deliveries",
            "endpoint_id",
            "webhook_endpoints",
            ForeignKeyAction::Cascade,
        ))
        .foreign_key(
            ForeignKey::create()
                .name("fk_webhook_deliveries_message_id")
                .from(iden("webhook_deliveries"), iden("message_id"))
                .to(iden("webhook_messages"), iden("id"))
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn lease() -> TableCreateStatement {
    Table::create()
        .table(iden("webhook_lease"))
        .col(
            ColumnDef::new(iden("name"))
                .string_len(40)
                .not_null()
                .primary_key(),
        )
        .col(text("holder", true))
        .col(timestamp("expires_at", true))
        .to_owned()
}
