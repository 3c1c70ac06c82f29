//! Export is a faithful backup of what editors set through the API (issue 25, part 4): the
//! editorial order of link sets, the notes on articles' mentions, the medical review
//! history and every item's id, dates and version survive export → import into an empty
//! database → export, byte for byte and as the API reads them.

use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, reimport, settings, spawn_app, stderr};

/// Sets `path`'s link set to `body` with `key`, and publishes the change.
async fn put_set(app: &TestApp, key: &str, path: &str, body: Value) {
    let (status, answer) = app.put_links(key, path, body).await;
    assert_eq!(status, 200, "PUT {path}: {answer}");
    let item = path.rsplit_once('/').map_or(path, |(item, _)| item);
    let (status, answer) = app.publish_current(key, item).await;
    assert_eq!(status, 200, "publish {item}: {answer}");
}

/// What readers see of the story's link sets: slugs in order, with their notes.
async fn story_reads(app: &TestApp) -> Vec<Value> {
    let mut reads = Vec::new();
    for path in [
        "/v1/conditions/lower-back-pain?include=techniques",
        "/v1/articles/massage-for-lower-back-pain?include=techniques,citations",
    ] {
        let item = app.json(path).await;
        for relation in ["techniques", "citations"] {
            let Some(list) = item["data"][relation].as_array() else {
                continue;
            };
            let entries: Vec<Value> = list
                .iter()
                .map(|e| json!([e["slug"], e["link"]["note"], e["link"]["evidence"]]))
                .collect();
            reads.push(json!({ "path": path, "relation": relation, "entries": entries }));
        }
    }
    reads.push(app.json("/v1/techniques/foam-rolling").await["data"].clone());
    reads.push(app.json("/v1/techniques/foam-rolling/reviews").await["data"].clone());
    reads
}

/// Records a review of `path` with `key`.
async fn review(app: &TestApp, key: &str, path: &str, body: Value) {
    let (status, _, answer) =
        crate::requests::Call::new(app, reqwest::Method::POST, format!("{path}/reviews"))
            .key(key)
            .json(body)
            .send()
            .await;
    assert_eq!(status, 200, "{answer}");
}

async fn editorial_order_and_mention_notes_survive_a_round_trip(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = &keys["publish"];
    // Orders that are not the slugs' order, notes on an article's mentions.
    put_set(
        &app,
        publish,
        "/v1/conditions/lower-back-pain/techniques",
        json!([
            { "slug": "swedish-massage", "note": "Gentle first.",
              "evidence": { "certainty": "low", "level": 1,
                            "citations": ["acp-low-back-pain-guideline-2017"] } },
            { "slug": "foam-rolling" },
            { "slug": "deep-tissue-massage", "note": "Later, if tolerated." },
        ]),
    )
    .await;
    // The article is published again with its new mentions: it needs a medical reviewer.
    let article = "/v1/articles/massage-for-lower-back-pain";
    let (status, answer) = app
        .patch_current(publish, article, json!({ "reviewer": "maryann-depietro" }))
        .await;
    assert_eq!(status, 200, "{answer}");
    put_set(
        &app,
        publish,
        "/v1/articles/massage-for-lower-back-pain/techniques",
        json!([
            { "slug": "massage-ball-release", "note": "For the shoulders." },
            { "slug": "acupressure" },
            { "slug": "deep-tissue-massage", "note": "The article's main technique." },
        ]),
    )
    .await;
    let technique = "/v1/techniques/foam-rolling";
    review(
        &app,
        publish,
        technique,
        json!({ "reviewer": "maryann-depietro", "reviewed_at": "2025-05-01T08:30:00.123456Z",
                "note": "First review." }),
    )
    .await;
    review(&app, publish, technique, json!({})).await;
    // A correction in progress: the draft beside the published technique.
    let (status, answer) = app
        .patch_current(
            publish,
            technique,
            json!({ "name": "Foam rolling (draft)" }),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = app
        .put_links(publish, &format!("{technique}/conditions"), json!([]))
        .await;
    assert_eq!(status, 200, "{answer}");
    // …and its review, which joins the history when the draft is published.
    review(
        &app,
        publish,
        technique,
        json!({ "reviewed_at": "2025-09-01T08:00:00Z", "note": "The draft, reviewed." }),
    )
    .await;
    let draft = app
        .get_with_key(technique, publish)
        .await
        .text()
        .await
        .unwrap();
    let before = story_reads(&app).await;
    let order = &before[0]["entries"];
    assert_eq!(order[0][0], "swedish-massage", "{before:?}");
    assert_eq!(before[1]["entries"][0][1], "For the shoulders.");

    let first = db.dir().join("export-1");
    let output = db.cli(&["export", first.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (empty, second) = reimport(engine, &first).await;
    let mut names: Vec<String> = std::fs::read_dir(&first)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() > 10, "{names:?}");
    for name in &names {
        let a = std::fs::read(first.join(name)).unwrap();
        let b = std::fs::read(second.join(name)).unwrap();
        assert!(a == b, "{name} differs after a round trip");
    }
    assert!(names.contains(&"drafts.ndjson".to_owned()), "{names:?}");
    let reviews = std::fs::read_to_string(first.join("reviews.ndjson")).unwrap();
    assert!(reviews.contains("\"draft\":true"), "{reviews}");
    let restored = TestApp::spawn(settings(&empty.url)).await;
    assert_eq!(story_reads(&restored).await, before);
    let key = restored
        .key("publisher", salve::domain::Scope::Publish)
        .await;
    let restored_draft = restored
        .get_with_key(technique, &key)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(restored_draft, draft, "the draft, as editors read it");
}

engine_tests!(editorial_order_and_mention_notes_survive_a_round_trip);
