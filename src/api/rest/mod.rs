//! REST endpoints under `/v1`.

mod items;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(items::configure);
}
