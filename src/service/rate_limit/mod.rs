//! Rate limits (GCRA, through governor): per API key, and per client address for callers
//! without one (IPv6 addresses by their /64). Each caller class has its quota
//! (`--rate-limit-*`); a key may carry its own. Every limited response says where the
//! caller stands in the `RateLimit-Policy` and `RateLimit` fields of
//! draft-ietf-httpapi-ratelimit-headers-10; over the limit, 429 with `Retry-After`.
//! Limits are per instance: behind a balancer over N instances a caller gets up to N times
//! the quota.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use crate::config::ServeSettings;
use crate::domain::rate_limit::{RateClass, RateQuota, TrustedProxies, canonical};

mod store;

use store::BoundedStore;

/// Whom a quota is counted for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Subject {
    Address(IpAddr),
    Key(Uuid),
}

type Gcra = RateLimiter<Subject, BoundedStore<Subject>, DefaultClock, StateInformationMiddleware>;

struct Limiter {
    quota: RateQuota,
    gcra: Gcra,
    /// `RateLimit-Policy`, the same for every request.
    policy_field: Arc<str>,
}

impl Limiter {
    fn new(policy: &str, quota: RateQuota, capacity: usize) -> Self {
        let window = Duration::from_secs(u64::from(quota.window_s));
        let requests = NonZeroU32::new(quota.requests).unwrap_or(NonZeroU32::MIN);
        let gcra_quota = Quota::with_period(window / quota.requests)
            .unwrap_or_else(|| Quota::per_second(requests))
            .allow_burst(requests);
        let store = BoundedStore::new(capacity);
        Self {
            quota,
            gcra: RateLimiter::new(gcra_quota, store, DefaultClock::default()),
            policy_field: format!("\"{policy}\";q={};w={}", quota.requests, quota.window_s).into(),
        }
    }

    fn check(&self, policy: &'static str, subject: &Subject) -> Decision {
        let policy_field = Arc::clone(&self.policy_field);
        let quota = self.quota;
        let per_request = f64::from(quota.window_s) / f64::from(quota.requests);
        match self.gcra.check_key(subject) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = quota.requests.saturating_sub(remaining);
                Decision {
                    policy,
                    policy_field,
                    remaining,
                    reset_s: (f64::from(used) * per_request).ceil() as u64,
                    retry_after_s: None,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(self.gcra.clock().now());
                let wait_s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
                Decision {
                    policy,
                    policy_field,
                    remaining: 0,
                    reset_s: wait_s.max(1),
                    retry_after_s: Some(wait_s.max(1)),
                }
            }
        }
    }
}

/// Where a caller stands after a request was counted.
#[derive(Debug, Clone)]
pub struct Decision {
    policy: &'static str,
    policy_field: Arc<str>,
    remaining: u32,
    reset_s: u64,
    /// Set when the request is refused.
    pub retry_after_s: Option<u64>,
}

impl Decision {
    /// The values of `RateLimit-Policy` and `RateLimit` (structured fields).
    pub fn fields(&self) -> (Arc<str>, String) {
        let state = format!(
            "\"{}\";r={};t={}",
            self.policy, self.remaining, self.reset_s
        );
        (Arc::clone(&self.policy_field), state)
    }
}

/// The deployment's limits and every caller's state.
pub struct RateLimits {
    classes: HashMap<RateClass, Limiter>,
    /// Limiters of keys with their own quota, one per distinct quota.
    own: Mutex<HashMap<RateQuota, Arc<Limiter>>>,
    trusted: TrustedProxies,
    capacity: usize,
}

impl RateLimits {
    pub fn from_settings(settings: &ServeSettings) -> anyhow::Result<Self> {
        let capacity = usize::try_from(settings.rate_limit_clients).unwrap_or(usize::MAX);
        let mut classes = HashMap::new();
        for class in RateClass::ALL {
            let (flag, text) = match class {
                RateClass::Anonymous => ("anonymous", &settings.rate_limit_anonymous),
                RateClass::Read => ("read", &settings.rate_limit_read),
                RateClass::Write => ("write", &settings.rate_limit_write),
                RateClass::Admin => ("admin", &settings.rate_limit_admin),
            };
            let quota =
                RateQuota::parse(text).map_err(|e| anyhow::anyhow!("--rate-limit-{flag}: {e}"))?;
            classes.insert(class, Limiter::new(class.as_str(), quota, capacity));
        }
        let trusted = TrustedProxies::parse(&settings.trusted_proxies)
            .map_err(|e| anyhow::anyhow!("--trusted-proxies: {e}"))?;
        Ok(Self {
            classes,
            own: Mutex::default(),
            trusted,
            capacity,
        })
    }

    /// Counts a request of a caller without a (valid) key, by its address: the peer's, or
    /// the one trusted proxies forwarded for (the `X-Forwarded-For` values, in order).
    pub fn check_address(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> Decision {
        let subject = Subject::Address(self.client(peer, forwarded_for));
        self.classes[&RateClass::Anonymous].check(RateClass::Anonymous.as_str(), &subject)
    }

    /// Counts a request made with key `id` of `class`, under its own quota if it has one.
    pub fn check_key(&self, id: Uuid, class: RateClass, own: Option<RateQuota>) -> Decision {
        let subject = Subject::Key(id);
        match own {
            None => self.classes[&class].check(class.as_str(), &subject),
            Some(quota) => {
                let limiter = {
                    let mut own = self
                        .own
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    Arc::clone(
                        own.entry(quota)
                            .or_insert_with(|| Arc::new(Limiter::new("key", quota, self.capacity))),
                    )
                };
                limiter.check("key", &subject)
            }
        }
    }

    /// The caller's address (see [`TrustedProxies::client`]); IPv6 by its /64, which one
    /// subscriber usually holds whole.
    fn client(&self, peer: Option<IpAddr>, forwarded_for: &[&str]) -> IpAddr {
        let peer = peer.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        match canonical(self.trusted.client(peer, forwarded_for)) {
            IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
            v4 => v4,
        }
    }
}
