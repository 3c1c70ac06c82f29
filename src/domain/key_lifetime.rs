//! How long API keys and their replaced secrets live: one parse for the spans the CLI
//! takes (`90d`, `12h`), and the bounds of a rotation's overlap window.

use chrono::{DateTime, Duration, Utc};

/// A span of time written `<n>s`, `<n>m`, `<n>h` or `<n>d` (at most ten years).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span(Duration);

impl Span {
    const MAX_SECONDS: i64 = 10 * 366 * 86_400;

    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a span such as 30m, 12h or 90d");
        let split = text.len().checked_sub(1).ok_or_else(bad)?;
        let (number, unit) = text.split_at(split);
        let unit_seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let seconds = number
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_seconds))
            .filter(|s| *s <= Self::MAX_SECONDS)
            .ok_or_else(|| format!("{text:?} is longer than ten years"))?;
        Ok(Self(Duration::seconds(seconds)))
    }

    pub fn seconds(self) -> i64 {
        self.0.num_seconds()
    }

    pub fn after(self, start: DateTime<Utc>) -> DateTime<Utc> {
        start + self.0
    }
}

/// How long the secret a rotation replaced stays valid: from 0 (at once) to 7 days;
/// one hour unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlap(i64);

impl Overlap {
    pub const MAX_SECONDS: i64 = 7 * 86_400;
    pub const DEFAULT: Overlap = Overlap(3_600);

    pub fn from_seconds(seconds: i64) -> Result<Self, String> {
        if (0..=Self::MAX_SECONDS).contains(&seconds) {
            Ok(Self(seconds))
        } else {
            Err(format!(
                "must be between 0 and {} seconds (7 days)",
                Self::MAX_SECONDS
            ))
        }
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn after(self, start: DateTime<Utc>) -> DateTime<Utc> {
        start + Duration::seconds(self.0)
    }
}

/// A key's expiry must lie in the future when it is set.
pub fn check_expiry(expires_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), String> {
    if expires_at > now {
        Ok(())
    } else {
        Err("must be in the future".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_their_units_and_refuse_the_rest() {
        assert_eq!(Span::parse("90d").map(Span::seconds), Ok(90 * 86_400));
        assert_eq!(Span::parse("12h").map(Span::seconds), Ok(43_200));
        assert_eq!(Span::parse("30m").map(Span::seconds), Ok(1_800));
        assert_eq!(Span::parse("45s").map(Span::seconds), Ok(45));
        for bad in [
            "",
            "d",
            "12",
            "1.5h",
            "-3d",
            "3w",
            "+3d",
            "99999999999999999999d",
            "4000d",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlaps_are_bounded() {
        assert!(Overlap::from_seconds(0).is_ok());
        assert!(Overlap::from_seconds(Overlap::MAX_SECONDS).is_ok());
        assert!(Overlap::from_seconds(-1).is_err());
        assert!(Overlap::from_seconds(Overlap::MAX_SECONDS + 1).is_err());
    }
}
