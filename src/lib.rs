//! Salve: a headless content API for health publishers.
//!
//! Layout: `domain` (validated types and the content model), `service` (every rule:
//! visibility, import/export, keys), `api` (HTTP transport), `db` (connections and
//! migrations), `config` (one typed settings struct), `startup` (the server).

pub mod api;
pub mod cli;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod service;
pub mod startup;
pub mod state;
pub mod telemetry;
