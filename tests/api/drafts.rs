//! Drafts of published items (issue 25, part 1): edits to a published item go to its
//! draft, which readers never see, until it is reviewed and published; `discard` drops
//! it; preview readers see it (or the published version with `?version=published`).

use std::sync::atomic::Ordering;

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, demo_dir, settings, spawn_app, stderr};
use crate::requests::Call;

const PATH: &str = "/v1/techniques/draft-story";

/// A published technique with a credentialed reviewer author, as `publish` made them.
async fn published_technique(app: &TestApp, publish: &str) {
    for (path, body) in [
        (
            "/v1/authors",
            json!({ "slug": "dr-review", "name": "Dr Review", "credentials": "MD" }),
        ),
        (
            "/v1/techniques",
            json!({ "slug": "draft-story", "name": "Original", "kind": "self",
                                   "description": "As published." }),
        ),
    ] {
        let (status, answer) = app.call(publish, Method::POST, path, Some(body)).await;
        assert_eq!(status, 201, "{answer}");
        let item = format!("{path}/{}", answer["data"]["slug"].as_str().unwrap());
        let (status, answer) = app.step_current(publish, &item, "publish").await;
        assert_eq!(status, 200, "{answer}");
    }
}

/// What an anonymous reader gets for the item: (name, version, ETag).
async fn as_reader(app: &TestApp) -> (Value, Value, String) {
    let response = app.get(PATH).await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    (
        body["data"]["name"].clone(),
        body["data"]["version"].clone(),
        etag,
    )
}

async fn editing_a_published_item_leaves_readers_unchanged_until_published(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish) = (&keys["write"], &keys["publish"]);
    published_technique(&app, publish).await;
    // The publications' invalidations arrive through the change feed: let them land.
    app.settle().await;
    let before = as_reader(&app).await;
    assert_eq!(before.0, "Original");
    assert_eq!(
        as_reader(&app).await,
        before,
        "a second read, from the cache"
    );
    let invalidations = app.cache.stats.invalidations.load(Ordering::Relaxed);

    // A `write` key may correct a published item: the correction is a draft.
    let (status, body) = app
        .patch_current(
            write,
            PATH,
            json!({ "name": "Corrected", "description": "Fixed." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["name"], "Corrected");
    assert_eq!(body["data"]["status"], "draft", "the draft's status");
    assert_eq!(body["data"]["version"], 3);
    assert_eq!(
        as_reader(&app).await,
        before,
        "readers keep the published version"
    );
    assert_eq!(
        app.cache.stats.invalidations.load(Ordering::Relaxed),
        invalidations,
        "a draft write invalidates no published read"
    );
    let list = app.json("/v1/techniques?q=corrected").await;
    assert_eq!(
        list["data"],
        json!([]),
        "nor does a draft reach searches: {list}"
    );
    let graphql = app
        .query(None, r#"{ technique(slug: "draft-story") { name } }"#)
        .await;
    assert_eq!(
        graphql["data"]["technique"]["name"], "Original",
        "{graphql}"
    );

    // Preview readers see the draft, or the published version when they ask.
    let preview = app
        .get_with_key(PATH, write)
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(preview["data"]["name"], "Corrected");
    let published = app
        .get_with_key(&format!("{PATH}?version=published"), write)
        .await;
    let published: Value = published.json().await.unwrap();
    assert_eq!(published["data"]["name"], "Original");
    assert_eq!(published["data"]["status"], "published");
    let html = app
        .get_with_key(&format!("{PATH}?format=html"), write)
        .await;
    let html: Value = html.json().await.unwrap();
    assert_eq!(html["data"]["description"], "<p>Fixed.</p>\n", "{html}");
    let graphql = app
        .query(
            Some(write),
            r#"{ technique(slug: "draft-story") { name status } }"#,
        )
        .await;
    assert_eq!(
        graphql["data"]["technique"]["name"], "Corrected",
        "{graphql}"
    );
    assert_eq!(
        app.get(&format!("{PATH}?version=draft")).await.status(),
        401
    );
    let (status, body) = app
        .call(
            &keys["read"],
            Method::GET,
            &format!("{PATH}?version=draft"),
            None,
        )
        .await;
    assert_eq!(status, 403, "{body}");
    let (status, body) = app
        .call(write, Method::GET, &format!("{PATH}?version=latest"), None)
        .await;
    assert_eq!(status, 400, "{body}");

    // The diff and the revisions name the draft.
    let (status, diff) = app
        .call(write, Method::GET, &format!("{PATH}/draft/diff"), None)
        .await;
    assert_eq!(status, 200, "{diff}");
    let pointers: Vec<&str> = diff["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/description", "/name"]);
    assert_eq!(diff["data"]["published_version"], 2);
    assert_eq!(diff["data"]["draft_version"], 3);
    let (_, revisions) = app
        .call(write, Method::GET, &format!("{PATH}/revisions"), None)
        .await;
    assert_eq!(revisions["data"][0]["draft"], true, "{revisions}");
    assert_eq!(revisions["data"][1]["draft"], false);

    // Submitted, the draft is in review: editing it needs `publish`.
    let (status, body) = app.step_current(write, PATH, "submit").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "in_review");
    let (status, body) = app
        .patch_current(write, PATH, json!({ "name": "Sneaky" }))
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(as_reader(&app).await, before);

    // Reviewed and published: readers see the correction.
    let (status, body) = app
        .call(
            publish,
            Method::POST,
            &format!("{PATH}/reviews"),
            Some(json!({ "reviewer": "dr-review" })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["reviewer"], "dr-review",
        "the draft names the reviewer too"
    );
    assert_eq!(
        as_reader(&app).await.0,
        "Original",
        "a review publishes nothing"
    );
    let (status, body) = app.step_current(publish, PATH, "publish").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "published");
    let after = as_reader(&app).await;
    assert_eq!(after.0, "Corrected");
    assert_ne!(after.2, before.2);
    let item = app.json(PATH).await;
    assert_eq!(item["data"]["reviewer"], "dr-review");
    assert_eq!(item["data"]["description"], "Fixed.");
    let list = app.json("/v1/techniques?q=corrected").await;
    assert_eq!(list["data"][0]["slug"], "draft-story", "{list}");
    let (status, _) = app
        .call(write, Method::GET, &format!("{PATH}/draft/diff"), None)
        .await;
    assert_eq!(status, 404, "no draft once published");
}

async fn drafts_are_discarded_and_published_with_their_blockers(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish) = (&keys["write"], &keys["publish"]);
    published_technique(&app, publish).await;
    let (status, body) = app.step_current(write, PATH, "discard").await;
    assert_eq!(status, 409, "no draft to discard: {body}");

    // A draft pointing at an unpublished item: publishing it lists every blocker.
    let (status, body) = app
        .call(
            write,
            Method::POST,
            "/v1/authors",
            Some(json!({ "slug": "dr-unpublished", "name": "Dr U", "credentials": "PhD" })),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .patch_current(write, PATH, json!({ "reviewer": "dr-unpublished" }))
        .await;
    assert_eq!(status, 200, "a draft may point at drafts: {body}");
    let (status, body) = app.step_current(publish, PATH, "publish").await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["errors"][0]["pointer"], "/reviewer", "{body}");
    assert_eq!(as_reader(&app).await.0, "Original");

    // Concurrent edits of one draft: one wins, the other is stale.
    let tag = app.etag(write, PATH).await;
    let mut answers = Vec::new();
    for name in ["First", "Second"] {
        let (status, _, _) = Call::new(&app, Method::PATCH, PATH)
            .key(write)
            .if_match(&tag)
            .json(json!({ "name": name }))
            .send()
            .await;
        answers.push(status.as_u16());
    }
    assert_eq!(answers, [200, 412]);

    // Discarded: editors see the published version again, readers never saw a thing.
    let (status, body) = app.step_current(write, PATH, "discard").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["name"], "Original");
    assert_eq!(body["data"]["status"], "published");
    assert_eq!(body["data"]["reviewer"], Value::Null);

    // GraphQL: the same draft through the mutations, its diff, and discard.
    let version = app.json(PATH).await["data"]["version"].as_i64().unwrap();
    let update = format!(
        r#"mutation {{ updateTechnique(slug: "draft-story", expectedVersion: {version},
             patch: {{ name: "Via GraphQL" }}) {{ name status version }} }}"#
    );
    let answer = app.query(Some(write), &update).await;
    assert_eq!(
        answer["data"]["updateTechnique"]["name"], "Via GraphQL",
        "{answer}"
    );
    let draft_version = answer["data"]["updateTechnique"]["version"]
        .as_i64()
        .unwrap();
    let diff = app
        .query(Some(write), r#"{ draftDiff(type: TECHNIQUE, slug: "draft-story") { publishedVersion draftVersion changes { pointer after } } }"#)
        .await;
    assert_eq!(
        diff["data"]["draftDiff"]["changes"],
        json!([{ "pointer": "/name", "after": "Via GraphQL" }]),
        "{diff}"
    );
    let discard = format!(
        r#"mutation {{ discardTechniqueDraft(slug: "draft-story", expectedVersion: {draft_version}) {{ name }} }}"#
    );
    let answer = app.query(Some(write), &discard).await;
    assert_eq!(
        answer["data"]["discardTechniqueDraft"]["name"], "Original",
        "{answer}"
    );
    let again = app.query(Some(write), &discard).await;
    assert!(again["errors"].is_array(), "{again}");

    // Unpublishing keeps the draft's content on the item taken offline.
    let (status, body) = app
        .patch_current(write, PATH, json!({ "name": "Kept" }))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.step_current(publish, PATH, "unpublish").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["name"], "Kept");
    assert_eq!(body["data"]["status"], "draft");
    assert_eq!(app.get(PATH).await.status(), 404);
}

/// `drafts.ndjson` is checked as an edit is, and only beside a published item; errors
/// are `file:line: reason` and change nothing.
async fn imported_drafts_follow_the_rules(engine: Engine) {
    let db = TestDb::new(engine).await;
    let output = db.cli(&["import", demo_dir().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = db.dir().join("drafts");
    std::fs::create_dir_all(&dir).unwrap();
    let line = |item: &str, document: &str| {
        format!(
            r#"{{"collection":"techniques","item":"{item}","status":"in_review","version":9,"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-02T00:00:00Z","document":{document}}}"#
        )
    };
    let good = line(
        "foam-rolling",
        r#"{"slug":"foam-rolling","name":"Rolling, drafted","kind":"self"}"#,
    );
    let cases = [
        (
            line(
                "no-such-technique",
                r#"{"slug":"x","name":"X","kind":"self"}"#,
            ),
            "item: no technique",
        ),
        (
            line("foam-rolling", r#"{"slug":"foam-rolling","kind":"self"}"#),
            "document/name: is required",
        ),
        (
            line(
                "foam-rolling",
                r#"{"slug":"foam-rolling","name":"N","kind":"self","conditions":["nowhere"]}"#,
            ),
            "document/conditions/0",
        ),
    ];
    for (bad, reason) in cases {
        std::fs::write(dir.join("drafts.ndjson"), format!("{good}\n{bad}\n")).unwrap();
        let output = db.cli(&["import", dir.to_str().unwrap()]);
        assert!(!output.status.success());
        let error = stderr(&output);
        assert!(
            error.contains("drafts.ndjson:2: ") && error.contains(reason),
            "{reason}: {error}"
        );
    }
    std::fs::write(dir.join("drafts.ndjson"), format!("{good}\n")).unwrap();
    // A review of a draft stands beside one.
    let review = |item: &str| {
        format!(
            r#"{{"collection":"techniques","item":"{item}","reviewed_at":"2026-01-03T00:00:00Z","reviewer":"maryann-depietro","reviewer_name":"MaryAnn DePietro","reviewer_credentials":"CRT","note":null,"version":null,"draft":true}}"#
        )
    };
    std::fs::write(dir.join("reviews.ndjson"), review("swedish-massage") + "\n").unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    let error = stderr(&output);
    assert!(!output.status.success());
    assert!(error.contains("reviews.ndjson:1: draft: "), "{error}");
    std::fs::write(dir.join("reviews.ndjson"), review("foam-rolling") + "\n").unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let app = TestApp::spawn(settings(&db.url)).await;
    let preview = app.key("preview", salve::domain::Scope::Preview).await;
    let item: Value = app
        .get_with_key("/v1/techniques/foam-rolling", &preview)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["data"]["name"], "Rolling, drafted");
    assert_eq!(item["data"]["status"], "in_review");
    assert_eq!(item["data"]["version"], 9);
    assert_eq!(
        app.json("/v1/techniques/foam-rolling").await["data"]["name"],
        "Foam rolling"
    );
    let history = app.json("/v1/techniques/foam-rolling/reviews").await;
    assert_eq!(
        history["data"],
        json!([]),
        "the draft's review waits for it"
    );
    // The imported draft is in the drafts' full-text index: found by its words in preview.
    let search = "/v1/search?q=drafted&type=techniques";
    let hits = app.json_as(Some(&preview), search).await;
    assert_eq!(hits["data"][0]["item"]["slug"], "foam-rolling", "{hits}");
    assert_eq!(app.json_as(None, search).await["data"], json!([]));
}

engine_tests!(
    editing_a_published_item_leaves_readers_unchanged_until_published,
    drafts_are_discarded_and_published_with_their_blockers,
    imported_drafts_follow_the_rules,
);
