//! Products are unique by GTIN, whatever its form: GTIN-8, -12, -13 and -14 of one number
//! are one GTIN. `gtin14` holds the 14-digit form (written with `gtin` on every write),
//! under a unique index; `gtin` keeps the form the publisher gave.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::schema::iden;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(iden("products"))
                    .add_column(ColumnDef::new(iden("gtin14")).text().null())
                    .to_owned(),
            )
            .await?;
        // Stored GTINs were checked (length, digits, check digit) on the way in. Where two
        // products already share one, the first keeps the key and the other keeps its
        // `gtin` without one, so upgrading never fails or drops a value.
        let padded = |column: &str| match manager.get_database_backend() {
            DbBackend::Postgres => format!("lpad({column}, 14, '0')"),
            _ => format!("substr('00000000000000' || {column}, -14, 14)"),
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE products SET gtin14 = {} WHERE gtin IS NOT NULL AND NOT EXISTS \
                 (SELECT 1 FROM products p WHERE p.gtin IS NOT NULL AND p.id < products.id \
                 AND {} = {})",
                padded("gtin"),
                padded("p.gtin"),
                padded("products.gtin"),
            ))
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("products_gtin14")
                    .table(iden("products"))
                    .col(iden("gtin14"))
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("products_gtin14")
                    .table(iden("products"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(iden("products"))
                    .drop_column(iden("gtin14"))
                    .to_owned(),
            )
            .await
    }
}
