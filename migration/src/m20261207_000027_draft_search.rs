//! Full-text search over drafts, for preview readers: a draft's searchable text indexed as
//! its collection's is (the same columns, weights and stemming), beside the published
//! index and never in it, so published searches and their scores do not see drafts.
//!
//! PostgreSQL: a stored generated `search` tsvector on `drafts`, built from the document.
//! SQLite: an FTS5 table `<table>_draft_fts` per searchable collection (rowid: the draft's
//! rowid), kept in step with `drafts` by triggers.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261127_000003_search::{SEARCHABLE, SearchColumn};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => vec![format!(
                "ALTER TABLE drafts ADD COLUMN search tsvector GENERATED ALWAYS AS \
                 (CASE collection {} END) STORED",
                SEARCHABLE
                    .iter()
                    .map(|(table, columns)| format!(
                        "WHEN '{table}' THEN {}",
                        postgres_vector(columns)
                    ))
                    .collect::<Vec<_>>()
                    .join(" ")
            )],
            _ => SEARCHABLE
                .iter()
                .flat_map(|(table, columns)| sqlite_up(table, columns))
                .collect(),
        };
        for sql in statements {
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared("ALTER TABLE drafts DROP COLUMN search")
                .await?;
            return Ok(());
        }
        for (table, _) in SEARCHABLE {
            let fts = format!("{table}_draft_fts");
            db.execute_unprepared(&format!(
                "DROP TRIGGER {fts}_ai; DROP TRIGGER {fts}_ad; DROP TRIGGER {fts}_au; \
                 DROP TABLE {fts};"
            ))
            .await?;
        }
        Ok(())
    }
}

/// The draft's search vector for a collection's columns. JSON values (lists of names) give
/// their strings only.
fn postgres_vector(columns: &[SearchColumn]) -> String {
    columns
        .iter()
        .map(|(column, weight, is_json)| {
            let vector = if *is_json {
                format!("to_tsvector('english'::regconfig, coalesce(document -> '{column}', '[]'::jsonb))")
            } else {
                format!("to_tsvector('english'::regconfig, coalesce(document ->> '{column}', ''))")
            };
            format!("setweight({vector}, '{weight}')")
        })
        .collect::<Vec<_>>()
        .join(" || ")
}

/// The columns' values in the draft row `row` (`new`, `old` or an alias), in index order.
fn sqlite_values(row: &str, columns: &[SearchColumn]) -> String {
    columns
        .iter()
        .map(|(column, _, is_json)| match is_json {
            true => format!(
                "(SELECT group_concat(j.value, ' ') FROM json_tree({row}.document, '$.{column}') j \
                 WHERE j.type = 'text')"
            ),
            false => format!("json_extract({row}.document, '$.{column}')"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn sqlite_up(table: &str, columns: &[SearchColumn]) -> Vec<String> {
    let list = columns
        .iter()
        .map(|(c, ..)| *c)
        .collect::<Vec<_>>()
        .join(", ");
    let fts = format!("{table}_draft_fts");
    let insert = |row: &str| {
        format!(
            "INSERT INTO {fts}(rowid, {list}) SELECT {row}.rowid, {} ",
            sqlite_values(row, columns)
        )
    };
    vec![
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5({list}, \
             tokenize='porter unicode61 remove_diacritics 2')"
        ),
        format!(
            "CREATE TRIGGER {fts}_ai AFTER INSERT ON drafts WHEN new.collection = '{table}' \
             BEGIN {}; END",
            insert("new")
        ),
        format!(
            "CREATE TRIGGER {fts}_ad AFTER DELETE ON drafts WHEN old.collection = '{table}' \
             BEGIN DELETE FROM {fts} WHERE rowid = old.rowid; END"
        ),
        format!(
            "CREATE TRIGGER {fts}_au AFTER UPDATE OF document ON drafts \
             WHEN new.collection = '{table}' BEGIN DELETE FROM {fts} WHERE rowid = old.rowid; \
             {}; END",
            insert("new")
        ),
        // Drafts that exist when the migration runs.
        format!(
            "{} FROM drafts d WHERE d.collection = '{table}'",
            insert("d")
        ),
    ]
}
