//! Webhooks: every committed write's events delivered, signed (Standard Webhooks), with
//! the items they show up on; none for writes that did not commit; retries on schedule,
//! failing endpoints disabled, replays with the same `webhook-id`; endpoints validated.

use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::Method;
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::Engine;
use crate::receiver::{
    ACCEPT, ALL_ITEM_EVENTS, FAIL, HANG, Receiver, WAIT, call, count, create_and_publish, register,
    spawn,
};
use crate::requests::Call;

async fn events_are_delivered_signed_with_the_items_they_touch(engine: Engine) {
    let (app, _db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    let admin = app.key("root", Scope::Admin).await;
    let (_, secret) = register(&app, &admin, &receiver.url, &ALL_ITEM_EVENTS).await;
    create_and_publish(&app, &admin, "hook-roll").await;

    // Delivery is not ordered: the two may arrive either way round.
    let mut received = receiver.accepted(2, WAIT).await;
    received.sort_by_key(|r| r.json()["type"] != "item.created");
    let kinds: Vec<Value> = received.iter().map(|r| r.json()["type"].clone()).collect();
    assert_eq!(kinds, [json!("item.created"), json!("item.published")]);
    let ids: BTreeSet<&str> = received.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 2, "each event has its own webhook-id");
    for delivery in &received {
        assert!(delivery.id.starts_with("msg_"), "{}", delivery.id);
        assert!(
            delivery.signed_by(&secret),
            "bad signature on {}",
            delivery.id
        );
        let sent: i64 = delivery.timestamp.parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - sent).abs() < 60);
    }
    let published = received[1].json();
    let data = &published["data"];
    assert_eq!(data["collection"], "techniques");
    assert_eq!(data["slug"], "hook-roll");
    assert_eq!(data["status"], "published");
    assert_eq!(data["version"], 2);
    assert_eq!(data["actor"], "root");
    assert_eq!(data["url"], "/v1/techniques/hook-roll");
    // Like the cache tags: publishing the technique changes what its benefit shows.
    let keys = data["surrogate_keys"].as_array().unwrap();
    for key in [
        "technique:hook-roll",
        "benefit:released-knots",
        "list:techniques",
        "technique",
        "benefit",
    ] {
        assert!(keys.contains(&json!(key)), "{key} missing from {keys:?}");
    }
    assert_eq!(
        data["affected"],
        json!([{ "collection": "benefits", "slug": "released-knots" }])
    );
    // Operators see deliveries in /metrics (the counters are the process's), once the
    // dispatcher has recorded them: shortly after the receiver answered.
    let deadline = std::time::Instant::now() + WAIT;
    let (metrics, delivered) = loop {
        let metrics = app
            .get_with_key("/metrics", &admin)
            .await
            .text()
            .await
            .unwrap();
        let delivered: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix("salve_webhook_deliveries_total "))
            .unwrap()
            .parse()
            .unwrap();
        if delivered >= 2 || std::time::Instant::now() > deadline {
            break (metrics, delivered);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert!(delivered >= 2, "{delivered}");
    assert!(metrics.contains("salve_webhook_dispatching "));
    // A tampered body does not verify.
    let mut tampered = received[1].clone();
    tampered.body[10] ^= 1;
    assert!(!tampered.signed_by(&secret));
}

async fn writes_that_did_not_commit_record_no_event(engine: Engine) {
    let (app, _db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    let admin = app.key("root", Scope::Admin).await;
    register(&app, &admin, &receiver.url, &ALL_ITEM_EVENTS).await;
    // Invalid, stale and blocked writes: nothing committed, so nothing to tell.
    let bad = json!({ "slug": "Bad Slug", "name": "x" });
    let (status, _, _) = call(&app, &admin, Method::POST, "/v1/techniques", Some(bad)).await;
    assert_eq!(status, 422);
    let (status, _, _) = Call::new(&app, Method::PATCH, "/v1/techniques/swedish-massage")
        .key(&admin)
        .if_match("\"stale\"")
        .json(json!({ "name": "Renamed" }))
        .send()
        .await;
    assert_eq!(status.as_u16(), 412);
    let (status, _, _) = call(
        &app,
        &admin,
        Method::POST,
        "/v1/articles",
        Some(json!({
            "slug": "hook-article", "title": "Hook", "author": "no-such-author",
        })),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await,
        0
    );
    // One committed write: exactly one message, delivered once.
    let (status, _) = app
        .patch_current(
            &admin,
            "/v1/techniques/swedish-massage",
            json!({ "name": "Swedish" }),
        )
        .await;
    assert_eq!(status, 200);
    let received = receiver.accepted(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(
        received[0].json()["type"],
        "draft.updated",
        "an edit of a published item"
    );
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM webhook_deliveries").await,
        1
    );
}

async fn a_failing_endpoint_gets_retries_then_is_disabled(engine: Engine) {
    let (app, _db) = spawn(engine, "2s").await;
    let receiver = Receiver::start().await;
    receiver.set(FAIL);
    let admin = app.key("root", Scope::Admin).await;
    let (id, _) = register(&app, &admin, &receiver.url, &["draft.updated"]).await;
    let (status, _) = app
        .patch_current(
            &admin,
            "/v1/techniques/swedish-massage",
            json!({ "name": "Swedish" }),
        )
        .await;
    assert_eq!(status, 200);
    // 100 ms, 400 ms, 1.6 s (±20 %): three or four attempts in the two seconds, then
    // the delivery fails for good and, nothing having reached it, the endpoint is off.
    let started = std::time::Instant::now();
    let endpoint = loop {
        let (_, _, endpoint) = call(
            &app,
            &admin,
            Method::GET,
            &format!("/v1/webhooks/{id}"),
            None,
        )
        .await;
        if endpoint["data"]["enabled"] == false {
            break endpoint;
        }
        assert!(started.elapsed() < WAIT, "never disabled: {endpoint}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let reason = endpoint["data"]["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("every delivery failed for 2s"), "{reason}");
    let attempts = receiver.received();
    assert!(
        (3..=5).contains(&attempts.len()),
        "{} attempts",
        attempts.len()
    );
    assert!(
        attempts.iter().all(|a| a.id == attempts[0].id),
        "retries keep the webhook-id"
    );
    let (_, _, page) = call(
        &app,
        &admin,
        Method::GET,
        &format!("/v1/webhooks/{id}/deliveries"),
        None,
    )
    .await;
    let delivery = &page["data"][0];
    assert_eq!(delivery["status"], "failed", "{page}");
    assert_eq!(delivery["attempts"], attempts.len());
    assert_eq!(delivery["last_status"], 500);

    // Replayed once the receiver is fixed (and the endpoint re-enabled): same id.
    receiver.set(ACCEPT);
    let (status, _, _) = call(
        &app,
        &admin,
        Method::PATCH,
        &format!("/v1/webhooks/{id}"),
        Some(json!({ "enabled": true })),
    )
    .await;
    assert_eq!(status, 200);
    let path = format!(
        "/v1/webhooks/{id}/deliveries/{}/replay",
        delivery["id"].as_str().unwrap()
    );
    let (status, _, replayed) = call(&app, &admin, Method::POST, &path, None).await;
    assert_eq!(status, 202, "{replayed}");
    let accepted = receiver.accepted(1, WAIT).await;
    assert_eq!(accepted[0].id, attempts[0].id);
}

async fn a_hanging_endpoint_slows_no_write(engine: Engine) {
    let (app, _db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    receiver.set(HANG);
    let admin = app.key("root", Scope::Admin).await;
    register(&app, &admin, &receiver.url, &ALL_ITEM_EVENTS).await;
    let started = std::time::Instant::now();
    for n in 0..5 {
        create_and_publish(&app, &admin, &format!("hang-{n}")).await;
    }
    // Ten writes while every attempt waits for its 5 s timeout: none waited for one.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(app.get("/v1/techniques/hang-4").await.status(), 200);
}

async fn a_backlog_drains_once_the_receiver_recovers(engine: Engine) {
    let (app, _db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    receiver.set(FAIL);
    let admin = app.key("root", Scope::Admin).await;
    register(&app, &admin, &receiver.url, &ALL_ITEM_EVENTS).await;
    for n in 0..6 {
        create_and_publish(&app, &admin, &format!("backlog-{n}")).await;
    }
    // Twelve events failed at least once; they fall due together and are claimed together.
    let ids = |received: &[crate::receiver::Received]| -> BTreeSet<String> {
        received.iter().map(|r| r.id.clone()).collect()
    };
    let started = std::time::Instant::now();
    while ids(&receiver.received()).len() < 12 {
        assert!(
            started.elapsed() < WAIT,
            "{} attempts",
            receiver.received().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first = ids(&receiver.received());
    receiver.set(ACCEPT);
    let accepted = receiver.accepted(12, WAIT).await;
    let delivered = ids(&accepted);
    assert_eq!(first.len(), 12);
    assert_eq!(
        delivered, first,
        "every event delivered under its first webhook-id"
    );
}

async fn an_import_tells_subscribers_that_anything_may_have_changed(engine: Engine) {
    let (app, db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    let admin = app.key("root", Scope::Admin).await;
    let (_, secret) = register(&app, &admin, &receiver.url, &["content.imported"]).await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("benefits.ndjson"),
        "{\"slug\": \"imported-benefit\", \"name\": \"Imported benefit\"}\n",
    )
    .unwrap();
    let output = db.cli(&["import", dir.path().to_str().unwrap()]);
    assert!(
        output.status.success(),
        "{}",
        crate::helpers::stderr(&output)
    );
    let received = receiver.accepted(1, WAIT).await;
    assert!(received[0].signed_by(&secret));
    let message = received[0].json();
    assert_eq!(message["type"], "content.imported");
    assert_eq!(message["data"]["surrogate_keys"], json!(["*"]));
    assert_eq!(message["data"]["actor"], Value::Null);
}

engine_tests!(
    events_are_delivered_signed_with_the_items_they_touch,
    writes_that_did_not_commit_record_no_event,
    a_failing_endpoint_gets_retries_then_is_disabled,
    a_hanging_endpoint_slows_no_write,
    a_backlog_drains_once_the_receiver_recovers,
    an_import_tells_subscribers_that_anything_may_have_changed,
);
