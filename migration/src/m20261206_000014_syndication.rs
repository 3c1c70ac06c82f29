//! Syndication terms: what a storefront owes when it shows the content. The deployment
//! states them once (one row); a publisher may override them for its articles; an article
//! may name its own canonical page.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::schema::{iden, text, timestamp};

/// The terms a publisher may override, beside its `logo_url`.
const PUBLISHER_TERMS: [&str; 4] = [
    "licence_url",
    "attribution_text",
    "attribution_url",
    "disclaimer",
];

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
                    .table(iden("syndication"))
                    .col(
                        ColumnDef::new(iden("id"))
                            .integer()
                            .not_null()
                            .primary_key()
                            .check(Expr::col(iden("id")).eq(1)),
                    )
                    .col(text("licence_url", false))
                    .col(text("attribution_text", false))
                    .col(text("attribution_url", false))
                    .col(text("logo_url", false))
                    .col(text("disclaimer", false))
                    .col(text("canonical_base_url", false))
                    .col(timestamp("updated_at", false))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO syndication (id) VALUES (1)")
            .await?;
        for column in PUBLISHER_TERMS {
            add_text(manager, "publishers", column).await?;
        }
        add_text(manager, "articles", "canonical_url").await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, "articles", "canonical_url").await?;
        for column in PUBLISHER_TERMS {
            drop_column(manager, "publishers", column).await?;
        }
        manager
            .drop_table(Table::drop().table(iden("syndication")).to_owned())
            .await
    }
}

async fn add_text(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(iden(table))
                .add_column(text(column, false))
                .to_owned(),
        )
        .await
}

async fn drop_column(manager: &SchemaManager<'_>, table: &str, column: &str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(iden(table))
                .drop_column(iden(column))
                .to_owned(),
        )
        .await
}
