//! REST endpoints under `/v1`.

use actix_web::web;

pub fn configure(_cfg: &mut web::ServiceConfig) {}
