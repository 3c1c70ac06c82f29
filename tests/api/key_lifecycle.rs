//! Keys with a lifecycle: expiry, rotation with an overlap window, last use recorded
//! without a write per request; on REST, GraphQL and the CLI.

use std::time::Duration;

use chrono::{SecondsFormat, Utc};
use reqwest::Method;
use salve::domain::Scope;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings, spawn_app, stderr};

const READ: &str = "/v1/techniques?limit=1";

fn in_seconds(seconds: i64) -> String {
    (Utc::now() + chrono::Duration::seconds(seconds)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

async fn status_with(app: &TestApp, key: &str) -> u16 {
    app.get_with_key(READ, key).await.status().as_u16()
}

async fn stored_last_use(db: &DatabaseConnection, name: &str) -> Option<String> {
    let backend = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DbBackend::Postgres => {
                    "SELECT last_used_at::text AS at FROM api_keys WHERE name = $1"
                }
                _ => "SELECT CAST(last_used_at AS TEXT) AS at FROM api_keys WHERE name = ?",
            },
            [name.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "at").unwrap()
}

async fn keys_expire(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let admin = app.key("root", Scope::Admin).await;
    let (status, created) = app
        .call(
            &admin,
            Method::POST,
            "/v1/keys",
            Some(json!({ "name": "shop", "scopes": ["read"], "expires_at": in_seconds(2) })),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["data"]["key"].as_str().unwrap().to_owned();
    assert_eq!(created["data"]["status"], "active");
    assert_eq!(status_with(&app, &secret).await, 200);

    for (body, pointer) in [
        (json!({ "expires_at": in_seconds(-60) }), "/expires_at"),
        (json!({ "expires_at": "tomorrow" }), "/expires_at"),
        (json!({ "expires_at": 5 }), "/expires_at"),
        (json!({ "scopes": ["admin"] }), "/scopes"),
    ] {
        let (status, problem) = app
            .call(&admin, Method::PATCH, "/v1/keys/shop", Some(body.clone()))
            .await;
        assert_eq!(status, 422, "{body}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    let (status, problem) = app
        .call(
            &admin,
            Method::POST,
            "/v1/keys",
            Some(json!({ "name": "late", "scopes": ["read"], "expires_at": in_seconds(-1) })),
        )
        .await;
    assert_eq!(
        (status, problem["errors"][0]["pointer"].clone()),
        (422, json!("/expires_at")),
        "{problem}"
    );

    tokio::time::sleep(Duration::from_millis(2_300)).await;
    assert_eq!(status_with(&app, &secret).await, 401, "expired");
    let (_, shop) = app.call(&admin, Method::GET, "/v1/keys/shop", None).await;
    assert_eq!(shop["data"]["status"], "expired", "{shop}");

    // Extending the expiry (or removing it) brings the key back.
    let (status, body) = app
        .call(
            &admin,
            Method::PATCH,
            "/v1/keys/shop",
            Some(json!({ "expires_at": null })),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["expires_at"], Value::Null);
    assert_eq!(status_with(&app, &secret).await, 200);
}

async fn rotation_keeps_the_replaced_secret_for_the_overlap_only(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let admin = app.key("root", Scope::Admin).await;
    let first = app.key("shop", Scope::Read).await;

    let (status, rotated) = app
        .call(
            &admin,
            Method::POST,
            "/v1/keys/shop/rotate",
            Some(json!({ "overlap_seconds": 3600 })),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let second = rotated["data"]["key"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert!(second.starts_with(rotated["data"]["prefix"].as_str().unwrap()));
    assert!(
        rotated["data"]["previous_secret_expires_at"].is_string(),
        "{rotated}"
    );
    assert_eq!(status_with(&app, &first).await, 200, "within the overlap");
    assert_eq!(status_with(&app, &second).await, 200);

    // A second rotation replaces the second secret at once; the first is gone for good.
    let (status, rotated) = app
        .call(
            &admin,
            Method::POST,
            "/v1/keys/shop/rotate",
            Some(json!({ "overlap_seconds": 0 })),
        )
        .await;
    assert_eq!(status, 200, "{rotated}");
    let third = rotated["data"]["key"].as_str().unwrap().to_owned();
    assert_eq!(rotated["data"]["previous_secret_expires_at"], Value::Null);
    assert_eq!(status_with(&app, &first).await, 401);
    assert_eq!(status_with(&app, &second).await, 401);
    assert_eq!(status_with(&app, &third).await, 200);

    for body in [
        json!({ "overlap_seconds": -1 }),
        json!({ "overlap_seconds": 604_801 }),
        json!({ "overlap_seconds": "1h" }),
        json!({ "overlap": 5 }),
    ] {
        let (status, problem) = app
            .call(
                &admin,
                Method::POST,
                "/v1/keys/shop/rotate",
                Some(body.clone()),
            )
            .await;
        assert_eq!(status, 422, "{body}: {problem}");
    }
    let (status, _) = app
        .call(&admin, Method::POST, "/v1/keys/nobody/rotate", None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = app
        .call(&third, Method::POST, "/v1/keys/shop/rotate", None)
        .await;
    assert_eq!(status, 403, "a read key cannot rotate keys");

    let (status, _) = app
        .call(&admin, Method::DELETE, "/v1/keys/shop", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(status_with(&app, &third).await, 401);
    let (status, _) = app
        .call(&admin, Method::POST, "/v1/keys/shop/rotate", None)
        .await;
    assert_eq!(status, 409, "a revoked key stays revoked");
}

async fn last_use_is_written_in_batches(engine: Engine) {
    let db = TestDb::new(engine).await;
    let app = TestApp::spawn(settings(&db.url)).await;
    let admin = app.key("root", Scope::Admin).await;
    let shop = app.key("shop", Scope::Read).await;
    for _ in 0..20 {
        assert_eq!(status_with(&app, &shop).await, 200);
    }
    // Seen at once by this instance, written only at the next flush.
    let (_, listed) = app.call(&admin, Method::GET, "/v1/keys/shop", None).await;
    assert!(listed["data"]["last_used_at"].is_string(), "{listed}");
    let conn = app.db.clone();
    assert_eq!(
        stored_last_use(&conn, "shop").await,
        None,
        "no write per request"
    );
    app.shutdown.shutdown().await;
    app.server.await.unwrap().unwrap();
    assert!(
        stored_last_use(&conn, "shop").await.is_some(),
        "written at shutdown"
    );

    let mut config = settings(&db.url);
    config.serve.key_usage_interval_s = 1;
    let app = TestApp::spawn(config).await;
    let other = app.key("other", Scope::Read).await;
    assert_eq!(status_with(&app, &other).await, 200);
    // Written by the periodic flush (every second; a busy machine may delay it).
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while stored_last_use(&app.db, "other").await.is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "not written by the periodic flush"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn bearer_tokens_of_the_wrong_shape_are_refused_before_the_database(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let key = app.key("shop", Scope::Read).await;
    let statements = app.statements.get();
    for token in [
        "x".repeat(10_000),
        format!("{key}x"),
        key[..key.len() - 1].to_owned(),
        "salve_".repeat(8) + "x",
    ] {
        assert_eq!(
            status_with(&app, &token).await,
            401,
            "{}",
            &token[..token.len().min(60)]
        );
    }
    assert_eq!(
        app.statements.get(),
        statements,
        "no lookup for a token of the wrong shape"
    );
}

async fn keys_are_managed_over_graphql(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let admin = app.key("root", Scope::Admin).await;
    let reader = app.key("reader", Scope::Read).await;
    let create = json!({ "query": "mutation($e: DateTime) { createApiKey(input: { name: \"shop\", scopes: [\"read\"], expiresAt: $e }) { secret key { name status expiresAt scopes } } }", "variables": { "e": in_seconds(3600) } });
    let created = app.graphql(Some(&admin), &create).await;
    let secret = created["data"]["createApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_eq!(
        created["data"]["createApiKey"]["key"]["status"], "active",
        "{created}"
    );
    assert_eq!(status_with(&app, &secret).await, 200);

    let rotated = app.query(Some(&admin), "mutation { rotateApiKey(name: \"shop\", overlapSeconds: 0) { secret key { rotatedAt previousSecretExpiresAt } } }").await;
    let renewed = rotated["data"]["rotateApiKey"]["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    assert_eq!(status_with(&app, &secret).await, 401);
    assert_eq!(status_with(&app, &renewed).await, 200);

    let updated = app
        .query(
            Some(&admin),
            "mutation { updateApiKey(name: \"shop\", expiresAt: null) { expiresAt } }",
        )
        .await;
    assert_eq!(
        updated["data"]["updateApiKey"]["expiresAt"],
        Value::Null,
        "{updated}"
    );
    let listed = app
        .query(Some(&admin), "{ apiKeys { name status lastUsedAt } }")
        .await;
    let names: Vec<&str> = listed["data"]["apiKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["reader", "root", "shop"], "{listed}");
    assert!(!listed.to_string().contains(&renewed));

    let refused = app.query(Some(&reader), "{ apiKeys { name } }").await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{refused}"
    );
    let bad = app
        .query(
            Some(&admin),
            "mutation { rotateApiKey(name: \"shop\", overlapSeconds: -5) { secret } }",
        )
        .await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "VALIDATION_FAILED",
        "{bad}"
    );
    let revoked = app
        .query(
            Some(&admin),
            "mutation { revokeApiKey(name: \"shop\") { status } }",
        )
        .await;
    assert_eq!(
        revoked["data"]["revokeApiKey"]["status"], "revoked",
        "{revoked}"
    );
    assert_eq!(status_with(&app, &renewed).await, 401);
}

async fn the_cli_expires_and_rotates_keys(engine: Engine) {
    let db = TestDb::new(engine).await;
    let app = TestApp::spawn(settings(&db.url)).await;
    let created = db.cli(&[
        "keys",
        "create",
        "--name",
        "shop",
        "--scopes",
        "read",
        "--expires-in",
        "1h",
    ]);
    assert!(created.status.success(), "{}", stderr(&created));
    let first = String::from_utf8(created.stdout.clone())
        .unwrap()
        .trim()
        .to_owned();
    assert!(stderr(&created).contains("until"), "{}", stderr(&created));
    let rotated = db.cli(&["keys", "rotate", "shop", "--overlap", "0s"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let second = String::from_utf8(rotated.stdout).unwrap().trim().to_owned();
    assert_eq!(status_with(&app, &first).await, 401);
    assert_eq!(status_with(&app, &second).await, 200);
    let listing = String::from_utf8(db.cli(&["keys", "list"]).stdout).unwrap();
    assert!(
        listing.contains("shop") && listing.contains("active"),
        "{listing}"
    );
    for (args, message) in [
        (
            vec!["keys", "create", "--name", "x", "--expires-in", "soon"],
            "--expires-in",
        ),
        (
            vec!["keys", "rotate", "shop", "--overlap", "8d"],
            "--overlap",
        ),
        (vec!["keys", "rotate", "nobody"], "no key named"),
        (
            vec!["keys", "update", "shop", "--rate-limit", "fast"],
            "--rate-limit",
        ),
        (
            vec![
                "keys",
                "update",
                "shop",
                "--expires-at",
                "2001-01-01T00:00:00Z",
            ],
            "future",
        ),
    ] {
        let output = db.cli(&args);
        assert!(!output.status.success(), "{args:?}");
        assert!(
            stderr(&output).contains(message),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

engine_tests!(
    keys_expire,
    rotation_keeps_the_replaced_secret_for_the_overlap_only,
    last_use_is_written_in_batches,
    bearer_tokens_of_the_wrong_shape_are_refused_before_the_database,
    keys_are_managed_over_graphql,
    the_cli_expires_and_rotates_keys,
);
