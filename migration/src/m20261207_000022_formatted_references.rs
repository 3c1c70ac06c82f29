//! Each citation's references in AMA, APA and Vancouver (`formatted`:
//! `{"ama": {text, html}, …}`), made by the server on every write and, for rows an
//! older formatter made (`formatted_with`; empty after this migration), at startup.

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
        let mut formatted = ColumnDef::new(iden("formatted"));
        formatted.json_binary().null();
        let mut with = ColumnDef::new(iden("formatted_with"));
        with.text().not_null().default("");
        for column in [formatted, with] {
            let mut alter = Table::alter();
            alter.table(iden("citations")).add_column(column);
            manager.alter_table(alter).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["formatted_with", "formatted"] {
            let mut alter = Table::alter();
            alter.table(iden("citations")).drop_column(iden(column));
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}
