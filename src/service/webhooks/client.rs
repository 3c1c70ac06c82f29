//! The HTTP client deliveries go out through: no redirects, a timeout, and a resolver that
//! connects only to public addresses unless the deployment allows others, so a name that
//! resolves to an internal service (or is re-pointed there later) is never reached.

use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::DeliveryRules;
use crate::domain::webhook::{SigningSecret, is_public};

struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

pub(super) fn build(rules: &DeliveryRules) -> Result<reqwest::Client, String> {
    // rustls needs a process-wide crypto provider; another part may have installed it.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(rules.timeout)
        .connect_timeout(rules.timeout.min(std::time::Duration::from_secs(5)))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Salve-Webhooks/", env!("CARGO_PKG_VERSION")))
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: rules.policy.allow_private,
        }))
        .build()
        .map_err(|e| format!("cannot build the webhook client: {e}"))
}

/// What one attempt got back.
#[derive(Debug)]
pub(super) struct Outcome {
    pub status: Option<u16>,
    pub error: Option<String>,
}

impl Outcome {
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Posts `body` to `url` with the Standard Webhooks headers, signed by every secret in
/// `secrets` (two while a rotation's overlap lasts).
pub(super) async fn send(
    client: &reqwest::Client,
    rules: &DeliveryRules,
    url: &str,
    id: &str,
    secrets: &[SigningSecret],
    body: String,
) -> Outcome {
    // The URL was checked when registered; the deployment's policy may have tightened.
    if let Err(reason) = rules.policy.check(url) {
        return Outcome {
            status: None,
            error: Some(format!("the URL is no longer accepted: {reason}")),
        };
    }
    let timestamp = chrono::Utc::now().timestamp();
    let signature = secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body.as_bytes()))
        .collect::<Vec<_>>()
        .join(" ");
    let sent = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send()
        .await;
    match sent {
        Ok(response) => {
            let status = response.status();
            Outcome {
                status: Some(status.as_u16()),
                error: (!status.is_success()).then(|| format!("answered {status}")),
            }
        }
        Err(e) => Outcome {
            status: None,
            error: Some(describe(&e)),
        },
    }
}

/// The error and its causes, briefly (what an operator reads in the deliveries list).
fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut text = kind.to_owned();
    let mut cause = error.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text.chars().take(500).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(allow_private: bool, host: &str) -> Result<Vec<SocketAddr>, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let resolver = GuardedResolver { allow_private };
        runtime.block_on(async {
            let name: Name = host.parse().map_err(|_| "not a name".to_owned())?;
            resolver
                .resolve(name)
                .await
                .map(Iterator::collect)
                .map_err(|e| e.to_string())
        })
    }

    #[test]
    fn names_resolving_to_private_addresses_are_not_connected_to() {
        // `localhost` resolves (from /etc/hosts) to loopback only.
        let refused = resolve(false, "localhost").unwrap_err();
        assert!(refused.contains("no public address"), "{refused}");
        let allowed = resolve(true, "localhost").unwrap();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()), "{allowed:?}");
    }
}
