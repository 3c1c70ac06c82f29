//! Persisted queries get a size and a last-used time, so the store keeps within its quota
//! by dropping the least recently used documents first.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::ConnectionTrait;

use crate::schema::iden;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["bytes", "last_used_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(iden("persisted_queries"))
                        .add_column(
                            ColumnDef::new(iden(column))
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared("UPDATE persisted_queries SET bytes = LENGTH(document)")
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("persisted_queries_last_used_at")
                    .table(iden("persisted_queries"))
                    .col(iden("last_used_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("persisted_queries_last_used_at")
                    .table(iden("persisted_queries"))
                    .to_owned(),
            )
            .await?;
        for column in ["bytes", "last_used_at"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(iden("persisted_queries"))
                        .drop_column(iden(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
