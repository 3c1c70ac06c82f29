//! Editing (issue 5): the editorial story, scopes for every write operation, mass
//! assignment, optimistic concurrency, idempotency, atomicity and bad bodies — on SQLite
//! and PostgreSQL.

use reqwest::{Method, StatusCode};
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, row_counts, settings, spawn_app};
use crate::requests::{Call, pointers};

async fn visible(app: &TestApp, key: Option<&str>, slug: &str) -> Vec<&'static str> {
    let mut seen = Vec::new();
    let get = |path: String| async move { app.get_as(&path, key).await };
    if get(format!("/v1/techniques/{slug}")).await.status() == 200 {
        seen.push("get");
    }
    let list: Value = get("/v1/techniques?fields=slug&limit=100".into())
        .await
        .json()
        .await
        .unwrap();
    if list["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["slug"] == slug)
    {
        seen.push("list");
    }
    let condition: Value = get("/v1/conditions/lower-back-pain?include=techniques".into())
        .await
        .json()
        .await
        .unwrap();
    let included = condition["data"]["techniques"].as_array().unwrap();
    if included.iter().any(|t| t["slug"] == slug) {
        seen.push("include");
    }
    let search: Value = get("/v1/search?q=zebrafoam".into())
        .await
        .json()
        .await
        .unwrap();
    if !search["data"].as_array().unwrap().is_empty() {
        seen.push("search");
    }
    let counted: Value = get("/v1/techniques?count=true&condition=lower-back-pain&limit=1".into())
        .await
        .json()
        .await
        .unwrap();
    let total = counted["page"]["total"].as_i64().unwrap();
    let demo_total = 6;
    if total > demo_total {
        seen.push("count");
    }
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": format!("{{ technique(slug: \"{slug}\") {{ slug }} }}") }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let graphql: Value = request.send().await.unwrap().json().await.unwrap();
    if !graphql["data"]["technique"].is_null() {
        seen.push("graphql");
    }
    seen
}

const EVERYWHERE: [&str; 6] = ["get", "list", "include", "search", "count", "graphql"];

async fn editorial_story(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish, read) = (&keys["write"], &keys["publish"], &keys["read"]);
    let base_total: Value = app
        .get("/v1/techniques?count=true&condition=lower-back-pain&limit=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        base_total["page"]["total"], 6,
        "the demo links 6 techniques"
    );

    let (status, etag1, created) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(write)
        .json(
            json!({ "slug": "story-rolling", "name": "Story rolling", "kind": "self",
                      "summary": "A zebrafoam routine." }),
        )
        .send()
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["data"]["status"], "draft");
    assert_eq!(created["data"]["version"], 1);
    let (status, _, linked) =
        Call::new(&app, Method::PUT, "/v1/techniques/story-rolling/conditions")
            .key(write)
            .if_match(&etag1.unwrap())
            .json(json!([{ "slug": "lower-back-pain", "note": "helps" }]))
            .send()
            .await;
    assert_eq!(status, 200, "{linked}");
    assert_eq!(linked["data"]["version"], 2);

    for key in [None, Some(read.as_str())] {
        assert_eq!(
            visible(&app, key, "story-rolling").await,
            Vec::<&str>::new()
        );
    }
    assert_eq!(
        visible(&app, Some(&keys["preview"]), "story-rolling").await,
        EVERYWHERE
    );

    let path = "/v1/techniques/story-rolling";
    let current = app.etag(write, path).await;
    let (status, _, body) = Call::new(&app, Method::POST, format!("{path}/submit"))
        .key(write)
        .if_match(&current)
        .send()
        .await;
    assert_eq!(
        (status, body["data"]["status"].as_str()),
        (StatusCode::OK, Some("in_review"))
    );
    let current = app.etag(write, path).await;
    let (status, _, _) = Call::new(&app, Method::POST, format!("{path}/publish"))
        .key(write)
        .if_match(&current)
        .send()
        .await;
    assert_eq!(status, 403, "a write key cannot publish");
    let (status, _, body) = Call::new(&app, Method::POST, format!("{path}/publish"))
        .key(publish)
        .if_match(&current)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "published");
    assert!(body["data"]["published_at"].is_string());
    for key in [None, Some(read.as_str())] {
        assert_eq!(visible(&app, key, "story-rolling").await, EVERYWHERE);
    }

    // `current` is now stale: publishing made a new version.
    let (status, _, body) = Call::new(&app, Method::PATCH, path)
        .key(publish)
        .if_match(&current)
        .json(json!({ "summary": "Edited" }))
        .send()
        .await;
    assert_eq!(status, 412, "{body}");
    let fresh = app.etag(publish, path).await;
    let (status, _, body) = Call::new(&app, Method::PATCH, path)
        .key(write)
        .if_match(&fresh)
        .json(json!({ "summary": "Edited" }))
        .send()
        .await;
    assert_eq!(
        status, 200,
        "write keys propose corrections as drafts: {body}"
    );
    assert_eq!(body["data"]["status"], "draft");
    assert_eq!(
        app.json(path).await["data"]["summary"],
        "A zebrafoam routine."
    );
    let (status, body) = app.step_current(write, path, "discard").await;
    assert_eq!(status, 200, "{body}");
    let (status, etag4, body) = Call::new(&app, Method::PATCH, path)
        .key(publish)
        .if_match(&fresh)
        .json(json!({ "summary": "A corrected zebrafoam routine." }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["summary"], "A corrected zebrafoam routine.");
    assert_eq!(
        etag4.unwrap(),
        app.etag(publish, path).await,
        "write ETag = GET ETag"
    );
    assert_eq!(
        app.json(path).await["data"]["summary"],
        "A zebrafoam routine."
    );
    let (status, body) = app.publish_current(publish, path).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        app.json(path).await["data"]["summary"],
        "A corrected zebrafoam routine."
    );

    let (_, _, revisions) = Call::new(&app, Method::GET, format!("{path}/revisions"))
        .key(write)
        .send()
        .await;
    let numbers: Vec<(i64, bool)> = revisions["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["number"].as_i64().unwrap(), r["draft"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        numbers,
        [(5, false), (4, true), (3, true), (2, false), (1, false)],
        "{revisions}"
    );
    assert_eq!(revisions["data"][4]["summary"], "created");
    let (_, _, diff) = Call::new(&app, Method::GET, format!("{path}/revisions/5/diff?from=2"))
        .key(write)
        .send()
        .await;
    assert_eq!(
        diff["data"]["changes"],
        json!([{ "pointer": "/summary", "before": "A zebrafoam routine.",
                 "after": "A corrected zebrafoam routine." }])
    );
    let (status, _, _) = Call::new(&app, Method::GET, format!("{path}/revisions"))
        .key(read)
        .send()
        .await;
    assert_eq!(status, 403, "revisions need the preview scope");

    let current = app.etag(publish, path).await;
    let (status, _, restored) =
        Call::new(&app, Method::POST, format!("{path}/revisions/1/restore"))
            .key(publish)
            .if_match(&current)
            .send()
            .await;
    assert_eq!(status, 200, "{restored}");
    assert_eq!(restored["data"]["summary"], "A zebrafoam routine.");
    let (_, _, revision) = Call::new(&app, Method::GET, format!("{path}/revisions/6"))
        .key(write)
        .send()
        .await;
    assert_eq!(
        revision["data"]["summary"],
        "draft: restore revision 1: conditions, summary"
    );
    assert_eq!(revision["data"]["document"]["conditions"], json!([]));

    let current = app.etag(publish, path).await;
    let (status, _, _) = Call::new(&app, Method::POST, format!("{path}/unpublish"))
        .key(publish)
        .if_match(&current)
        .send()
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.get(path).await.status(), 404);
    assert!(!visible(&app, None, "story-rolling").await.contains(&"get"));

    let (_, _, audit) = Call::new(&app, Method::GET, "/v1/audit?slug=story-rolling&limit=100")
        .key(&keys["admin"])
        .send()
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "unpublish",
            "restore",
            "publish",
            "update",
            "discard",
            "update",
            "publish",
            "submit",
            "update",
            "create"
        ]
    );
    assert_eq!(audit["data"][3]["actor"], "publish");
    assert!(audit["data"][3]["request_id"].is_string());
    assert_eq!(audit["data"][3]["detail"]["draft"], true);
    let (status, _, _) = Call::new(&app, Method::GET, "/v1/audit")
        .key(publish)
        .send()
        .await;
    assert_eq!(status, 403, "the audit log is for admins");
}

/// Every operation that names a required scope in the OpenAPI document, called by
/// each kind of caller: without the scope → 401 (anonymous) or 403; with it → neither.
async fn scope_matrix_follows_the_openapi_document(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let Some(required) = operation["x-required-scope"].as_str() else {
                assert!(
                    method == Method::GET || path == "/graphql",
                    "{method} {path} documents no x-required-scope"
                );
                continue;
            };
            let required = Scope::parse(required).unwrap();
            let concrete = path
                .replace("{slug}", "no-such-item")
                .replace("{number}", "1")
                .replace("{name}", "no-such-key");
            for (caller, key) in std::iter::once(("anonymous", None))
                .chain(keys.iter().map(|(name, key)| (*name, Some(key.as_str()))))
            {
                let mut call = Call::new(&app, method.clone(), concrete.clone()).json(json!({}));
                if let Some(key) = key {
                    call = call.key(key);
                }
                let (status, _, body) = call.send().await;
                let granted = key.is_some()
                    && salve::domain::Scopes::from_granted(&[Scope::parse(caller).unwrap()])
                        .contains(required);
                let expected_denial = if key.is_none() { 401 } else { 403 };
                if granted {
                    assert!(
                        status != 401 && status != 403 && !status.is_server_error(),
                        "{method} {concrete} as {caller}: {status} {body}"
                    );
                } else {
                    assert_eq!(
                        status.as_u16(),
                        expected_denial,
                        "{method} {concrete} as {caller}: {body}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 6 * 40,
        "only {checked} calls: are the write operations documented?"
    );
}

async fn read_only_fields_are_refused(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let write = app.key("writer", Scope::Write).await;
    for (field, value) in [
        ("id", json!("01a229ee-3631-7239-9c73-a24e35f7a582")),
        ("status", json!("published")),
        ("published_at", json!("2020-01-01T00:00:00Z")),
        ("version", json!(7)),
        ("created_at", json!("2020-01-01T00:00:00Z")),
        ("updated_at", json!("2020-01-01T00:00:00Z")),
    ] {
        let mut body = json!({ "slug": "sneaky", "name": "Sneaky", "kind": "self" });
        body[field] = value.clone();
        let (status, _, problem) = Call::new(&app, Method::POST, "/v1/techniques")
            .key(&write)
            .json(body)
            .send()
            .await;
        assert_eq!(status, 422, "{field}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], format!("/{field}"));
        let (status, _, problem) = Call::new(&app, Method::PATCH, "/v1/techniques/foam-rolling")
            .key(&write)
            .if_match("\"x\"")
            .json(json!({ field: value }))
            .send()
            .await;
        // The body is refused before the item is even read.
        assert_eq!(status, 422, "{field}: {problem}");
        assert_eq!(problem["errors"][0]["pointer"], format!("/{field}"));
    }
    let (_, etag1, _) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(&write)
        .json(json!({ "slug": "plain", "name": "Plain", "kind": "self" }))
        .send()
        .await;
    let (status, _, problem) = Call::new(&app, Method::PATCH, "/v1/techniques/plain")
        .key(&write)
        .if_match(&etag1.unwrap())
        .json(json!({ "status": "published", "version": 9, "name": "" }))
        .send()
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        pointers(&problem),
        ["/status", "/version", "/name"],
        "{problem}"
    );
    assert_eq!(
        app.get("/v1/techniques/plain").await.status(),
        404,
        "still a draft"
    );
}

async fn concurrent_patches_with_one_etag_let_exactly_one_win(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.database.db_pool_size = Some(8);
    config.database.db_acquire_timeout_ms = 30_000;
    config.database.db_statement_timeout_ms = 30_000;
    config.serve.workers = Some(2);
    let app = TestApp::spawn(config).await;
    let write = app.key("writer", Scope::Write).await;
    let (_, etag1, _) = Call::new(&app, Method::POST, "/v1/benefits")
        .key(&write)
        .json(json!({ "slug": "contended", "name": "Contended" }))
        .send()
        .await;
    let etag1 = etag1.unwrap();
    let calls = (0..100).map(|i| {
        let (app, write, etag1) = (&app, &write, &etag1);
        async move {
            let (status, _, body) = Call::new(app, Method::PATCH, "/v1/benefits/contended")
                .key(write)
                .if_match(etag1)
                .json(json!({ "summary": format!("writer {i}") }))
                .send()
                .await;
            if status != 200 && status != 412 {
                eprintln!("unexpected {status}: {body}");
            }
            status
        }
    });
    let statuses = futures_util::future::join_all(calls).await;
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let stale = statuses.iter().filter(|s| **s == 412).count();
    assert_eq!((ok, stale), (1, 99), "{statuses:?}");
    let item: Value = app
        .get_with_key("/v1/benefits/contended", &write)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(item["data"]["version"], 2);
    let (_, _, revisions) = Call::new(&app, Method::GET, "/v1/benefits/contended/revisions")
        .key(&write)
        .send()
        .await;
    assert_eq!(revisions["data"].as_array().unwrap().len(), 2);
}

async fn idempotency_key_creates_once(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let write = app.key("writer", Scope::Write).await;
    let body = json!({ "slug": "once-only", "name": "Once only" });
    let post = |body: Value| {
        let (app, write) = (&app, &write);
        async move {
            let response = app
                .client
                .post(format!("{}/v1/benefits", app.address))
                .bearer_auth(write)
                .header("idempotency-key", "create-once-only")
                .json(&body)
                .send()
                .await
                .unwrap();
            let status = response.status();
            let replayed = response.headers().contains_key("idempotent-replayed");
            (status, replayed, response.json::<Value>().await.unwrap())
        }
    };
    let results = futures_util::future::join_all((0..10).map(|_| post(body.clone()))).await;
    let created = results.iter().filter(|(s, _, _)| *s == 201).count();
    assert!(created >= 1, "{results:?}");
    assert!(
        results.iter().all(|(s, _, _)| *s == 201 || *s == 409),
        "{results:?}"
    );
    let counts = row_counts(&app.db).await;
    assert_eq!(counts["benefits"], 7 + 1, "exactly one row was created");
    let (status, replayed, replay) = post(body.clone()).await;
    assert_eq!((status, replayed), (StatusCode::CREATED, true));
    assert_eq!(replay["data"]["slug"], "once-only");
    let (status, _, problem) = post(json!({ "slug": "other", "name": "Other" })).await;
    assert_eq!(status, 422, "{problem}");
    // Without a key, the same body is a conflict on the slug: it exists.
    let (status, _, problem) = Call::new(&app, Method::POST, "/v1/benefits")
        .key(&write)
        .json(body)
        .send()
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["pointer"], "/slug");
}

async fn count_history(db: &sea_orm::DatabaseConnection) -> (i64, i64) {
    use sea_orm::ConnectionTrait;
    let mut out = Vec::new();
    for table in ["revisions", "audit_log"] {
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        out.push(row.try_get::<i64>("", "n").unwrap());
    }
    (out[0], out[1])
}

/// A write that fails after the item row is written (a link insert made to fail by a
/// trigger) leaves every table as it was; so does one with an unknown link target.
async fn a_write_failing_halfway_changes_nothing(engine: Engine) {
    use sea_orm::ConnectionTrait;
    let (app, _db) = spawn_app(engine).await;
    let write = app.key("writer", Scope::Write).await;
    let before = (row_counts(&app.db).await, count_history(&app.db).await);
    let body = json!({ "slug": "half-written", "name": "Half", "kind": "self",
                       "benefits": ["released-knots", "no-such-benefit"] });
    let (status, _, problem) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(&write)
        .json(body)
        .send()
        .await;
    assert_eq!(status, 422);
    assert_eq!(problem["errors"][0]["pointer"], "/benefits/1");
    assert_eq!(
        (row_counts(&app.db).await, count_history(&app.db).await),
        before
    );

    let trigger = match engine {
        Engine::Sqlite => vec![
            "CREATE TRIGGER inject_failure BEFORE INSERT ON technique_benefits \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                .to_owned(),
        ],
        Engine::Postgres => vec![
            "CREATE FUNCTION inject_failure() RETURNS trigger AS $$ BEGIN \
             RAISE EXCEPTION 'injected failure'; END $$ LANGUAGE plpgsql"
                .to_owned(),
            "CREATE TRIGGER inject_failure BEFORE INSERT ON technique_benefits \
             FOR EACH ROW EXECUTE FUNCTION inject_failure()"
                .to_owned(),
        ],
    };
    for statement in trigger {
        app.db.execute_unprepared(&statement).await.unwrap();
    }
    let body = json!({ "slug": "half-written", "name": "Half", "kind": "self",
                       "conditions": ["lower-back-pain"], "benefits": ["released-knots"] });
    let (status, _, _) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(&write)
        .json(body)
        .send()
        .await;
    assert_eq!(status, 500, "the injected failure is a server error");
    assert_eq!(
        (row_counts(&app.db).await, count_history(&app.db).await),
        before
    );
}

async fn bad_bodies_are_client_errors(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let write = app.key("writer", Scope::Write).await;
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let huge = format!(
        r#"{{"slug":"big","name":"{}"}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let cases: Vec<(&str, &str, Vec<u8>, u16)> = vec![
        ("wrong types", "application/json", br#"{"slug":5,"name":["x"],"kind":true}"#.to_vec(), 422),
        ("long name", "application/json",
         format!(r#"{{"slug":"long","name":"{}","kind":"self"}}"#, "x".repeat(10_000)).into_bytes(), 422),
        ("bad slug", "application/json", br#"{"slug":"Not A Slug","name":"x","kind":"self"}"#.to_vec(), 422),
        ("bad enum", "application/json", br#"{"slug":"a","name":"x","kind":"deep"}"#.to_vec(), 422),
        ("nul", "application/json", b"{\"slug\":\"a\",\"name\":\"x\\u0000\",\"kind\":\"self\"}".to_vec(), 422),
        ("deep JSON", "application/json", deep.into_bytes(), 400),
        ("invalid UTF-8", "application/json", b"{\"slug\":\"a\xff\xfe\",\"name\":\"x\"}".to_vec(), 400),
        ("not JSON", "application/json", b"slug=a".to_vec(), 400),
        ("array", "application/json", b"[1,2]".to_vec(), 422),
        ("empty", "application/json", Vec::new(), 400),
        ("form", "application/x-www-form-urlencoded", b"slug=a".to_vec(), 415),
        ("2 MiB", "application/json", huge.into_bytes(), 413),
        ("links not a list", "application/json", br#"{"slug":"a","name":"x","kind":"self","benefits":"x"}"#.to_vec(), 422),
        ("link object", "application/json", br#"{"slug":"a","name":"x","kind":"self","benefits":[{"slug":"released-knots","weight":3}]}"#.to_vec(), 422),
    ];
    for (name, content_type, body, expected) in cases {
        let response = app
            .client
            .post(format!("{}/v1/techniques", app.address))
            .bearer_auth(&write)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), expected, "{name}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{name}"
        );
    }
    for (field, value) in [
        ("doi", "not-a-doi"),
        ("pmid", "PMC1"),
        ("url", "http://insecure.example"),
    ] {
        let (status, _, problem) = Call::new(&app, Method::POST, "/v1/citations")
            .key(&write)
            .json(json!({ "slug": "c", "kind": "study", "title": "T", field: value }))
            .send()
            .await;
        assert_eq!(status, 422, "{field}");
        assert_eq!(problem["errors"][0]["pointer"], format!("/{field}"));
    }
    let (status, _, problem) = Call::new(&app, Method::POST, "/v1/products")
        .key(&write)
        .json(
            json!({ "slug": "p", "sku": "DEMO-FR-SMOOTH", "name": "Dup", "currency": "usd",
                      "gtin": "4006381333932", "price_cents": -5 }),
        )
        .send()
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        pointers(&problem),
        ["/gtin", "/price_cents", "/currency"],
        "{problem}"
    );
}

/// An edit looks up and rewrites only what it changes: a new summary runs the same
/// statements however many links the item has, and leaves links and references as they
/// were; a reference set to null is cleared.
async fn a_patch_rewrites_only_what_changed(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let publish = app.key("publisher", Scope::Publish).await;
    let path = "/v1/techniques/foam-rolling";
    let linked = format!("{path}?include=conditions,benefits,products,citations");
    let links = |body: Value| {
        ["conditions", "benefits", "products", "citations"].map(|link| {
            let items = body["data"][link].as_array().cloned().unwrap_or_default();
            items
                .iter()
                .map(|item| item["slug"].clone())
                .collect::<Vec<_>>()
        })
    };
    let (_, _, before) = Call::new(&app, Method::GET, &linked)
        .key(&publish)
        .send()
        .await;
    let before = links(before);
    let mut tag = app.etag(&publish, path).await;
    let nonempty = before.iter().filter(|slugs| !slugs.is_empty()).count();
    assert!(nonempty >= 3, "{before:?}");
    let mut counts = Vec::new();
    for round in 0..2 {
        let start = app.statements.get();
        let (status, new_tag, after) = Call::new(&app, Method::PATCH, path)
            .key(&publish)
            .if_match(&tag)
            .json(json!({ "summary": format!("Edited, round {round}.") }))
            .send()
            .await;
        counts.push(app.statements.get() - start);
        assert_eq!(status, 200, "{after}");
        let (_, _, after) = Call::new(&app, Method::GET, &linked)
            .key(&publish)
            .send()
            .await;
        assert_eq!(links(after), before);
        tag = new_tag.unwrap();
    }
    // The item is published: the edit writes its draft. The key, the item with its draft
    // and its terms (for its ETag); the first time, its links and the row's version (the
    // draft starts from them); the draft, its revision, its audit entry and the webhook
    // subscriptions (no cache holds a draft: no change record); the item as written and
    // its terms.
    assert_eq!(counts, [11, 9]);

    let article = "/v1/articles/massage-for-lower-back-pain";
    let (_, tag, body) = Call::new(&app, Method::GET, article)
        .key(&publish)
        .send()
        .await;
    assert_eq!(body["data"]["publisher"], "carex-health-brands", "{body}");
    let (status, tag, body) = Call::new(&app, Method::PATCH, article)
        .key(&publish)
        .if_match(&tag.unwrap())
        .json(json!({ "publisher": null }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["publisher"], Value::Null, "{body}");
    let (status, _, body) = Call::new(&app, Method::PATCH, article)
        .key(&publish)
        .if_match(&tag.unwrap())
        .json(json!({ "title": "Massage for lower back pain" }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["publisher"], Value::Null, "{body}");
    assert_eq!(body["data"]["author"], "maryann-depietro", "{body}");
}

/// SQLite's editorial write connections run at the configured lower CPU priority
/// (`--db-write-nice`); read connections keep the process's.
#[tokio::test]
async fn sqlite_write_connections_yield_the_cpu_to_reads() {
    let db = TestDb::new(Engine::Sqlite).await;
    let mut config = settings(&db.url);
    // A value no other test uses, so the threads found are this app's.
    config.database.db_write_nice = 7;
    let app = TestApp::spawn(config).await;
    let publish = app.key("publisher", Scope::Publish).await;
    let tag = app.etag(&publish, "/v1/techniques/foam-rolling").await;
    let (status, _, body) = Call::new(&app, Method::PATCH, "/v1/techniques/foam-rolling")
        .key(&publish)
        .if_match(&tag)
        .json(json!({ "summary": "Edited." }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let niced: Vec<String> = std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("stat")).ok())
        .filter(|stat| {
            // Fields after the parenthesised name: state is the 1st, nice the 17th.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            fields[16] == "7"
        })
        .collect();
    assert!(!niced.is_empty(), "no thread runs at nice 7");
    assert!(
        niced.iter().all(|stat| stat.contains("(sqlx-sqlite-wor")),
        "{niced:?}"
    );
}

engine_tests!(
    editorial_story,
    scope_matrix_follows_the_openapi_document,
    read_only_fields_are_refused,
    concurrent_patches_with_one_etag_let_exactly_one_win,
    idempotency_key_creates_once,
    a_write_failing_halfway_changes_nothing,
    bad_bodies_are_client_errors,
    a_patch_rewrites_only_what_changed,
);
