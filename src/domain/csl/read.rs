//! CSL-JSON items as reference managers export them (Zotero, Mendeley, EndNote, pandoc),
//! read as citation rows: each item checked against the official CSL-JSON schema, then
//! mapped onto the fields a citation has. What a citation has no field for is left out.

use std::sync::LazyLock;

use serde_json::{Map, Value as Json, json};

use crate::domain::citation::PartialDate;
use crate::domain::model::CITATION_KINDS;
use crate::domain::slug::MAX_SLUG_LEN;

/// `csl-data.json` from the citation-style-language/schema repository (v1.0.2): the same
/// file CI validates Salve's own CSL-JSON with.
static SCHEMA: LazyLock<Result<jsonschema::Validator, String>> = LazyLock::new(|| {
    let schema: Json = serde_json::from_str(include_str!("../../../tools/csl-check/csl-data.json"))
        .map_err(|e| e.to_string())?;
    jsonschema::validator_for(&schema).map_err(|e| e.to_string())
});

/// Most schema violations reported for one item.
const MAX_VIOLATIONS: usize = 3;

/// The CSL fields copied as they are: (CSL, citation).
const COPIED: &[(&str, &str)] = &[
    ("title", "title"),
    ("container-title", "journal"),
    ("volume", "volume"),
    ("issue", "issue"),
    ("page", "pages"),
    ("publisher", "publisher"),
    ("DOI", "doi"),
    ("PMID", "pmid"),
    ("PMCID", "pmcid"),
    ("URL", "url"),
    ("abstract", "summary"),
];

/// One CSL-JSON item as a citation row (the fields `citations.ndjson` has), or why not.
/// The slug is `custom.slug`, else the item's `id` made a slug; the kind is `custom.kind`,
/// else what `genre` says (guideline, review, meta-analysis), else `report` for a report
/// and `study` for the rest.
pub fn row(item: &Json) -> Result<Map<String, Json>, String> {
    check(item)?;
    let Some(item) = item.as_object() else {
        return Err("a CSL-JSON item is an object".into());
    };
    let mut row = Map::new();
    row.insert("slug".into(), json!(slug(item)?));
    row.insert("kind".into(), json!(kind(item)));
    for (from, to) in COPIED {
        let value = match item.get(*from) {
            Some(Json::Number(n)) => n.to_string(),
            Some(Json::String(s)) if !s.trim().is_empty() => s.trim().to_owned(),
            _ => continue,
        };
        row.insert((*to).into(), json!(value));
    }
    if let Some(names) = item.get("author").and_then(Json::as_array) {
        row.insert("authors".into(), names.iter().map(name).collect());
    }
    for field in ["issued", "accessed"] {
        if let Some(value) = item.get(field) {
            let date = date(value).map_err(|e| format!("{field}: {e}"))?;
            row.insert(field.into(), json!(date));
        }
    }
    Ok(row)
}

/// The schema's verdict on one item, its violations named by pointer.
fn check(item: &Json) -> Result<(), String> {
    let validator = SCHEMA
        .as_ref()
        .map_err(|e| format!("the CSL-JSON schema does not load: {e}"))?;
    // The schema describes a file (an array of items): check the item as one.
    let file = Json::Array(vec![item.clone()]);
    let violations: Vec<String> = validator
        .iter_errors(&file)
        .take(MAX_VIOLATIONS)
        .map(|error| {
            let at = error.instance_path().to_string();
            let at = at.strip_prefix("/0").unwrap_or(&at);
            let at = if at.is_empty() { "the item" } else { at };
            format!("{at}: {error}")
        })
        .collect();
    if violations.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "not valid CSL-JSON (csl-data.json): {}",
            violations.join("; ")
        ))
    }
}

fn slug(item: &Map<String, Json>) -> Result<String, String> {
    let custom = item.get("custom").and_then(|c| c.get("slug"));
    if let Some(Json::String(slug)) = custom {
        return Ok(slug.clone());
    }
    let id = match item.get("id") {
        Some(Json::String(id)) => id.clone(),
        Some(Json::Number(id)) => id.to_string(),
        _ => String::new(),
    };
    let slug = slugify(&id);
    if slug.is_empty() {
        return Err(format!(
            "id {id:?} makes no slug: give the item one as custom.slug"
        ));
    }
    Ok(slug)
}

/// Lower-case ASCII letters and digits, everything else a single dash, cut to a slug's
/// length at a dash where it can be.
fn slugify(text: &str) -> String {
    let mut slug = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    if slug.len() > MAX_SLUG_LEN {
        let cut = slug[..MAX_SLUG_LEN].rfind('-').unwrap_or(MAX_SLUG_LEN);
        slug.truncate(cut);
    }
    slug.trim_end_matches('-').to_owned()
}

fn kind(item: &Map<String, Json>) -> String {
    let text = |key: &str| item.get(key).and_then(Json::as_str);
    let custom = item.get("custom").and_then(|c| c.get("kind"));
    if let Some(Json::String(kind)) = custom {
        // Not checked here: the citation's own rule names an unknown one.
        return kind.clone();
    }
    let genre = text("genre").unwrap_or_default().to_lowercase();
    let kind = if genre.contains("meta-analysis") || genre.contains("meta analysis") {
        "meta_analysis"
    } else if genre.contains("guideline") {
        "guideline"
    } else if genre.contains("review") {
        "review"
    } else if text("type") == Some("report") {
        "report"
    } else {
        "study"
    };
    debug_assert!(CITATION_KINDS.contains(&kind));
    kind.to_owned()
}

/// A CSL name as a citation's author: particles join the family name (`van der Berg`),
/// a suffix the given names (`John, Jr.`).
fn name(name: &Json) -> Json {
    let text = |key: &str| name.get(key).and_then(Json::as_str).map(str::trim);
    let joined = |parts: &[Option<&str>], between: &str| {
        let parts: Vec<&str> = parts.iter().flatten().copied().collect();
        (!parts.is_empty()).then(|| parts.join(between))
    };
    if let Some(literal) = text("literal") {
        return json!({ "literal": literal });
    }
    let family = joined(&[text("non-dropping-particle"), text("family")], " ");
    let given = joined(&[text("given"), text("dropping-particle")], " ");
    let given = joined(&[given.as_deref(), text("suffix")], ", ");
    match family {
        Some(family) => json!({ "family": family, "given": given }),
        // A name with a given name only is written as one (a mononym).
        None => json!({ "literal": given.unwrap_or_default() }),
    }
}

/// A CSL date as a partial date (`YYYY`, `YYYY-MM`, `YYYY-MM-DD`): the first of its
/// `date-parts` (a range's start), else its `raw` or `literal` text when it reads as one.
fn date(value: &Json) -> Result<String, String> {
    if let Some(parts) = value
        .get("date-parts")
        .and_then(|p| p.get(0))
        .and_then(Json::as_array)
    {
        let numbers: Vec<i64> = parts
            .iter()
            .map(|p| match p {
                Json::Number(n) => n.as_i64(),
                Json::String(s) => s.trim().parse().ok(),
                _ => None,
            })
            .collect::<Option<_>>()
            .ok_or_else(|| format!("date-parts {parts:?} are not numbers"))?;
        let text = match numbers.as_slice() {
            [y] => format!("{y:04}"),
            [y, m] => format!("{y:04}-{m:02}"),
            [y, m, d, ..] => format!("{y:04}-{m:02}-{d:02}"),
            [] => return Err("date-parts are empty".into()),
        };
        return PartialDate::parse(&text).map(|_| text);
    }
    let text = value
        .as_str()
        .or_else(|| value.get("raw").and_then(Json::as_str))
        .or_else(|| value.get("literal").and_then(Json::as_str))
        .map(str::trim)
        .unwrap_or_default();
    PartialDate::parse(text)
        .map(|_| text.to_owned())
        .map_err(|_| format!("{text:?} is not a date as YYYY, YYYY-MM or YYYY-MM-DD"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zotero_item_is_a_citation_row() {
        let item = json!({
            "id": "http://zotero.org/users/local/Ab3/items/QAS2017", "type": "article-journal",
            "title": "Noninvasive Treatments", "container-title": "Annals of Internal Medicine",
            "volume": 166, "issue": "7", "page": "514-530", "DOI": "10.7326/M16-2367",
            "genre": "Practice Guideline", "language": "en",
            "author": [{ "family": "Qaseem", "given": "Amir" },
                       { "family": "Berg", "given": "J. A.", "non-dropping-particle": "van der" },
                       { "family": "Smith", "given": "John", "suffix": "Jr." },
                       { "literal": "Clinical Guidelines Committee" }],
            "issued": { "date-parts": [["2017", 4, 4]] },
            "accessed": { "raw": "2024-01-31" },
        });
        assert_eq!(
            row(&item).unwrap(),
            json!({
                "slug": "http-zotero-org-users-local-ab3-items-qas2017", "kind": "guideline",
                "title": "Noninvasive Treatments", "journal": "Annals of Internal Medicine",
                "volume": "166", "issue": "7", "pages": "514-530", "doi": "10.7326/M16-2367",
                "authors": [{ "family": "Qaseem", "given": "Amir" },
                            { "family": "van der Berg", "given": "J. A." },
                            { "family": "Smith", "given": "John, Jr." },
                            { "literal": "Clinical Guidelines Committee" }],
                "issued": "2017-04-04", "accessed": "2024-01-31",
            })
            .as_object()
            .unwrap()
            .clone()
        );
    }

    #[test]
    fn salve_csl_json_reads_back() {
        let citation = json!({
            "slug": "acp-2017", "kind": "guideline", "title": "Noninvasive treatments",
            "journal": "Annals of Internal Medicine", "issued": "2017-04", "pages": "514-530",
            "authors": [{ "family": "Qaseem", "given": "Amir" }], "pmid": "28192789",
        });
        let out = crate::domain::csl::exchanged(&|field| citation.get(field));
        let back = row(&out).unwrap();
        for field in [
            "slug", "kind", "title", "journal", "issued", "pages", "pmid",
        ] {
            assert_eq!(back[field], citation[field], "{field}");
        }
        assert_eq!(back["authors"], citation["authors"]);
    }

    #[test]
    fn what_the_schema_refuses_is_named() {
        let cases = [
            (json!({ "id": "a", "type": "journal" }), "/type"),
            (
                json!({ "type": "article" }),
                "\"id\" is a required property",
            ),
            (
                json!({ "id": "a", "type": "article", "author": [{ "family": 5 }] }),
                "/author/0",
            ),
            (
                json!({ "id": "a", "type": "article", "issued": { "date-parts": [[]] } }),
                "/issued",
            ),
            (json!(["not", "an", "item"]), "the item"),
        ];
        for (item, named) in cases {
            let error = row(&item).unwrap_err();
            assert!(error.contains("not valid CSL-JSON"), "{error}");
            assert!(error.contains(named), "{named}: {error}");
        }
    }

    #[test]
    fn slugs_and_dates_are_read_carefully() {
        assert_eq!(slugify("Smith--2020 (a)"), "smith-2020-a");
        assert_eq!(slugify("«»"), "");
        assert_eq!(slugify(&"ab-".repeat(100)).len(), 119);
        let no_slug = json!({ "id": "«»", "type": "article", "title": "x" });
        assert!(row(&no_slug).unwrap_err().contains("custom.slug"));
        let custom = json!({ "id": 7, "type": "report", "custom": { "slug": "own" } });
        assert_eq!(row(&custom).unwrap()["slug"], "own");
        assert_eq!(row(&custom).unwrap()["kind"], "report");
        assert_eq!(
            date(&json!({ "date-parts": [[2020, 2], [2021]] })).unwrap(),
            "2020-02"
        );
        assert_eq!(date(&json!({ "literal": "2019" })).unwrap(), "2019");
        assert!(date(&json!({ "raw": "Spring 2019" })).is_err());
        assert!(date(&json!({ "date-parts": [[2019, 13]] })).is_err());
    }
}
