//! Webhooks (Standard Webhooks v1): endpoints admins register, the outbox every write
//! records its events in, and the dispatcher that delivers them, signed, with retries.

mod client;
pub mod deliveries;
pub mod dispatch;
pub mod endpoints;
mod floor;
pub mod outbox;
mod recorder;

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use tokio::sync::Notify;

use crate::config::WebhookSettings;
use crate::domain::key_lifetime::Span;
use crate::domain::webhook::{RetrySchedule, UrlPolicy};

pub use deliveries::{DeliveryFilter, DeliveryInfo, DeliveryPage};
pub use endpoints::{EndpointChange, EndpointInfo, NewEndpoint, WebhookAdmin};
pub use outbox::{Event, ItemRef};

/// Wakes this process's dispatcher when a write here queued deliveries (others find them
/// by polling).
static WAKE: Notify = Notify::const_new();

pub fn wake() {
    WAKE.notify_one();
}

/// What this process's dispatcher did, for `/metrics`.
#[derive(Default)]
pub struct DispatchStats {
    /// Attempts answered with a 2xx.
    pub delivered: AtomicU64,
    /// Attempts that failed and will be retried.
    pub retried: AtomicU64,
    /// Deliveries given up after the retry period.
    pub failed: AtomicU64,
    /// 1 while this process holds the dispatch lease.
    pub leading: AtomicU64,
}

pub static STATS: DispatchStats = DispatchStats {
    delivered: AtomicU64::new(0),
    retried: AtomicU64::new(0),
    failed: AtomicU64::new(0),
    leading: AtomicU64::new(0),
};

/// Endpoints a deployment may register.
pub const MAX_ENDPOINTS: u64 = 100;

pub fn url_policy(settings: &WebhookSettings) -> UrlPolicy {
    UrlPolicy {
        allow_http: settings.webhook_allow_http,
        allow_private: settings.webhook_allow_private,
    }
}

/// How the dispatcher delivers, from the settings (a wrong `--webhook-retry-for` stops
/// the start).
#[derive(Debug, Clone, Copy)]
pub struct DeliveryRules {
    pub policy: UrlPolicy,
    pub schedule: RetrySchedule,
    pub timeout: Duration,
    pub concurrency: usize,
}

impl DeliveryRules {
    pub fn from_settings(settings: &WebhookSettings) -> Result<Self, String> {
        let horizon = Span::parse(&settings.webhook_retry_for)
            .map_err(|e| format!("--webhook-retry-for: {e}"))?;
        Ok(Self {
            policy: url_policy(settings),
            schedule: RetrySchedule {
                first: Duration::from_millis(settings.webhook_retry_first_ms),
                horizon: Duration::from_secs(horizon.seconds().max(0) as u64),
            },
            timeout: Duration::from_secs(settings.webhook_timeout_s),
            concurrency: settings.webhook_concurrency as usize,
        })
    }
}
