//! The state every request handler receives: connections, settings, the read cache, the
//! write gate and the request metrics. Below the handlers (`api`) and above the rules
//! (`service`).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::http::header::HeaderValue;
use sea_orm::DatabaseConnection;

use crate::config::Settings;
use crate::db::StatementCounter;
use crate::domain::cursor::CursorCodec;
use crate::service::cache::ReadCache;
use crate::service::editing::WriteGate;
use crate::telemetry::http::HttpMetrics;

/// Shared by every request handler.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    /// Signs pagination cursors with a secret shared by all instances on the database.
    pub cursors: CursorCodec,
    pub statements: StatementCounter,
    /// Queues this process's write transactions (SQLite takes one writer at a time).
    pub writes: WriteGate,
    /// The pool editorial writes use (apart from `db`, so they never queue behind reads).
    pub editor_db: DatabaseConnection,
    /// Published-content responses, invalidated by writes (`service::cache`).
    pub cache: Arc<ReadCache>,
    /// The deployment's syndication terms, valid until the read cache moves on.
    pub terms: Arc<crate::service::syndication::TermsCache>,
    /// Request counts and latencies for `/metrics`.
    pub metrics: Arc<HttpMetrics>,
    /// Every caller's rate-limit state.
    pub rate_limits: Arc<crate::service::rate_limit::RateLimits>,
    /// Keys used since their `last_used_at` was last written.
    pub key_usage: Arc<crate::service::keys::KeyUsage>,
    /// `Cache-Control` of published-content reads, parsed once.
    pub public_cache_control: HeaderValue,
    shutting_down: Arc<AtomicBool>,
}

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        editor_db: DatabaseConnection,
        settings: Settings,
        cursors: CursorCodec,
        statements: StatementCounter,
        rate_limits: crate::service::rate_limit::RateLimits,
    ) -> Self {
        let cache = ReadCache::new(
            settings.serve.cache_mb as usize * 1024 * 1024,
            !settings.serve.no_cache,
        );
        let public_cache_control = HeaderValue::from_str(&settings.serve.cache_control)
            .unwrap_or_else(|_| HeaderValue::from_static("no-cache"));
        Self {
            db,
            editor_db,
            public_cache_control,
            settings: Arc::new(settings),
            cursors,
            statements,
            writes: Default::default(),
            cache: Arc::new(cache),
            terms: Arc::default(),
            metrics: Default::default(),
            key_usage: Arc::default(),
            rate_limits: Arc::new(rate_limits),
            shutting_down: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The deployment's syndication terms, from memory while the read cache has not moved.
    async fn syndication_terms(
        &self,
    ) -> crate::error::Result<Arc<crate::domain::syndication::Terms>> {
        self.terms.get(&self.db, &self.cache).await
    }

    /// Where REST reads take the terms from: memory while the read cache follows every
    /// change, else the content's own statement.
    pub async fn syndication_source(
        &self,
    ) -> crate::error::Result<crate::domain::syndication::TermsSource> {
        use crate::domain::syndication::TermsSource;
        Ok(match self.cache.enabled() {
            true => TermsSource::Held(self.syndication_terms().await?),
            false => TermsSource::Read,
        })
    }

    /// Writes the keys' noted uses (taking a writer's turn on SQLite).
    pub async fn flush_key_usage(&self) -> crate::error::Result<usize> {
        let _turn = self.writes.turn().await;
        let db = self.writes.connection().unwrap_or(&self.editor_db);
        self.key_usage.flush(db).await
    }

    pub fn public_read(&self) -> bool {
        !self.settings.serve.no_public_read
    }

    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// The flag a graceful shutdown sets to turn `/readyz` to 503.
    pub fn shutdown_flag(&self) -> Arc<AtomicBool> {
        self.shutting_down.clone()
    }
}
