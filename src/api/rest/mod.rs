//! REST endpoints under `/v1`: every collection is listed, read by slug (and products by
//! SKU) through the same service layer GraphQL uses.

mod admin;
mod collections;
mod editorial;
mod search;
pub mod writes;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(search::configure)
        .configure(admin::configure)
        .configure(editorial::configure)
        .configure(collections::configure);
}
