//! The evidence behind a claim (a technique helps with a condition, a technique brings a
//! benefit): how certain it is (GRADE), how strong the study design (OCEBM 2011 level),
//! which way it points, and the citations that back it. One parse for every write path.

use std::collections::HashSet;

use serde_json::{Value as Json, json};

use super::slug::Slug;
use super::validate::check_note;
use crate::error::FieldError;

/// Most citations behind one claim.
pub const MAX_CLAIM_CITATIONS: usize = 50;
/// The keys of an evidence object as written.
const KEYS: &[&str] = &["certainty", "level", "direction", "summary", "citations"];

/// GRADE certainty of the evidence, strongest first (`Ord`: `High` is the least).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Certainty {
    High,
    Moderate,
    Low,
    VeryLow,
}

impl Certainty {
    pub const ALL: [Certainty; 4] = [
        Certainty::High,
        Certainty::Moderate,
        Certainty::Low,
        Certainty::VeryLow,
    ];
    /// The names as stored and served, strongest first.
    pub const NAMES: &'static [&'static str] = migration::CERTAINTIES;

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == text)
    }

    /// A query parameter's value (`min_certainty=moderate`); 400 naming it otherwise.
    pub fn parse_param(parameter: &str, value: &str) -> crate::error::Result<Self> {
        Self::parse(value).ok_or_else(|| {
            super::bad(
                parameter,
                format!("{value:?} is not one of {}", Self::NAMES.join(", ")),
            )
        })
    }

    /// The certainties at or above `self` (what `min_certainty=self` admits).
    pub fn at_least(self) -> impl Iterator<Item = Certainty> {
        Self::ALL.into_iter().filter(move |c| *c <= self)
    }
}

/// Which way the evidence points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Benefit,
    NoEffect,
    Harm,
    Mixed,
}

impl Direction {
    pub const ALL: [Direction; 4] = [
        Direction::Benefit,
        Direction::NoEffect,
        Direction::Harm,
        Direction::Mixed,
    ];
    pub const NAMES: &'static [&'static str] = migration::DIRECTIONS;

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == text)
    }
}

/// A claim's evidence; its citations are slugs, in the order the writer gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub certainty: Certainty,
    /// OCEBM 2011 level of evidence, 1 (strongest) to 5.
    pub level: Option<u8>,
    pub direction: Direction,
    pub summary: Option<String>,
    pub citations: Vec<String>,
}

impl Evidence {
    /// Parses a written evidence object (`at` is its JSON pointer); `null` is no evidence.
    pub fn parse(at: &str, value: &Json) -> Result<Option<Self>, Vec<FieldError>> {
        let map = match value {
            Json::Null => return Ok(None),
            Json::Object(map) => map,
            _ => {
                return Err(vec![FieldError::new(
                    at,
                    "must be an object with certainty, level, direction, summary and citations",
                )]);
            }
        };
        let mut errors = Vec::new();
        if let Some(key) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
            errors.push(FieldError::new(
                format!("{at}/{key}"),
                format!("is not an evidence field (fields: {})", KEYS.join(", ")),
            ));
        }
        let certainty = match map.get("certainty") {
            Some(Json::String(text)) => Certainty::parse(text),
            _ => None,
        };
        if certainty.is_none() {
            errors.push(FieldError::new(
                format!("{at}/certainty"),
                format!("must be one of {}", Certainty::NAMES.join(", ")),
            ));
        }
        let level = match map.get("level") {
            None | Some(Json::Null) => None,
            Some(value) => match value.as_u64().filter(|l| (1..=5).contains(l)) {
                Some(level) => Some(level as u8),
                None => {
                    errors.push(FieldError::new(
                        format!("{at}/level"),
                        "must be an OCEBM 2011 level: an integer from 1 to 5",
                    ));
                    None
                }
            },
        };
        let direction = match map.get("direction") {
            None | Some(Json::Null) => Some(Direction::Benefit),
            Some(Json::String(text)) => Direction::parse(text),
            Some(_) => None,
        };
        if direction.is_none() {
            errors.push(FieldError::new(
                format!("{at}/direction"),
                format!("must be one of {}", Direction::NAMES.join(", ")),
            ));
        }
        let summary = match map.get("summary") {
            None | Some(Json::Null) => None,
            Some(Json::String(text)) => match check_note(text) {
                Ok(()) => Some(text.clone()),
                Err(e) => {
                    errors.push(FieldError::new(format!("{at}/summary"), e));
                    None
                }
            },
            Some(_) => {
                errors.push(FieldError::new(format!("{at}/summary"), "must be a string"));
                None
            }
        };
        let citations = citations(
            &format!("{at}/citations"),
            map.get("citations"),
            &mut errors,
        );
        if let Some(certainty) = certainty
            && certainty != Certainty::VeryLow
            && citations.is_empty()
            && errors.is_empty()
        {
            errors.push(FieldError::new(
                format!("{at}/citations"),
                format!(
                    "a claim of {} certainty needs at least one citation",
                    certainty.as_str()
                ),
            ));
        }
        match (certainty, direction) {
            (Some(certainty), Some(direction)) if errors.is_empty() => Ok(Some(Self {
                certainty,
                level,
                direction,
                summary,
                citations,
            })),
            _ => Err(errors),
        }
    }

    /// The stored form, as written and as revisions keep it (citations by slug).
    pub fn to_json(&self) -> Json {
        json!({
            "certainty": self.certainty.as_str(),
            "level": self.level,
            "direction": self.direction.as_str(),
            "summary": self.summary,
            "citations": self.citations,
        })
    }
}

fn citations(at: &str, value: Option<&Json>, errors: &mut Vec<FieldError>) -> Vec<String> {
    let items = match value {
        None | Some(Json::Null) => return Vec::new(),
        Some(Json::Array(items)) if items.len() <= MAX_CLAIM_CITATIONS => items,
        Some(_) => {
            errors.push(FieldError::new(
                at,
                format!("must be a list of at most {MAX_CLAIM_CITATIONS} citation slugs"),
            ));
            return Vec::new();
        }
    };
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str().map(Slug::parse) {
            Some(Ok(slug)) if seen.insert(slug.as_str().to_owned()) => {
                out.push(slug.as_str().to_owned());
            }
            Some(Ok(slug)) => errors.push(FieldError::new(
                format!("{at}/{i}"),
                format!("cites {:?} twice", slug.as_str()),
            )),
            Some(Err(e)) => errors.push(FieldError::new(format!("{at}/{i}"), e.to_string())),
            None => errors.push(FieldError::new(
                format!("{at}/{i}"),
                "must be the slug of a citation",
            )),
        }
    }
    out
}

/// How a claim reads: the technique and what it is claimed to help with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimKind {
    /// A technique brings a benefit (an outcome: "increased blood flow").
    Benefit,
    /// A technique helps with a condition ("lower back pain").
    Condition,
}

/// The claim in plain language, worded as GRADE summaries of findings word certainty:
/// stated plainly when high, "probably" when moderate, "may" when low, "it is very
/// uncertain whether" when very low.
pub fn statement(
    kind: ClaimKind,
    certainty: Certainty,
    direction: Direction,
    technique: &str,
    other: &str,
) -> String {
    let other = lower_first(other);
    // (third person, base form) of what the technique does to the other end.
    let (does, doing): (String, String) = match (direction, kind) {
        (Direction::Benefit, ClaimKind::Benefit) => {
            (format!("leads to {other}"), format!("lead to {other}"))
        }
        (Direction::Benefit, ClaimKind::Condition) => {
            (format!("helps with {other}"), format!("help with {other}"))
        }
        (Direction::NoEffect, _) => (
            format!("makes little or no difference to {other}"),
            format!("make little or no difference to {other}"),
        ),
        (Direction::Harm, ClaimKind::Benefit) => (
            format!("works against {other}"),
            format!("work against {other}"),
        ),
        (Direction::Harm, ClaimKind::Condition) => (
            format!("makes {other} worse"),
            format!("make {other} worse"),
        ),
        (Direction::Mixed, _) => {
            let helps = match kind {
                ClaimKind::Benefit => "leads to",
                ClaimKind::Condition => "helps with",
            };
            let how = match certainty {
                Certainty::High => "",
                Certainty::Moderate => ", with moderate certainty",
                Certainty::Low => ", with low certainty",
                Certainty::VeryLow => ", and the evidence is very uncertain",
            };
            return format!("Studies disagree on whether {technique} {helps} {other}{how}.");
        }
    };
    match certainty {
        Certainty::High => format!("{technique} {does}."),
        Certainty::Moderate => format!("{technique} probably {does}."),
        Certainty::Low => format!("{technique} may {doing}."),
        Certainty::VeryLow => format!("It is very uncertain whether {technique} {does}."),
    }
}

/// "Lower back pain" → "lower back pain", but "DOMS" stays.
fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second)) if first.is_uppercase() && !second.is_uppercase() => {
            first.to_lowercase().chain(text.chars().skip(1)).collect()
        }
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_schema() {
        assert_eq!(
            Certainty::ALL.map(Certainty::as_str),
            ["high", "moderate", "low", "very_low"]
        );
        assert_eq!(Direction::ALL.map(Direction::as_str).len(), 4);
        assert_eq!(
            Certainty::Moderate.at_least().collect::<Vec<_>>(),
            [Certainty::High, Certainty::Moderate]
        );
    }

    #[test]
    fn a_graded_claim_needs_a_citation() {
        let err = Evidence::parse("/e", &json!({"certainty": "moderate"})).unwrap_err();
        assert_eq!(err[0].pointer, "/e/citations");
        let ok = Evidence::parse("/e", &json!({"certainty": "very_low"}))
            .unwrap()
            .unwrap();
        assert_eq!(ok.direction, Direction::Benefit);
    }

    #[test]
    fn every_bad_part_is_named() {
        let err = Evidence::parse(
            "/e",
            &json!({"certainty": "sure", "level": 6, "direction": "up",
                    "citations": ["a", "a", 3], "extra": 1}),
        )
        .unwrap_err();
        let pointers: Vec<&str> = err.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/e/extra",
                "/e/certainty",
                "/e/level",
                "/e/direction",
                "/e/citations/1",
                "/e/citations/2"
            ]
        );
    }

    #[test]
    fn statements_word_certainty_as_grade_does() {
        let say = |c| {
            statement(
                ClaimKind::Condition,
                c,
                Direction::Benefit,
                "Massage",
                "Lower back pain",
            )
        };
        assert_eq!(say(Certainty::High), "Massage helps with lower back pain.");
        assert_eq!(
            say(Certainty::Moderate),
            "Massage probably helps with lower back pain."
        );
        assert_eq!(
            say(Certainty::Low),
            "Massage may help with lower back pain."
        );
        assert_eq!(
            say(Certainty::VeryLow),
            "It is very uncertain whether Massage helps with lower back pain."
        );
        assert_eq!(
            statement(
                ClaimKind::Benefit,
                Certainty::Low,
                Direction::NoEffect,
                "Cupping",
                "DOMS relief"
            ),
            "Cupping may make little or no difference to DOMS relief."
        );
    }
}
