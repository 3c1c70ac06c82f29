//! Secrets shared by every instance on one database (e.g. the key that signs pagination
//! cursors), so a cursor issued by one instance is accepted by all of them.

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
                    .table(iden("server_secrets"))
                    .col(
                        ColumnDef::new(iden("name"))
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(text("value", true))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(iden("server_secrets")).to_owned())
            .await
    }
}
