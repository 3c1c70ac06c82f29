//! REST endpoints under `/v1`: every collection is listed, read by slug (and products by
//! SKU) through the same service layer GraphQL uses.

mod admin;
mod collections;
mod editorial;
mod keys;
mod search;
mod syndication;
mod webhooks;
pub mod writes;

use actix_web::web;

use crate::domain::Collection;

/// Static paths first, then one scope per collection: a request is matched against its
/// own collection's routes only (route patterns are regexes; trying every collection's
/// was a third of the CPU time of a cached read).
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(search::configure)
        .configure(admin::configure)
        .configure(keys::configure)
        .configure(webhooks::configure)
        .configure(syndication::configure);
    for collection in Collection::ALL {
        cfg.service(
            web::scope(&format!("/v1/{collection}"))
                .app_data(web::Data::new(collection))
                .configure(|scope| collections::configure(scope, collection))
                .configure(|scope| editorial::configure(scope, collection)),
        );
    }
}
