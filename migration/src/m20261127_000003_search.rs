//! Full-text search over the searchable text of six collections.
//!
//! PostgreSQL: a stored generated `search` tsvector (English stemming, weighted A–C) with
//! a GIN index; the database keeps it in sync on every write.
//! SQLite: an external-content FTS5 table `<table>_fts` (porter stemming) kept in sync by
//! triggers; rank with `bm25()` using the weights below.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A searchable column: (name, weight A–D, holds JSON).
pub type SearchColumn = (&'static str, char, bool);

/// (table, columns) — the column order is the FTS5 column order.
pub const SEARCHABLE: &[(&str, &[SearchColumn])] = &[
    (
        "conditions",
        &[
            ("name", 'A', false),
            ("alternate_names", 'B', true),
            ("summary", 'B', false),
            ("body", 'C', false),
        ],
    ),
    (
        "techniques",
        &[
            ("name", 'A', false),
            ("summary", 'B', false),
            ("description", 'C', false),
        ],
    ),
    (
        "benefits",
        &[
            ("name", 'A', false),
            ("summary", 'B', false),
            ("mechanism", 'C', false),
        ],
    ),
    (
        "citations",
        &[
            ("title", 'A', false),
            ("summary", 'B', false),
            ("journal", 'C', false),
            ("authors", 'C', true),
        ],
    ),
    (
        "products",
        &[
            ("name", 'A', false),
            ("sku", 'A', false),
            ("brand", 'B', false),
            ("category", 'B', false),
            ("description", 'C', false),
        ],
    ),
    (
        "articles",
        &[
            ("title", 'A', false),
            ("summary", 'B', false),
            ("body", 'C', false),
        ],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let statements = match manager.get_database_backend() {
            DbBackend::Postgres => SEARCHABLE
                .iter()
                .flat_map(|(table, columns)| postgres_up(table, columns))
                .collect::<Vec<_>>(),
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
        for (table, _) in SEARCHABLE {
            let sql = match manager.get_database_backend() {
                DbBackend::Postgres => format!("ALTER TABLE {table} DROP COLUMN search"),
                _ => format!(
                    "DROP TRIGGER {table}_fts_ai; DROP TRIGGER {table}_fts_ad; \
                     DROP TRIGGER {table}_fts_au; DROP TABLE {table}_fts;"
                ),
            };
            db.execute_unprepared(&sql).await?;
        }
        Ok(())
    }
}

fn postgres_up(table: &str, columns: &[SearchColumn]) -> Vec<String> {
    let vector = columns
        .iter()
        .map(|(column, weight, is_json)| {
            let text = if *is_json {
                format!("{column}::text")
            } else {
                (*column).to_owned()
            };
            format!(
                "setweight(to_tsvector('english'::regconfig, coalesce({text}, '')), '{weight}')"
            )
        })
        .collect::<Vec<_>>()
        .join(" || ");
    vec![
        format!(
            "ALTER TABLE {table} ADD COLUMN search tsvector GENERATED ALWAYS AS ({vector}) STORED"
        ),
        format!("CREATE INDEX idx_{table}_search ON {table} USING GIN (search)"),
    ]
}

fn sqlite_up(table: &str, columns: &[SearchColumn]) -> Vec<String> {
    let names: Vec<&str> = columns.iter().map(|(c, ..)| *c).collect();
    let list = names.join(", ");
    let new = names
        .iter()
        .map(|c| format!("new.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let old = names
        .iter()
        .map(|c| format!("old.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let fts = format!("{table}_fts");
    vec![
        format!(
            "CREATE VIRTUAL TABLE {fts} USING fts5({list}, content='{table}', \
             content_rowid='rowid', tokenize='porter unicode61 remove_diacritics 2')"
        ),
        format!(
            "CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN \
             INSERT INTO {fts}(rowid, {list}) VALUES (new.rowid, {new}); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, {list}) VALUES ('delete', old.rowid, {old}); END"
        ),
        format!(
            "CREATE TRIGGER {fts}_au AFTER UPDATE OF {list} ON {table} BEGIN \
             INSERT INTO {fts}({fts}, rowid, {list}) VALUES ('delete', old.rowid, {old}); \
             INSERT INTO {fts}(rowid, {list}) VALUES (new.rowid, {new}); END"
        ),
        // Rows that already exist when the migration runs.
        format!("INSERT INTO {fts}({fts}) VALUES ('rebuild')"),
    ]
}
