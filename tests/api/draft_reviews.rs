//! Reviews of drafts (issue 25): a medical review recorded while a published item has a
//! draft vouches for the draft's text. Readers keep the item's reviewer, dates, version and
//! history until the draft is published; discarding the draft drops its reviews.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, spawn_app};

const ITEM: &str = "/v1/techniques/foam-rolling";
const HISTORY: &str = "/v1/techniques/foam-rolling/reviews";

/// What readers see of the item's review: (reviewer, last reviewed, next due, version).
async fn as_reader(app: &TestApp) -> (Value, Value, Value, Value) {
    let item = &app.json(ITEM).await["data"];
    (
        item["reviewer"].clone(),
        item["last_reviewed_at"].clone(),
        item["next_review_due"].clone(),
        item["version"].clone(),
    )
}

async fn notes(app: &TestApp) -> Vec<Value> {
    let history = app.json(HISTORY).await;
    let reviews = history["data"].as_array().expect("reviews").iter();
    reviews.map(|r| r["note"].clone()).collect()
}

/// The history as a preview reader gets it (REST `path`, then GraphQL, which must agree):
/// (note, draft) of each review.
async fn previewed(app: &TestApp, key: &str, path: &str) -> Vec<(Value, Value)> {
    let history: Value = app.get_with_key(path, key).await.json().await.unwrap();
    let reviews = history["data"].as_array();
    let reviews = reviews.unwrap_or_else(|| panic!("{history}")).iter();
    let rest: Vec<(Value, Value)> = reviews
        .map(|r| (r["note"].clone(), json!(r["draft"] == json!(true))))
        .collect();
    let document = r#"{ technique(slug: "foam-rolling") { reviews { note draft } } }"#;
    let body = app.query(Some(key), document).await;
    let reviews = body["data"]["technique"]["reviews"]
        .as_array()
        .expect("reviews");
    let graphql: Vec<(Value, Value)> = reviews
        .iter()
        .map(|r| (r["note"].clone(), r["draft"].clone()))
        .collect();
    if !path.contains("version=published") {
        assert_eq!(graphql, rest, "GraphQL agrees: {body}");
    }
    rest
}

async fn review(app: &TestApp, key: &str, at: &str, note: &str) {
    let body = json!({ "reviewer": "maryann-depietro", "reviewed_at": at, "note": note });
    let (status, body) = app.call(key, Method::POST, HISTORY, Some(body)).await;
    assert_eq!(status, 200, "{body}");
}

async fn a_review_of_a_draft_reaches_readers_with_the_draft(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish) = (&keys["write"], &keys["publish"]);
    review(&app, publish, "2025-02-01T09:00:00Z", "Live text checked.").await;
    let live = as_reader(&app).await;
    assert_eq!(live.1, "2025-02-01T09:00:00Z");

    let edit = json!({ "summary": "A drafted summary." });
    let (status, body) = app.patch_current(write, ITEM, edit).await;
    assert_eq!(status, 200, "{body}");
    review(&app, publish, "2026-03-01T09:00:00Z", "Draft checked.").await;
    assert_eq!(
        as_reader(&app).await,
        live,
        "readers keep the item's review"
    );
    assert_eq!(notes(&app).await, ["Live text checked."]);
    assert_eq!(
        previewed(&app, write, HISTORY).await,
        [
            (json!("Draft checked."), json!(true)),
            (json!("Live text checked."), json!(false))
        ],
        "preview readers see the draft's pending review"
    );
    let published = format!("{HISTORY}?version=published");
    assert_eq!(
        previewed(&app, write, &published).await,
        [(json!("Live text checked."), json!(false))]
    );
    let preview = app.get_with_key(ITEM, write).await.json::<Value>().await;
    let preview = preview.unwrap();
    assert_eq!(preview["data"]["reviewer"], "maryann-depietro");
    assert_eq!(preview["data"]["summary"], "A drafted summary.");

    let (status, body) = app.publish_current(publish, ITEM).await;
    assert_eq!(status, 200, "{body}");
    let (reviewer, last, due, _) = as_reader(&app).await;
    assert_eq!(reviewer, "maryann-depietro");
    assert_eq!(
        last, "2026-03-01T09:00:00Z",
        "the draft's review is the item's"
    );
    assert_eq!(due, "2027-03-01T09:00:00Z");
    assert_eq!(notes(&app).await, ["Draft checked.", "Live text checked."]);

    // A discarded draft takes its reviews with it.
    let edit = json!({ "summary": "Another draft." });
    let (status, body) = app.patch_current(write, ITEM, edit).await;
    assert_eq!(status, 200, "{body}");
    review(
        &app,
        publish,
        "2026-04-01T09:00:00Z",
        "Discarded draft checked.",
    )
    .await;
    let before = as_reader(&app).await;
    let (status, body) = app.step_current(publish, ITEM, "discard").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(as_reader(&app).await, before);
    assert_eq!(notes(&app).await, ["Draft checked.", "Live text checked."]);
    assert_eq!(
        previewed(&app, write, HISTORY).await,
        [
            (json!("Draft checked."), json!(false)),
            (json!("Live text checked."), json!(false))
        ]
    );
}

engine_tests!(a_review_of_a_draft_reaches_readers_with_the_draft);
