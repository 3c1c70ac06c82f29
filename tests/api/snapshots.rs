//! Snapshots (insta) of the contract's shape and of representative responses on the demo
//! content, the same snapshot for both engines: a change is a reviewable diff in
//! `tests/api/snapshots/` (`cargo insta review`, or `INSTA_UPDATE=always` to accept).

use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, spawn_app};

/// Every operation of the OpenAPI document: method, path, operation id and statuses.
#[test]
fn openapi_operations() {
    let doc: Value = serde_json::from_str(&salve::api::openapi::document_json()).unwrap();
    let mut lines = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let statuses: Vec<&str> = operation["responses"]
                .as_object()
                .map(|r| r.keys().map(String::as_str).collect())
                .unwrap_or_default();
            lines.push(format!(
                "{} {path} {} -> {}",
                method.to_uppercase(),
                operation["operationId"].as_str().unwrap_or("?"),
                statuses.join(" ")
            ));
        }
    }
    insta::assert_snapshot!(lines.join("\n"));
}

/// The SDL's root types: every query and mutation a client can call.
#[test]
fn graphql_root_fields() {
    let sdl = salve::api::graphql::sdl();
    let mut roots = Vec::new();
    for root in ["type Query {", "type Mutation {"] {
        let start = sdl.find(root).unwrap_or_else(|| panic!("no {root}"));
        let end = start + sdl[start..].find("\n}\n").unwrap() + 2;
        roots.push(&sdl[start..end]);
    }
    insta::assert_snapshot!(roots.join("\n\n"));
}

/// Values that differ from one import to the next.
macro_rules! assert_response {
    ($name:expr, $value:expr) => {
        insta::assert_json_snapshot!($name, $value, {
            ".**.id" => "[id]",
            ".**.created_at" => "[time]",
            ".**.updated_at" => "[time]",
            ".**.next_cursor" => "[cursor]",
        })
    };
}

async fn demo_responses(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let technique = app
        .json("/v1/techniques/deep-tissue-massage?include=benefits,citations")
        .await;
    assert_response!("rest_technique_with_includes", technique);
    let product = app
        .json("/v1/products/sku/DEMO-FR-SMOOTH?include=techniques.benefits&fields=slug,name")
        .await;
    assert_response!("rest_product_by_sku", product);
    let list = app
        .json("/v1/conditions?sort=name&limit=2&fields=slug,name&count=true")
        .await;
    assert_response!("rest_condition_page", list);
    let storefront = app
        .graphql(
            None,
            &json!({ "query": "{ productBySku(sku: \"DEMO-FR-SMOOTH\") { name techniques { \
                name kind benefits { name } citations { title year doi } } } }" }),
        )
        .await;
    assert_response!("graphql_storefront_query", storefront);
    let missing = app.get("/v1/techniques/no-such-technique").await;
    assert_eq!(missing.status(), 404);
    let problem: Value = missing.json().await.unwrap();
    assert_response!("problem_not_found", problem);
    let invalid = app
        .graphql(
            None,
            &json!({ "query": "{ techniques(first: 500) { totalCount } }" }),
        )
        .await;
    assert_response!("graphql_page_size_error", invalid);
}

engine_tests!(demo_responses);
