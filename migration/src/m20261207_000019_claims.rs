//! Claims: the technique→benefit and condition→technique links say that something helps.
//! Each may carry its evidence: a GRADE certainty, an optional OCEBM 2011 level, the
//! direction of the effect, a short summary, and the citations that back it, in order.
//! The evidence's scalar parts live on the link row (NULL certainty: no evidence); its
//! citations in a table of their own, one per claim link, so that a citation cannot be
//! deleted while a claim cites it (the foreign key restricts) and a removed link takes its
//! citations with it (it cascades).

use sea_orm_migration::prelude::*;

use crate::schema::{enum_column, iden, index, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// GRADE certainty of evidence, strongest first.
pub const CERTAINTIES: &[&str] = &["high", "moderate", "low", "very_low"];
/// Which way the evidence points.
pub const DIRECTIONS: &[&str] = &["benefit", "no_effect", "harm", "mixed"];

/// (link table, its claim-citations table, left column, right column)
pub const CLAIMS: &[(&str, &str, &str, &str)] = &[
    (
        "condition_techniques",
        "condition_technique_citations",
        "condition_id",
        "technique_id",
    ),
    (
        "technique_benefits",
        "technique_benefit_citations",
        "technique_id",
        "benefit_id",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for &(link, citations, left, right) in CLAIMS {
            for column in evidence_columns() {
                let mut alter = Table::alter();
                alter.table(iden(link)).add_column(column);
                manager.alter_table(alter).await?;
            }
            manager
                .create_table(citations_table(link, citations, left, right))
                .await?;
            manager
                .create_index(index(citations, &["citation_id"]))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for &(link, citations, ..) in CLAIMS {
            manager
                .drop_table(Table::drop().table(iden(citations)).to_owned())
                .await?;
            for column in ["certainty", "level", "direction", "summary"] {
                let mut alter = Table::alter();
                alter.table(iden(link)).drop_column(iden(column));
                manager.alter_table(alter).await?;
            }
        }
        Ok(())
    }
}

fn evidence_columns() -> [ColumnDef; 4] {
    let mut level = ColumnDef::new(iden("level"));
    level
        .small_integer()
        .null()
        .check(Expr::col(iden("level")).between(1, 5));
    [
        enum_column("certainty", CERTAINTIES, false),
        level,
        enum_column("direction", DIRECTIONS, false),
        text("summary", false),
    ]
}

fn citations_table(link: &str, table: &str, left: &str, right: &str) -> TableCreateStatement {
    Table::create()
        .table(iden(table))
        .col(ColumnDef::new(iden(left)).uuid().not_null())
        .col(ColumnDef::new(iden(right)).uuid().not_null())
        .col(ColumnDef::new(iden("position")).integer().not_null())
        .col(ColumnDef::new(iden("citation_id")).uuid().not_null())
        .primary_key(
            Index::create()
                .col(iden(left))
                .col(iden(right))
                .col(iden("position")),
        )
        .index(
            Index::create()
                .name(format!("uq_{table}_citation"))
                .unique()
                .col(iden(left))
                .col(iden(right))
                .col(iden("citation_id")),
        )
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{table}_claim"))
                .from(iden(table), (iden(left), iden(right)))
                .to(iden(link), (iden(left), iden(right)))
                .on_delete(ForeignKeyAction::Cascade)
                .on_update(ForeignKeyAction::Cascade),
        )
        .foreign_key(
            ForeignKey::create()
                .name(format!("fk_{table}_citation_id"))
                .from(iden(table), iden("citation_id"))
                .to(iden("citations"), iden("id"))
                .on_delete(ForeignKeyAction::Restrict)
                .on_update(ForeignKeyAction::Cascade),
        )
        .to_owned()
}
