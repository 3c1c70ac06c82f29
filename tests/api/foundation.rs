use serde_json::Value;

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, row_counts, settings, spawn_app, spawn_binary};

async fn fresh_database_is_migrated_and_serves_the_demo_content(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;

    let response = app.get("/v1/articles/massage-for-lower-back-pain").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    let article = &body["data"];
    assert_eq!(
        article["title"],
        "Massage for Lower Back Pain: Benefits, Types, and More"
    );
    assert_eq!(article["author"], "maryann-depietro");
    assert_eq!(article["publisher"], "carex-health-brands");
    assert_eq!(article["status"], "published");
    assert_eq!(article["version"], 1);

    let product: Value = app
        .get("/v1/products/smooth-foam-roller")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(product["data"]["sku"], "DEMO-FR-SMOOTH");
    let condition: Value = app
        .get("/v1/conditions/lower-back-pain")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(condition["data"]["statistics"][0]["value"], 8.2);
    assert_eq!(condition["data"]["alternate_names"][1], "Lumbago");

    let counts = row_counts(&app.db).await;
    assert_eq!(counts["techniques"], 6);
    assert_eq!(counts["technique_benefits"], 14);
    assert_eq!(counts["article_related"], 6);
}

async fn second_start_does_not_duplicate_the_demo_content(engine: Engine) {
    let db = TestDb::new(engine).await;
    let first = TestApp::spawn(settings(&db.url)).await;
    let before = row_counts(&first.db).await;
    let versions_before: Value = first
        .get("/v1/techniques/foam-rolling")
        .await
        .json()
        .await
        .unwrap();
    first.shutdown.shutdown().await;

    let second = TestApp::spawn(settings(&db.url)).await;
    assert_eq!(row_counts(&second.db).await, before);
    let versions_after: Value = second
        .get("/v1/techniques/foam-rolling")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(versions_after, versions_before);
}

async fn no_demo_flag_leaves_the_database_empty(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.no_demo = true;
    let app = TestApp::spawn(config).await;
    assert!(row_counts(&app.db).await.values().all(|n| *n == 0));
    assert_eq!(app.get("/v1/techniques/foam-rolling").await.status(), 404);
}

async fn drafts_are_invisible_to_anonymous_readers(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let dir = db.dir().join("draft");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("techniques.ndjson"),
        r#"{"slug":"draft-technique","name":"Secret","kind":"self","status":"draft"}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("articles.ndjson"),
        r#"{"slug":"reviewed-by-draft","title":"T","author":"maryann-depietro","reviewer":"draft-author","techniques":["draft-technique"]}"#,
    )
    .unwrap();
    // A published article may only point at published items: the reviewer goes back to
    // review after the article is in.
    for status in ["published", "in_review"] {
        if status == "in_review" {
            std::fs::remove_file(dir.join("articles.ndjson")).unwrap();
        }
        std::fs::write(
            dir.join("authors.ndjson"),
            format!(
                r#"{{"slug":"draft-author","name":"Draft Author","credentials":"MD","status":"{status}"}}"#
            ),
        )
        .unwrap();
        let output = db.cli(&["import", dir.to_str().unwrap()]);
        assert!(
            output.status.success(),
            "{}",
            crate::helpers::stderr(&output)
        );
    }

    assert_eq!(
        app.get("/v1/techniques/draft-technique").await.status(),
        404
    );
    assert_eq!(app.get("/v1/authors/draft-author").await.status(), 404);
    let article: Value = app
        .get("/v1/articles/reviewed-by-draft")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        article["data"]["reviewer"],
        Value::Null,
        "a reference to a draft reads as null"
    );
    assert_eq!(article["data"]["author"], "maryann-depietro");
}

async fn responses_echo_a_request_id(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let generated = app.get("/healthz").await;
    let id = generated.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    let given = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "storefront-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "storefront-abc.123");

    let hostile = app
        .client
        .get(format!("{}/healthz", app.address))
        .header("x-request-id", "a b <script>")
        .send()
        .await
        .unwrap();
    assert_ne!(hostile.headers()["x-request-id"], "a b <script>");
}

async fn shutdown_turns_readiness_off_and_stops_the_server(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.shutdown_drain_ms = 800;
    let app = TestApp::spawn(config).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    let trigger = app.shutdown.clone();
    let shutting_down = tokio::spawn(async move { trigger.shutdown().await });
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let readiness = app.get("/readyz").await;
    assert_eq!(readiness.status(), 503, "not ready while draining");
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "still serving while draining"
    );
    assert_eq!(app.get("/v1/techniques/foam-rolling").await.status(), 200);

    shutting_down.await.unwrap();
    let finished = tokio::time::timeout(std::time::Duration::from_secs(10), app.server).await;
    assert!(
        matches!(finished, Ok(Ok(Ok(())))),
        "server stops cleanly: {finished:?}"
    );
}

/// The real binary, started as the README's quick start starts it (no subcommand), takes
/// `serve`'s settings from the environment (it listens where `SALVE_BIND` says), and
/// exits cleanly on SIGTERM.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_binary_gracefully() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (mut child, _base) = spawn_binary(&db, &[], &[("SALVE_SHUTDOWN_DRAIN_MS", "200")]).await;
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let waited = tokio::task::spawn_blocking(move || child.wait());
    let status = tokio::time::timeout(std::time::Duration::from_secs(15), waited)
        .await
        .expect("exits after SIGTERM")
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

engine_tests!(
    fresh_database_is_migrated_and_serves_the_demo_content,
    second_start_does_not_duplicate_the_demo_content,
    no_demo_flag_leaves_the_database_empty,
    drafts_are_invisible_to_anonymous_readers,
    responses_echo_a_request_id,
    shutdown_turns_readiness_off_and_stops_the_server,
);

/// An in-memory SQLite database would be one empty database per pooled connection: the
/// binary refuses it, saying why.
#[test]
fn in_memory_sqlite_is_refused() {
    for url in [
        "sqlite::memory:",
        "sqlite://:memory:",
        "sqlite://salve.db?mode=memory",
    ] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_salve"))
            .arg("migrate")
            .env("SALVE_DATABASE_URL", url)
            .env("SALVE_LOG", "warn")
            .output()
            .expect("run salve");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{url}: {stderr}");
        assert!(stderr.contains("must be a file"), "{url}: {stderr}");
    }
}
