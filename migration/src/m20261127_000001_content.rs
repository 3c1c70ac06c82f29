//! The eight content collections of PRODUCT.md §1.

use sea_orm_migration::prelude::*;

use crate::schema::{
    content_table, enum_column, foreign_key, index, integer, json, text, timestamp, uuid_ref,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Every collection is listed and sorted by these columns (ties broken by id), and
/// filtered by status.
const SORTABLE: &[&str] = &["updated_at", "published_at", "created_at"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables: Vec<(&str, TableCreateStatement, Vec<Vec<&str>>)> = vec![
            (
                "publishers",
                content_table(
                    "publishers",
                    vec![
                        text("name", true),
                        text("summary", false),
                        text("url", false),
                        text("logo_url", false),
                    ],
                ),
                vec![vec!["name", "id"]],
            ),
            (
                "authors",
                content_table(
                    "authors",
                    vec![
                        text("name", true),
                        text("credentials", false),
                        text("job_title", false),
                        text("bio", false),
                        json("specialties"),
                        text("image_url", false),
                        json("same_as"),
                    ],
                ),
                vec![vec!["name", "id"]],
            ),
            (
                "citations",
                content_table(
                    "citations",
                    vec![
                        enum_column(
                            "kind",
                            &["study", "guideline", "review", "meta_analysis", "report"],
                            true,
                        ),
                        text("title", true),
                        text("journal", false),
                        integer("year"),
                        text("doi", false),
                        text("pmid", false),
                        text("url", false),
                        json("authors"),
                        integer("sample_size"),
                        text("summary", false),
                    ],
                ),
                vec![
                    vec!["kind"],
                    vec!["year", "id"],
                    vec!["title", "id"],
                    vec!["doi"],
                    vec!["pmid"],
                ],
            ),
            (
                "conditions",
                content_table(
                    "conditions",
                    vec![
                        text("name", true),
                        json("alternate_names"),
                        text("summary", false),
                        text("body", false),
                        text("body_region", false),
                        json("icd10"),
                        json("statistics"),
                    ],
                ),
                vec![vec!["name", "id"], vec!["body_region"]],
            ),
            (
                "techniques",
                content_table(
                    "techniques",
                    vec![
                        text("name", true),
                        enum_column("kind", &["professional", "self"], true),
                        enum_column(
                            "pressure",
                            &["light", "moderate", "firm", "variable"],
                            false,
                        ),
                        text("summary", false),
                        text("description", false),
                    ],
                ),
                vec![vec!["name", "id"], vec!["kind"], vec!["pressure"]],
            ),
            (
                "benefits",
                content_table(
                    "benefits",
                    vec![
                        text("name", true),
                        text("summary", false),
                        text("mechanism", false),
                    ],
                ),
                vec![vec!["name", "id"]],
            ),
            (
                "products",
                content_table(
                    "products",
                    vec![
                        ColumnDef::new(Alias::new("sku"))
                            .string_len(64)
                            .not_null()
                            .unique_key()
                            .to_owned(),
                        text("gtin", false),
                        text("name", true),
                        text("brand", false),
                        text("category", false),
                        text("description", false),
                        text("url", false),
                        text("image_url", false),
                        ColumnDef::new(Alias::new("price_cents"))
                            .big_integer()
                            .null()
                            .check(Expr::col(Alias::new("price_cents")).gte(0))
                            .to_owned(),
                        ColumnDef::new(Alias::new("currency"))
                            .string_len(3)
                            .null()
                            .to_owned(),
                    ],
                ),
                vec![
                    vec!["name", "id"],
                    vec!["category"],
                    vec!["brand"],
                    vec!["price_cents", "id"],
                    vec!["gtin"],
                ],
            ),
            (
                "articles",
                articles(),
                vec![
                    vec!["title", "id"],
                    vec!["author_id"],
                    vec!["reviewer_id"],
                    vec!["publisher_id"],
                    vec!["last_reviewed_at", "id"],
                ],
            ),
        ];

        for (table, create, indexes) in tables {
            manager.create_table(create).await?;
            manager.create_index(index(table, &["status"])).await?;
            for column in SORTABLE {
                manager.create_index(index(table, &[column, "id"])).await?;
            }
            for columns in indexes {
                manager.create_index(index(table, &columns)).await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "articles",
            "products",
            "benefits",
            "techniques",
            "conditions",
            "citations",
            "authors",
            "publishers",
        ] {
            manager
                .drop_table(Table::drop().table(Alias::new(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}

fn articles() -> TableCreateStatement {
    let mut create = content_table(
        "articles",
        vec![
            text("title", true),
            text("summary", false),
            text("body", false),
            // An article always has an author: authors with articles cannot be deleted.
            uuid_ref("author_id", true),
            uuid_ref("reviewer_id", false),
            uuid_ref("publisher_id", false),
            timestamp("last_reviewed_at", false),
        ],
    );
    create
        .foreign_key(&mut foreign_key(
            "articles",
            "author_id",
            "authors",
            ForeignKeyAction::Restrict,
        ))
        .foreign_key(&mut foreign_key(
            "articles",
            "reviewer_id",
            "authors",
            ForeignKeyAction::SetNull,
        ))
        .foreign_key(&mut foreign_key(
            "articles",
            "publisher_id",
            "publishers",
            ForeignKeyAction::SetNull,
        ));
    create
}
