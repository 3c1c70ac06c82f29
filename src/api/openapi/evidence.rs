//! The schemas of a claim's evidence, as written and as read.

use serde_json::{Map, Value, json};

use crate::domain::evidence::{Certainty, Direction, MAX_CLAIM_CITATIONS};
use crate::domain::model::CITATION_KINDS;
use crate::domain::validate::MAX_NOTE;

const SLUG: &str = "^[a-z0-9]+(-[a-z0-9]+)*$";

pub fn add_schemas(schemas: &mut Map<String, Value>) {
    let mut directions: Vec<Value> = Direction::NAMES.iter().map(|d| json!(d)).collect();
    schemas.insert(
        "Evidence".into(),
        json!({
            "type": "object",
            "required": ["certainty", "level", "direction", "summary", "statement", "citations"],
            "description": "The evidence behind a claim.",
            "properties": {
                "certainty": certainty(),
                "level": level(),
                "direction": {
                    "type": "string", "enum": directions,
                    "description": "Which way the evidence points.",
                },
                "summary": { "type": ["string", "null"] },
                "statement": {
                    "type": "string",
                    "description": "The claim in plain language, worded for its certainty as \
                        GRADE summaries word it (\"probably\" when moderate, \"may\" when low, \
                        \"it is very uncertain whether\" when very low).",
                },
                "citations": {
                    "type": "array",
                    "items": { "$ref": "#/components/schemas/CitedWork" },
                    "description": "The citations behind the claim that the reader may see, \
                        in order.",
                },
            },
        }),
    );
    schemas.insert("CitedWork".into(), cited_work());
    directions.push(Value::Null);
    schemas.insert(
        "EvidenceInput".into(),
        json!({
            "type": "object",
            "additionalProperties": false,
            "required": ["certainty"],
            "description": "The evidence behind a claim. A certainty above `very_low` needs at \
                least one citation.",
            "properties": {
                "certainty": certainty(),
                "level": level(),
                "direction": {
                    "type": ["string", "null"], "enum": directions,
                    "description": "Which way the evidence points (default `benefit`).",
                },
                "summary": { "type": ["string", "null"], "maxLength": MAX_NOTE },
                "citations": {
                    "type": ["array", "null"],
                    "maxItems": MAX_CLAIM_CITATIONS,
                    "uniqueItems": true,
                    "items": { "type": "string", "pattern": SLUG, "maxLength": 120 },
                    "description": "Slugs of the citations behind the claim, in order.",
                },
            },
        }),
    );
}

/// A citation behind a claim, in brief: what a storefront shows as the claim's sources.
fn cited_work() -> Value {
    let text = || json!({ "type": ["string", "null"] });
    json!({
        "type": "object",
        "required": ["slug", "title", "kind", "journal", "year", "doi", "pmid", "url"],
        "description": "A citation behind a claim, in brief (the whole citation is at \
            `/v1/citations/{slug}`).",
        "properties": {
            "slug": { "type": "string" },
            "title": { "type": "string" },
            "kind": { "type": "string", "enum": CITATION_KINDS },
            "journal": text(),
            "year": { "type": ["integer", "null"] },
            "doi": text(),
            "pmid": text(),
            "url": text(),
            "formatted": super::schemas::formatted_reference(),
        },
    })
}

fn certainty() -> Value {
    json!({
        "type": "string",
        "enum": Certainty::NAMES,
        "description": "GRADE certainty of the evidence.",
    })
}

fn level() -> Value {
    json!({
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 5,
        "description": "OCEBM 2011 level of evidence (1 is the strongest).",
    })
}
