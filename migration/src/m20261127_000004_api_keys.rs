//! API keys (PRODUCT.md §5). Only a SHA-256 hash of each key is stored; `prefix` is the
//! public, non-secret start of the key, used to find the row before the constant-time
//! comparison of hashes.

use sea_orm_migration::prelude::*;

use crate::schema::{iden, index, text, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(iden("api_keys"))
                    .col(ColumnDef::new(iden("id")).uuid().not_null().primary_key())
                    .col(
                        ColumnDef::new(iden("name"))
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(
                        ColumnDef::new(iden("prefix"))
                            .string_len(32)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(iden("key_hash")).string_len(64).not_null())
                    .col(text("scopes", true))
                    .col(timestamp("created_at", true))
                    .col(timestamp("revoked_at", false))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("api_keys", &["revoked_at"]))
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(iden("api_keys")).to_owned())
            .await
    }
}
