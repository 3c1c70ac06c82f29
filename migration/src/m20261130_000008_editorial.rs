//! Editing (issue 5): revisions of every content write, the audit log, stored
//! `Idempotency-Key` responses, and the medical-review due date of articles.

use sea_orm_migration::prelude::*;

use crate::schema::{iden, index, integer, text, timestamp, uuid_ref};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn json_text(name: &str, required: bool) -> ColumnDef {
    let mut col = ColumnDef::new(iden(name));
    col.json_binary();
    if required {
        col.not_null();
    } else {
        col.null();
    }
    col
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Full snapshots, numbered per item from 1. No foreign key: the history of a
        // hard-deleted item stays readable in the audit trail.
        manager
            .create_table(
                Table::create()
                    .table(iden("revisions"))
                    .col(uuid_ref("item_id", true))
                    .col(ColumnDef::new(iden("number")).big_integer().not_null())
                    .col(text("collection", true))
                    .col(json_text("snapshot", true))
                    .col(text("actor", false))
                    .col(text("summary", true))
                    .col(text("request_id", false))
                    .col(timestamp("created_at", true))
                    .primary_key(Index::create().col(iden("item_id")).col(iden("number")))
                    .to_owned(),
            )
            .await?;
        // Ids are UUIDv7, so id order is time order (the audit list pages by id).
        manager
            .create_table(
                Table::create()
                    .table(iden("audit_log"))
                    .col(ColumnDef::new(iden("id")).uuid().not_null().primary_key())
                    .col(timestamp("at", true))
                    .col(text("actor", false))
                    .col(text("action", true))
                    .col(text("collection", false))
                    .col(uuid_ref("item_id", false))
                    .col(text("slug", false))
                    .col(text("request_id", false))
                    .col(json_text("detail", true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("audit_log", &["item_id", "id"]))
            .await?;
        // `key_hash` is the SHA-256 of the caller's key name and the Idempotency-Key, so
        // two callers never share a key. `status` is null while the request is in flight.
        manager
            .create_table(
                Table::create()
                    .table(iden("idempotency_keys"))
                    .col(
                        ColumnDef::new(iden("key_hash"))
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text("request_hash", true))
                    .col(integer("status"))
                    .col(text("body", false))
                    .col(text("location", false))
                    .col(text("etag", false))
                    .col(timestamp("created_at", true))
                    .col(timestamp("expires_at", true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("idempotency_keys", &["expires_at"]))
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(iden("articles"))
                    .add_column(timestamp("next_review_due", false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("articles", &["next_review_due", "id"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_articles_next_review_due_id")
                    .table(iden("articles"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(iden("articles"))
                    .drop_column(iden("next_review_due"))
                    .to_owned(),
            )
            .await?;
        for table in ["idempotency_keys", "audit_log", "revisions"] {
            manager
                .drop_table(Table::drop().table(iden(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
