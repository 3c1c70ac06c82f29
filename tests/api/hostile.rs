//! Hostile input at the edge: control characters and invalid UTF-8 in every parameter the
//! OpenAPI document lists and in GraphQL strings, `nosniff`, URL fields, and `/metrics`.

use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, spawn_app, spawn_binary};

/// Percent-encoded values no parameter accepts: NUL, a line feed, an escape sequence, DEL,
/// a C1 control, and bytes that are not UTF-8.
const HOSTILE: [&str; 7] = [
    "%00",
    "a%0Ab",
    "%1B%5B31m",
    "x%7F",
    "%C2%85",
    "%FF%FE",
    "%C0%80",
];

/// Every GET parameter of the document (query and path), each hostile value: 400, never 5xx.
async fn control_characters_are_refused_in_every_parameter(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let key = app.key("admin", salve::domain::Scope::Admin).await;
    let document: Value = app.get("/openapi.json").await.json().await.unwrap();
    let mut cases = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let params = get["parameters"].as_array().cloned().unwrap_or_default();
        let fill = |except: &str| {
            params
                .iter()
                .filter(|p| p["in"] == "path" && p["name"] != except)
                .fold(path.clone(), |path, p| {
                    path.replace(&format!("{{{}}}", p["name"].as_str().unwrap()), "x")
                })
        };
        for param in &params {
            let name = param["name"].as_str().unwrap();
            for value in HOSTILE {
                let url = match param["in"].as_str().unwrap() {
                    "path" => fill(name).replace(&format!("{{{name}}}"), value),
                    "query" => format!("{}?{name}={value}", fill("")),
                    _ => continue,
                };
                let response = app.get_with_key(&url, &key).await;
                let status = response.status().as_u16();
                let body = response.text().await.unwrap();
                assert_eq!(status, 400, "{url}: {body}");
                assert!(body.contains("invalid_parameter"), "{url}: {body}");
                cases += 1;
            }
        }
    }
    assert!(
        cases > 300,
        "only {cases} cases: the document lists the parameters"
    );
}

async fn graphql(app: &TestApp, query: &str, variables: Value) -> (u16, Value) {
    let body = json!({ "query": query, "variables": variables });
    app.graphql_response(None, &body).await
}

/// Lookups with control characters: null when the string may be prose (it cannot match
/// and tags nothing), a coded error for NUL and escapes, on POST and on cacheable GET.
async fn graphql_strings_with_control_characters_never_fail_the_server(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let lookups = [
        "publisher",
        "author",
        "citation",
        "condition",
        "technique",
        "benefit",
        "product",
        "article",
    ];
    for field in lookups
        .iter()
        .map(|f| (*f, "slug"))
        .chain([("productBySku", "sku")])
    {
        let query = format!(
            "query($v: String!) {{ {}({}: $v) {{ id }} }}",
            field.0, field.1
        );
        let (status, body) = graphql(&app, &query, json!({ "v": "a\nb" })).await;
        assert_eq!(
            (status, &body["data"][field.0]),
            (200, &Value::Null),
            "{body}"
        );
        assert!(body.get("errors").is_none(), "{body}");
        for bad in ["\u{0}", "\u{1b}[31m", "x\u{7f}"] {
            let (status, body) = graphql(&app, &query, json!({ "v": bad })).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
                "{body}"
            );
        }
        let get = format!(
            "/graphql?query={}",
            urlencode(&format!(
                "{{ {}({}: \"a\\nb\") {{ id }} }}",
                field.0, field.1
            ))
        );
        let response = app.get(&get).await;
        assert_eq!(response.status(), 200, "{get}");
        let surrogate = response.headers().get("surrogate-key").cloned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["data"][field.0], Value::Null, "{body}");
        if let Some(keys) = surrogate {
            assert!(!keys.to_str().unwrap().contains("a\nb"));
        }
    }
    let (_, body) = graphql(
        &app,
        "query($c: String) { products(filter: { category: [$c] }) { nodes { id } } }",
        json!({ "c": "foam\u{0}roller" }),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{body}"
    );
    let (_, body) = graphql(
        &app,
        r#"{ products(filter: { category: ["foam\u0000roller"] }) { nodes { id } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{body}"
    );
}

fn urlencode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// `X-Content-Type-Options: nosniff` on every kind of response.
async fn every_response_says_nosniff(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    for path in [
        "/v1/techniques/foam-rolling",
        "/v1/techniques/none",
        "/v1/techniques?x=1",
        "/healthz",
        "/openapi.json",
        "/graphql",
        "/metrics",
        "/nowhere",
        "/v1/search?q=%00",
    ] {
        let response = app.get(path).await;
        assert_eq!(
            response.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
    }
    let preflight = app.preflight("https://shop.example", "GET").await;
    assert_eq!(preflight.headers()["x-content-type-options"], "nosniff");
}

/// URL fields hold URLs as written: quotes, spaces and angle brackets are refused.
async fn url_fields_refuse_characters_a_url_would_encode(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let key = app.key("admin", salve::domain::Scope::Admin).await;
    for url in [
        "https://example.com/\"><script>alert(1)</script>",
        "https://example.com/a b",
        "https://example.com/'x'",
    ] {
        let response = app
            .client
            .post(format!("{}/v1/publishers", app.address))
            .bearer_auth(&key)
            .json(&json!({ "slug": "hostile", "name": "Hostile", "url": url }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{url}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["pointer"], "/url", "{body}");
    }
}

/// NUL and other control characters in JSON bodies (link notes, statistics, review notes)
/// are 422s at their pointer, never a 500 from the database.
async fn control_characters_in_bodies_are_422(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let key = app.key("admin", salve::domain::Scope::Admin).await;
    let cases = [
        (
            "PATCH",
            "/v1/techniques/foam-rolling",
            json!({ "benefits": [{ "slug": "released-knots", "note": "a\u{0}b" }] }),
            "/benefits/0/note",
        ),
        (
            "PATCH",
            "/v1/conditions/lower-back-pain",
            json!({ "statistics": [{ "label": "Share", "value": 1.0, "unit": "%\u{0}" }] }),
            "/statistics/0/unit",
        ),
        (
            "PATCH",
            "/v1/conditions/lower-back-pain",
            json!({ "name": "Lower\u{1b}[31m back pain" }),
            "/name",
        ),
        (
            "POST",
            "/v1/articles/massage-for-lower-back-pain/reviews",
            json!({ "reviewer": "maryann-depietro", "note": "ok\u{0}" }),
            "/note",
        ),
    ];
    for (method, path, body, pointer) in cases {
        let etag = app
            .get_with_key(path, &key)
            .await
            .headers()
            .get("etag")
            .cloned();
        let mut request = app
            .client
            .request(method.parse().unwrap(), format!("{}{path}", app.address))
            .bearer_auth(&key)
            .json(&body);
        if let Some(etag) = etag.filter(|_| method == "PATCH") {
            request = request.header("if-match", etag);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 422, "{method} {path}");
        let problem: Value = response.json().await.unwrap();
        let pointers: Vec<&str> = problem["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["pointer"].as_str())
            .collect();
        assert!(pointers.contains(&pointer), "{path}: {problem}");
    }
}

/// `/metrics` needs the `metrics` scope.
async fn metrics_need_a_metrics_key(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    assert_eq!(app.get("/metrics").await.status(), 401);
    let name = format!("reader-{}", uuid::Uuid::new_v4().simple());
    let reader =
        salve::service::keys::create(&app.db, &name, &[salve::domain::Scope::Publish], None)
            .await
            .unwrap();
    assert_eq!(
        app.get_with_key("/metrics", &reader.secret).await.status(),
        403
    );
    assert!(app.metrics().await.contains("salve_http_requests_total"));
}

engine_tests!(
    control_characters_are_refused_in_every_parameter,
    graphql_strings_with_control_characters_never_fail_the_server,
    every_response_says_nosniff,
    url_fields_refuse_characters_a_url_would_encode,
    metrics_need_a_metrics_key,
    control_characters_in_bodies_are_422,
);

/// 1,000 distinct junk methods of 4 KiB: they share one label, so the scrape and the
/// process stay small (the real binary, so its RSS is its own).
#[cfg(unix)]
#[tokio::test]
async fn junk_methods_cannot_grow_the_metrics() {
    let db = TestDb::new(Engine::Sqlite).await;
    let (mut child, base) = spawn_binary(&db, &["serve"], &[("SALVE_LOG", "error")]).await;
    let client = reqwest::Client::new();
    let key = db.cli(&["keys", "create", "--name", "scraper", "--scopes", "metrics"]);
    let key = String::from_utf8(key.stdout).unwrap().trim().to_owned();
    let scrape = || async {
        let response = client
            .get(format!("{base}/metrics"))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    };
    let before = scrape().await.len();
    let rss_before = rss_kib(child.id());
    for i in 0..1000 {
        let method = format!("JUNK{i}{}", "X".repeat(4096));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let response = client
            .request(method, format!("{base}/v1/techniques"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let text = scrape().await;
    let rss_after = rss_kib(child.id());
    child.kill().ok();
    child.wait().ok();
    assert!(text.contains("method=\"other\""), "{text}");
    assert!(!text.contains("JUNK"));
    assert!(
        text.len() < before + 16 * 1024,
        "scrape grew from {before} to {} bytes",
        text.len()
    );
    assert!(
        rss_after < rss_before + 16 * 1024,
        "RSS grew from {rss_before} to {rss_after} KiB"
    );
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}
