//! Many-to-many links of PRODUCT.md §1. Each link table has a composite primary key
//! (which serves lookups from the left end), an index for lookups from the right end, an
//! optional `note`, and a `position` that keeps editorial order (articles list their
//! mentions in a meaningful order). Deleting either end removes the link.

use sea_orm_migration::prelude::*;

use crate::schema::{foreign_key, iden, index, text};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, left column, left table, right column, right table)
pub const LINKS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "condition_techniques",
        "condition_id",
        "conditions",
        "technique_id",
        "techniques",
    ),
    (
        "condition_citations",
        "condition_id",
        "conditions",
        "citation_id",
        "citations",
    ),
    (
        "technique_benefits",
        "technique_id",
        "techniques",
        "benefit_id",
        "benefits",
    ),
    (
        "technique_citations",
        "technique_id",
        "techniques",
        "citation_id",
        "citations",
    ),
    (
        "benefit_citations",
        "benefit_id",
        "benefits",
        "citation_id",
        "citations",
    ),
    (
        "technique_products",
        "technique_id",
        "techniques",
        "product_id",
        "products",
    ),
    (
        "article_conditions",
        "article_id",
        "articles",
        "condition_id",
        "conditions",
    ),
    (
        "article_techniques",
        "article_id",
        "articles",
        "technique_id",
        "techniques",
    ),
    (
        "article_benefits",
        "article_id",
        "articles",
        "benefit_id",
        "benefits",
    ),
    (
        "article_citations",
        "article_id",
        "articles",
        "citation_id",
        "citations",
    ),
    (
        "article_products",
        "article_id",
        "articles",
        "product_id",
        "products",
    ),
    (
        "article_related",
        "article_id",
        "articles",
        "related_id",
        "articles",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for &(table, left, left_table, right, right_table) in LINKS {
            let mut create = Table::create();
            create
                .table(iden(table))
                .col(ColumnDef::new(iden(left)).uuid().not_null())
                .col(ColumnDef::new(iden(right)).uuid().not_null())
                .col(text("note", false))
                .col(
                    ColumnDef::new(iden("position"))
                        .integer()
                        .not_null()
                        .default(0),
                )
                .primary_key(Index::create().col(iden(left)).col(iden(right)))
                .foreign_key(&mut foreign_key(
                    table,
                    left,
                    left_table,
                    ForeignKeyAction::Cascade,
                ))
                .foreign_key(&mut foreign_key(
                    table,
                    right,
                    right_table,
                    ForeignKeyAction::Cascade,
                ));
            if left_table == right_table {
                // An article is not related to itself.
                create.check(Expr::col(iden(left)).ne(Expr::col(iden(right))));
            }
            manager.create_table(create.to_owned()).await?;
            manager.create_index(index(table, &[right, left])).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for &(table, ..) in LINKS.iter().rev() {
            manager
                .drop_table(Table::drop().table(iden(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
