//! Rate limits in the document: every operation that resolves its caller (those that can
//! answer 401) is counted, so it can answer 429, and its responses carry the `RateLimit`
//! fields (draft-ietf-httpapi-ratelimit-headers-10).

use serde_json::{Map, Value, json};

fn header(description: &str) -> Value {
    json!({ "description": description, "schema": { "type": "string" } })
}

fn rate_limit_headers() -> Map<String, Value> {
    let mut headers = Map::new();
    headers.insert(
        "RateLimit-Policy".into(),
        header("The caller's quota: `\"<policy>\";q=<requests>;w=<seconds>`."),
    );
    headers.insert(
        "RateLimit".into(),
        header("What is left of it: `\"<policy>\";r=<remaining>;t=<seconds until full>`."),
    );
    headers
}

pub fn add_responses(responses: &mut Map<String, Value>) {
    let mut headers = rate_limit_headers();
    headers.insert(
        "Retry-After".into(),
        json!({ "description": "Seconds until a request is allowed again.", "schema": { "type": "integer" } }),
    );
    responses.insert("RateLimited".into(), json!({
        "description": "Over the caller's rate limit (per API key, or per client address without one); retry after `Retry-After` seconds.",
        "headers": headers,
        "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } },
    }));
}

/// Adds 429 and the `RateLimit` fields to every operation that answers 401.
pub fn apply(paths: &mut Value) {
    let Some(paths) = paths.as_object_mut() else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for operation in item.values_mut() {
            let Some(responses) = operation
                .get_mut("responses")
                .and_then(Value::as_object_mut)
            else {
                continue;
            };
            if !responses.contains_key("401") {
                continue;
            }
            for (code, response) in responses.iter_mut() {
                let inline = response.get("$ref").is_none();
                if code.starts_with('2') && inline {
                    response["headers"] = Value::Object(rate_limit_headers());
                }
            }
            responses.insert(
                "429".into(),
                json!({ "$ref": "#/components/responses/RateLimited" }),
            );
        }
    }
}
