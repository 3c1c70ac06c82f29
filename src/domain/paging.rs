//! Page sizes: how many items one page of a list, a search, a relation, revisions or the
//! audit log holds. One rule (1 to [`PageSize::MAX`]) and one error text everywhere.

use std::fmt;

/// A page size from 1 to [`PageSize::MAX`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PageSize(u32);

/// A page size out of range or not an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSizeError;

impl PageSize {
    pub const MAX: u32 = 100;
    /// Lists, searches, revisions and the audit log when no size is asked for.
    pub const DEFAULT: PageSize = PageSize(20);
    /// GraphQL relation fields when `first` is not given.
    pub const RELATION_DEFAULT: PageSize = PageSize(10);

    pub fn new(n: i64) -> Result<Self, PageSizeError> {
        u32::try_from(n)
            .ok()
            .filter(|n| (1..=Self::MAX).contains(n))
            .map(PageSize)
            .ok_or(PageSizeError)
    }

    /// A query-string value: decimal digits only.
    pub fn parse(text: &str) -> Result<Self, PageSizeError> {
        text.parse::<i64>()
            .map_err(|_| PageSizeError)
            .and_then(Self::new)
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl Default for PageSize {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl fmt::Display for PageSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "must be an integer from 1 to {}", PageSize::MAX)
    }
}

impl std::error::Error for PageSizeError {}

impl<'de> serde::Deserialize<'de> for PageSize {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        PageSize::parse(&text).map_err(|e| serde::de::Error::custom(format!("limit: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::PageSize;

    #[test]
    fn one_range_for_every_source() {
        assert_eq!(PageSize::parse("1").map(PageSize::get), Ok(1));
        assert_eq!(PageSize::parse("100").map(PageSize::get), Ok(100));
        for bad in ["0", "101", "-1", "abc", "", "1.5", " 5", "4294967297"] {
            assert!(PageSize::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PageSize::new(i64::MAX).is_err());
        assert!(PageSize::new(0).is_err());
        assert_eq!(PageSize::new(20), Ok(PageSize::DEFAULT));
    }
}
