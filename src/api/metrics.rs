//! `GET /metrics` in the Prometheus text format: requests and latency histograms per
//! route, SQL statements, connection-pool usage and the read cache's counters.

use std::fmt::Write;
use std::sync::atomic::Ordering;

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::domain::Scope;
use crate::error::Result;
use crate::service::Caller;
use crate::state::AppState;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/metrics")
            .route(web::get().to(metrics))
            .default_service(web::to(super::method_not_allowed)),
    );
}

async fn metrics(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse> {
    caller.require(Scope::Metrics)?;
    let mut out = String::with_capacity(8192);
    let _ = state.metrics.render(&mut out);
    let cache = &state.cache;
    let counter = |out: &mut String, name: &str, help: &str, value: u64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
        );
    };
    let gauge = |out: &mut String, name: &str, help: &str, value: f64| {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
        );
    };
    let hooks = &crate::service::webhooks::STATS;
    for (name, help, value) in [
        (
            "salve_webhook_deliveries_total",
            "Webhook attempts answered with a 2xx.",
            &hooks.delivered,
        ),
        (
            "salve_webhook_retries_total",
            "Webhook attempts that failed and will be retried.",
            &hooks.retried,
        ),
        (
            "salve_webhook_failures_total",
            "Webhook deliveries given up after the retry period.",
            &hooks.failed,
        ),
    ] {
        counter(&mut out, name, help, value.load(Ordering::Relaxed));
    }
    gauge(
        &mut out,
        "salve_webhook_dispatching",
        "1 while this instance holds the webhook dispatch lease.",
        hooks.leading.load(Ordering::Relaxed) as f64,
    );
    let stats = &cache.stats;
    counter(
        &mut out,
        "salve_cache_hits_total",
        "Reads served from the read cache.",
        stats.hits.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "salve_cache_misses_total",
        "Cacheable reads computed from the database.",
        stats.misses.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "salve_cache_evictions_total",
        "Entries dropped to stay within the memory budget.",
        stats.evictions.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "salve_cache_invalidations_total",
        "Entries dropped because a write made them stale.",
        stats.invalidations.load(Ordering::Relaxed),
    );
    counter(
        &mut out,
        "salve_cache_bypasses_total",
        "Reads that skip the cache (preview callers, cache off).",
        stats.bypasses.load(Ordering::Relaxed),
    );
    gauge(
        &mut out,
        "salve_cache_bytes",
        "Memory held by cached responses.",
        cache.bytes() as f64,
    );
    gauge(
        &mut out,
        "salve_cache_budget_bytes",
        "The read cache's memory budget.",
        cache.budget() as f64,
    );
    gauge(
        &mut out,
        "salve_cache_entries",
        "Cached responses.",
        cache.len() as f64,
    );
    counter(
        &mut out,
        "salve_sql_statements_total",
        "SQL statements executed by requests.",
        state.statements.get(),
    );
    let (size, idle, max) = pool_usage(&state.db, state.settings.database.pool_size());
    gauge(
        &mut out,
        "salve_db_pool_connections",
        "Open pooled database connections.",
        f64::from(size),
    );
    gauge(
        &mut out,
        "salve_db_pool_idle_connections",
        "Idle pooled database connections.",
        idle as f64,
    );
    gauge(
        &mut out,
        "salve_db_pool_max_connections",
        "The pool's size limit.",
        f64::from(max),
    );
    Ok(HttpResponse::Ok()
        .insert_header(("cache-control", "no-store"))
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(out))
}

/// (open, idle, max) connections of the pool.
fn pool_usage(db: &DatabaseConnection, max: u32) -> (u32, usize, u32) {
    match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle(), max)
        }
        _ => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle(), max)
        }
    }
}
