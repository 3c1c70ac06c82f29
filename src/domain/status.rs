//! An item's place in the editorial workflow. Only `published` items are visible to
//! readers without the preview scope.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Draft,
    InReview,
    Published,
    Archived,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Draft,
        Status::InReview,
        Status::Published,
        Status::Archived,
    ];

    /// The names as stored and served, in workflow order.
    pub const NAMES: &'static [&'static str] = &["draft", "in_review", "published", "archived"];

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether readers without the preview scope see items in this status.
    pub fn is_public(self) -> bool {
        self == Status::Published
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Which version of content a preview reader asks for (`?version=`): the draft where an
/// item has one (the default with the `preview` scope), or what readers see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentVersion {
    Draft,
    Published,
}

impl ContentVersion {
    pub const PARAM: &'static str = "version";
    pub const NAMES: &'static [&'static str] = &["draft", "published"];

    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "draft" => Ok(ContentVersion::Draft),
            "published" => Ok(ContentVersion::Published),
            other => Err(format!("{other:?} is not a version (draft, published)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ContentVersion, Status};

    #[test]
    fn versions_parse() {
        assert_eq!(ContentVersion::parse("draft"), Ok(ContentVersion::Draft));
        assert_eq!(
            ContentVersion::parse("published"),
            Ok(ContentVersion::Published)
        );
        assert!(ContentVersion::parse("Published").is_err());
    }

    #[test]
    fn names_round_trip() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.as_str()), Some(status));
        }
        assert_eq!(Status::NAMES.len(), Status::ALL.len());
        assert_eq!(Status::parse("Published"), None);
        assert_eq!(Status::parse(""), None);
    }
}
