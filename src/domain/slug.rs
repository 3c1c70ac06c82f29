use std::fmt;

pub const MAX_SLUG_LEN: usize = 120;

/// A URL-safe identifier, unique per collection: `^[a-z0-9]+(-[a-z0-9]+)*$`, ≤ 120 chars.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

impl Slug {
    pub fn parse(input: &str) -> Result<Self, String> {
        if input.is_empty() {
            return Err("slug must not be empty".into());
        }
        if input.len() > MAX_SLUG_LEN {
            return Err(format!("slug is longer than {MAX_SLUG_LEN} characters"));
        }
        let valid_chars = input
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let valid_dashes =
            !input.starts_with('-') && !input.ends_with('-') && !input.contains("--");
        if valid_chars && valid_dashes {
            Ok(Self(input.to_owned()))
        } else {
            Err(format!(
                "slug {input:?} must be lower-case letters and digits separated by single dashes"
            ))
        }
    }

    /// [`Self::parse`] for an item of `collection`: also not a word its paths use for
    /// lookups (`/v1/products/sku/…`, `/v1/products/gtin/…`), so no path means two things.
    pub fn parse_for(collection: super::Collection, input: &str) -> Result<Self, String> {
        let slug = Self::parse(input)?;
        match collection.unique_fields().iter().find(|u| u.field == input) {
            Some(lookup) => Err(format!(
                "slug {input:?} is reserved: /v1/{collection}/{}/… looks {collection} up by {}",
                lookup.field, lookup.field
            )),
            None => Ok(slug),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_well_formed_slugs() {
        for ok in ["a", "lower-back-pain", "m54-5", "x1-2-3", &"a".repeat(120)] {
            assert!(Slug::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_malformed_slugs() {
        for bad in [
            "",
            "-a",
            "a-",
            "a--b",
            "A",
            "a_b",
            "a b",
            "é",
            "a/b",
            "a\0",
            &"a".repeat(121),
        ] {
            assert!(Slug::parse(bad).is_err(), "{bad:?}");
        }
        use crate::domain::Collection;
        for reserved in ["sku", "gtin"] {
            assert!(Slug::parse_for(Collection::Products, reserved).is_err());
            assert!(Slug::parse_for(Collection::Techniques, reserved).is_ok());
        }
    }
}
