//! An item's history over GraphQL (issue 25, part 6): revisions, one revision with its
//! document, diffs and the audit log answer as REST does, with the same scopes.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, spawn_app};
use crate::requests::Call;

async fn rest(app: &TestApp, key: &str, path: &str) -> Value {
    let (status, _, body) = Call::new(app, Method::GET, path).key(key).send().await;
    assert_eq!(status, 200, "{path}: {body}");
    body["data"].clone()
}

async fn history_reads_as_rest_serves_it(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (preview, admin) = (&keys["preview"], &keys["admin"]);
    let path = "/v1/techniques/foam-rolling";
    for summary in ["First edit.", "Second edit."] {
        let tag = app.etag(&keys["publish"], path).await;
        let (status, _, body) = Call::new(&app, Method::PATCH, path)
            .key(&keys["publish"])
            .if_match(&tag)
            .json(json!({ "summary": summary }))
            .send()
            .await;
        assert_eq!(status, 200, "{body}");
    }

    let listed = rest(&app, preview, &format!("{path}/revisions?limit=1")).await;
    let last = listed[0]["number"].as_i64().unwrap();
    let query = format!(
        r#"{{ revisions(type: TECHNIQUE, slug: "foam-rolling", first: 1) {{
               nodes {{ number version status createdAt actor summary requestId }}
               nextCursor }}
             revision(type: TECHNIQUE, slug: "foam-rolling", number: {last}) {{ number document }}
             revisionDiff(type: TECHNIQUE, slug: "foam-rolling", number: {last}) {{
               from to changes {{ pointer before after }} }} }}"#
    );
    let data = app.query(Some(preview), &query).await;
    let page = &data["data"]["revisions"];
    assert_eq!(page["nodes"][0]["number"], listed[0]["number"], "{data}");
    assert_eq!(page["nodes"][0]["summary"], listed[0]["summary"]);
    assert_eq!(page["nodes"][0]["createdAt"], listed[0]["created_at"]);
    assert_eq!(page["nextCursor"], listed[0]["number"]);
    let one = rest(&app, preview, &format!("{path}/revisions/{last}")).await;
    assert_eq!(data["data"]["revision"]["document"], one["document"]);
    let diff = rest(&app, preview, &format!("{path}/revisions/{last}/diff")).await;
    assert_eq!(data["data"]["revisionDiff"], diff);
    assert_eq!(
        diff["changes"],
        json!([{ "pointer": "/summary", "before": "First edit.", "after": "Second edit." }])
    );

    let audit = app
        .query(
            Some(admin),
            r#"{ auditEntries(type: TECHNIQUE, slug: "foam-rolling", action: "update", first: 5) {
               nodes { action slug itemId detail } nextCursor } }"#,
        )
        .await;
    let entries = audit["data"]["auditEntries"]["nodes"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{audit}");
    assert!(
        entries
            .iter()
            .all(|e| e["action"] == "update" && e["slug"] == "foam-rolling")
    );

    // The same scopes as REST: revisions need preview, the audit log admin.
    let code = |body: &Value| body["errors"][0]["extensions"]["code"].clone();
    let query = r#"{ revisions(type: TECHNIQUE, slug: "foam-rolling") { nextCursor } }"#;
    for key in [None, Some(keys["read"].as_str())] {
        let body = app.query(key, query).await;
        assert!(
            body["data"].is_null() || body["data"]["revisions"].is_null(),
            "{body}"
        );
        assert_ne!(code(&body), Value::Null, "{body}");
    }
    let body = app
        .query(Some(preview), r#"{ auditEntries { nextCursor } }"#)
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let body = app
        .query(
            Some(preview),
            r#"{ revision(type: TECHNIQUE, slug: "foam-rolling", number: 0) { number } }"#,
        )
        .await;
    assert_ne!(code(&body), Value::Null, "{body}");
    let body = app
        .query(
            Some(preview),
            r#"{ revision(type: TECHNIQUE, slug: "foam-rolling", number: 99) { number } }"#,
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
}

engine_tests!(history_reads_as_rest_serves_it);
