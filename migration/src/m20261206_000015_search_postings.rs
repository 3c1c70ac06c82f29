//! PostgreSQL: every (lexeme, item) pair of the search vectors with the item's relevance
//! for that lexeme alone, so that the best hits of a one-word search are read from an
//! index instead of ranking every match.
//!
//! `ts_rank` uses no statistics of the collection: an item's score for a one-lexeme query
//! depends on the item alone, so it can be computed when the item is written. The score
//! is `ts_rank` itself, applied to the lexeme as a query: the same function on the same
//! input as a search computes, so the same value. Triggers keep the postings in step with
//! the `search` vector in the same transaction as the write; an edit rewrites only the
//! postings whose score it changed, and a posting is removed by the key it was written
//! under (its lexeme and score recomputed from the old vector), so the one index serves
//! both reads and upkeep. The status is not kept: a search looks up the few items it
//! returns, so publishing and unpublishing touch no posting.
//!
//! SQLite ranks with `bm25`, whose scores depend on the whole collection (idf, average
//! length), so nothing can be stored per item there; it prunes instead (see
//! `service/search/pruned.rs`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

use crate::m20261127_000003_search::SEARCHABLE;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The `tsquery` that matches exactly `lexeme` (quoted as the tsquery syntax quotes).
pub const LEXEME_QUERY: &str =
    "('''' || replace(replace(l.lexeme, '\\', '\\\\'), '''', '''''') || '''')::tsquery";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE TABLE search_postings (lexeme text NOT NULL, kind text NOT NULL, \
             score real NOT NULL, id uuid NOT NULL)",
        )
        .await?;
        db.execute_unprepared(&sync_function()).await?;
        for (table, _) in SEARCHABLE {
            db.execute_unprepared(&format!(
                "INSERT INTO search_postings (lexeme, kind, score, id) \
                 SELECT l.lexeme, '{table}', ts_rank(t.search, {LEXEME_QUERY}), t.id \
                 FROM {table} t, unnest(t.search) l"
            ))
            .await?;
            for trigger in triggers(table) {
                db.execute_unprepared(&trigger).await?;
            }
        }
        db.execute_unprepared(
            "CREATE INDEX search_postings_rank ON search_postings (lexeme, kind, score DESC, id)",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for (table, _) in SEARCHABLE {
            db.execute_unprepared(&format!(
                "DROP TRIGGER {table}_postings_insert ON {table}; \
                 DROP TRIGGER {table}_postings_update ON {table}; \
                 DROP TRIGGER {table}_postings_delete ON {table}"
            ))
            .await?;
        }
        db.execute_unprepared("DROP FUNCTION search_postings_sync(); DROP TABLE search_postings")
            .await?;
        Ok(())
    }
}

/// The trigger function: the postings the old vector has and the new one has not are
/// deleted, those the new one has and the old one has not are written (an edit changes
/// few scores: a lexeme's score depends on the weights of its positions, in order). The
/// collection is the trigger's argument.
fn sync_function() -> String {
    let postings = |vector: &str| {
        format!(
            "SELECT l.lexeme, ts_rank({vector}, {LEXEME_QUERY}) AS score FROM unnest({vector}) l"
        )
    };
    let (old, new) = (postings("OLD.search"), postings("NEW.search"));
    format!(
        "CREATE FUNCTION search_postings_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM search_postings p USING ({old}) o
    WHERE p.lexeme = o.lexeme AND p.kind = TG_ARGV[0] AND p.score = o.score AND p.id = OLD.id;
  ELSIF TG_OP = 'INSERT' THEN
    INSERT INTO search_postings (lexeme, kind, score, id)
    SELECT n.lexeme, TG_ARGV[0], n.score, NEW.id FROM ({new}) n;
  ELSE
    DELETE FROM search_postings p USING (({old}) EXCEPT ({new})) o
    WHERE p.lexeme = o.lexeme AND p.kind = TG_ARGV[0] AND p.score = o.score AND p.id = OLD.id;
    INSERT INTO search_postings (lexeme, kind, score, id)
    SELECT n.lexeme, TG_ARGV[0], n.score, NEW.id FROM (({new}) EXCEPT ({old})) n;
  END IF;
  RETURN NULL;
END $$"
    )
}

/// Row triggers: after every insert and delete, and after the updates that change the
/// search vector (most writes do not).
fn triggers(table: &str) -> [String; 3] {
    let execute = format!("FOR EACH ROW EXECUTE FUNCTION search_postings_sync('{table}')");
    [
        format!("CREATE TRIGGER {table}_postings_insert AFTER INSERT ON {table} {execute}"),
        format!(
            "CREATE TRIGGER {table}_postings_update AFTER UPDATE ON {table} \
             FOR EACH ROW WHEN (OLD.search IS DISTINCT FROM NEW.search) \
             EXECUTE FUNCTION search_postings_sync('{table}')"
        ),
        format!("CREATE TRIGGER {table}_postings_delete AFTER DELETE ON {table} {execute}"),
    ]
}
