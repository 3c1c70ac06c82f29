//! Field rules of the content model, shared by the write APIs (REST, GraphQL) and
//! `salve import`: types, enums, required fields, lengths, and the formats health content
//! relies on (DOI, PMID, ICD-10, ISO 4217, GTIN, https URLs). Each rule returns every
//! violation so a client can fix a body in one round trip.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex_lite::Regex;
use serde_json::Value as Json;

use super::model::{Field, FieldKind};
use super::slug::Slug;
use super::text::{TextKind, check_controls};

/// Longest single-line text (names, titles, labels).
pub const MAX_SHORT_TEXT: usize = 300;
/// Longest summary-like text.
pub const MAX_MEDIUM_TEXT: usize = 5_000;
/// Longest markdown body.
pub const MAX_LONG_TEXT: usize = 200_000;
/// Most entries of a list field.
pub const MAX_LIST_ITEMS: usize = 100;
/// Longest link note.
pub const MAX_NOTE: usize = 2_000;

static DOI: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^10\.\d{4,9}/\S{1,200}$").expect("a valid pattern"));
static PMID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[1-9][0-9]{0,8}$").expect("a valid pattern"));
static PMCID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^PMC[1-9][0-9]{0,9}$").expect("a valid pattern"));
static ICD10: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$").expect("a valid pattern")
});

/// Active ISO 4217 codes.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND \
    BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN \
    ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD \
    JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT \
    MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR \
    RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND \
    TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG";

/// The longest text a field accepts.
pub fn max_length(field: &str) -> usize {
    match field {
        "body" | "description" | "bio" | "mechanism" => MAX_LONG_TEXT,
        "summary" | "disclaimer" => MAX_MEDIUM_TEXT,
        _ => MAX_SHORT_TEXT,
    }
}

fn is_url_field(name: &str) -> bool {
    matches!(
        name,
        "url"
            | "logo_url"
            | "image_url"
            | "same_as"
            | "licence_url"
            | "attribution_url"
            | "canonical_url"
            | "canonical_base_url"
    )
}

/// `https://` with a host, nothing else (no `javascript:`, no `http:` mixed content on a
/// storefront), written as a URL is: no white space, quotes, angle brackets or other
/// characters a URL percent-encodes, which a parser would accept and quietly encode.
pub fn check_https_url(text: &str) -> Result<(), String> {
    let unsafe_char = text.chars().find(|&c| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '"' | '\'' | '<' | '>' | '`' | '\\' | '{' | '}' | '|' | '^'
            )
    });
    if let Some(c) = unsafe_char {
        return Err(format!(
            "{text:?} is not a URL: {c:?} must be percent-encoded"
        ));
    }
    match url::Url::parse(text) {
        Ok(url) if url.scheme() == "https" && url.host_str().is_some_and(|h| !h.is_empty()) => {
            Ok(())
        }
        Ok(_) => Err(format!("{text:?} is not an https URL")),
        Err(e) => Err(format!("{text:?} is not a URL ({e})")),
    }
}

/// A link's note: prose of at most [`MAX_NOTE`] characters.
pub fn check_note(text: &str) -> Result<(), String> {
    if text.chars().count() > MAX_NOTE {
        return Err(format!("must be a string of at most {MAX_NOTE} characters"));
    }
    check_controls(text, TextKind::Prose)
}

/// Format rules of a text value of `field` (beyond its type).
pub fn check_text(field: &str, text: &str) -> Result<(), String> {
    let max = max_length(field);
    if text.chars().count() > max {
        return Err(format!("is longer than {max} characters"));
    }
    let kind = if max > MAX_SHORT_TEXT {
        TextKind::Prose
    } else {
        TextKind::Line
    };
    check_controls(text, kind)?;
    if is_url_field(field) {
        return check_https_url(text);
    }
    let ok = match field {
        "doi" => DOI.is_match(text),
        "pmid" => PMID.is_match(text),
        "currency" => text.len() == 3 && CURRENCIES.split_whitespace().any(|c| c == text),
        "gtin" => return super::gtin::Gtin::parse(text).map(|_| ()),
        "issued" => return super::citation::PartialDate::parse(text).map(|_| ()),
        "accessed" => return super::citation::check_full_date(text),
        "pmcid" => PMCID.is_match(text),
        "icd10" => ICD10.is_match(text),
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(match field {
            "doi" => format!("{text:?} is not a DOI (10.NNNN/suffix)"),
            "pmid" => format!("{text:?} is not a PubMed id (digits)"),
            "pmcid" => format!("{text:?} is not a PubMed Central id (PMC and digits)"),
            "currency" => format!("{text:?} is not an ISO 4217 currency code"),
            "icd10" => format!("{text:?} is not an ICD-10 code (e.g. M54.5)"),
            _ => format!("{text:?} is not valid"),
        })
    }
}

/// Integer bounds of `field`.
pub fn check_integer(field: &str, value: i64) -> Result<(), String> {
    let this_year = i64::from(chrono::Datelike::year(&Utc::now()));
    match field {
        "year" if !(1800..=this_year + 1).contains(&value) => {
            Err(format!("must be a year from 1800 to {}", this_year + 1))
        }
        _ if value < 0 => Err("must not be negative".into()),
        _ if value > 1_000_000_000_000 => Err("is too large".into()),
        _ => Ok(()),
    }
}

pub fn parse_timestamp(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{text:?} is not an RFC 3339 timestamp"))
}

/// One violation inside a field value: a JSON-pointer suffix (`""`, `/2`, `/0/label`)
/// and what is wrong.
pub type Violation = (String, String);

/// Checks `value` (never JSON null) against `field`: type, enum, format and size.
/// References are checked for slug syntax only; their existence needs the database.
pub fn check_value(field: &Field, value: &Json) -> Vec<Violation> {
    let at = |pointer: String, detail: String| vec![(pointer, detail)];
    let name = field.name;
    match (field.kind, value) {
        (FieldKind::Text | FieldKind::Markdown(_), Json::String(s)) => {
            if field.required && s.trim().is_empty() {
                return at(String::new(), "must not be blank".into());
            }
            check_text(name, s)
                .err()
                .map_or_else(Vec::new, |e| at(String::new(), e))
        }
        (FieldKind::Text | FieldKind::Markdown(_), _) => {
            at(String::new(), "must be a string".into())
        }
        (FieldKind::Integer, Json::Number(n)) => match n.as_i64() {
            Some(i) => check_integer(name, i)
                .err()
                .map_or_else(Vec::new, |e| at(String::new(), e)),
            None => at(String::new(), "must be an integer".into()),
        },
        (FieldKind::Integer, _) => at(String::new(), "must be an integer".into()),
        (FieldKind::Enum(allowed), Json::String(s)) if allowed.contains(&s.as_str()) => vec![],
        (FieldKind::Enum(allowed), _) => at(
            String::new(),
            format!("must be one of {}", allowed.join(", ")),
        ),
        (FieldKind::StringList, Json::Array(items)) => {
            if items.len() > MAX_LIST_ITEMS {
                return at(
                    String::new(),
                    format!("has more than {MAX_LIST_ITEMS} entries"),
                );
            }
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match item.as_str() {
                    Some(s) if s.trim().is_empty() => {
                        out.push((format!("/{i}"), "must not be blank".into()))
                    }
                    Some(s) => {
                        if let Err(e) = check_text(name, s) {
                            out.push((format!("/{i}"), e));
                        }
                    }
                    None => out.push((format!("/{i}"), "must be a string".into())),
                }
            }
            out
        }
        (FieldKind::StringList, _) => at(String::new(), "must be a list of strings".into()),
        (FieldKind::Names { .. }, Json::Array(items)) if items.len() > MAX_LIST_ITEMS => at(
            String::new(),
            format!("has more than {MAX_LIST_ITEMS} entries"),
        ),
        (FieldKind::Names { .. }, Json::Array(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, name)| {
                super::names::parse(name)
                    .err()
                    .map(|e| (format!("/{i}"), e))
            })
            .collect(),
        (FieldKind::Names { .. }, _) => at(
            String::new(),
            "must be a list of names: strings, {family, given} or {literal}".into(),
        ),
        (FieldKind::Statistics, Json::Array(items)) => check_statistics(items),
        (FieldKind::Statistics, _) => at(String::new(), "must be a list of statistics".into()),
        (FieldKind::Reference(target), Json::String(s)) => match Slug::parse(s) {
            Ok(_) => vec![],
            Err(e) => at(
                String::new(),
                format!("must be the slug of {}: {e}", target.singular()),
            ),
        },
        (FieldKind::Reference(target), _) => at(
            String::new(),
            format!("must be the slug of {}", target.singular()),
        ),
        (FieldKind::Timestamp, Json::String(s)) => parse_timestamp(s)
            .err()
            .map_or_else(Vec::new, |e| at(String::new(), e)),
        (FieldKind::Timestamp, _) => at(String::new(), "must be an RFC 3339 timestamp".into()),
    }
}

fn check_statistics(items: &[Json]) -> Vec<Violation> {
    if items.len() > MAX_LIST_ITEMS {
        return vec![(
            String::new(),
            format!("has more than {MAX_LIST_ITEMS} entries"),
        )];
    }
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Some(object) = item.as_object() else {
            out.push((format!("/{i}"), "must be an object".into()));
            continue;
        };
        for key in object.keys() {
            if !["label", "value", "unit", "year", "citation"].contains(&key.as_str()) {
                out.push((format!("/{i}/{key}"), "is not a statistic field".into()));
            }
        }
        match object.get("label") {
            Some(Json::String(s)) if !s.trim().is_empty() => {
                if let Err(e) = check_text("label", s) {
                    out.push((format!("/{i}/label"), e));
                }
            }
            _ => out.push((format!("/{i}/label"), "is required (a string)".into())),
        }
        if !object.get("value").is_some_and(Json::is_number) {
            out.push((format!("/{i}/value"), "is required (a number)".into()));
        }
        match object.get("unit") {
            None | Some(Json::Null) => {}
            Some(Json::String(s)) if s.chars().count() <= 50 => {
                if let Err(e) = check_controls(s, TextKind::Line) {
                    out.push((format!("/{i}/unit"), e));
                }
            }
            Some(_) => out.push((
                format!("/{i}/unit"),
                "must be a string of at most 50 characters".into(),
            )),
        }
        match object.get("year") {
            None | Some(Json::Null) => {}
            Some(Json::Number(n))
                if n.as_i64().is_some_and(|y| check_integer("year", y).is_ok()) => {}
            Some(_) => out.push((format!("/{i}/year"), "must be a plausible year".into())),
        }
        match object.get("citation") {
            None | Some(Json::Null) => {}
            Some(Json::String(s)) if Slug::parse(s).is_ok() => {}
            Some(_) => out.push((
                format!("/{i}/citation"),
                "must be the slug of a citation".into(),
            )),
        }
    }
    out
}

/// The citation slugs a statistics value cites (after [`check_value`] passed).
pub fn cited_citations(value: &Json) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("citation").and_then(Json::as_str))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Collection;

    #[test]
    fn health_formats() {
        assert!(check_text("doi", "10.7326/M16-2367").is_ok());
        assert!(check_text("doi", "10.12/x").is_err());
        assert!(check_text("pmid", "28192789").is_ok());
        assert!(check_text("pmid", "PMC123").is_err());
        assert!(check_text("icd10", "M54.5").is_ok());
        assert!(check_text("icd10", "M51.36").is_ok());
        assert!(check_text("icd10", "U07.1").is_ok());
        assert!(check_text("icd10", "M5").is_err());
        assert!(check_text("icd10", "m54.5").is_err());
        assert!(check_text("currency", "USD").is_ok());
        assert!(check_text("currency", "usd").is_err());
        assert!(check_text("currency", "XYZ").is_err());
        assert!(check_text("gtin", "4006381333931").is_ok());
        assert!(check_text("gtin", "4006381333932").is_err());
        assert!(check_text("url", "https://example.com/a").is_ok());
        assert!(check_text("url", "http://example.com/a").is_err());
        assert!(check_text("image_url", "javascript:alert(1)").is_err());
        assert!(check_text("url", "https://example.com/a%20b?q=1&r=%22#top").is_ok());
        for bad in [
            "https://example.com/\"><script>",
            "https://example.com/a b",
            "https://example.com/<img>",
            "https://example.com/'x'",
            "https://example.com/\tx",
        ] {
            assert!(check_text("url", bad).is_err(), "{bad}");
        }
        assert!(check_text("name", "two\nlines").is_err());
        assert!(check_text("body", "two\nlines").is_ok());
        assert!(check_text("body", "bell\u{7}").is_err());
        assert!(check_text("name", &"x".repeat(301)).is_err());
        assert!(check_integer("year", 1700).is_err());
        assert!(check_integer("price_cents", -1).is_err());
    }

    #[test]
    fn list_violations_point_at_the_entry() {
        let field = Collection::Conditions.field("icd10").unwrap();
        let found = check_value(field, &serde_json::json!(["M54.5", "nope", 3]));
        assert_eq!(
            found.iter().map(|(p, _)| p.as_str()).collect::<Vec<_>>(),
            ["/1", "/2"]
        );
    }
}
