use std::fmt;

/// What an API key may do (PRODUCT.md §5).
///
/// Scopes imply weaker ones: `admin` implies every scope, `publish` implies `write`
/// (a publisher may correct what they publish), `write` implies `preview` (editors must
/// see the drafts they work on), and `preview` implies `read`. `metrics` (scraping
/// `/metrics`) implies nothing else, so a monitoring system's key reads no content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    Read,
    Preview,
    Write,
    Publish,
    Admin,
    Metrics,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::Read,
        Scope::Preview,
        Scope::Write,
        Scope::Publish,
        Scope::Admin,
        Scope::Metrics,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Preview => "preview",
            Scope::Write => "write",
            Scope::Publish => "publish",
            Scope::Admin => "admin",
            Scope::Metrics => "metrics",
        }
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == input)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|s| s.as_str()).collect();
                format!(
                    "unknown scope {input:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }

    fn implied(self) -> &'static [Scope] {
        match self {
            Scope::Read => &[Scope::Read],
            Scope::Preview => &[Scope::Read, Scope::Preview],
            Scope::Write => &[Scope::Read, Scope::Preview, Scope::Write],
            Scope::Publish => &[Scope::Read, Scope::Preview, Scope::Write, Scope::Publish],
            Scope::Admin => &Scope::ALL,
            Scope::Metrics => &[Scope::Metrics],
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The effective (implication-closed) set of scopes of a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    pub fn none() -> Self {
        Self(0)
    }

    pub fn from_granted(granted: &[Scope]) -> Self {
        Self(
            granted
                .iter()
                .flat_map(|scope| scope.implied())
                .fold(0, |bits, scope| bits | scope.bit()),
        )
    }

    /// Parses a comma-separated list such as `read,preview`.
    pub fn parse_list(input: &str) -> Result<Vec<Scope>, String> {
        let mut scopes: Vec<Scope> = input
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(Scope::parse)
            .collect::<Result<_, _>>()?;
        if scopes.is_empty() {
            return Err("at least one scope is required".into());
        }
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    pub fn can_preview(self) -> bool {
        self.contains(Scope::Preview)
    }

    /// The same scopes but `scope` (what it implies stays).
    pub fn without(self, scope: Scope) -> Self {
        Self(self.0 & !scope.bit())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_imply_weaker_ones() {
        let admin = Scopes::from_granted(&[Scope::Admin]);
        assert!(Scope::ALL.iter().all(|s| admin.contains(*s)));
        let write = Scopes::from_granted(&[Scope::Write]);
        assert!(write.can_preview() && write.contains(Scope::Read));
        assert!(!write.contains(Scope::Publish));
        let read = Scopes::from_granted(&[Scope::Read]);
        assert!(!read.can_preview());
        assert!(!Scopes::none().contains(Scope::Read));
        let metrics = Scopes::from_granted(&[Scope::Metrics]);
        assert!(metrics.contains(Scope::Metrics) && !metrics.contains(Scope::Read));
        assert!(!Scopes::from_granted(&[Scope::Publish]).contains(Scope::Metrics));
    }

    #[test]
    fn parses_scope_lists() {
        assert_eq!(
            Scopes::parse_list("preview, read,read").unwrap(),
            vec![Scope::Read, Scope::Preview]
        );
        assert!(Scopes::parse_list("read,owner").is_err());
        assert!(Scopes::parse_list(" , ").is_err());
    }
}
