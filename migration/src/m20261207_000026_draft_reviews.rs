//! Reviews of drafts: a medical review recorded while a published item has a draft is a
//! review of the draft's text. It stays out of the item's public history, and off its
//! review dates, until the draft is published (discarding the draft drops it).

use sea_orm_migration::prelude::*;

use crate::schema::iden;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut alter = Table::alter();
        alter.table(iden("reviews")).add_column(
            ColumnDef::new(iden("draft"))
                .boolean()
                .not_null()
                .default(false),
        );
        manager.alter_table(alter).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut alter = Table::alter();
        alter.table(iden("reviews")).drop_column(iden("draft"));
        manager.alter_table(alter).await
    }
}
