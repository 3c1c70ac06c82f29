//! Syndication terms: on every item read, in `Link` headers and JSON-LD, edited by admins
//! (REST and GraphQL), overridden by publishers, carried by import and export.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings, stderr};
use crate::requests::{Call, pointers};

const ARTICLE: &str = "/v1/articles/massage-for-lower-back-pain";
const CANONICAL: &str = "https://carex.com/blogs/resources/massage-for-lower-back-pain";
const LICENCE: &str = "https://creativecommons.org/licenses/by-nd/4.0/";

/// The app on the demo content, with its read cache on (the terms held in memory) or off
/// (the terms read with the content).
async fn spawn(engine: Engine, cache: bool) -> (TestApp, TestDb) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.no_cache = !cache;
    (TestApp::spawn(config).await, db)
}

async fn every_read_carries_the_terms(engine: Engine) {
    for cache in [true, false] {
        let (app, _db) = spawn(engine, cache).await;
        reads_carry_the_terms(&app).await;
    }
}

/// With nothing cached, the terms cost no statement of their own where the content is
/// read in one: an item, a list page, an article with its publisher's own terms.
async fn uncached_reads_take_the_terms_with_the_content(engine: Engine) {
    let (app, _db) = spawn(engine, false).await;
    for path in [
        ARTICLE,
        "/v1/techniques/deep-tissue-massage",
        "/v1/products/sku/DEMO-FR-SMOOTH",
        "/v1/techniques?limit=5",
        "/v1/articles",
    ] {
        let before = app.statements.get();
        let body = app.json(path).await;
        assert_eq!(app.statements.get() - before, 1, "{path}");
        let item = body["data"].get(0).unwrap_or(&body["data"]);
        assert_eq!(item["syndication"]["licence_url"], LICENCE, "{path}");
    }
}

async fn reads_carry_the_terms(app: &TestApp) {
    let response = app.get(ARTICLE).await;
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(
        link,
        format!("<{CANONICAL}>; rel=\"canonical\", <{LICENCE}>; rel=\"license\"")
    );
    let body: Value = response.json().await.unwrap();
    let terms = &body["data"]["syndication"];
    assert_eq!(terms["canonical_url"], CANONICAL);
    assert_eq!(terms["licence_url"], LICENCE);
    assert_eq!(terms["attribution_text"], "Content by Carex Health Brands");
    assert!(
        terms["disclaimer"]
            .as_str()
            .unwrap()
            .contains("medical advice")
    );
    assert!(terms["logo_url"].is_null(), "null where not set");
    // Lists, search and sparse fieldsets carry them too; embedded items do not.
    let list = app
        .json("/v1/techniques?fields=slug,syndication&include=benefits")
        .await;
    let first = &list["data"][0];
    assert_eq!(first["syndication"]["licence_url"], LICENCE);
    assert!(first["syndication"]["canonical_url"].is_null());
    assert!(first["benefits"][0].get("syndication").is_none());
    let sparse = app.json("/v1/techniques?fields=slug").await;
    assert!(
        sparse["data"][0].get("syndication").is_none(),
        "a fieldset names it"
    );
    let hits = app.json("/v1/search?q=massage").await;
    assert_eq!(
        hits["data"][0]["item"]["syndication"]["licence_url"],
        LICENCE
    );
    // JSON-LD: the canonical page and the licence.
    let ld: Value = app
        .client
        .get(format!("{}{ARTICLE}", app.address))
        .header("accept", "application/ld+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ld["url"], CANONICAL);
    assert_eq!(ld["license"], LICENCE);
    // GraphQL: on every type, nested ones included, and the deployment's terms.
    let body = app
        .query(
            None,
            "{ syndicationTerms { licenceUrl canonicalBaseUrl } \
               article(slug: \"massage-for-lower-back-pain\") { syndication { canonicalUrl } \
                 techniques(first: 1) { syndication { licenceUrl canonicalUrl } } } }",
        )
        .await;
    assert_eq!(
        body["data"]["syndicationTerms"]["licenceUrl"], LICENCE,
        "{body}"
    );
    assert!(body["data"]["syndicationTerms"]["canonicalBaseUrl"].is_null());
    let article = &body["data"]["article"];
    assert_eq!(article["syndication"]["canonicalUrl"], CANONICAL);
    assert_eq!(
        article["techniques"][0]["syndication"]["licenceUrl"],
        LICENCE
    );
}

async fn admins_edit_the_terms_and_publishers_override_them(engine: Engine) {
    for cache in [true, false] {
        let (app, db) = spawn(engine, cache).await;
        edits_reach_every_read(&app, &db).await;
    }
}

async fn edits_reach_every_read(app: &TestApp, db: &TestDb) {
    let keys = app.keys().await;
    let put = async |key: &str, body: Value| {
        Call::new(app, Method::PUT, "/v1/syndication")
            .key(key)
            .json(body)
            .send()
            .await
    };
    let terms = json!({ "licence_url": "https://example.org/licence",
                        "disclaimer": "Ask your clinician.",
                        "canonical_base_url": "https://pub.example/health" });
    let (status, _, _) = put(&keys["write"], terms.clone()).await;
    assert_eq!(status, 403);
    let (status, _, problem) = put(
        &keys["admin"],
        json!({ "licence_url": "http://example.org", "attribution_text": "a\u{7}b", "logo": "x" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    let (status, _, problem) = put(
        &keys["admin"],
        json!({ "licence_url": "http://example.org", "attribution_text": "a\u{7}b" }),
    )
    .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/licence_url", "/attribution_text"]);
    // A cached read, then the change: every instance's responses showing the terms go.
    let before = app.json("/v1/techniques/deep-tissue-massage").await;
    assert!(before["data"]["syndication"]["canonical_url"].is_null());
    let (status, _, body) = put(&keys["admin"], terms).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["attribution_text"],
        Value::Null,
        "absent clears"
    );
    let after = app.json("/v1/techniques/deep-tissue-massage").await;
    let syndication = &after["data"]["syndication"];
    assert_eq!(
        syndication["canonical_url"],
        "https://pub.example/health/techniques/deep-tissue-massage"
    );
    assert_eq!(syndication["disclaimer"], "Ask your clinician.");
    // The article's publisher states its own disclaimer: it wins for its articles.
    let (status, body) = app
        .patch_live(
            &keys["publish"],
            "/v1/publishers/carex-health-brands",
            json!({ "disclaimer": "Carex: not medical advice." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let article = app.json(ARTICLE).await;
    assert_eq!(
        article["data"]["syndication"]["disclaimer"],
        "Carex: not medical advice."
    );
    assert_eq!(article["data"]["syndication"]["canonical_url"], CANONICAL);
    let embedded = app.json(&format!("{ARTICLE}?include=publisher")).await;
    assert_eq!(
        embedded["data"]["syndication"]["disclaimer"], "Carex: not medical advice.",
        "with the publisher embedded too"
    );
    let technique = app.json("/v1/techniques/deep-tissue-massage").await;
    assert_eq!(
        technique["data"]["syndication"]["disclaimer"],
        "Ask your clinician."
    );
    // GraphQL: admins only.
    let mutation = "mutation { updateSyndicationTerms(input: { licenceUrl: \"https://example.org/v2\" }) { licenceUrl disclaimer } }";
    let denied = app.query(Some(&keys["write"]), mutation).await;
    assert_eq!(denied["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let done = app.query(Some(&keys["admin"]), mutation).await;
    assert_eq!(
        done["data"]["updateSyndicationTerms"]["licenceUrl"], "https://example.org/v2",
        "{done}"
    );
    assert!(done["data"]["updateSyndicationTerms"]["disclaimer"].is_null());

    // Export carries the terms; an import checks them like an edit.
    let out = db.dir().join("export");
    let output = db.cli(&["export", out.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let exported = std::fs::read_to_string(out.join("syndication.ndjson")).unwrap();
    assert!(
        exported.contains("\"licence_url\":\"https://example.org/v2\""),
        "{exported}"
    );
    let dir = db.dir().join("bad-terms");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("syndication.ndjson"),
        "{\"licence_url\":\"javascript:alert(1)\"}\n",
    )
    .unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("syndication.ndjson:1") && err.contains("/licence_url"),
        "{err}"
    );
}

engine_tests!(
    every_read_carries_the_terms,
    uncached_reads_take_the_terms_with_the_content,
    admins_edit_the_terms_and_publishers_override_them,
);
