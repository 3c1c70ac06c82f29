#![allow(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

//! Integration tests: each spawns the real server (or CLI) on a fresh database, once on
//! SQLite and once on PostgreSQL (see `engine_tests!`).

mod helpers;
mod pg_server;

mod cache;
mod citations;
mod claims;
mod contract;
mod csl_import;
mod draft_preview;
mod draft_reviews;
mod draft_search;
mod drafts;
mod editing;
mod embed;
mod errors;
mod foundation;
mod graphql;
mod graphql_batching;
mod graphql_history;
mod gtin;
mod hostile;
mod html_check;
mod import_rules;
mod includes;
mod interchange;
mod jsonld;
mod key_lifecycle;
mod keys;
mod lossless_export;
mod migrations;
mod persisted;
mod rate_limits;
mod readiness;
mod receiver;
mod references;
mod requests;
mod rest_reads;
mod reviews;
mod rich_text;
mod schedules;
mod search_across;
mod search_index;
mod search_pages;
mod search_rank;
mod snapshots;
mod syndication;
mod webhook_admin;
mod webhook_crash;
mod webhooks;
mod workflow;
