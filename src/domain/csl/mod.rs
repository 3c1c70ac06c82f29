//! Citations as CSL-JSON (the Citation Style Language's data format, which reference
//! managers and citation processors exchange): what Salve serves and formats; [`read`]
//! reads it on import.

use serde_json::{Map, Value as Json, json};

use super::citation::PartialDate;
use super::names;

pub mod read;

/// The media type of CSL-JSON.
pub const MEDIA_TYPE: &str = "application/vnd.citationstyles.csl+json";

/// A citation's CSL `type`: what a journal published is a journal article (a guideline
/// too); a guideline or report without one is a report of its issuing body.
fn csl_type(kind: &str, journal: bool) -> &'static str {
    match kind {
        _ if journal => "article-journal",
        "guideline" | "report" => "report",
        _ => "article",
    }
}

/// One citation (read through `get`, as the API shows it) as a CSL-JSON item whose `id`
/// is its slug.
pub fn item<'a>(get: &dyn Fn(&str) -> Option<&'a Json>) -> Json {
    let text = |field: &str| -> Option<&'a str> {
        get(field).and_then(Json::as_str).filter(|s| !s.is_empty())
    };
    let mut out = Map::new();
    let kind = text("kind").unwrap_or("study");
    out.insert("id".into(), json!(text("slug").unwrap_or_default()));
    out.insert(
        "type".into(),
        json!(csl_type(kind, text("journal").is_some())),
    );
    let copies = [
        ("title", "title"),
        ("journal", "container-title"),
        ("volume", "volume"),
        ("issue", "issue"),
        ("pages", "page"),
        ("publisher", "publisher"),
        ("doi", "DOI"),
        ("pmid", "PMID"),
        ("pmcid", "PMCID"),
        ("url", "URL"),
        ("summary", "abstract"),
    ];
    for (field, key) in copies {
        if let Some(value) = text(field) {
            out.insert(key.into(), json!(value));
        }
    }
    let authors = get("authors").map(names::stored).unwrap_or_default();
    if !authors.is_empty() {
        let authors: Vec<Json> = authors.iter().map(|n| n.to_json()).collect();
        out.insert("author".into(), Json::Array(authors));
    }
    let issued = text("issued")
        .and_then(|d| PartialDate::parse(d).ok())
        .map(|d| d.date_parts())
        .or_else(|| get("year").and_then(Json::as_i64).map(|y| vec![y]));
    if let Some(parts) = issued {
        out.insert("issued".into(), json!({ "date-parts": [parts] }));
    }
    if let Some(accessed) = text("accessed").and_then(|d| PartialDate::parse(d).ok()) {
        out.insert(
            "accessed".into(),
            json!({ "date-parts": [accessed.date_parts()] }),
        );
    }
    Json::Object(out)
}

/// [`item`] as Salve serves it to reference managers: with what CSL has no variable for
/// under `custom` (the kind), so that importing it keeps it.
pub fn exchanged<'a>(get: &dyn Fn(&str) -> Option<&'a Json>) -> Json {
    let mut out = item(get);
    let kind = get("kind").and_then(Json::as_str).unwrap_or("study");
    out["custom"] = json!({ "kind": kind });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_citation_as_csl_json() {
        let citation = json!({
            "slug": "acp-2017", "kind": "guideline", "title": "Noninvasive treatments",
            "journal": "Annals of Internal Medicine", "issued": "2017-04-04", "year": 2017,
            "volume": "166", "issue": "7", "pages": "514-530", "doi": "10.7326/m16-2367",
            "pmid": "28192789", "authors": [{ "family": "Qaseem", "given": "Amir" },
            { "literal": "Clinical Guidelines Committee" }], "summary": "", "url": null,
        });
        let get = |field: &str| citation.get(field);
        assert_eq!(
            item(&get),
            json!({
                "id": "acp-2017", "type": "article-journal", "title": "Noninvasive treatments",
                "container-title": "Annals of Internal Medicine", "volume": "166",
                "issue": "7", "page": "514-530", "DOI": "10.7326/m16-2367", "PMID": "28192789",
                "author": [{ "family": "Qaseem", "given": "Amir" },
                           { "literal": "Clinical Guidelines Committee" }],
                "issued": { "date-parts": [[2017, 4, 4]] },
            })
        );
    }
}
