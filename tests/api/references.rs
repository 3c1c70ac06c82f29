//! References inside JSON fields (a condition's statistics cite citations) follow the rules
//! of every other reference: readers never see an unpublished one, and a published item
//! cannot be changed to point at one.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, spawn_app};
use crate::requests::{Call, pointers};

const CITED: &str = "us-severe-back-pain-2022";

async fn anonymous_bodies(app: &TestApp) -> Vec<(String, String)> {
    let mut bodies = Vec::new();
    for path in [
        "/v1/conditions/lower-back-pain",
        "/v1/conditions?limit=100",
        "/v1/conditions?body_region=lower%20back",
        "/v1/techniques/foam-rolling?include=conditions",
        "/v1/articles/massage-for-lower-back-pain?include=conditions",
        "/v1/search?q=back%20pain&type=conditions",
    ] {
        let body = app.get(path).await.text().await.unwrap();
        bodies.push((path.to_owned(), body));
    }
    let query = r#"{ condition(slug: "lower-back-pain") { statistics { label citation } }
        conditions(first: 50) { nodes { statistics { citation } } }
        technique(slug: "foam-rolling") { conditions { statistics { citation } } } }"#;
    let graphql = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": query }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    bodies.push(("graphql".into(), graphql));
    bodies
}

async fn unpublished_cited_citations_read_as_null(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let item: Value = app
        .get("/v1/conditions/lower-back-pain")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["data"]["statistics"][0]["citation"], CITED);

    // A condition citing it in its statistics alone (no link), read once so the cache
    // holds it: unpublishing the citation must reach that answer too.
    let other = "/v1/conditions/degenerative-disc-disease";
    let statistics = json!([{ "label": "Share", "value": 2.5, "unit": "%", "citation": CITED }]);
    let (status, body) = app
        .patch_live(&keys["publish"], other, json!({ "statistics": statistics }))
        .await;
    assert_eq!(status, 200, "{body}");
    let cached = app.get(other).await.text().await.unwrap();
    assert!(cached.contains(CITED), "{cached}");
    let keys_header = app.get(other).await.headers()["surrogate-key"].clone();
    assert!(
        keys_header.to_str().unwrap().contains("statistics"),
        "{keys_header:?}"
    );

    let path = format!("/v1/citations/{CITED}");
    let tag = app.etag(&keys["publish"], &path).await;
    let (status, _, body) = Call::new(&app, Method::POST, format!("{path}/unpublish"))
        .key(&keys["publish"])
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");

    let other: Value = app.get(other).await.json().await.unwrap();
    assert_eq!(
        other["data"]["statistics"][0]["citation"],
        Value::Null,
        "{other}"
    );
    for (path, body) in anonymous_bodies(&app).await {
        assert!(
            !body.contains(CITED),
            "{path} shows the draft citation: {body}"
        );
    }
    let item: Value = app
        .get("/v1/conditions/lower-back-pain")
        .await
        .json()
        .await
        .unwrap();
    let statistic = &item["data"]["statistics"][0];
    assert_eq!(statistic["citation"], Value::Null, "{item}");
    assert_eq!(statistic["label"], "US population with severe back pain");
    let preview: Value = app
        .get_with_key("/v1/conditions/lower-back-pain", &keys["preview"])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["data"]["statistics"][0]["citation"], CITED);
}

async fn published_items_cannot_start_pointing_at_drafts(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let write = &keys["write"];
    let (status, _, body) = Call::new(&app, Method::POST, "/v1/citations")
        .key(write)
        .json(json!({ "slug": "draft-study", "kind": "study", "title": "A draft study" }))
        .send()
        .await;
    assert_eq!(status, 201, "{body}");
    let publish = &keys["publish"];
    let statistics = json!([{ "label": "Share", "value": 1.0, "citation": "draft-study" }]);
    let condition = "/v1/conditions/lower-back-pain";
    let (status, problem) = app
        .patch_live(publish, condition, json!({ "statistics": statistics }))
        .await;
    assert_eq!(
        status, 409,
        "the draft may, its publication may not: {problem}"
    );
    assert_eq!(pointers(&problem), ["/statistics/0/citation"], "{problem}");
    let read = app.json(condition).await;
    assert!(!read.to_string().contains("draft-study"), "{read}");

    let (status, _, _) = Call::new(&app, Method::POST, "/v1/authors")
        .key(write)
        .json(json!({ "slug": "draft-writer", "name": "Draft Writer" }))
        .send()
        .await;
    assert_eq!(status, 201);
    let article = "/v1/articles/massage-for-lower-back-pain";
    let (status, problem) = app
        .patch_live(publish, article, json!({ "author": "draft-writer" }))
        .await;
    assert_eq!(status, 409, "{problem}");
    assert!(pointers(&problem).contains(&"/author"), "{problem}");

    // Changes that point at published items still go through.
    let (status, body) = app
        .patch_current(publish, condition, json!({ "statistics": [] }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .patch_live(publish, condition, json!({ "summary": "Updated summary." }))
        .await;
    assert_eq!(status, 200, "{body}");
}

engine_tests!(
    unpublished_cited_citations_read_as_null,
    published_items_cannot_start_pointing_at_drafts,
);
