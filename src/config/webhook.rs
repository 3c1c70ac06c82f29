//! Settings of webhook delivery.

use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct WebhookSettings {
    /// Accept webhook endpoints with plain `http://` URLs (default: https only).
    #[arg(long, env = "SALVE_WEBHOOK_ALLOW_HTTP")]
    pub webhook_allow_http: bool,

    /// Accept webhook endpoints on loopback, private and other non-public addresses, and
    /// deliver to them (default: refused when registered and again at every connection).
    #[arg(long, env = "SALVE_WEBHOOK_ALLOW_PRIVATE")]
    pub webhook_allow_private: bool,

    /// Seconds an endpoint has to answer a delivery before the attempt counts as failed.
    #[arg(long, env = "SALVE_WEBHOOK_TIMEOUT_S", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=60))]
    pub webhook_timeout_s: u64,

    /// Milliseconds before the first retry of a failed delivery; each later wait is four
    /// times the one before (at most 12 hours), with ±20 % jitter.
    #[arg(long, env = "SALVE_WEBHOOK_RETRY_FIRST_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(10..=3_600_000))]
    pub webhook_retry_first_ms: u64,

    /// How long a failing delivery is retried (e.g. 3d, 12h) before it is marked failed;
    /// an endpoint that received nothing in that time is then disabled.
    #[arg(long, env = "SALVE_WEBHOOK_RETRY_FOR", default_value = "3d")]
    pub webhook_retry_for: String,

    /// Deliveries an instance sends at once (at most a quarter of them to one endpoint).
    #[arg(long, env = "SALVE_WEBHOOK_CONCURRENCY", default_value_t = 16,
          value_parser = clap::value_parser!(u64).range(1..=256))]
    pub webhook_concurrency: u64,

    /// Never dispatch webhooks from this instance (another instance of the deployment
    /// does; events are still recorded).
    #[arg(long, env = "SALVE_NO_WEBHOOK_DISPATCH")]
    pub no_webhook_dispatch: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        super::declared_defaults()
    }
}
