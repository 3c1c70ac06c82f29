//! Scheduled publishing: every content item may carry when it is to be published and
//! unpublished, and why a scheduled step was refused. The scheduler finds due steps
//! through an index on each schedule column.

use sea_orm_migration::prelude::*;

use crate::schema::{iden, index, text, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

pub const TABLES: &[&str] = &[
    "publishers",
    "authors",
    "citations",
    "conditions",
    "techniques",
    "benefits",
    "products",
    "articles",
];
const SCHEDULES: &[&str] = &["publish_at", "unpublish_at"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            let columns = SCHEDULES
                .iter()
                .map(|c| timestamp(c, false))
                .chain([text("schedule_error", false)]);
            for column in columns {
                let mut alter = Table::alter();
                alter.table(iden(table)).add_column(column);
                manager.alter_table(alter).await?;
            }
            for column in SCHEDULES {
                manager.create_index(index(table, &[column])).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            for column in SCHEDULES {
                let name = format!("idx_{table}_{column}");
                manager
                    .drop_index(Index::drop().name(name).table(iden(table)).to_owned())
                    .await?;
            }
            for column in SCHEDULES.iter().chain(&["schedule_error"]) {
                let mut alter = Table::alter();
                alter.table(iden(table)).drop_column(iden(column));
                manager.alter_table(alter).await?;
            }
        }
        Ok(())
    }
}
