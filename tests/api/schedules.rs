//! Scheduled publishing (issue 25, part 5): `publish_at` and `unpublish_at` are carried
//! out by the scheduler within seconds, once across instances, with the blockers of a
//! publication; a refused step stays visible on the item and in the audit log.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, settings, spawn_app};
use crate::requests::Call;

/// An RFC 3339 time `seconds` from now.
fn in_seconds(seconds: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(seconds))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Waits (up to 15 s) until anonymous readers get `status` for `path`.
async fn wait_for(app: &TestApp, path: &str, status: u16) {
    for _ in 0..150 {
        if app.get(path).await.status().as_u16() == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} did not answer {status} in time");
}

async fn create(app: &TestApp, key: &str, collection: &str, body: Value) -> (u16, Value) {
    let (status, _, answer) = Call::new(app, Method::POST, format!("/v1/{collection}"))
        .key(key)
        .json(body)
        .send()
        .await;
    (status.as_u16(), answer)
}

async fn audit(app: &TestApp, key: &str, query: &str) -> Vec<Value> {
    let (status, _, body) = Call::new(app, Method::GET, format!("/v1/audit?{query}&limit=100"))
        .key(key)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    body["data"].as_array().unwrap().clone()
}

async fn scheduled_steps_are_taken_on_time(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (publish, admin) = (&keys["publish"], &keys["admin"]);
    let path = "/v1/techniques/timed-stretch";
    let (status, body) = create(
        &app,
        publish,
        "techniques",
        json!({ "slug": "timed-stretch", "name": "Timed stretch", "kind": "self",
                "publish_at": in_seconds(2) }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(app.get(path).await.status(), 404, "a draft until its time");
    wait_for(&app, path, 200).await;
    let item = app.json(path).await;
    assert_eq!(item["data"]["publish_at"], Value::Null, "fulfilled: {item}");
    let published = audit(&app, admin, "slug=timed-stretch&action=publish").await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["actor"], "scheduler");

    let tag = app.etag(publish, path).await;
    let (status, _, body) = Call::new(&app, Method::PATCH, path)
        .key(publish)
        .if_match(&tag)
        .json(json!({ "unpublish_at": in_seconds(2) }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    wait_for(&app, path, 404).await;

    // A scheduled publication with a blocker is refused, and says so.
    let (status, body) = create(
        &app,
        publish,
        "articles",
        json!({ "slug": "unreviewed-timed", "title": "Timed", "author": "maryann-depietro",
                "publish_at": in_seconds(1) }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let article = "/v1/articles/unreviewed-timed";
    let mut refused = Value::Null;
    for _ in 0..150 {
        let item: Value = app
            .get_with_key(article, &keys["preview"])
            .await
            .json()
            .await
            .unwrap();
        if item["data"]["schedule_error"].is_string() {
            refused = item;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let data = &refused["data"];
    assert_eq!(data["status"], "draft", "{refused}");
    assert_eq!(data["publish_at"], Value::Null);
    assert!(
        data["schedule_error"]
            .as_str()
            .unwrap()
            .contains("/reviewer"),
        "{refused}"
    );
    let entries = audit(&app, admin, "slug=unreviewed-timed&action=schedule.refused").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["detail"]["blockers"][0]["pointer"], "/reviewer");
}

async fn schedules_are_checked_when_set(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = &keys["publish"];
    let base = json!({ "slug": "never-timed", "name": "Never", "kind": "self" });
    let with = |extra: Value| {
        let mut body = base.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    for (body, pointer) in [
        (
            with(json!({ "publish_at": "2020-01-01T00:00:00Z" })),
            "/publish_at",
        ),
        (with(json!({ "publish_at": "tomorrow" })), "/publish_at"),
        (
            with(json!({ "publish_at": in_seconds(3600), "unpublish_at": in_seconds(60) })),
            "/unpublish_at",
        ),
        (with(json!({ "schedule_error": "no" })), "/schedule_error"),
    ] {
        let (status, answer) = create(&app, publish, "techniques", body.clone()).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert_eq!(answer["errors"][0]["pointer"], pointer, "{answer}");
    }
    let (status, _) = create(
        &app,
        &keys["write"],
        "techniques",
        with(json!({ "publish_at": in_seconds(3600) })),
    )
    .await;
    assert_eq!(status, 403, "scheduling a publication needs publish");
    // GraphQL takes the same fields, with the same rules.
    let query = format!(
        r#"mutation {{ createTechnique(input: {{ slug: "graph-timed", name: "G", kind: SELF,
             publishAt: "{}" }}) {{ publishAt status }} }}"#,
        in_seconds(3600)
    );
    let data = app.query(Some(publish), &query).await;
    assert!(
        data["data"]["createTechnique"]["publishAt"].is_string(),
        "{data}"
    );
}

/// Several instances on one database: each due step is taken exactly once.
async fn steps_are_taken_once_across_instances(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let other = TestApp::spawn(settings(&db.url)).await;
    let keys = app.keys().await;
    let at = in_seconds(2);
    let slugs: Vec<String> = (0..5).map(|i| format!("together-{i}")).collect();
    for slug in &slugs {
        let (status, body) = create(
            &app,
            &keys["publish"],
            "techniques",
            json!({ "slug": slug, "name": slug, "kind": "self", "publish_at": at }),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    for slug in &slugs {
        wait_for(&other, &format!("/v1/techniques/{slug}"), 200).await;
    }
    // Rounds of both schedulers pass while nothing else is due.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for slug in &slugs {
        let entries = audit(&app, &keys["admin"], &format!("slug={slug}&action=publish")).await;
        assert_eq!(entries.len(), 1, "{slug}: {entries:?}");
        let item = app.json(&format!("/v1/techniques/{slug}")).await;
        assert_eq!(item["data"]["version"], 2, "created, then published once");
    }
}

/// A published item's draft with `publish_at` is published then: readers see it change
/// on time, once.
async fn a_drafts_publication_is_scheduled(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (publish, admin) = (&keys["publish"], &keys["admin"]);
    let path = "/v1/techniques/foam-rolling";
    let (status, body) = app
        .patch_current(
            publish,
            path,
            json!({ "name": "Foam rolling, revised", "publish_at": in_seconds(2) }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.json(path).await["data"]["name"], "Foam rolling");
    for _ in 0..150 {
        if app.json(path).await["data"]["name"] == "Foam rolling, revised" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let item = app.json(path).await;
    assert_eq!(item["data"]["name"], "Foam rolling, revised", "{item}");
    assert_eq!(item["data"]["publish_at"], Value::Null, "fulfilled");
    let published = audit(&app, admin, "slug=foam-rolling&action=publish").await;
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["actor"], "scheduler");
    assert_eq!(published[0]["detail"]["draft"], true);
    let (status, _, _) = Call::new(&app, Method::GET, format!("{path}/draft/diff"))
        .key(publish)
        .send()
        .await;
    assert_eq!(status, 404, "no draft left");
}

engine_tests!(
    scheduled_steps_are_taken_on_time,
    a_drafts_publication_is_scheduled,
    schedules_are_checked_when_set,
    steps_are_taken_once_across_instances,
);
