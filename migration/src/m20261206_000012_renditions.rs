//! Markdown fields get their renditions beside them: sanitised HTML and plain text, made
//! once per write. `rendered_with` is the renderer version that made a row's renditions;
//! rows made by an older one (0: none yet) are rendered again when the server starts.

use sea_orm_migration::prelude::*;

use crate::schema::iden;

/// The Markdown fields: (table, column). Each has `<column>_html` and `<column>_text`.
pub const RENDERED: &[(&str, &str)] = &[
    ("authors", "bio"),
    ("conditions", "body"),
    ("techniques", "description"),
    ("benefits", "mechanism"),
    ("products", "description"),
    ("articles", "body"),
];

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in RENDERED {
            for suffix in ["html", "text"] {
                let name = format!("{column}_{suffix}");
                alter(manager, table, |t| {
                    t.add_column(ColumnDef::new(iden(&name)).text().null())
                })
                .await?;
            }
            alter(manager, table, |t| {
                t.add_column(
                    ColumnDef::new(iden("rendered_with"))
                        .integer()
                        .not_null()
                        .default(0),
                )
            })
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in RENDERED {
            for name in [
                format!("{column}_html"),
                format!("{column}_text"),
                "rendered_with".to_owned(),
            ] {
                alter(manager, table, |t| t.drop_column(iden(&name))).await?;
            }
        }
        Ok(())
    }
}

/// One change per statement: SQLite alters one column at a time.
async fn alter(
    manager: &SchemaManager<'_>,
    table: &str,
    change: impl FnOnce(&mut TableAlterStatement) -> &mut TableAlterStatement,
) -> Result<(), DbErr> {
    let mut statement = Table::alter();
    statement.table(iden(table));
    change(&mut statement);
    manager.alter_table(statement.to_owned()).await
}
