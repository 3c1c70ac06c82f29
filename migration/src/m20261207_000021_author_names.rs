//! Citation authors become structured: `author_names` holds each as `{family, given}` or
//! `{literal}` (what reference managers exchange), split from the strings stored so far
//! ([`PersonName::split`]). `authors` stays as each name on one line, family first, for
//! full-text search, written beside `author_names` on every write.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::names::PersonName;
use crate::schema::{iden, json};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = json("author_names");
        column.default(Expr::cust("'[]'"));
        let mut alter = Table::alter();
        alter.table(iden("citations")).add_column(column);
        manager.alter_table(alter).await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT slug, CAST(authors AS TEXT) AS authors FROM citations \
                 WHERE CAST(authors AS TEXT) <> '[]'",
            ))
            .await?;
        let cast = match backend {
            DbBackend::Postgres => "CAST($1 AS jsonb)",
            _ => "?",
        };
        let slug = match backend {
            DbBackend::Postgres => "$2",
            _ => "?",
        };
        for row in rows {
            let slug_value: String = row.try_get("", "slug")?;
            let authors: String = row.try_get("", "authors")?;
            let names: Vec<serde_json::Value> = serde_json::from_str::<Vec<String>>(&authors)
                .map_err(|e| DbErr::Migration(format!("authors of {slug_value}: {e}")))?
                .iter()
                .map(|name| PersonName::split(name).to_json())
                .collect();
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                format!("UPDATE citations SET author_names = {cast} WHERE slug = {slug}"),
                [
                    serde_json::Value::Array(names).to_string().into(),
                    slug_value.into(),
                ],
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut alter = Table::alter();
        alter
            .table(iden("citations"))
            .drop_column(iden("author_names"));
        manager.alter_table(alter).await
    }
}
