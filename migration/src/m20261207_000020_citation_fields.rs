//! Citations as reference managers describe them: the issue date (`issued`, a partial
//! date, filled from `year` where only that is known), volume, issue, pages, publisher or
//! issuing body, PubMed Central id and access date. DOIs are put in their normal form
//! (no resolver prefix, lower case), and DOI, PMID and PMCID each become unique: a
//! database holding two citations with one of them cannot be migrated until they are told
//! apart (the error names them).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::schema::{iden, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

const COLUMNS: &[&str] = &[
    "issued",
    "volume",
    "issue",
    "pages",
    "publisher",
    "pmcid",
    "accessed",
];
const UNIQUE: &[&str] = &["doi", "pmid", "pmcid"];
/// Resolver prefixes a DOI is often pasted with (lower case); the DOI is what follows.
pub const DOI_PREFIXES: &[&str] = &[
    "https://doi.org/",
    "http://doi.org/",
    "https://dx.doi.org/",
    "http://dx.doi.org/",
    "doi.org/",
    "doi:",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in COLUMNS {
            let mut alter = Table::alter();
            alter
                .table(iden("citations"))
                .add_column(text(column, false));
            manager.alter_table(alter).await?;
        }
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let run = |sql: String| db.execute_raw(Statement::from_string(backend, sql));
        run("UPDATE citations SET doi = lower(trim(doi)) WHERE doi IS NOT NULL".into()).await?;
        for prefix in DOI_PREFIXES {
            run(format!(
                "UPDATE citations SET doi = trim(substr(doi, {})) WHERE doi LIKE '{prefix}%'",
                prefix.len() + 1
            ))
            .await?;
        }
        run("UPDATE citations SET issued = CAST(year AS TEXT) WHERE year IS NOT NULL".into())
            .await?;
        for column in UNIQUE {
            refuse_duplicates(db, backend, column).await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("uq_citations_{column}"))
                        .table(iden("citations"))
                        .col(iden(column))
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in UNIQUE {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("uq_citations_{column}"))
                        .table(iden("citations"))
                        .to_owned(),
                )
                .await?;
        }
        for column in COLUMNS {
            let mut alter = Table::alter();
            alter.table(iden("citations")).drop_column(iden(column));
            manager.alter_table(alter).await?;
        }
        Ok(())
    }
}

/// Fails, naming them, when citations share a value of `column`.
async fn refuse_duplicates(
    db: &SchemaManagerConnection<'_>,
    backend: DbBackend,
    column: &str,
) -> Result<(), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT c.{column} AS value, c.slug AS slug FROM citations c WHERE c.{column} IN \
                 (SELECT {column} FROM citations WHERE {column} IS NOT NULL GROUP BY {column} \
                 HAVING COUNT(*) > 1) ORDER BY c.{column}, c.slug LIMIT 20"
            ),
        ))
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut found = Vec::new();
    for row in rows {
        let (value, slug): (String, String) = (row.try_get("", "value")?, row.try_get("", "slug")?);
        found.push(format!("{slug} ({value})"));
    }
    Err(DbErr::Migration(format!(
        "citations share a {column}, which must now be unique: {}. Correct them (export, \
         edit, import with the previous version) and migrate again",
        found.join(", ")
    )))
}
