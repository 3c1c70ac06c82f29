//! Indexes for published-content lists: `WHERE status = 'published' AND (key, id) > (…)
//! ORDER BY key, id LIMIT n` becomes one range scan of `(status, key, id)` instead of a
//! scan of the status index followed by a sort. The single-column status index is now a
//! prefix of these and is dropped.

use sea_orm_migration::prelude::*;

use crate::schema::{iden, index};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, sort columns besides slug and the timestamps)
const TABLES: &[(&str, &[&str])] = &[
    ("publishers", &["name"]),
    ("authors", &["name"]),
    ("citations", &["title", "year"]),
    ("conditions", &["name"]),
    ("techniques", &["name"]),
    ("benefits", &["name"]),
    ("products", &["name", "price_cents"]),
    ("articles", &["title", "last_reviewed_at"]),
];

const COMMON: &[&str] = &["slug", "published_at", "updated_at", "created_at"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in TABLES {
            for column in columns.iter().chain(COMMON) {
                manager
                    .create_index(index(table, &["status", column, "id"]))
                    .await?;
            }
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("idx_{table}_status"))
                        .table(iden(table))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, columns) in TABLES {
            for column in columns.iter().chain(COMMON) {
                manager
                    .drop_index(
                        Index::drop()
                            .name(format!("idx_{table}_status_{column}_id"))
                            .table(iden(table))
                            .to_owned(),
                    )
                    .await?;
            }
            manager.create_index(index(table, &["status"])).await?;
        }
        Ok(())
    }
}
