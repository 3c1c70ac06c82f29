//! API keys with a lifecycle: an expiry, the last time each was used (recorded in batches,
//! never by a write per request) and rotation, where the secret a key replaced stays valid
//! until its overlap window ends; and a key's own rate limit.

use sea_orm_migration::prelude::*;

use crate::schema::{iden, timestamp};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Timestamp columns added, all optional.
const TIMESTAMPS: [&str; 4] = [
    "expires_at",
    "last_used_at",
    "rotated_at",
    "previous_expires_at",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in TIMESTAMPS {
            alter(manager, |t| t.add_column(timestamp(column, false))).await?;
        }
        // The hash of the secret a rotation replaced (the key itself is never stored).
        alter(manager, |t| {
            t.add_column(ColumnDef::new(iden("previous_hash")).string_len(64).null())
        })
        .await?;
        // `N/<window>`, overriding the quota of the key's class.
        alter(manager, |t| {
            t.add_column(ColumnDef::new(iden("rate_limit")).string_len(32).null())
        })
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in TIMESTAMPS
            .into_iter()
            .chain(["previous_hash", "rate_limit"])
        {
            alter(manager, |t| t.drop_column(iden(column))).await?;
        }
        Ok(())
    }
}

/// One change per statement: SQLite alters one column at a time.
async fn alter(
    manager: &SchemaManager<'_>,
    change: impl FnOnce(&mut TableAlterStatement) -> &mut TableAlterStatement,
) -> Result<(), DbErr> {
    let mut statement = Table::alter();
    statement.table(iden("api_keys"));
    change(&mut statement);
    manager.alter_table(statement).await
}
