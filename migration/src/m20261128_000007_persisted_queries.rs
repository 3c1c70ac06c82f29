//! GraphQL persisted queries (Apollo APQ): documents by SHA-256, shared by every instance
//! on the database, so a hash registered through one instance runs on all of them.

use sea_orm_migration::prelude::*;

use crate::schema::{iden, text};

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
                    .table(iden("persisted_queries"))
                    .col(
                        ColumnDef::new(iden("hash"))
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text("document", true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(iden("persisted_queries")).to_owned())
            .await
    }
}
