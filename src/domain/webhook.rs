//! The rules of webhooks that need no storage: event types, which URLs an endpoint may
//! have, the Standard Webhooks signature and the retry schedule.

use std::net::IpAddr;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What happened, as subscribers name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    ItemCreated,
    ItemUpdated,
    DraftUpdated,
    DraftDiscarded,
    ItemSubmitted,
    ItemPublished,
    ItemUnpublished,
    ItemArchived,
    ItemDeleted,
    ReviewRecorded,
    TermsUpdated,
    ContentImported,
}

impl EventType {
    pub const ALL: [EventType; 12] = [
        EventType::ItemCreated,
        EventType::ItemUpdated,
        EventType::DraftUpdated,
        EventType::DraftDiscarded,
        EventType::ItemSubmitted,
        EventType::ItemPublished,
        EventType::ItemUnpublished,
        EventType::ItemArchived,
        EventType::ItemDeleted,
        EventType::ReviewRecorded,
        EventType::TermsUpdated,
        EventType::ContentImported,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::ItemCreated => "item.created",
            EventType::ItemUpdated => "item.updated",
            EventType::DraftUpdated => "draft.updated",
            EventType::DraftDiscarded => "draft.discarded",
            EventType::ItemSubmitted => "item.submitted",
            EventType::ItemPublished => "item.published",
            EventType::ItemUnpublished => "item.unpublished",
            EventType::ItemArchived => "item.archived",
            EventType::ItemDeleted => "item.deleted",
            EventType::ReviewRecorded => "review.recorded",
            EventType::TermsUpdated => "terms.updated",
            EventType::ContentImported => "content.imported",
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|e| e.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "{text:?} is not an event type ({})",
                    Self::ALL.map(Self::as_str).join(", ")
                )
            })
    }

    /// A list of event types, each once, in the order given; at least one.
    pub fn parse_list<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Vec<Self>, String> {
        let mut list = Vec::new();
        for name in names {
            let event = Self::parse(name)?;
            if !list.contains(&event) {
                list.push(event);
            }
        }
        if list.is_empty() {
            return Err("name at least one event type".into());
        }
        Ok(list)
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which endpoint URLs a deployment accepts beyond public `https` ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    /// Plain `http://` URLs.
    pub allow_http: bool,
    /// Loopback, private, link-local and other non-public addresses (checked again on
    /// every connection, against what the name resolves to then).
    pub allow_private: bool,
}

pub const MAX_URL: usize = 2_048;

impl UrlPolicy {
    /// An endpoint URL: absolute, `https` (or `http` if allowed), no credentials or
    /// fragment, and not aimed at a non-public address unless allowed.
    pub fn check(self, text: &str) -> Result<url::Url, String> {
        if text.len() > MAX_URL {
            return Err(format!("is longer than {MAX_URL} characters"));
        }
        let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err("must use https (this deployment refuses plain http)".into()),
            other => return Err(format!("must be an https URL, not {other}:")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not carry credentials (user:password@)".into());
        }
        if url.fragment().is_some() {
            return Err("must not have a fragment (#…)".into());
        }
        let Some(host) = url.host() else {
            return Err("must name a host".into());
        };
        if self.allow_private {
            return Ok(url);
        }
        let refused = match host {
            url::Host::Ipv4(ip) => !is_public(IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => !is_public(IpAddr::V6(ip)),
            url::Host::Domain(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost"
                    || name.ends_with(".localhost")
                    || name.ends_with(".internal")
                    || name.ends_with(".local")
                    || !name.contains('.')
            }
        };
        if refused {
            return Err(format!(
                "{host} is a loopback, private or internal address; this deployment only \
                 delivers to public hosts"
            ));
        }
        Ok(url)
    }
}

/// Whether `ip` is reachable on the public internet (not loopback, private, link-local,
/// shared, multicast, documentation or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0)
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
                || first == 0x0064 && v6.segments()[1] == 0xff9b)
        }
    }
}

/// An endpoint's signing secret, `whsec_<base64>` as Standard Webhooks writes it.
#[derive(Clone)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    pub const PREFIX: &'static str = "whsec_";

    /// A new random secret of 32 bytes.
    pub fn generate() -> Self {
        use rand::RngCore;
        let mut bytes = vec![0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let encoded = text.strip_prefix(Self::PREFIX).unwrap_or(text);
        let bytes = BASE64
            .decode(encoded)
            .map_err(|_| "is not a whsec_ secret".to_owned())?;
        if !(24..=64).contains(&bytes.len()) {
            return Err("must hold 24 to 64 bytes".into());
        }
        Ok(Self(bytes))
    }

    /// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

impl std::fmt::Display for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", Self::PREFIX, BASE64.encode(&self.0))
    }
}

/// When a failed delivery is tried again: exponential backoff (×4 from `first`, at most
/// 12 hours apart) with ±20 % jitter, until `horizon` after the event.
#[derive(Debug, Clone, Copy)]
pub struct RetrySchedule {
    pub first: Duration,
    pub horizon: Duration,
}

impl RetrySchedule {
    const CAP: Duration = Duration::from_secs(12 * 3_600);

    /// The wait after the `attempt`-th failed attempt (1-based), before jitter.
    pub fn delay(self, attempt: u32) -> Duration {
        let factor = 4u32.saturating_pow(attempt.saturating_sub(1).min(15));
        self.first.saturating_mul(factor).min(Self::CAP)
    }

    /// The wait with jitter, `unit` in [0, 1) drawn by the caller.
    pub fn jittered(self, attempt: u32, unit: f64) -> Duration {
        self.delay(attempt)
            .mul_f64(0.8 + 0.4 * unit.clamp(0.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_example() {
        // The example in the Standard Webhooks specification (spec/standard-webhooks.md).
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_round_trip_through_their_text() {
        let secret = SigningSecret::generate();
        let text = secret.to_string();
        assert!(text.starts_with("whsec_"));
        let again = SigningSecret::parse(&text).unwrap();
        assert_eq!(again.sign("m", 1, b"x"), secret.sign("m", 1, b"x"));
        assert!(SigningSecret::parse("whsec_c2hvcnQ=").is_err());
    }

    #[test]
    fn urls_must_be_public_https_unless_allowed() {
        let strict = UrlPolicy::default();
        assert!(strict.check("https://hooks.example.com/salve?x=1").is_ok());
        for bad in [
            "http://hooks.example.com/",
            "ftp://hooks.example.com/",
            "https://127.0.0.1/",
            "https://10.1.2.3/",
            "https://192.168.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:10.0.0.1]/",
            "https://localhost:8080/",
            "https://api.localhost/",
            "https://metadata/",
            "https://user:pw@hooks.example.com/",
            "https://hooks.example.com/#frag",
            "not a url",
        ] {
            assert!(strict.check(bad).is_err(), "{bad} accepted");
        }
        let open = UrlPolicy {
            allow_http: true,
            allow_private: true,
        };
        assert!(open.check("http://127.0.0.1:9000/hook").is_ok());
        assert!(open.check("ftp://127.0.0.1/").is_err());
    }

    #[test]
    fn addresses_are_classified() {
        for public in ["8.8.8.8", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in ["100.64.0.1", "0.1.2.3", "fe80::1", "255.255.255.255", "::"] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn retries_back_off_to_a_cap() {
        let schedule = RetrySchedule {
            first: Duration::from_secs(5),
            horizon: Duration::from_secs(3 * 86_400),
        };
        assert_eq!(schedule.delay(1), Duration::from_secs(5));
        assert_eq!(schedule.delay(2), Duration::from_secs(20));
        assert_eq!(schedule.delay(3), Duration::from_secs(80));
        assert_eq!(schedule.delay(30), Duration::from_secs(12 * 3_600));
        let low = schedule.jittered(2, 0.0);
        let high = schedule.jittered(2, 0.999);
        assert!(low >= Duration::from_secs(16) && high < Duration::from_secs(24));
    }

    #[test]
    fn event_types_parse_and_refuse_unknown_ones() {
        assert_eq!(
            EventType::parse_list(["item.published", "item.published", "review.recorded"]),
            Ok(vec![EventType::ItemPublished, EventType::ReviewRecorded])
        );
        assert!(EventType::parse("item.exploded").is_err());
        assert!(EventType::parse_list([]).is_err());
    }
}
