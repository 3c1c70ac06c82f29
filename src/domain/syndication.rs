//! Syndication terms: the licence, the attribution a storefront owes, the publisher's logo,
//! the medical disclaimer and each item's canonical page. The deployment states them once; a
//! publisher's own terms win for its articles; an article may name its own canonical page,
//! else it is `<canonical_base_url>/<collection>/<slug>` when a base is set.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::Collection;
use super::validate::check_text;
use crate::error::FieldError;

/// The deployment's terms, as stored and as an admin edits them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Terms {
    /// The licence the content is offered under (https).
    #[serde(default)]
    pub licence_url: Option<String>,
    /// The attribution a storefront shows, e.g. "Content by Carex Health Brands".
    #[serde(default)]
    pub attribution_text: Option<String>,
    /// Where the attribution links (https).
    #[serde(default)]
    pub attribution_url: Option<String>,
    /// The publisher's logo, shown with the attribution (https).
    #[serde(default)]
    pub logo_url: Option<String>,
    /// The medical disclaimer shown beside the content.
    #[serde(default)]
    pub disclaimer: Option<String>,
    /// Items without a canonical page of their own have `<base>/<collection>/<slug>` (https).
    #[serde(default)]
    pub canonical_base_url: Option<String>,
}

/// Where a read takes the deployment's terms from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TermsSource {
    /// Terms the instance holds, known to be current.
    Held(std::sync::Arc<Terms>),
    /// Read with the content, in the same statement where it can be.
    Read,
}

/// What a reader of one item gets: the terms that apply to it, null where not set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Syndication {
    pub licence_url: Option<String>,
    pub attribution_text: Option<String>,
    pub attribution_url: Option<String>,
    pub logo_url: Option<String>,
    pub canonical_url: Option<String>,
    pub disclaimer: Option<String>,
}

/// What a reader of an item gets (the [`Syndication`] fields), described.
pub const ITEM_TERMS: [(&str, &str); 6] = [
    ("licence_url", "The licence the content is offered under."),
    (
        "attribution_text",
        "The attribution to show with the content.",
    ),
    ("attribution_url", "Where the attribution links."),
    (
        "logo_url",
        "The publisher's logo, shown with the attribution.",
    ),
    ("canonical_url", "The item's canonical page."),
    (
        "disclaimer",
        "The medical disclaimer to show beside the content.",
    ),
];

/// What the deployment states (the [`Terms`] fields, in their column order), described.
pub const DEPLOYMENT_TERMS: [(&str, &str); 6] = [
    (
        "licence_url",
        "The licence the content is offered under (https).",
    ),
    (
        "attribution_text",
        "The attribution a storefront shows (one line).",
    ),
    ("attribution_url", "Where the attribution links (https)."),
    ("logo_url", "The publisher's logo (https)."),
    (
        "disclaimer",
        "The medical disclaimer shown beside the content.",
    ),
    (
        "canonical_base_url",
        "Items without a canonical page of their own have `<base>/<collection>/<slug>` (https).",
    ),
];

/// The publisher fields that override the deployment's terms for its articles.
pub const PUBLISHER_OVERRIDES: [&str; 5] = [
    "licence_url",
    "attribution_text",
    "attribution_url",
    "logo_url",
    "disclaimer",
];

impl Terms {
    /// Every rule the terms break, at its pointer: the same rules as the fields of the
    /// same names (https URLs, lengths, control characters), and no blank text.
    pub fn violations(&self) -> Vec<FieldError> {
        let fields = [
            ("licence_url", &self.licence_url),
            ("attribution_text", &self.attribution_text),
            ("attribution_url", &self.attribution_url),
            ("logo_url", &self.logo_url),
            ("disclaimer", &self.disclaimer),
            ("canonical_base_url", &self.canonical_base_url),
        ];
        let mut errors = Vec::new();
        for (name, value) in fields {
            let Some(text) = value else { continue };
            let problem = if text.trim().is_empty() {
                Err("must not be blank; send null to clear".to_owned())
            } else {
                check_text(name, text)
            };
            if let Err(detail) = problem {
                errors.push(FieldError::new(format!("/{name}"), detail));
            }
        }
        errors
    }

    /// The terms of one item: `publisher` (an article's publisher, its fields by name)
    /// wins field by field; `own_canonical` is the item's own canonical page.
    pub fn for_item(
        &self,
        collection: Collection,
        slug: &str,
        own_canonical: Option<&str>,
        publisher: Option<&Map<String, Json>>,
    ) -> Syndication {
        let pick = |name: &str, deployment: &Option<String>| {
            publisher
                .and_then(|p| p.get(name))
                .and_then(Json::as_str)
                .map(str::to_owned)
                .or_else(|| deployment.clone())
        };
        let canonical = own_canonical.map(str::to_owned).or_else(|| {
            self.canonical_base_url
                .as_deref()
                .map(|base| format!("{}/{collection}/{slug}", base.trim_end_matches('/')))
        });
        Syndication {
            licence_url: pick("licence_url", &self.licence_url),
            attribution_text: pick("attribution_text", &self.attribution_text),
            attribution_url: pick("attribution_url", &self.attribution_url),
            logo_url: pick("logo_url", &self.logo_url),
            canonical_url: canonical,
            disclaimer: pick("disclaimer", &self.disclaimer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publisher_overrides_field_by_field_and_canonicals_follow_the_base() {
        let terms = Terms {
            licence_url: Some("https://example.org/licence".into()),
            disclaimer: Some("Not medical advice.".into()),
            canonical_base_url: Some("https://pub.example/".into()),
            ..Terms::default()
        };
        let publisher: Map<String, Json> =
            serde_json::from_str(r#"{"disclaimer": "Ask your clinician.", "licence_url": null}"#)
                .unwrap();
        let item = terms.for_item(Collection::Articles, "a", None, Some(&publisher));
        assert_eq!(item.disclaimer.as_deref(), Some("Ask your clinician."));
        assert_eq!(
            item.licence_url.as_deref(),
            Some("https://example.org/licence")
        );
        assert_eq!(
            item.canonical_url.as_deref(),
            Some("https://pub.example/articles/a")
        );
        let own = terms.for_item(Collection::Articles, "a", Some("https://x.example/a"), None);
        assert_eq!(own.canonical_url.as_deref(), Some("https://x.example/a"));
        assert_eq!(
            Terms::default().for_item(Collection::Techniques, "t", None, None),
            Syndication::default()
        );
    }

    #[test]
    fn terms_are_checked_at_their_pointers() {
        let bad = Terms {
            licence_url: Some("http://x.example".into()),
            attribution_text: Some("a\nb".into()),
            disclaimer: Some(" ".into()),
            ..Terms::default()
        };
        let pointers: Vec<String> = bad.violations().into_iter().map(|e| e.pointer).collect();
        assert_eq!(
            pointers,
            ["/licence_url", "/attribution_text", "/disclaimer"]
        );
    }
}
