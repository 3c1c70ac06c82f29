//! Schema migrations for Salve, shared by SQLite and PostgreSQL.
//!
//! Every migration opts into a transaction (`use_transaction`) on both engines, so a
//! failing migration leaves the schema exactly as it was. sea-orm-migration only does that
//! for PostgreSQL by default.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_content;
mod m20261127_000002_links;
mod m20261127_000003_search;
mod m20261127_000004_api_keys;
mod m20261128_000005_server_secrets;
mod m20261128_000006_listing_indexes;
mod m20261128_000007_persisted_queries;
mod m20261130_000008_editorial;
mod m20261130_000009_change_log;
mod m20261130_000010_clustered_links;
mod m20261206_000011_persisted_query_quota;
mod m20261206_000012_renditions;
mod m20261206_000013_gtin_key;
mod m20261206_000014_syndication;
mod m20261206_000015_search_postings;
mod m20261206_000016_key_lifecycle;
mod m20261206_000017_webhooks;
mod m20261207_000018_delivery_rows;
mod m20261207_000019_claims;
mod m20261207_000020_citation_fields;
mod m20261207_000021_author_names;
mod m20261207_000022_formatted_references;
mod m20261207_000023_reviews;
mod m20261207_000024_schedules;
mod m20261207_000025_drafts;
mod m20261207_000026_draft_reviews;
mod m20261207_000027_draft_search;
pub mod names;
pub mod schema;

/// Link tables: (table, left column, left table, right column, right table).
pub use m20261127_000002_links::LINKS;
/// Searchable columns and their weights, as indexed by the search migration.
pub use m20261127_000003_search::SEARCHABLE;
/// Markdown fields, whose renditions are stored beside them.
pub use m20261206_000012_renditions::RENDERED;
/// The `tsquery` (SQL) of exactly the lexeme `l.lexeme`, as search postings are scored.
pub use m20261206_000015_search_postings::LEXEME_QUERY;
/// Claim links and their citations, and the evidence's enumerations.
pub use m20261207_000019_claims::{CERTAINTIES, CLAIMS, DIRECTIONS};
/// Resolver prefixes a DOI is often pasted with.
pub use m20261207_000020_citation_fields::DOI_PREFIXES;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_content::Migration),
            Box::new(m20261127_000002_links::Migration),
            Box::new(m20261127_000003_search::Migration),
            Box::new(m20261127_000004_api_keys::Migration),
            Box::new(m20261128_000005_server_secrets::Migration),
            Box::new(m20261128_000006_listing_indexes::Migration),
            Box::new(m20261128_000007_persisted_queries::Migration),
            Box::new(m20261130_000008_editorial::Migration),
            Box::new(m20261130_000009_change_log::Migration),
            Box::new(m20261130_000010_clustered_links::Migration),
            Box::new(m20261206_000011_persisted_query_quota::Migration),
            Box::new(m20261206_000012_renditions::Migration),
            Box::new(m20261206_000013_gtin_key::Migration),
            Box::new(m20261206_000014_syndication::Migration),
            Box::new(m20261206_000015_search_postings::Migration),
            Box::new(m20261206_000016_key_lifecycle::Migration),
            Box::new(m20261206_000017_webhooks::Migration),
            Box::new(m20261207_000018_delivery_rows::Migration),
            Box::new(m20261207_000019_claims::Migration),
            Box::new(m20261207_000020_citation_fields::Migration),
            Box::new(m20261207_000021_author_names::Migration),
            Box::new(m20261207_000022_formatted_references::Migration),
            Box::new(m20261207_000023_reviews::Migration),
            Box::new(m20261207_000024_schedules::Migration),
            Box::new(m20261207_000025_drafts::Migration),
            Box::new(m20261207_000026_draft_reviews::Migration),
            Box::new(m20261207_000027_draft_search::Migration),
        ]
    }
}
