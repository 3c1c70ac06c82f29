//! The service layer: every rule about content (visibility, validation, import/export,
//! keys) lives here, called by REST, GraphQL and the CLI alike.

pub mod cache;
pub mod caller;
pub mod changes;
pub mod claims;
pub mod content;
pub mod editing;
pub mod embed;
pub mod fulltext;
pub mod include;
pub mod interchange;
pub mod item;
pub mod jsonld;
pub mod keys;
pub mod keyset;
pub mod lease;
pub mod link_rows;
pub mod listing;
pub mod persisted_queries;
pub mod rate_limit;
pub mod references;
pub mod references_store;
pub mod renditions;
pub mod reviews;
pub mod scheduler;
pub mod search;
pub mod sql;
pub mod syndication;
pub mod webhooks;

pub use caller::{Caller, Visibility};
