//! Embed pages and the oEmbed provider: self-contained, attributed, under a strict CSP,
//! never running what the content holds; cached and invalidated like every read; bad
//! input answered with a 4xx (an HTML page for embeds, problem+json for oEmbed).

use base64::Engine as _;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings, spawn_app};
use crate::html_check::start_tags;
use crate::jsonld::ld as ld_of;
use crate::requests::Call;

const ARTICLE: &str = "/embed/articles/massage-for-lower-back-pain";
const PRODUCT: &str = "/embed/products/sku/DEMO-FR-SMOOTH";

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn page(app: &TestApp, path: &str, key: Option<&str>) -> Page {
    let mut request = app.client.get(format!("{}{path}", app.address));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    Page {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.text().await.unwrap(),
    }
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", |v| v.to_str().unwrap())
    }

    /// The text between `start` and the next `end`.
    fn between(&self, start: &str, end: &str) -> &str {
        let from = self.body.find(start).unwrap_or_else(|| panic!("{start}")) + start.len();
        let len = self.body[from..].find(end).unwrap();
        &self.body[from..from + len]
    }

    /// The policy allows exactly the page's stylesheet, nothing that runs or loads.
    fn assert_strict_policy(&self) {
        let csp = self.header("content-security-policy");
        let style = self.between("<style>", "</style>");
        let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(style));
        assert!(csp.starts_with("default-src 'none'; "), "{csp}");
        assert!(
            csp.contains(&format!("style-src 'sha256-{hash}';")),
            "{csp}"
        );
        assert!(
            !csp.contains("script-src") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert_eq!(self.header("x-content-type-options"), "nosniff");
        assert_eq!(self.header("referrer-policy"), "no-referrer");
        assert!(self.header("content-type").starts_with("text/html"));
    }
}

async fn pages_are_self_contained_and_attributed(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let article = page(&app, ARTICLE, None).await;
    assert_eq!(article.status, 200, "{}", article.body);
    article.assert_strict_policy();
    assert!(
        article
            .header("content-security-policy")
            .ends_with("frame-ancestors *")
    );
    for shown in [
        "Massage for Lower Back Pain: Benefits, Types, and More",
        "Written by MaryAnn DePietro, CRT; last reviewed on <time datetime=\"2025-09-18\">18 September 2025</time>.",
        "Published by",
        "rel=\"license noopener\"",
        "https://carex.com/blogs/resources/massage-for-lower-back-pain",
        "professional medical advice",
        "<h2>Evidence</h2>",
    ] {
        assert!(article.body.contains(shown), "{shown}:\n{}", article.body);
    }
    // The JSON-LD is the one REST serves; the discovery link names this page.
    let block = article.between("<script type=\"application/ld+json\">", "</script>");
    let ld: Value = serde_json::from_str(block).unwrap();
    let rest = ld_of(&app, "/v1/articles/massage-for-lower-back-pain").await;
    assert_eq!(ld, rest);
    let own = format!("{}{ARTICLE}", app.address);
    let discovery = article.between("type=\"application/json+oembed\" href=\"", "\"");
    assert_eq!(
        discovery.replace("&amp;", "&"),
        format!("{}/oembed?url={}&format=json", app.address, encode(&own))
    );
    // Nothing is loaded from anywhere: no src attribute, no stylesheet link.
    assert!(!article.body.contains(" src="), "{}", article.body);
    assert!(!article.body.contains("rel=\"stylesheet\""));

    // The other pages, and the product module.
    for path in [
        "/embed/techniques/foam-rolling",
        "/embed/conditions/lower-back-pain",
    ] {
        let other = page(&app, path, None).await;
        assert_eq!(other.status, 200, "{path}");
        other.assert_strict_policy();
        assert!(other.body.contains("Licence:"), "{path}");
    }
    // A graded claim shows as GRADE words it, with its certainty and sources.
    let condition = page(&app, "/embed/conditions/lower-back-pain", None).await;
    assert!(
        condition.body.contains(
            "<span class=\"claim\">Deep tissue massage may help with lower back pain. \
             <em>(low certainty of evidence; 2 sources)</em></span>"
        ),
        "{}",
        condition.body
    );
    let product = page(&app, PRODUCT, None).await;
    assert_eq!(product.status, 200, "{}", product.body);
    for shown in [
        "Techniques that use it",
        "Foam rolling",
        "Benefits",
        "Written and reviewed by",
    ] {
        assert!(product.body.contains(shown), "{shown}:\n{}", product.body);
    }

    // Theme and width: another stylesheet, and the policy allows that one.
    let dark = page(&app, &format!("{ARTICLE}?theme=dark&maxwidth=480"), None).await;
    assert_eq!(dark.status, 200);
    dark.assert_strict_policy();
    assert!(dark.body.contains("data-theme=\"dark\""));
    assert!(
        dark.between("<style>", "</style>")
            .contains("max-width:480px")
    );
}

async fn stored_scripts_never_run(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let path = "/v1/techniques/foam-rolling";
    let (status, body) = app
        .patch_live(
            &keys["publish"],
            path,
            json!({
                "name": "Foam </script><script>document.title='pwned'</script> rolling",
                "summary": "<!-- <img src=x onerror=alert(1)> \u{2028}",
                "description": "<script>document.title='pwned'</script>\n\n\
                    <img src=x onerror=\"document.title='pwned'\">\n\n\
                    [click](javascript:document.title='pwned') <svg onload=alert(1)>",
            }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let shown = page(&app, "/embed/techniques/foam-rolling", None).await;
    assert_eq!(shown.status, 200);
    // What a browser's tokenizer finds: one script, the JSON-LD data block; no handler,
    // no script URL, nothing that loads.
    let tags = start_tags(&shown.body);
    let scripts: Vec<_> = tags.iter().filter(|(name, _)| name == "script").collect();
    assert_eq!(scripts.len(), 1, "{}", shown.body);
    assert_eq!(
        scripts[0].1,
        [("type".to_owned(), "application/ld+json".to_owned())]
    );
    for (name, attributes) in &tags {
        assert!(
            !matches!(name.as_str(), "svg" | "iframe" | "object" | "embed"),
            "<{name}>"
        );
        assert!(
            name != "img" || attributes.is_empty(),
            "<img> loads nothing: {attributes:?}"
        );
        for (key, value) in attributes {
            assert!(!key.starts_with("on"), "{key} on <{name}>");
            assert!(
                !value.to_lowercase().contains("javascript:"),
                "{key}={value} on <{name}>"
            );
        }
    }
    let block = shown.between("<script type=\"application/ld+json\">", "</script>");
    assert!(
        !block.contains('<') && !block.contains('\u{2028}'),
        "{block}"
    );
    let ld: Value = serde_json::from_str(block).unwrap();
    assert!(
        ld["name"].as_str().unwrap().contains("</script>"),
        "escaped, not lost"
    );
}

async fn bad_input_gets_a_page_not_an_error(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    for (path, status) in [
        ("/embed/techniques/no-such-technique", 404),
        ("/embed/authors/maryann-depietro", 404),
        ("/embed/products/sku/NOPE-1", 404),
        ("/embed/techniques/foam-rolling?maxwidth=0", 400),
        ("/embed/techniques/foam-rolling?maxwidth=wide", 400),
        ("/embed/techniques/foam-rolling?maxwidth=-3", 400),
        ("/embed/techniques/foam-rolling?theme=pink", 400),
        ("/embed/techniques/foam-rolling?theme=dark&theme=light", 400),
        ("/embed/techniques/foam-rolling?script=1", 400),
        ("/embed/techniques/%3Cscript%3E", 404),
    ] {
        let shown = page(&app, path, None).await;
        assert_eq!(shown.status, status, "{path}: {}", shown.body);
        assert!(shown.body.contains("<style>"), "{path}: {}", shown.body);
        shown.assert_strict_policy();
        assert_eq!(shown.header("cache-control"), "no-store", "{path}");
        assert!(!shown.body.contains("<script"), "{path}");
    }
}

async fn drafts_show_only_to_preview_and_edits_reach_cached_pages(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (status, _, created) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(&keys["write"])
        .json(json!({ "slug": "draft-glide", "name": "Draft glide", "kind": "self" }))
        .send()
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        page(&app, "/embed/techniques/draft-glide", None)
            .await
            .status,
        404
    );
    let preview = page(
        &app,
        "/embed/techniques/draft-glide",
        Some(&keys["preview"]),
    )
    .await;
    assert_eq!(preview.status, 200);
    assert_eq!(preview.header("cache-control"), "private, no-store");

    let path = "/embed/techniques/swedish-massage";
    // The draft's write reaches this instance's change feed too: once that is followed, a
    // page stored now stays stored.
    app.settle().await;
    let first = page(&app, path, None).await;
    assert!(
        first
            .header("surrogate-key")
            .contains("technique:swedish-massage")
    );
    let hits = app
        .cache
        .stats
        .hits
        .load(std::sync::atomic::Ordering::Relaxed);
    let again = page(&app, path, None).await;
    assert_eq!(again.body, first.body);
    assert!(
        app.cache
            .stats
            .hits
            .load(std::sync::atomic::Ordering::Relaxed)
            > hits
    );
    let (status, body) = app
        .patch_live(
            &keys["publish"],
            "/v1/techniques/swedish-massage",
            json!({ "summary": "A gentler summary." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        page(&app, path, None)
            .await
            .body
            .contains("A gentler summary.")
    );
}

async fn oembed_answers_for_own_items_only(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let oembed = |url: String| {
        let request = app
            .client
            .get(format!("{}/oembed?url={}", app.address, encode(&url)));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let kind = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            (status, kind, response.json::<Value>().await.unwrap())
        }
    };
    let own = |path: &str| format!("{}{path}", app.address);
    let (status, _, answer) = oembed(own(ARTICLE)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "rich");
    assert_eq!(answer["version"], "1.0");
    assert_eq!(
        answer["title"],
        "Massage for Lower Back Pain: Benefits, Types, and More"
    );
    assert_eq!(answer["author_name"], "MaryAnn DePietro");
    assert_eq!(answer["provider_name"], "Salve");
    assert_eq!(answer["provider_url"], format!("{}/", app.address));
    assert!(answer["cache_age"].as_u64().unwrap() > 0);
    let html = answer["html"].as_str().unwrap();
    assert!(html.starts_with(&format!("<iframe src=\"{}?maxwidth=720\"", own(ARTICLE))));
    assert!(html.contains("sandbox=\"allow-popups allow-popups-to-escape-sandbox\""));
    assert!(html.contains("loading=\"lazy\""));
    assert!(answer["height"].as_u64().unwrap() >= 120);
    // The API URL form names the same item; a product by SKU too.
    let (status, _, api) = oembed(own("/v1/articles/massage-for-lower-back-pain")).await;
    assert_eq!((status, &api["html"]), (200, &answer["html"]));
    let (status, _, product) = oembed(own("/v1/products/sku/DEMO-FR-SMOOTH")).await;
    assert_eq!(status, 200, "{product}");
    assert!(product["html"].as_str().unwrap().contains(PRODUCT));

    // The room the consumer has.
    let sized = app
        .json(&format!(
            "/oembed?url={}&maxwidth=300&maxheight=200&format=json",
            encode(&own(ARTICLE))
        ))
        .await;
    assert_eq!(
        (sized["width"].as_u64(), sized["height"].as_u64()),
        (Some(300), Some(200))
    );

    for (url, status) in [
        (
            "https://evil.example/embed/articles/massage-for-lower-back-pain".to_owned(),
            404,
        ),
        (own("/embed/articles/no-such-article"), 404),
        (own("/embed/authors/maryann-depietro"), 404),
        (own("/docs/"), 404),
        ("not a url".to_owned(), 400),
    ] {
        let (got, kind, problem) = oembed(url.clone()).await;
        assert_eq!(got, status, "{url}: {problem}");
        assert_eq!(kind, "application/problem+json", "{url}");
    }
    for (query, status) in [
        ("", 400),
        ("&format=xml", 501),
        ("&format=yaml", 400),
        ("&maxwidth=wide", 400),
        ("&maxheight=0", 400),
    ] {
        let url = encode(&own(ARTICLE));
        let path = if query.is_empty() {
            "/oembed".to_owned()
        } else {
            format!("/oembed?url={url}{query}")
        };
        let response = app.get(&path).await;
        assert_eq!(response.status(), status, "{path}");
    }
}

/// `--public-url` decides which URLs are this deployment's and where pages link;
/// `--embed-frame-ancestors` who may frame them.
async fn deployment_settings_reach_pages_and_answers(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut config = settings(&db.url);
    config.serve.embed.public_url = Some("https://content.example.org".into());
    config.serve.embed.embed_frame_ancestors = "https://shop.example.com".into();
    config.serve.embed.provider_name = "Carex Health".into();
    let app = TestApp::spawn(config).await;
    let shown = page(&app, ARTICLE, None).await;
    assert!(
        shown
            .header("content-security-policy")
            .ends_with("frame-ancestors https://shop.example.com")
    );
    assert!(shown.body.contains("href=\"https://content.example.org/oembed?url=https%3A%2F%2Fcontent.example.org%2Fembed%2Farticles%2F"));
    let answer = app
        .json("/oembed?url=https://content.example.org/embed/techniques/foam-rolling")
        .await;
    assert_eq!(answer["provider_name"], "Carex Health");
    assert!(
        answer["html"]
            .as_str()
            .unwrap()
            .contains("src=\"https://content.example.org/embed/techniques/foam-rolling")
    );
    let local = format!("/oembed?url={}/embed/techniques/foam-rolling", app.address);
    assert_eq!(app.get(&local).await.status(), 404, "not the public origin");
}

engine_tests!(
    pages_are_self_contained_and_attributed,
    stored_scripts_never_run,
    bad_input_gets_a_page_not_an_error,
    drafts_show_only_to_preview_and_edits_reach_cached_pages,
    oembed_answers_for_own_items_only,
    deployment_settings_reach_pages_and_answers,
);
