//! Webhooks across crashes and instances: after `kill -9` every committed event is
//! delivered (same `webhook-id`) and none of a write that did not commit; two instances on
//! one database deliver each event once.

use std::collections::BTreeSet;
use std::time::Duration;

use salve::domain::Scope;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, spawn_binary};
use crate::receiver::{ACCEPT, ALL_ITEM_EVENTS, FAIL, Receiver, create_and_publish, register};

/// Long enough for a new process to take over the dead one's dispatch lease (10 s).
const TAKEOVER: Duration = Duration::from_secs(40);

const ENV: [(&str, &str); 4] = [
    ("SALVE_WEBHOOK_ALLOW_HTTP", "true"),
    ("SALVE_WEBHOOK_ALLOW_PRIVATE", "true"),
    ("SALVE_WEBHOOK_RETRY_FIRST_MS", "100"),
    ("SALVE_WEBHOOK_TIMEOUT_S", "5"),
];

async fn admin_key(db: &TestDb) -> String {
    let output = db.cli(&["keys", "create", "--name", "root", "--scopes", "admin"]);
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

async fn post(
    base: &str,
    key: &str,
    path: &str,
    body: Value,
    etag: Option<&str>,
) -> reqwest::Result<reqwest::Response> {
    let mut request = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(key)
        .json(&body);
    if let Some(etag) = etag {
        request = request.header("if-match", etag);
    }
    request.send().await
}

fn ids(received: &[crate::receiver::Received]) -> BTreeSet<String> {
    received.iter().map(|r| r.id.clone()).collect()
}

async fn pending_deliveries_survive_a_crash(engine: Engine) {
    let db = TestDb::new(engine).await;
    let key = admin_key(&db).await;
    let receiver = Receiver::start().await;
    receiver.set(FAIL);
    let (mut server, base) = spawn_binary(&db, &["serve"], &ENV).await;
    let endpoint = json!({ "url": receiver.url, "events": ALL_ITEM_EVENTS });
    assert_eq!(
        post(&base, &key, "/v1/webhooks", endpoint, None)
            .await
            .unwrap()
            .status(),
        201
    );
    for n in 0..5 {
        let body = json!({ "slug": format!("crash-{n}"), "name": format!("Crash {n}") });
        assert_eq!(
            post(&base, &key, "/v1/benefits", body, None)
                .await
                .unwrap()
                .status(),
            201
        );
    }
    let started = std::time::Instant::now();
    while ids(&receiver.received()).len() < 5 {
        assert!(started.elapsed() < TAKEOVER);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let attempted = ids(&receiver.received());
    server.kill().unwrap();
    server.wait().unwrap();
    receiver.set(ACCEPT);
    let (mut again, _) = spawn_binary(&db, &["serve"], &ENV).await;
    let accepted = receiver.accepted(5, TAKEOVER).await;
    assert_eq!(
        ids(&accepted),
        attempted,
        "the same messages, under the same ids"
    );
    again.kill().unwrap();
    again.wait().unwrap();
}

async fn a_crash_while_writes_commit_loses_no_event(engine: Engine) {
    let db = TestDb::new(engine).await;
    let key = admin_key(&db).await;
    let receiver = Receiver::start().await;
    let (mut server, base) = spawn_binary(&db, &["serve"], &ENV).await;
    let endpoint = json!({ "url": receiver.url, "events": ["item.created"] });
    assert_eq!(
        post(&base, &key, "/v1/webhooks", endpoint, None)
            .await
            .unwrap()
            .status(),
        201
    );
    let mut writers = Vec::new();
    for writer in 0..6 {
        let (base, key) = (base.clone(), key.clone());
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let body =
                    json!({ "slug": format!("w{writer}-{n}"), "name": format!("W {writer} {n}") });
                if post(&base, &key, "/v1/benefits", body, None).await.is_err() {
                    break;
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().unwrap();
    server.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let conn = db.connect().await;
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT slug FROM benefits WHERE slug LIKE 'w%-%'".to_owned(),
        ))
        .await
        .unwrap();
    let committed: BTreeSet<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).unwrap())
        .collect();
    assert!(committed.len() > 10, "{} writes committed", committed.len());
    let (mut again, _) = spawn_binary(&db, &["serve"], &ENV).await;
    // At least once: an event sent just before the crash may come again, so wait for
    // every committed write's event, not for as many deliveries.
    let started = std::time::Instant::now();
    let delivered = loop {
        let delivered: BTreeSet<String> = receiver
            .accepted(0, TAKEOVER)
            .await
            .iter()
            .map(|r| r.json()["data"]["slug"].as_str().unwrap().to_owned())
            .collect();
        if committed.is_subset(&delivered) || started.elapsed() > TAKEOVER {
            break delivered;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Exactly the committed writes: none lost, none of a write that rolled back.
    assert_eq!(delivered, committed);
    again.kill().unwrap();
    again.wait().unwrap();
}

async fn two_instances_deliver_each_event_once(engine: Engine) {
    let db = TestDb::new(engine).await;
    let settings = || {
        let mut settings = crate::helpers::settings(&db.url);
        settings.serve.webhooks.webhook_allow_http = true;
        settings.serve.webhooks.webhook_allow_private = true;
        settings
    };
    let first = TestApp::spawn(settings()).await;
    let second = TestApp::spawn(settings()).await;
    let receiver = Receiver::start().await;
    let admin = first.key("root", Scope::Admin).await;
    register(&first, &admin, &receiver.url, &["item.published"]).await;
    for n in 0..10 {
        let app = if n % 2 == 0 { &first } else { &second };
        create_and_publish(app, &admin, &format!("twice-{n}")).await;
    }
    receiver.accepted(10, TAKEOVER).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let received = receiver.received();
    assert_eq!(received.len(), 10, "each event delivered once");
    assert_eq!(ids(&received).len(), 10);
    let conn = db.connect().await;
    let holders = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT holder FROM webhook_lease WHERE name = 'dispatcher'".to_owned(),
        ))
        .await
        .unwrap();
    assert_eq!(holders.len(), 1);
}

engine_tests!(
    pending_deliveries_survive_a_crash,
    a_crash_while_writes_commit_loses_no_event,
    two_instances_deliver_each_event_once,
);
