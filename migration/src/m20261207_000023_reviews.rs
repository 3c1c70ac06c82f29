//! Medical review for every embeddable item, with its history. Conditions, techniques and
//! benefits gain the reviewer and review dates articles have; `reviews` keeps every review
//! recorded (reviewer, with the name and credentials they had then, date, note), filled
//! from the audit log's review entries, which were the only record so far.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};
use sea_orm_migration::prelude::*;

use crate::schema::{foreign_key, iden, index, text, timestamp, uuid_ref};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The collections that gain review fields (articles have had them from the start).
const TABLES: &[&str] = &["conditions", "techniques", "benefits"];
/// Every collection whose items are reviewed.
pub const REVIEWABLE: &[&str] = &["conditions", "techniques", "benefits", "articles"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        for table in TABLES {
            // SQLite cannot add a foreign key with ALTER TABLE … ADD CONSTRAINT, but it
            // accepts one on a new column, as PostgreSQL does.
            let uuid = match backend {
                DbBackend::Postgres => "uuid",
                _ => "uuid_text",
            };
            db.execute_raw(Statement::from_string(
                backend,
                format!(
                    "ALTER TABLE {table} ADD COLUMN reviewer_id {uuid} NULL \
                     CONSTRAINT fk_{table}_reviewer_id REFERENCES authors (id) \
                     ON DELETE SET NULL ON UPDATE CASCADE"
                ),
            ))
            .await?;
            for column in ["last_reviewed_at", "next_review_due"] {
                let mut alter = Table::alter();
                alter
                    .table(iden(table))
                    .add_column(timestamp(column, false));
                manager.alter_table(alter).await?;
            }
            for columns in [
                &["reviewer_id"][..],
                &["last_reviewed_at", "id"],
                &["next_review_due", "id"],
            ] {
                manager.create_index(index(table, columns)).await?;
            }
        }
        manager.create_table(reviews_table()).await?;
        manager
            .create_index(
                index("reviews", &["collection", "item_id", "reviewed_at"])
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index("reviews", &["reviewer_id"]))
            .await?;
        backfill(db, backend).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(iden("reviews")).to_owned())
            .await?;
        for table in TABLES {
            for columns in [
                &["reviewer_id"][..],
                &["last_reviewed_at", "id"],
                &["next_review_due", "id"],
            ] {
                let name = format!("idx_{table}_{}", columns.join("_"));
                manager
                    .drop_index(Index::drop().name(name).table(iden(table)).to_owned())
                    .await?;
            }
            // Dropping the column drops its foreign key on both engines.
            for column in ["reviewer_id", "last_reviewed_at", "next_review_due"] {
                let mut alter = Table::alter();
                alter.table(iden(table)).drop_column(iden(column));
                manager.alter_table(alter).await?;
            }
        }
        Ok(())
    }
}

/// One row per recorded review. The item is named by collection and id (no foreign key:
/// deleting an item deletes its reviews); the reviewer by id while the author exists, and
/// always by the name and credentials they had when they reviewed.
fn reviews_table() -> TableCreateStatement {
    Table::create()
        .table(iden("reviews"))
        .col(ColumnDef::new(iden("id")).uuid().not_null().primary_key())
        .col(
            ColumnDef::new(iden("collection"))
                .text()
                .not_null()
                .check(Expr::col(iden("collection")).is_in(REVIEWABLE.iter().copied())),
        )
        .col(uuid_ref("item_id", true))
        .col(uuid_ref("reviewer_id", false))
        .col(text("reviewer_name", true))
        .col(text("reviewer_credentials", false))
        .col(timestamp("reviewed_at", true))
        .col(text("note", false))
        .col(ColumnDef::new(iden("version")).big_integer().null())
        .col(timestamp("recorded_at", true))
        .foreign_key(&mut foreign_key(
            "reviews",
            "reviewer_id",
            "authors",
            ForeignKeyAction::SetNull,
        ))
        .to_owned()
}

/// Copies the audit log's review entries of articles that still exist. Entries written
/// before reviews made versions carry none.
async fn backfill(db: &SchemaManagerConnection<'_>, backend: DbBackend) -> Result<(), DbErr> {
    let rows = db
        .query_all_raw(Statement::from_string(
            backend,
            "SELECT l.item_id, l.at, CAST(l.detail AS TEXT) AS detail FROM audit_log l \
             JOIN articles a ON a.id = l.item_id \
             WHERE l.action = 'review' AND l.collection = 'articles' ORDER BY l.at",
        ))
        .await?;
    let placeholders: Vec<String> = (1..=9)
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect();
    let insert = format!(
        "INSERT INTO reviews (id, collection, item_id, reviewer_id, reviewer_name, \
         reviewer_credentials, reviewed_at, note, version, recorded_at) VALUES ({}, \
         'articles', {}) ON CONFLICT DO NOTHING",
        placeholders[0],
        placeholders[1..].join(", "),
    );
    for row in rows {
        let item: uuid::Uuid = row.try_get("", "item_id")?;
        let at: chrono::DateTime<chrono::Utc> = row.try_get("", "at")?;
        let detail: String = row.try_get("", "detail")?;
        let detail: serde_json::Value = serde_json::from_str(&detail)
            .map_err(|e| DbErr::Migration(format!("audit entry of {item}: {e}")))?;
        let text = |key: &str| detail.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let Some(reviewed_at) = text("reviewed_at")
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
        else {
            continue;
        };
        let reviewer = match text("reviewer") {
            Some(slug) => author(db, backend, &slug).await?,
            None => None,
        };
        let (reviewer_id, name, credentials) = match (reviewer, text("reviewer")) {
            (Some((id, name, credentials)), _) => (Some(id), name, credentials),
            (None, Some(slug)) => (None, slug, None),
            (None, None) => continue,
        };
        let version = detail.get("version").and_then(|v| v.as_i64());
        let values: Vec<Value> = vec![
            uuid::Uuid::new_v4().into(),
            item.into(),
            reviewer_id.into(),
            name.into(),
            credentials.into(),
            reviewed_at.into(),
            text("note").into(),
            version.into(),
            at.into(),
        ];
        db.execute_raw(Statement::from_sql_and_values(backend, &insert, values))
            .await?;
    }
    Ok(())
}

/// An author's id, name and credentials, by slug.
async fn author(
    db: &SchemaManagerConnection<'_>,
    backend: DbBackend,
    slug: &str,
) -> Result<Option<(uuid::Uuid, String, Option<String>)>, DbErr> {
    let sql = match backend {
        DbBackend::Postgres => "SELECT id, name, credentials FROM authors WHERE slug = $1",
        _ => "SELECT id, name, credentials FROM authors WHERE slug = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [slug.into()]))
        .await?;
    row.map(|row| {
        Ok((
            row.try_get("", "id")?,
            row.try_get("", "name")?,
            row.try_get("", "credentials")?,
        ))
    })
    .transpose()
}
