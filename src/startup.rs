//! Builds and runs the HTTP service: one `AppState`, bound listener, graceful shutdown.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_cors::Cors;
use actix_web::dev::{Server, ServerHandle};
use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::api;
use crate::config::Settings;
use crate::db::StatementCounter;
use crate::domain::cursor::CursorCodec;
use crate::service::interchange;
use crate::state::AppState;

pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    dispatch_lease: Option<crate::service::lease::Lease>,
    /// The scheduler's claim on taking scheduled steps, given up at shutdown.
    schedule_lease: crate::service::lease::Lease,
}

impl Application {
    /// Connects, migrates, loads the demo into an empty database (unless disabled) and
    /// binds the listener; the server runs once [`Application::run_until_stopped`] is
    /// awaited.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let mut settings = settings;
        settings.database.background_checkpoint = true;
        let rate_limits = crate::service::rate_limit::RateLimits::from_settings(&settings.serve)?;
        let statements = StatementCounter::default();
        let db = crate::db::connect(&settings.database, &statements).await?;
        crate::db::migrate(&db).await?;
        crate::service::renditions::refresh(&db).await?;
        crate::service::references_store::refresh(&db).await?;
        let cursors = CursorCodec::new(&crate::db::server_secret(&db, "cursor").await?);
        crate::db::server_secret(&db, crate::service::fulltext::DATABASE_IDENTITY).await?;
        if !settings.serve.no_demo && interchange::database_is_empty(&db).await? {
            // The demo is the seed article as it was published: it names no medical
            // reviewer, so it is loaded as unreviewed content whatever the policy for new
            // publications (readers see `review_status: unreviewed`).
            let review = crate::config::ReviewSettings {
                medical_review: crate::config::MedicalReview::Optional,
                ..settings.serve.review
            };
            let report = interchange::import(
                &db,
                &interchange::DEMO,
                interchange::ImportMode::Commit,
                review,
            )
            .await
            .map_err(|e| anyhow::anyhow!("loading the demo content failed: {e}"))?;
            let rows: u64 = report.files.iter().map(|f| f.rows).sum();
            tracing::info!(rows, "loaded the demo content into the empty database");
        }
        let listener = TcpListener::bind(settings.serve.bind)?;
        let port = listener.local_addr()?.port();
        let editor_db = crate::db::connect_writer(&settings.database, &statements).await?;
        let gated = crate::db::connect_gated_writer(&settings.database, &statements).await?;
        let state = AppState::new(db, editor_db, settings, cursors, statements, rate_limits);
        if let Some(gated) = gated {
            state.writes.set_connection(gated);
        }
        crate::db::spawn_checkpointer(&state.db, state.writes.clone(), Duration::from_millis(500));
        crate::service::changes::spawn_watcher(
            &state.settings.database,
            state.db.clone(),
            state.cache.clone(),
        );
        spawn_key_usage_writer(state.clone());
        let mut dispatch_lease = None;
        if !state.settings.serve.webhooks.no_webhook_dispatch {
            let rules = crate::service::webhooks::DeliveryRules::from_settings(
                &state.settings.serve.webhooks,
            )
            .map_err(anyhow::Error::msg)?;
            let dispatcher = crate::service::webhooks::dispatch::Dispatcher::new(
                state.db.clone(),
                state.writes.clone(),
                rules,
            )
            .map_err(anyhow::Error::msg)?;
            dispatch_lease = Some(dispatcher.spawn());
        }
        let schedule_lease = crate::service::scheduler::Scheduler::new(
            state.db.clone(),
            state.editor_db.clone(),
            state.writes.clone(),
            state.cache.clone(),
            state.settings.serve.review,
        )
        .spawn();
        let server = server(listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
            dispatch_lease,
            schedule_lease,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGTERM or SIGINT, then turns `/readyz` to 503, lets in-flight
    /// requests finish (up to the shutdown timeout) and returns.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        tokio::spawn(stop_on_signal(self.shutdown_trigger()));
        tracing::info!(port = self.port, "salve is listening");
        let served = self.server.await;
        if let Err(error) = self.state.flush_key_usage().await {
            tracing::warn!(%error, "could not record the keys' last use at shutdown");
        }
        if let Some(lease) = &self.dispatch_lease {
            lease.release().await;
        }
        self.schedule_lease.release().await;
        served
    }

    /// A handle tests use to trigger the same graceful shutdown as a signal.
    pub fn shutdown_trigger(&self) -> ShutdownTrigger {
        ShutdownTrigger {
            handle: self.server.handle(),
            flag: self.state.shutdown_flag(),
            drain: Duration::from_millis(self.state.settings.serve.shutdown_drain_ms),
        }
    }
}

/// Starts the graceful shutdown a signal starts: `/readyz` turns 503 at once, requests
/// are still served for the drain period, then the listener closes and in-flight requests
/// finish.
#[derive(Clone)]
pub struct ShutdownTrigger {
    handle: ServerHandle,
    flag: Arc<AtomicBool>,
    drain: Duration,
}

impl ShutdownTrigger {
    pub async fn shutdown(&self) {
        self.flag.store(true, Ordering::SeqCst);
        tokio::time::sleep(self.drain).await;
        self.handle.stop(true).await;
    }
}

/// Writes the keys' `last_used_at` every `--key-usage-interval-s`.
fn spawn_key_usage_writer(state: AppState) {
    let every = Duration::from_secs(state.settings.serve.key_usage_interval_s);
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(error) = state.flush_key_usage().await {
                tracing::warn!(%error, "could not record the keys' last use; retrying later");
            }
        }
    });
}

async fn stop_on_signal(trigger: ShutdownTrigger) {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => tracing::info!("SIGINT received; shutting down gracefully"),
        _ = terminate => tracing::info!("SIGTERM received; shutting down gracefully"),
    }
    trigger.shutdown().await;
}

/// CORS for storefront embedding: reads from the configured origins (any by default),
/// never with credentials.
fn cors(origins: &str) -> Cors {
    let mut cors = Cors::default()
        // Storefronts read; POST is for `/graphql`. Every write needs a bearer API key
        // (never a cookie), and editing tools are expected to run server-side, so the
        // preflight refuses PATCH, PUT and DELETE from browsers on other origins.
        .allowed_methods(["GET", "HEAD", "OPTIONS", "POST"])
        .allowed_headers([
            "authorization",
            "if-none-match",
            "if-match",
            "idempotency-key",
            "content-type",
            "x-request-id",
        ])
        .expose_headers([
            "etag",
            "last-modified",
            "location",
            "x-request-id",
            "retry-after",
            "idempotent-replayed",
        ])
        .max_age(3600);
    for origin in origins.split(',').map(str::trim).filter(|o| !o.is_empty()) {
        cors = if origin == "*" {
            cors.allow_any_origin()
        } else {
            cors.allowed_origin(origin)
        };
    }
    cors
}

fn server(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let serve = state.settings.serve.clone();
    let data = web::Data::new(state);
    // Built once, not once per worker.
    let openapi = api::OpenApiJson::new(&api::openapi::document())
        .map_err(|e| std::io::Error::other(format!("OpenAPI document: {e}")))?;
    let graphql = api::graphql::GraphqlApi::build(&serve.graphql)
        .map_err(|e| std::io::Error::other(format!("GraphQL schema: {e}")))?;
    let mut server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(web::Data::new(graphql.clone()))
            .app_data(api::errors::json_config(serve.max_body_bytes))
            .app_data(api::errors::query_config())
            .app_data(api::errors::path_config())
            .app_data(web::PayloadConfig::new(serve.max_body_bytes))
            .configure(|cfg| api::configure(cfg, openapi.clone()))
            .default_service(web::to(api::errors::not_found))
            .wrap(Compress::default())
            .wrap(cors(&serve.cors_origins))
            .wrap(from_fn(api::middleware::request_context))
    })
    .disable_signals()
    .shutdown_timeout(serve.shutdown_timeout_s)
    .client_request_timeout(Duration::from_secs(10))
    .listen(listener)?;
    if let Some(workers) = serve.workers {
        server = server.workers(workers.max(1));
    }
    Ok(server.run())
}
