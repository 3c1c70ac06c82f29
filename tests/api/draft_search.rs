//! Full-text search over drafts (issue 25): a preview reader's searches (lists, search
//! across collections, GraphQL) match and rank an item with a draft by the draft's text;
//! readers, and preview readers asking for `?version=published`, by the published text.

use serde_json::{Value, json};

use crate::draft_preview::slugs;
use crate::engine_tests;
use crate::helpers::{Engine, TestApp, spawn_app};

const ITEM: &str = "/v1/techniques/swedish-massage";
const SLUG: &str = "swedish-massage";

/// The slugs a technique search finds, and its count.
async fn listed(app: &TestApp, key: Option<&str>, query: &str) -> (Vec<String>, Value) {
    let path = format!("/v1/techniques?{query}&count=true&limit=100");
    let body = app.json_as(key, &path).await;
    (slugs(&body), body["page"]["total"].clone())
}

/// The techniques `/v1/search` finds: (slug, name, score).
async fn across(app: &TestApp, key: Option<&str>, q: &str) -> Vec<(String, String, f64)> {
    let body = app
        .json_as(key, &format!("/v1/search?q={q}&limit=100"))
        .await;
    let hits = body["data"].as_array().expect("hits").iter();
    hits.filter(|h| h["type"] == "techniques")
        .map(|h| {
            let item = &h["item"];
            (
                item["slug"].as_str().unwrap().to_owned(),
                item["name"].as_str().unwrap().to_owned(),
                h["score"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// The technique slugs GraphQL `search` finds.
async fn searched(app: &TestApp, key: Option<&str>, q: &str) -> Vec<String> {
    let document = format!(
        r#"{{ search(q: "{q}") {{ hits {{ item {{ ... on Technique {{ slug }} }} }} }} }}"#
    );
    let body = app.query(key, &document).await;
    let hits = body["data"]["search"]["hits"]
        .as_array()
        .expect("hits")
        .iter();
    hits.filter_map(|h| h["item"]["slug"].as_str().map(str::to_owned))
        .collect()
}

/// Whether every search surface finds the draft's technique for `q`, as `key` reads.
async fn found_everywhere(app: &TestApp, key: Option<&str>, q: &str) -> bool {
    let (listed, total) = listed(app, key, &format!("q={q}")).await;
    assert_eq!(
        total,
        json!(listed.len()),
        "count agrees with the page: {q}"
    );
    let in_list = listed.iter().any(|s| s == SLUG);
    let in_search = across(app, key, q).await.iter().any(|h| h.0 == SLUG);
    let in_graphql = searched(app, key, q).await.iter().any(|s| s == SLUG);
    assert_eq!(
        (in_list, in_search),
        (in_list, in_list),
        "list and search agree: {q}"
    );
    assert_eq!(in_graphql, in_list, "GraphQL and REST agree: {q}");
    in_list
}

async fn preview_search_matches_the_drafts_text(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish) = (keys["write"].as_str(), keys["publish"].as_str());
    assert!(found_everywhere(&app, Some(write), "swedish").await);
    let edit = json!({ "name": "Zen stroke", "summary": "Quillwort pressure.",
        "description": "Slow quillwort strokes along the back." });
    let (status, body) = app.patch_current(write, ITEM, edit).await;
    assert_eq!(status, 200, "{body}");

    assert!(found_everywhere(&app, Some(write), "quillwort").await);
    assert!(!found_everywhere(&app, None, "quillwort").await);
    let published = "q=quillwort&version=published";
    assert!(listed(&app, Some(write), published).await.0.is_empty());
    assert!(!found_everywhere(&app, Some(write), "swedish").await);
    assert!(found_everywhere(&app, None, "swedish").await);
    let (names, scores): (Vec<String>, Vec<f64>) = across(&app, Some(write), "quillwort")
        .await
        .into_iter()
        .map(|(_, name, score)| (name, score))
        .unzip();
    assert_eq!(names, ["Zen stroke"], "the hit shows the draft");
    assert!(scores[0] > 0.0, "a draft's hit is scored: {scores:?}");
    // Ranked with the published matches, by the draft's weighted text.
    let (ranked, _) = listed(&app, Some(write), "q=zen%20stroke").await;
    assert_eq!(ranked.first().map(String::as_str), Some(SLUG), "{ranked:?}");

    // A later edit of the draft is what matches.
    let (status, body) = app
        .patch_current(
            write,
            ITEM,
            json!({ "summary": "Bramble pressure.",
            "description": "Slow strokes." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(!found_everywhere(&app, Some(write), "quillwort").await);
    assert!(found_everywhere(&app, Some(write), "bramble").await);

    // Discarded: the published text matches again, for everyone.
    let (status, body) = app.step_current(write, ITEM, "discard").await;
    assert_eq!(status, 200, "{body}");
    assert!(!found_everywhere(&app, Some(write), "bramble").await);
    assert!(found_everywhere(&app, Some(write), "swedish").await);

    // Published: readers find the new text, and the draft index holds nothing stale.
    let (status, body) = app
        .patch_current(write, ITEM, json!({ "summary": "Quillwort pressure." }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.step_current(publish, ITEM, "publish").await;
    assert_eq!(status, 200, "{body}");
    app.settle().await;
    assert!(found_everywhere(&app, None, "quillwort").await);
    assert!(found_everywhere(&app, Some(write), "quillwort").await);
    let (hits, _) = listed(&app, Some(write), "q=quillwort").await;
    assert_eq!(hits, [SLUG], "one hit, not the item and its old draft");
}

engine_tests!(preview_search_matches_the_drafts_text);
