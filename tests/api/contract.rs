//! The committed API contracts match the code, and the running server serves them.

use serde_json::Value;

use crate::helpers::{Engine, spawn_app};

const REGENERATE: &str =
    "the committed contract is stale: run `cargo run -- gen-contracts` and commit openapi/";

#[test]
fn committed_openapi_document_matches_the_code() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json"))
            .expect("openapi/openapi.json is committed");
    assert!(
        committed == salve::api::openapi::document_json(),
        "{REGENERATE}"
    );
}

#[test]
fn committed_graphql_schema_matches_the_code() {
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/openapi/schema.graphql"
    ))
    .expect("openapi/schema.graphql is committed");
    assert!(committed == salve::api::graphql::sdl(), "{REGENERATE}");
}

#[test]
fn document_is_openapi_3_1_and_documents_every_collection() {
    let doc: Value = serde_json::from_str(&salve::api::openapi::document_json()).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    for collection in salve::domain::Collection::ALL {
        let list = &doc["paths"][format!("/v1/{collection}")]["get"];
        assert!(list["responses"]["200"].is_object(), "{collection}");
        let params: Vec<&str> = list["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        for name in [
            "limit", "cursor", "sort", "include", "fields", "count", "status",
        ] {
            assert!(params.contains(&name), "{collection}: {name}");
        }
        assert!(doc["paths"][format!("/v1/{collection}/{{slug}}")]["get"].is_object());
    }
    let technique_params = doc["paths"]["/v1/techniques"]["get"]["parameters"].to_string();
    for filter in [
        "\"kind\"",
        "\"pressure\"",
        "\"condition\"",
        "\"product\"",
        "\"q\"",
    ] {
        assert!(technique_params.contains(filter), "{filter}");
    }
    assert!(doc["components"]["schemas"]["Problem"]["properties"]["code"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

/// Every operation has an id and says who may call it (`[]` where nobody needs a key).
#[test]
fn every_operation_has_an_id_and_declares_its_security() {
    let doc: Value = serde_json::from_str(&salve::api::openapi::document_json()).unwrap();
    let mut ids = std::collections::BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str();
            assert!(id.is_some(), "{method} {path}: no operationId");
            assert!(
                ids.insert(id.unwrap().to_owned()),
                "{method} {path}: id used twice"
            );
            assert!(
                operation["security"].is_array(),
                "{method} {path}: no security"
            );
        }
    }
}

/// One voice: every operation's summary starts with what the caller does.
#[test]
fn summaries_start_with_a_verb() {
    const VERBS: &[&str] = &[
        "Archive",
        "Change",
        "Check",
        "Compare",
        "Create",
        "Delete",
        "Discard",
        "Get",
        "List",
        "Publish",
        "Read",
        "Record",
        "Register",
        "Replace",
        "Restore",
        "Revoke",
        "Search",
        "Send",
        "Show",
        "Submit",
        "Tell",
        "Unpublish",
    ];
    let doc: Value = serde_json::from_str(&salve::api::openapi::document_json()).unwrap();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let summary = operation["summary"].as_str().unwrap_or_default();
            let verb = summary.split(' ').next().unwrap_or_default();
            assert!(VERBS.contains(&verb), "{method} {path}: {summary:?}");
        }
    }
}

/// "a" before a consonant sound, "an" before a vowel, in both contracts.
#[test]
fn contracts_say_an_before_vowels() {
    let texts = [
        salve::api::openapi::document_json(),
        salve::api::graphql::sdl(),
    ];
    for text in texts {
        for word in ["article", "author", "archived", "in_review"] {
            let wrong = format!(" a {word}");
            assert!(!text.contains(&wrong), "{wrong:?}");
        }
    }
}

#[tokio::test]
async fn server_serves_the_document_and_offline_docs() {
    let (app, _db) = spawn_app(Engine::Sqlite).await;
    let served: Value = app.get("/openapi.json").await.json().await.unwrap();
    let generated: Value = serde_json::from_str(&salve::api::openapi::document_json()).unwrap();
    assert_eq!(served, generated);
    let docs = app.get("/docs/").await;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await.unwrap();
    assert!(
        html.contains("swagger-ui-bundle.js") && !html.contains("http"),
        "assets are local"
    );
    let bundle = app.get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(bundle.status(), 200);
    assert!(bundle.bytes().await.unwrap().len() > 100_000);
}
