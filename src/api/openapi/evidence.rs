//! The schemas of a claim's evidence, as written and as read.

use serde_json::{Map, Value, json};

use crate::domain::evidence::{Certainty, Direction, MAX_CLAIM_CITATIONS};
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
                    "items": { "$ref": "#/components/schemas/Citation" },
                    "description": "The citations behind the claim that the reader may see, \
                        in order (with `style`, each with its `formatted` reference).",
                },
            },
        }),
    );
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
