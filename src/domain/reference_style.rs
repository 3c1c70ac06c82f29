//! The citation styles a reader may ask for (`?style=`, GraphQL `formatted(style:)`).

use std::fmt;

/// AMA 11th, APA 7th and Vancouver (NLM's Citing Medicine).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CitationStyle {
    Ama,
    Apa,
    Vancouver,
}

impl CitationStyle {
    pub const ALL: [CitationStyle; 3] = [
        CitationStyle::Ama,
        CitationStyle::Apa,
        CitationStyle::Vancouver,
    ];
    pub const NAMES: &'static [&'static str] = &["ama", "apa", "vancouver"];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A query parameter's value; 400 naming it otherwise.
    pub fn parse_param(parameter: &str, value: &str) -> crate::error::Result<Self> {
        Self::parse(value).ok_or_else(|| {
            super::bad(
                parameter,
                format!("{value:?} is not one of {}", Self::NAMES.join(", ")),
            )
        })
    }

    /// What the style is.
    pub fn description(self) -> &'static str {
        match self {
            CitationStyle::Ama => "AMA Manual of Style, 11th edition",
            CitationStyle::Apa => "APA Style, 7th edition",
            CitationStyle::Vancouver => "Vancouver (NLM Citing Medicine, 2nd edition)",
        }
    }
}

impl fmt::Display for CitationStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
