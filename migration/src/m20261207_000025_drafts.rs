//! Drafts of published items: at most one per item, holding the whole editable document
//! an editor is changing while readers keep the published row. `publish_at` is copied out
//! of the document so the scheduler finds due drafts through an index.

use sea_orm_migration::prelude::*;

use crate::m20261207_000024_schedules::TABLES;
use crate::schema::{enum_column, iden, index, json, text, timestamp, uuid_ref};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut table = Table::create();
        table
            .table(iden("drafts"))
            .col(uuid_ref("item_id", true).primary_key())
            .col(enum_column("collection", TABLES, true))
            .col(enum_column("status", &["draft", "in_review"], true))
            .col(json("document"))
            .col(
                ColumnDef::new(iden("version"))
                    .big_integer()
                    .not_null()
                    .check(Expr::col(iden("version")).gte(1)),
            )
            .col(timestamp("publish_at", false))
            .col(timestamp("created_at", true))
            .col(timestamp("updated_at", true))
            .col(text("actor", false));
        manager.create_table(table.to_owned()).await?;
        manager
            .create_index(index("drafts", &["collection", "item_id"]))
            .await?;
        manager.create_index(index("drafts", &["publish_at"])).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(iden("drafts")).to_owned())
            .await
    }
}
