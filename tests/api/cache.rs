//! The read cache (issue 6): hot reads follow writes at once on this instance and within
//! 1 s on others, preview reads never reach anonymous readers, surrogate keys name what a
//! response shows, the memory bound holds — on SQLite and PostgreSQL.

use std::time::{Duration, Instant};

use reqwest::Method;
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, generate, settings, spawn_app, stderr};
use crate::requests::Call;

async fn metric(app: &TestApp, name: &str) -> f64 {
    let text = app.metrics().await;
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

/// Edits a published item and publishes the edit.
async fn patch(app: &TestApp, key: &str, path: &str, body: Value) -> Value {
    let (status, body) = app.patch_live(key, path, body).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn step(app: &TestApp, key: &str, path: &str, action: &str) {
    let tag = app.etag(key, path).await;
    let (status, _, body) = Call::new(app, Method::POST, format!("{path}/{action}"))
        .key(key)
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(status, 200, "{action}: {body}");
}

async fn cached_reads_follow_every_write(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = keys["publish"].as_str();
    let technique = "/v1/techniques/foam-rolling?include=benefits";
    let first = app.get(technique).await;
    let surrogate = first.headers()["surrogate-key"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(surrogate.contains("technique:foam-rolling"), "{surrogate}");
    assert!(surrogate.contains("benefit:released-knots"), "{surrogate}");
    assert!(first.headers().contains_key("cache-tag"));
    let hits = metric(&app, "salve_cache_hits_total").await;
    app.json(technique).await;
    assert_eq!(
        metric(&app, "salve_cache_hits_total").await,
        hits + 1.0,
        "a hit"
    );
    let gql = r#"{ technique(slug: "foam-rolling") { benefits { slug name } } }"#;
    app.query(None, gql).await;

    // A benefit reached only through an include / a nested field.
    patch(
        &app,
        publish,
        "/v1/benefits/released-knots",
        json!({ "name": "Knots, released" }),
    )
    .await;
    let body = app.json(technique).await;
    let names: Vec<&str> = body["data"]["benefits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Knots, released"), "{names:?}");
    let body = app.query(None, gql).await;
    assert!(body.to_string().contains("Knots, released"), "{body}");

    // A draft linked to a cached condition appears on publish, goes on unpublish,
    // comes back, and goes on archive; a restore shows at once.
    let condition = "/v1/conditions/lower-back-pain?include=techniques&fields=slug";
    let slugs = |body: &Value| -> Vec<String> {
        body["data"]["techniques"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let write = keys["write"].as_str();
    let (status, _, _) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(write)
        .json(
            json!({ "slug": "cache-rolling", "name": "Cache rolling", "kind": "self",
                      "summary": "First.", "conditions": ["lower-back-pain"] }),
        )
        .send()
        .await;
    assert_eq!(status, 201);
    let gql_condition =
        r#"{ condition(slug: "lower-back-pain") { techniques(first: 50) { slug summary } } }"#;
    let seen = |body: &Value| body.to_string().contains("cache-rolling");
    assert!(!slugs(&app.json(condition).await).contains(&"cache-rolling".into()));
    assert!(!seen(&app.query(None, gql_condition).await));
    assert!(
        app.query(None, r#"{ technique(slug: "cache-rolling") { slug } }"#)
            .await["data"]["technique"]
            .is_null()
    );
    let item = "/v1/techniques/cache-rolling";
    step(&app, publish, item, "publish").await;
    assert!(slugs(&app.json(condition).await).contains(&"cache-rolling".into()));
    assert!(seen(&app.query(None, gql_condition).await));
    assert_eq!(
        app.query(None, r#"{ technique(slug: "cache-rolling") { slug } }"#)
            .await["data"]["technique"]["slug"],
        "cache-rolling"
    );
    step(&app, publish, item, "unpublish").await;
    assert!(!slugs(&app.json(condition).await).contains(&"cache-rolling".into()));
    assert!(!seen(&app.query(None, gql_condition).await));
    assert_eq!(app.get(item).await.status(), 404);
    step(&app, publish, item, "publish").await;
    assert_eq!(app.json(item).await["data"]["summary"], "First.");
    patch(&app, publish, item, json!({ "summary": "Second." })).await;
    assert_eq!(app.json(item).await["data"]["summary"], "Second.");
    let tag = app.etag(publish, item).await;
    let (status, _, _) = Call::new(&app, Method::POST, format!("{item}/revisions/1/restore"))
        .key(publish)
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.json(item).await["data"]["summary"],
        "Second.",
        "restored as a draft"
    );
    step(&app, publish, item, "publish").await;
    assert_eq!(app.json(item).await["data"]["summary"], "First.");
    let listed = app
        .json("/v1/techniques?q=rolling&fields=slug,summary&limit=100")
        .await;
    assert!(
        listed.to_string().contains("First."),
        "lists and search follow too"
    );
    step(&app, publish, item, "archive").await;
    assert_eq!(app.get(item).await.status(), 404);
    assert!(!slugs(&app.json(condition).await).contains(&"cache-rolling".into()));
    let listed = app
        .json("/v1/techniques?q=rolling&fields=slug&limit=100")
        .await;
    assert!(!listed.to_string().contains("cache-rolling"));
}

async fn preview_reads_never_reach_anonymous_readers(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let write = app.key("writer", Scope::Write).await;
    let (status, _, _) = Call::new(&app, Method::POST, "/v1/benefits")
        .key(&write)
        .json(json!({ "slug": "secret-benefit", "name": "Secret benefit",
                      "techniques": ["foam-rolling"] }))
        .send()
        .await;
    assert_eq!(status, 201);
    let preview = app.key("previewer", Scope::Preview).await;
    for path in [
        "/v1/benefits/secret-benefit",
        "/v1/benefits?fields=slug&limit=100",
        "/v1/techniques/foam-rolling?include=benefits",
        "/v1/search?q=secret",
    ] {
        let warmed = app.get_with_key(path, &preview).await;
        assert_eq!(warmed.status(), 200, "{path}");
        assert_eq!(warmed.headers()["cache-control"], "private, no-store");
        assert!(
            warmed.text().await.unwrap().contains("secret-benefit"),
            "{path}"
        );
        let anonymous = app.get(path).await;
        let status = anonymous.status();
        let text = anonymous.text().await.unwrap();
        if path == "/v1/benefits/secret-benefit" {
            assert_eq!(status, 404, "{text}");
        } else {
            assert!(!text.contains("secret-benefit"), "{path} leaked: {text}");
        }
    }
    let query = r#"{ benefit(slug: "secret-benefit") { slug } }"#;
    let warmed = app.query(Some(&preview), query).await;
    assert_eq!(warmed["data"]["benefit"]["slug"], "secret-benefit");
    assert!(app.query(None, query).await["data"]["benefit"].is_null());
}

/// Polls `path` on `app` until `done` holds, for at most 1 s.
async fn within_a_second(app: &TestApp, path: &str, done: impl Fn(&Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let body = app.json(path).await;
        if done(&body) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{path} still stale after 1 s: {body}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn writes_through_another_instance_or_the_cli_arrive_within_a_second(engine: Engine) {
    let (a, db) = spawn_app(engine).await;
    let b = TestApp::spawn(settings(&db.url)).await;
    let publish = a.key("publisher", Scope::Publish).await;
    let path = "/v1/techniques/foam-rolling?include=benefits";
    let name = |body: &Value| {
        body["data"]["benefits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["name"] == "Released via A")
    };
    assert!(!name(&b.json(path).await));
    b.json(path).await; // cached on B
    patch(
        &a,
        &publish,
        "/v1/benefits/released-knots",
        json!({ "name": "Released via A" }),
    )
    .await;
    within_a_second(&b, path, name).await;

    // `salve import` while both servers run.
    let dir = db.dir().join("cli-change");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("benefits.ndjson"),
        r#"{"slug":"released-knots","name":"Released via the CLI"}"#,
    )
    .unwrap();
    a.json(path).await;
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let via_cli = |body: &Value| body.to_string().contains("Released via the CLI");
    within_a_second(&a, path, via_cli).await;
    within_a_second(&b, path, via_cli).await;
}

/// Every item of scale M read through a 1 MiB cache, page by page with every relation
/// included: the cache never holds more than its budget, and evicts to stay there.
/// (Pages of 20, so each fits the cache: a response over an eighth of the budget is
/// served but not kept.)
async fn the_memory_bound_holds_under_a_full_scan(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.cache_mb = 1;
    config.serve.no_demo = true;
    let app = TestApp::spawn(config).await;
    let set = generate("M", &db.dir().join("scan"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut items = 0;
    for collection in salve::domain::Collection::ALL {
        let include: Vec<&str> = salve::domain::relations::relations(collection)
            .iter()
            .map(|r| r.name)
            .collect();
        let first = format!("/v1/{collection}?limit=20&include={}", include.join(","));
        let mut path = first.clone();
        loop {
            let page = app.json(&path).await;
            items += page["data"].as_array().unwrap().len();
            assert!(metric(&app, "salve_cache_bytes").await <= 1024.0 * 1024.0);
            match page["page"]["next_cursor"].as_str() {
                Some(cursor) => path = format!("{first}&cursor={cursor}"),
                None => break,
            }
        }
    }
    assert!(items > 30_000, "{items} items");
    assert!(metric(&app, "salve_cache_evictions_total").await > 0.0);
    assert!(metric(&app, "salve_cache_entries").await > 1.0);
}

async fn metrics_count_requests_per_route(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    app.get("/v1/techniques/foam-rolling").await;
    let text = app.metrics().await;
    assert!(text.contains(
        "salve_http_requests_total{method=\"GET\",route=\"/v1/techniques/{slug}\",status=\"200\"} 1"
    ), "{text}");
    assert!(text.contains("salve_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/techniques/{slug}\",le=\"+Inf\"} 1"));
    assert!(text.contains("salve_sql_statements_total"));
    assert!(text.contains("salve_db_pool_connections"));
}

async fn no_cache_serves_every_read_from_the_database(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.no_cache = true;
    let app = TestApp::spawn(config).await;
    for _ in 0..3 {
        app.json("/v1/techniques/foam-rolling").await;
    }
    assert_eq!(metric(&app, "salve_cache_hits_total").await, 0.0);
    assert_eq!(metric(&app, "salve_cache_entries").await, 0.0);
}

/// A repeated GraphQL query is answered from the cache without SQL, keyed by its
/// variables; the cache lookup precedes parsing, yet a query over the limits is refused
/// every time (only queries that passed them are ever stored).
async fn graphql_hits_skip_the_database_but_never_the_limits(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let by_slug = "query($s: String!) { technique(slug: $s) { name } }";
    let run = |slug: &'static str| {
        let app = &app;
        async move {
            let before = app.statements.get();
            let body: Value = app
                .client
                .post(format!("{}/graphql", app.address))
                .json(&json!({ "query": by_slug, "variables": { "s": slug } }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            (body, app.statements.get() - before)
        }
    };
    let (first, statements) = run("foam-rolling").await;
    assert_eq!(
        first["data"]["technique"]["name"], "Foam rolling",
        "{first}"
    );
    assert!(statements > 0);
    let (again, statements) = run("foam-rolling").await;
    assert_eq!((again, statements), (first.clone(), 0));
    // Stored or not, the fields come in selection order, and GET carries the newest
    // `updatedAt` shown as `Last-Modified`.
    let ordered = r#"{ productBySku(sku: "DEMO-FR-SMOOTH") { sku name updatedAt } }"#;
    let url = format!("{}/graphql?query={}", app.address, urlencode(ordered));
    for _ in 0..2 {
        let response = app.client.get(&url).send().await.unwrap();
        assert!(response.headers().contains_key("last-modified"));
        let text = response.text().await.unwrap();
        let at = |field: &str| text.find(&format!("\"{field}\"")).unwrap();
        assert!(
            at("sku") < at("name") && at("name") < at("updatedAt"),
            "{text}"
        );
    }
    let (other, statements) = run("swedish-massage").await;
    assert!(statements > 0);
    assert_ne!(other, first);

    let too_deep = {
        let mut inner = "name".to_owned();
        for _ in 0..20 {
            inner = format!("techniques(first: 1) {{ conditions(first: 1) {{ {inner} }} }}");
        }
        format!("{{ condition(slug: \"lower-back-pain\") {{ {inner} }} }}")
    };
    for _ in 0..2 {
        let refused = app.query(None, &too_deep).await;
        assert_eq!(
            refused["errors"][0]["extensions"]["code"], "DEPTH_LIMIT_EXCEEDED",
            "{refused}"
        );
    }
    // The second technique lookup and the second GET.
    assert_eq!(metric(&app, "salve_cache_hits_total").await, 2.0);
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

engine_tests!(
    graphql_hits_skip_the_database_but_never_the_limits,
    cached_reads_follow_every_write,
    preview_reads_never_reach_anonymous_readers,
    writes_through_another_instance_or_the_cli_arrive_within_a_second,
    the_memory_bound_holds_under_a_full_scan,
    metrics_count_requests_per_route,
    no_cache_serves_every_read_from_the_database,
);
