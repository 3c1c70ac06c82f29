//! Hot reads (issue 6): the change log through which SQLite instances (and CLI imports)
//! tell each other which cached content a write made stale. SQLite has one writer at a
//! time, so ids are in commit order and a reader can follow them with `id > last seen`.
//! PostgreSQL instances use LISTEN/NOTIFY instead; the table exists on both engines.

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
                    .table(iden("change_log"))
                    .col(
                        ColumnDef::new(iden("id"))
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(timestamp("at", true))
                    .col(text("tags", true))
                    .to_owned(),
            )
            .await?;
        manager.create_index(index("change_log", &["at"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(iden("change_log")).to_owned())
            .await
    }
}
