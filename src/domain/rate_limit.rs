//! Rate limits: a quota (`600/1m`: 600 requests per minute, replenished evenly, bursts up
//! to the whole quota), which class of caller a quota applies to, and the proxies whose
//! `X-Forwarded-For` is believed.

use std::fmt;
use std::net::IpAddr;

use super::Scope;
use super::key_lifetime::Span;

/// `requests` per `window_s` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RateQuota {
    pub requests: u32,
    pub window_s: u32,
}

impl RateQuota {
    /// `N/<span>`, e.g. `600/1m`, `100000/10s`: 1 to 10 million requests per 1 second to
    /// 1 day.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a quota such as 600/1m or 50/1s");
        let (requests, window) = text.split_once('/').ok_or_else(bad)?;
        let requests: u32 = requests
            .parse()
            .ok()
            .filter(|n| (1..=10_000_000).contains(n))
            .ok_or_else(|| format!("{text:?}: requests must be 1 to 10000000"))?;
        let window_s = Span::parse(window)
            .ok()
            .map(Span::seconds)
            .filter(|s| (1..=86_400).contains(s))
            .and_then(|s| u32::try_from(s).ok())
            .ok_or_else(|| format!("{text:?}: the window must be 1s to 1d"))?;
        Ok(Self { requests, window_s })
    }
}

impl fmt::Display for RateQuota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.requests, self.window_s)
    }
}

/// Which default quota a caller gets: by address when anonymous, else by its key's
/// strongest scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateClass {
    Anonymous,
    Read,
    Write,
    Admin,
}

impl RateClass {
    pub const ALL: [RateClass; 4] = [Self::Anonymous, Self::Read, Self::Write, Self::Admin];

    /// A key's class: `admin` keys are admins, `write` and `publish` keys writers, the
    /// rest (`read`, `preview`, `metrics`) readers.
    pub fn of_key(granted: &[Scope]) -> Self {
        if granted.contains(&Scope::Admin) {
            Self::Admin
        } else if granted
            .iter()
            .any(|s| matches!(s, Scope::Write | Scope::Publish))
        {
            Self::Write
        } else {
            Self::Read
        }
    }

    /// The policy's name in the `RateLimit` headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anonymous => "anonymous",
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }
}

/// A network (`10.0.0.0/8`, `fd00::/8`) or one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not an address or a network such as 10.0.0.0/8");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address.parse().map_err(|_| bad())?;
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(bad)?,
        };
        Ok(Self {
            address: canonical(address),
            prefix,
        })
    }

    pub fn contains(&self, address: IpAddr) -> bool {
        match (self.address, canonical(address)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) as the IPv4 address they carry.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// A comma-separated list of addresses and networks (empty: none).
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn trusts(&self, address: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(address))
    }

    /// The client: the peer, unless it is a trusted proxy; then the rightmost address of
    /// `X-Forwarded-For` that is not a trusted proxy (the leftmost if all are). An entry
    /// that is not an address ends the walk there: what lies left of it is not believed.
    pub fn client(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        let mut client = canonical(peer);
        if !self.trusts(client) {
            return client;
        }
        for hop in forwarded_for.iter().flat_map(|h| h.split(',')).rev() {
            let Ok(hop) = hop.trim().parse::<IpAddr>() else {
                return client;
            };
            client = canonical(hop);
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn quotas_parse_and_print() {
        assert_eq!(
            RateQuota::parse("600/1m"),
            Ok(RateQuota {
                requests: 600,
                window_s: 60
            })
        );
        assert_eq!(RateQuota::parse("600/1m").unwrap().to_string(), "600/60s");
        for bad in [
            "",
            "600",
            "0/1m",
            "600/0s",
            "600/2d",
            "x/1m",
            "600/1w",
            "-1/1s",
            "20000000/1s",
        ] {
            assert!(RateQuota::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_are_classed_by_their_strongest_scope() {
        assert_eq!(
            RateClass::of_key(&[Scope::Read, Scope::Metrics]),
            RateClass::Read
        );
        assert_eq!(
            RateClass::of_key(&[Scope::Preview, Scope::Publish]),
            RateClass::Write
        );
        assert_eq!(RateClass::of_key(&[Scope::Admin]), RateClass::Admin);
    }

    #[test]
    fn the_client_is_the_rightmost_untrusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.0/8, 192.168.1.7, fd00::/8").unwrap();
        let peer = ip("10.1.2.3");
        assert_eq!(trusted.client(peer, &["203.0.113.9"]), ip("203.0.113.9"));
        // A client cannot pose as another by prepending: the rightmost untrusted hop wins.
        assert_eq!(
            trusted.client(peer, &["1.1.1.1, 203.0.113.9, 192.168.1.7"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            trusted.client(peer, &["1.1.1.1", "203.0.113.9"]),
            ip("203.0.113.9")
        );
        assert_eq!(
            trusted.client(peer, &["10.9.9.9"]),
            ip("10.9.9.9"),
            "all trusted"
        );
        assert_eq!(trusted.client(peer, &["junk, 10.9.9.9"]), ip("10.9.9.9"));
        assert_eq!(trusted.client(peer, &[]), peer);
        // An untrusted peer's header is ignored.
        assert_eq!(
            trusted.client(ip("198.51.100.1"), &["1.2.3.4"]),
            ip("198.51.100.1")
        );
        assert_eq!(
            trusted.client(ip("::ffff:10.0.0.1"), &["1.2.3.4"]),
            ip("1.2.3.4")
        );
        assert!(trusted.trusts(ip("fd12::1")));
        for bad in ["10.0.0.0/33", "nope", "::/129", "10.0.0.0/x"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .trusts(ip("8.8.8.8"))
        );
    }
}
