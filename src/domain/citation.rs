//! Citation identifiers and dates as reference managers expect them: one normal form per
//! DOI and PMCID (so that uniqueness means something), and partial dates (`issued`).

use chrono::NaiveDate;
use migration::DOI_PREFIXES;
use serde_json::{Map, Value as Json};

use crate::error::FieldError;

/// A DOI's normal form: trimmed, without a resolver prefix, in lower case (DOIs are
/// case-insensitive).
pub fn normalize_doi(text: &str) -> String {
    let text = text.trim();
    let lower = text.to_lowercase();
    let rest = DOI_PREFIXES
        .iter()
        .find_map(|prefix| lower.strip_prefix(prefix))
        .unwrap_or(&lower);
    rest.trim().to_owned()
}

/// A PMCID's normal form: `PMC` and the digits (`pmc123` and `123` are `PMC123`).
pub fn normalize_pmcid(text: &str) -> String {
    let text = text.trim();
    let digits = text
        .get(..3)
        .filter(|p| p.eq_ignore_ascii_case("pmc"))
        .map_or(text, |_| &text[3..]);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        format!("PMC{digits}")
    } else {
        text.to_owned()
    }
}

/// A date of which the year is known, and perhaps the month and the day:
/// `2017`, `2017-04`, `2017-04-04`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDate {
    pub year: i32,
    pub month: Option<u32>,
    pub day: Option<u32>,
}

impl PartialDate {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("must be a date as YYYY, YYYY-MM or YYYY-MM-DD, not {text:?}");
        let parts: Vec<&str> = text.split('-').collect();
        let number = |part: &str, len: usize| {
            (part.len() == len && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u32>().ok())
                .flatten()
        };
        let year = parts.first().and_then(|y| number(y, 4)).ok_or_else(bad)?;
        let month = parts
            .get(1)
            .map(|m| number(m, 2).ok_or_else(bad))
            .transpose()?;
        let day = parts
            .get(2)
            .map(|d| number(d, 2).ok_or_else(bad))
            .transpose()?;
        if parts.len() > 3 {
            return Err(bad());
        }
        let year = i32::try_from(year).map_err(|_| bad())?;
        let valid = match (month, day) {
            (None, _) => true,
            (Some(m), None) => (1..=12).contains(&m),
            (Some(m), Some(d)) => NaiveDate::from_ymd_opt(year, m, d).is_some(),
        };
        if !valid {
            return Err(bad());
        }
        Ok(Self { year, month, day })
    }

    /// CSL's `date-parts`: `[[year, month, day]]`, as far as known.
    pub fn date_parts(&self) -> Vec<i64> {
        std::iter::once(i64::from(self.year))
            .chain(self.month.map(i64::from))
            .chain(self.day.map(i64::from))
            .collect()
    }
}

/// A full date (`accessed`): `YYYY-MM-DD`.
pub fn check_full_date(text: &str) -> Result<(), String> {
    match PartialDate::parse(text) {
        Ok(PartialDate { day: Some(_), .. }) => Ok(()),
        _ => Err(format!("must be a date as YYYY-MM-DD, not {text:?}")),
    }
}

/// Puts a citation's identifiers in normal form and keeps `year` and `issued` in step:
/// `issued` gives the year; a `year` alone gives `issued`. Returns what disagrees.
pub fn normalize(document: &mut Map<String, Json>) -> Vec<FieldError> {
    for (field, normal) in [
        ("doi", normalize_doi as fn(&str) -> String),
        ("pmcid", normalize_pmcid),
    ] {
        if let Some(Json::String(text)) = document.get_mut(field) {
            *text = normal(text);
        }
    }
    if let Some(Json::Array(names)) = document.get_mut("authors") {
        for name in names.iter_mut() {
            if let Ok(parsed) = super::names::parse(name) {
                *name = parsed.to_json();
            }
        }
    }
    let issued = match document.get("issued") {
        Some(Json::String(text)) => PartialDate::parse(text).ok(),
        _ => None,
    };
    let year = document.get("year").and_then(Json::as_i64);
    match (issued, year, document.get("year")) {
        (Some(issued), Some(year), _) if i64::from(issued.year) != year => {
            return vec![FieldError::new(
                "/issued",
                format!(
                    "is in {}, but year is {year}: give one, or both alike",
                    issued.year
                ),
            )];
        }
        (Some(issued), None, Some(Json::Null) | None) => {
            document.insert("year".into(), Json::from(issued.year));
        }
        (None, Some(year), _) if document.get("issued").is_none_or(Json::is_null) => {
            document.insert("issued".into(), Json::String(format!("{year:04}")));
        }
        _ => {}
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identifiers_have_one_normal_form() {
        for doi in [
            "10.1001/JAMA.2017.1234",
            " https://doi.org/10.1001/jama.2017.1234",
            "doi:10.1001/jama.2017.1234",
            "HTTP://DX.DOI.ORG/10.1001/Jama.2017.1234 ",
        ] {
            assert_eq!(normalize_doi(doi), "10.1001/jama.2017.1234");
        }
        assert_eq!(normalize_pmcid("pmc5467890"), "PMC5467890");
        assert_eq!(normalize_pmcid("5467890"), "PMC5467890");
        assert_eq!(normalize_pmcid("PMCX"), "PMCX");
    }

    #[test]
    fn partial_dates() {
        assert_eq!(PartialDate::parse("2017").unwrap().date_parts(), [2017]);
        assert_eq!(
            PartialDate::parse("2017-04-04").unwrap().date_parts(),
            [2017, 4, 4]
        );
        for bad in ["17", "2017-4", "2017-13", "2017-02-30", "2017-01-01-01", ""] {
            assert!(PartialDate::parse(bad).is_err(), "{bad}");
        }
        assert!(check_full_date("2017-04").is_err());
    }

    #[test]
    fn year_and_issued_stay_in_step() {
        let mut doc = json!({ "issued": "2019-05" }).as_object().unwrap().clone();
        assert!(normalize(&mut doc).is_empty());
        assert_eq!(doc["year"], 2019);
        let mut doc = json!({ "year": 2018 }).as_object().unwrap().clone();
        assert!(normalize(&mut doc).is_empty());
        assert_eq!(doc["issued"], "2018");
        let mut doc = json!({ "year": 2018, "issued": "2019" })
            .as_object()
            .unwrap()
            .clone();
        assert_eq!(normalize(&mut doc)[0].pointer, "/issued");
    }
}
