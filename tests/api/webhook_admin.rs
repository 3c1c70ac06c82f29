//! Managing webhook endpoints: validation, admin only, secrets shown once, on REST,
//! GraphQL and the CLI; secret rotation (both signatures during the overlap) and the
//! collection filter.

use reqwest::Method;
use salve::domain::Scope;
use serde_json::json;

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings};
use crate::receiver::{Receiver, WAIT, call, create_and_publish, register, spawn};
use crate::requests::Call;

async fn endpoints_are_validated_and_admin_only(engine: Engine) {
    // The default policy: public https endpoints only.
    let db = TestDb::new(engine).await;
    let app = TestApp::spawn(settings(&db.url)).await;
    let admin = app.key("root", Scope::Admin).await;
    let editor = app.key("editor", Scope::Publish).await;
    let good = json!({ "url": "https://hooks.example.com/salve", "events": ["item.published"] });
    let (status, _, _) = call(
        &app,
        &editor,
        Method::POST,
        "/v1/webhooks",
        Some(good.clone()),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _, _) = Call::new(&app, Method::GET, "/v1/webhooks").send().await;
    assert_eq!(status.as_u16(), 401);
    for (body, pointer) in [
        (
            json!({ "url": "http://hooks.example.com/", "events": ["item.published"] }),
            "/url",
        ),
        (
            json!({ "url": "https://127.0.0.1/", "events": ["item.published"] }),
            "/url",
        ),
        (
            json!({ "url": "https://169.254.169.254/latest", "events": ["item.published"] }),
            "/url",
        ),
        (
            json!({ "url": "https://[::1]:8080/", "events": ["item.published"] }),
            "/url",
        ),
        (
            json!({ "url": "https://localhost/", "events": ["item.published"] }),
            "/url",
        ),
        (
            json!({ "url": "not a url", "events": ["item.published"] }),
            "/url",
        ),
        (
            json!({ "url": "https://hooks.example.com/", "events": ["item.exploded"] }),
            "/events",
        ),
        (
            json!({ "url": "https://hooks.example.com/", "events": [] }),
            "/events",
        ),
        (
            json!({ "url": "https://hooks.example.com/", "events": ["item.published"], "collections": ["spells"] }),
            "/collections",
        ),
        (
            json!({ "url": "https://hooks.example.com/", "events": ["item.published"], "secret": "x" }),
            "/secret",
        ),
    ] {
        let (status, _, problem) = call(
            &app,
            &admin,
            Method::POST,
            "/v1/webhooks",
            Some(body.clone()),
        )
        .await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(
            problem["errors"][0]["pointer"], pointer,
            "{body}: {problem}"
        );
    }
    let (status, _, created) = call(&app, &admin, Method::POST, "/v1/webhooks", Some(good)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["data"]["id"].as_str().unwrap();
    // The secret is shown once: never in a read.
    let (_, _, listed) = call(&app, &admin, Method::GET, "/v1/webhooks", None).await;
    assert!(!listed.to_string().contains("whsec_"), "{listed}");
    assert_eq!(listed["data"][0]["events"], json!(["item.published"]));
    let (status, _, _) = call(&app, &admin, Method::GET, "/v1/webhooks/not-an-id", None).await;
    assert_eq!(status, 404);
    let (status, _, _) = call(
        &app,
        &admin,
        Method::DELETE,
        &format!("/v1/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = call(
        &app,
        &admin,
        Method::GET,
        &format!("/v1/webhooks/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

async fn endpoints_are_managed_over_graphql_and_listed_by_the_cli(engine: Engine) {
    let (app, db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    let admin = app.key("root", Scope::Admin).await;
    let reader = app.key("shop", Scope::Read).await;
    let create = json!({ "query": "mutation($url: String!) { createWebhookEndpoint(input: { url: $url, events: [\"item.published\"], collections: [\"techniques\"], description: \"shop cache\" }) { secret endpoint { id url events collections enabled description } } }", "variables": { "url": receiver.url } });
    let refused = app.graphql(Some(&reader), &create).await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let created = app.graphql(Some(&admin), &create).await;
    let issued = &created["data"]["createWebhookEndpoint"];
    assert!(
        issued["secret"].as_str().unwrap().starts_with("whsec_"),
        "{created}"
    );
    assert_eq!(issued["endpoint"]["collections"], json!(["techniques"]));
    let id = issued["endpoint"]["id"].as_str().unwrap().to_owned();
    let bad = json!({ "query": "mutation { createWebhookEndpoint(input: { url: \"ftp://x\", events: [\"item.exploded\"] }) { secret } }" });
    let bad = app.graphql(Some(&admin), &bad).await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "VALIDATION_FAILED",
        "{bad}"
    );

    create_and_publish(&app, &admin, "gql-hook").await;
    receiver.accepted(1, WAIT).await;
    let list = json!({ "query": format!("{{ webhookEndpoints {{ id lastSuccessAt }} webhookDeliveries(endpoint: \"{id}\", first: 5) {{ data {{ messageId eventType status attempts lastStatus payload }} nextBefore }} }}") });
    // Outcomes are recorded in batches, a moment after the receiver has them.
    let started = std::time::Instant::now();
    let listed = loop {
        let listed = app.graphql(Some(&admin), &list).await;
        assert!(listed["errors"].is_null(), "{listed}");
        let status = &listed["data"]["webhookDeliveries"]["data"][0]["status"];
        // The two root fields read at different moments: the outcome may land between.
        let stamped = !listed["data"]["webhookEndpoints"][0]["lastSuccessAt"].is_null();
        if (status == "succeeded" && stamped) || started.elapsed() > WAIT {
            break listed;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let delivery = &listed["data"]["webhookDeliveries"]["data"][0];
    assert_eq!(delivery["eventType"], "item.published");
    assert_eq!(delivery["status"], "succeeded");
    assert_eq!(delivery["lastStatus"], 204);
    assert_eq!(delivery["payload"]["data"]["slug"], "gql-hook");
    assert!(!listed["data"]["webhookEndpoints"][0]["lastSuccessAt"].is_null());
    let off = json!({ "query": format!("mutation {{ updateWebhookEndpoint(id: \"{id}\", input: {{ enabled: false }}) {{ enabled disabledReason }} }}") });
    let off = app.graphql(Some(&admin), &off).await;
    assert_eq!(
        off["data"]["updateWebhookEndpoint"]["enabled"], false,
        "{off}"
    );

    let output = db.cli(&["webhooks", "list"]);
    assert!(output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains(&id) && printed.contains("disabled"),
        "{printed}"
    );
    assert!(printed.contains("disabled by an admin"), "{printed}");
    assert!(!printed.contains("whsec_"), "{printed}");
}

async fn rotation_signs_with_both_secrets_during_the_overlap(engine: Engine) {
    let (app, _db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    let admin = app.key("root", Scope::Admin).await;
    let (id, old) = register(&app, &admin, &receiver.url, &["item.published"]).await;
    let path = format!("/v1/webhooks/{id}/rotate-secret");
    let (status, _, rotated) = call(
        &app,
        &admin,
        Method::POST,
        &path,
        Some(json!({ "overlap_seconds": 600 })),
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["data"]["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(!rotated["data"]["previous_secret_expires_at"].is_null());
    create_and_publish(&app, &admin, "rotated-1").await;
    let first = receiver.accepted(1, WAIT).await;
    assert!(first[0].signed_by(&old) && first[0].signed_by(&new));
    // Without an overlap the old secret stops signing at once.
    let (status, _, rotated) = call(
        &app,
        &admin,
        Method::POST,
        &path,
        Some(json!({ "overlap_seconds": 0 })),
    )
    .await;
    assert_eq!(status, 200);
    let newest = rotated["data"]["secret"].as_str().unwrap().to_owned();
    create_and_publish(&app, &admin, "rotated-2").await;
    let second = receiver.accepted(2, WAIT).await;
    assert!(second[1].signed_by(&newest) && !second[1].signed_by(&new));
}

async fn a_collection_filter_takes_events_shown_on_its_items(engine: Engine) {
    let (app, _db) = spawn(engine, "1h").await;
    let receiver = Receiver::start().await;
    let admin = app.key("root", Scope::Admin).await;
    let body = json!({ "url": receiver.url, "events": ["item.published", "item.updated"], "collections": ["benefits"] });
    let (status, _, _) = call(&app, &admin, Method::POST, "/v1/webhooks", Some(body)).await;
    assert_eq!(status, 201);
    // A condition's change is not shown on benefits: filtered out.
    let (status, _) = app
        .patch_current(
            &admin,
            "/v1/conditions/lower-back-pain",
            json!({ "name": "Low back pain" }),
        )
        .await;
    assert_eq!(status, 200);
    // A technique linked to a benefit is shown on it: delivered.
    create_and_publish(&app, &admin, "filtered-in").await;
    let accepted = receiver.accepted(1, WAIT).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.received().len(), 1);
    assert_eq!(accepted[0].json()["data"]["slug"], "filtered-in");
}

engine_tests!(
    endpoints_are_validated_and_admin_only,
    endpoints_are_managed_over_graphql_and_listed_by_the_cli,
    rotation_signs_with_both_secrets_during_the_overlap,
    a_collection_filter_takes_events_shown_on_its_items,
);
