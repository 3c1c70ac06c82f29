//! Citations formatted as references in AMA, APA and Vancouver by a CSL processor
//! (hayagriva, with the styles and locales it bundles). Each citation is formatted alone,
//! on every write and for rows an older formatter made (at startup), and stored: a read
//! asking for a style costs a column, not a rendering.

use std::sync::LazyLock;

use hayagriva::citationberg::json::Item;
use hayagriva::citationberg::{IndependentStyle, Locale, LocaleFile};
use hayagriva::{
    BibliographyDriver, BibliographyRequest, BufWriteFormat, CitationItem, CitationRequest,
};
use serde_json::{Map, Value as Json, json};

use crate::domain::reference_style::CitationStyle;

/// Which formatter made a row's references: a new one formats every row again.
pub const FORMATTER_VERSION: &str = "hayagriva-0.10.1/1";

struct Styles {
    styles: Vec<(CitationStyle, IndependentStyle)>,
    locales: Vec<Locale>,
}

/// The style and locale files citeproc-js is checked with in CI (`tools/csl-check`, SOURCES.md):
/// both processors read the same CSL.
const STYLE_FILES: [(CitationStyle, &str); 3] = [
    (
        CitationStyle::Ama,
        include_str!("../../tools/csl-check/styles/american-medical-association.csl"),
    ),
    (
        CitationStyle::Apa,
        include_str!("../../tools/csl-check/styles/apa.csl"),
    ),
    (
        CitationStyle::Vancouver,
        include_str!("../../tools/csl-check/styles/nlm-citation-sequence.csl"),
    ),
];

/// Their locale (the styles are English; other locales are never asked for).
const LOCALE_FILE: &str = include_str!("../../tools/csl-check/locales/locales-en-US.xml");

static STYLES: LazyLock<Styles> = LazyLock::new(|| Styles {
    styles: STYLE_FILES
        .iter()
        .filter_map(|(style, xml)| {
            let xml = with_name_elements(xml);
            IndependentStyle::from_xml(&xml)
                .map_err(
                    |e| tracing::error!(%style, error = %e, "a bundled CSL style does not parse"),
                )
                .ok()
                .map(|independent| (*style, independent))
        })
        .collect(),
    locales: LocaleFile::from_xml(LOCALE_FILE)
        .map_err(|e| tracing::error!(error = %e, "the bundled CSL locale does not parse"))
        .map(Locale::from)
        .into_iter()
        .collect(),
});

/// Gives every `cs:names` without a `cs:name` an empty one. CSL says a `cs:names` without
/// one renders names with the inherited options, which an explicit empty `cs:name` also
/// does; hayagriva 0.10.1 instead renders no names at all (Vancouver's authors vanished).
/// Exit: drop this once hayagriva renders such `cs:names` (the test
/// `vancouver_names_authors` then passes without it).
fn with_name_elements(xml: &str) -> String {
    let mut out = String::with_capacity(xml.len() + 64);
    let mut rest = xml;
    while let Some(at) = rest.find("<names ") {
        let Some(end) = rest[at..].find('>').map(|e| at + e) else {
            break;
        };
        out.push_str(&rest[..=end]);
        let self_closing = rest[..end].ends_with('/');
        rest = &rest[end + 1..];
        if !self_closing && !rest.trim_start().starts_with("<name") {
            out.push_str("<name/>");
        }
    }
    out.push_str(rest);
    out
}

/// `{text, html}` of one CSL-JSON item in `style`: the bibliography entry without its
/// number label; `None` when the processor gives nothing.
pub fn format(csl: &Json, style: CitationStyle) -> Option<Json> {
    let item: Item = serde_json::from_value(csl.clone()).ok()?;
    let styles = &*STYLES;
    let (_, independent) = styles.styles.iter().find(|(s, _)| *s == style)?;
    let mut driver = BibliographyDriver::new();
    driver.citation(CitationRequest::from_items(
        vec![CitationItem::with_locator(&item, None)],
        independent,
        &styles.locales,
    ));
    let rendered = driver.finish(BibliographyRequest::new(independent, None, &styles.locales));
    let entry = rendered.bibliography?.items.into_iter().next()?;
    let mut text = String::new();
    let mut html = String::new();
    entry
        .content
        .write_buf(&mut text, BufWriteFormat::Plain)
        .ok()?;
    entry
        .content
        .write_buf(&mut html, BufWriteFormat::Html)
        .ok()?;
    Some(json!({ "text": text.trim(), "html": html.trim() }))
}

/// The references of one citation (its CSL-JSON) in every style, as stored:
/// `{"ama": {text, html}, "apa": …, "vancouver": …}`.
pub fn format_all(csl: &Json) -> Json {
    let mut out = Map::new();
    for style in CitationStyle::ALL {
        out.insert(
            style.as_str().into(),
            format(csl, style).unwrap_or(Json::Null),
        );
    }
    Json::Object(out)
}

/// The stored columns of a citation written with the fields `get` reads (CSL `id`: its
/// slug): `formatted` and `formatted_with`.
pub fn columns<'a>(get: &dyn Fn(&str) -> Option<&'a Json>) -> [(&'static str, sea_orm::Value); 2] {
    let csl = crate::domain::csl::item(get);
    [
        ("formatted", sea_orm::Value::from(format_all(&csl))),
        ("formatted_with", sea_orm::Value::from(FORMATTER_VERSION)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guideline_in_three_styles() {
        let csl = json!({
            "id": "acp", "type": "article-journal",
            "title": "Noninvasive Treatments for Acute, Subacute, and Chronic Low Back Pain",
            "container-title": "Annals of Internal Medicine", "volume": "166", "issue": "7",
            "page": "514-530", "DOI": "10.7326/m16-2367",
            "author": [{ "family": "Qaseem", "given": "Amir" }, { "family": "Wilt", "given": "Timothy J." }],
            "issued": { "date-parts": [[2017, 4, 4]] },
        });
        let all = format_all(&csl);
        for style in CitationStyle::NAMES {
            let text = all[style]["text"].as_str().unwrap();
            assert!(text.contains("Qaseem"), "{style}: {text}");
            assert!(text.contains("2017"), "{style}: {text}");
        }
    }

    #[test]
    fn vancouver_names_authors() {
        let csl = json!({ "id": "k", "type": "article-journal", "title": "T",
            "author": [{ "family": "Kowalski", "given": "Hanna" }],
            "issued": { "date-parts": [[2020]] } });
        let text = format(&csl, CitationStyle::Vancouver).unwrap();
        assert_eq!(text["text"], "Kowalski H. T. 2020.");
    }
}
