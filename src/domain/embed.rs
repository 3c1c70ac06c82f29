//! Embeds: which items have an embed page, the page's options (`theme`, `maxwidth`,
//! `maxheight`), and which URLs name an embeddable item of this deployment (oEmbed).

use super::bad;
use super::model::Collection;
use crate::error::Result;

/// What an embed page shows: an item found by slug, or a product by SKU (the product
/// module).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedTarget {
    pub collection: Collection,
    pub key: EmbedKey,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedKey {
    Slug(String),
    Sku(String),
}

/// The collections with embed pages by slug.
pub const BY_SLUG: &[Collection] = &[
    Collection::Articles,
    Collection::Techniques,
    Collection::Conditions,
];

impl EmbedTarget {
    /// The page's path: `/embed/articles/{slug}` or `/embed/products/sku/{sku}`.
    pub fn embed_path(&self) -> String {
        match &self.key {
            EmbedKey::Slug(slug) => format!("/embed/{}/{}", self.collection, encode(slug)),
            EmbedKey::Sku(sku) => format!("/embed/products/sku/{}", encode(sku)),
        }
    }

    /// The target a path of this deployment names: an embed page's path or the API path
    /// of the same item (`/v1/techniques/{slug}`, `/v1/products/sku/{sku}`); `None` for
    /// any other path.
    pub fn from_path(path: &str) -> Option<Self> {
        let rest = path
            .strip_prefix("/embed/")
            .or_else(|| path.strip_prefix("/v1/"))?;
        let segments: Vec<&str> = rest.split('/').collect();
        let decoded = |s: &str| {
            percent_decode(s).filter(|s| !s.is_empty() && s.len() <= 200 && !s.contains('/'))
        };
        match segments.as_slice() {
            ["products", "sku", sku] => Some(Self {
                collection: Collection::Products,
                key: EmbedKey::Sku(decoded(sku)?),
            }),
            [collection, slug] => {
                let collection = Collection::parse(collection)?;
                BY_SLUG.contains(&collection).then_some(())?;
                Some(Self {
                    collection,
                    key: EmbedKey::Slug(decoded(slug)?),
                })
            }
            _ => None,
        }
    }
}

/// The page's colours: the reader's preference (`auto`), or forced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Theme {
    #[default]
    Auto,
    Light,
    Dark,
}

impl Theme {
    pub const NAMES: &[&str] = &["auto", "light", "dark"];

    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "auto" => Ok(Theme::Auto),
            "light" => Ok(Theme::Light),
            "dark" => Ok(Theme::Dark),
            other => Err(bad(
                "theme",
                format!("unknown theme {other:?} (allowed: auto, light, dark)"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// How a reader asked for an embed page: `theme` and `maxwidth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmbedOptions {
    pub theme: Theme,
    pub maxwidth: Option<Pixels>,
}

/// What an oEmbed consumer asked: the item's URL and the room it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OEmbedRequest {
    pub url: String,
    pub maxwidth: Option<Pixels>,
    pub maxheight: Option<Pixels>,
}

/// A width or height in CSS pixels, as oEmbed consumers and embed pages are given it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pixels(u32);

impl Pixels {
    /// Narrower than this, nothing reads; wider, nothing is gained.
    pub const MIN: u32 = 120;
    pub const MAX: u32 = 4096;

    /// `parameter`'s value: a whole number of pixels from [`Self::MIN`] to [`Self::MAX`].
    pub fn parse(parameter: &str, value: &str) -> Result<Self> {
        let n: u32 = value
            .parse()
            .ok()
            .filter(|_| value.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                bad(
                    parameter,
                    format!("{value:?} is not a positive whole number"),
                )
            })?;
        if !(Self::MIN..=Self::MAX).contains(&n) {
            return Err(bad(
                parameter,
                format!("{n} is out of range ({} to {})", Self::MIN, Self::MAX),
            ));
        }
        Ok(Self(n))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// Percent-encodes a path segment (everything but unreserved characters).
pub fn encode(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = segment.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_embeddable_items_only() {
        let target = EmbedTarget::from_path("/embed/techniques/foam-rolling").unwrap();
        assert_eq!(target.collection, Collection::Techniques);
        assert_eq!(
            EmbedTarget::from_path("/v1/techniques/foam-rolling"),
            Some(target.clone())
        );
        assert_eq!(target.embed_path(), "/embed/techniques/foam-rolling");
        let sku = EmbedTarget::from_path("/v1/products/sku/DEMO%20FR").unwrap();
        assert_eq!(sku.key, EmbedKey::Sku("DEMO FR".into()));
        assert_eq!(sku.embed_path(), "/embed/products/sku/DEMO%20FR");
        for path in [
            "/embed/authors/x",
            "/v1/products/x",
            "/embed/articles/",
            "/embed/articles/a/b",
            "/v2/articles/a",
            "/embed/articles/%zz",
            "/embed/articles/a%2Fb",
        ] {
            assert_eq!(EmbedTarget::from_path(path), None, "{path}");
        }
    }

    #[test]
    fn pixels_are_whole_numbers_in_range() {
        assert_eq!(Pixels::parse("maxwidth", "600").unwrap().get(), 600);
        for value in [
            "0",
            "-5",
            "+600",
            "6e2",
            "600px",
            "",
            "119",
            "4097",
            "99999999999",
        ] {
            assert!(Pixels::parse("maxwidth", value).is_err(), "{value}");
        }
    }
}
