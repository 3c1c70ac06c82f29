//! Markdown fields read as sanitised HTML or plain text: on every read path, after every
//! write, and for a corpus of known XSS vectors stored through the API.

use reqwest::Method;
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, spawn_app, stderr};
use crate::html_check::unsafe_parts;
use crate::requests::Call;

const ARTICLE: &str = "/v1/articles/massage-for-lower-back-pain";

async fn markdown_fields_read_as_html_or_text_on_every_path(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let markdown = app.json(ARTICLE).await["data"]["body"].clone();
    let html = app.json(&format!("{ARTICLE}?format=html")).await["data"]["body"].clone();
    let text = app.json(&format!("{ARTICLE}?format=text")).await["data"]["body"].clone();
    let (markdown, html, text) = (
        markdown.as_str().unwrap(),
        html.as_str().unwrap(),
        text.as_str().unwrap(),
    );
    assert!(markdown.starts_with("## Types of massage"), "{markdown}");
    assert!(html.starts_with("<h2>Types of massage</h2>\n<p>"), "{html}");
    assert!(
        text.starts_with("Types of massage\n\nDeep tissue"),
        "{text}"
    );
    assert!(!text.contains('#') && !text.contains('<'));
    let explicit = app.json(&format!("{ARTICLE}?format=markdown")).await;
    assert_eq!(
        explicit["data"]["body"], markdown,
        "markdown is the default"
    );
    // Plain fields are never rewritten.
    let title = app
        .json(&format!("{ARTICLE}?format=html&fields=title"))
        .await;
    assert_eq!(
        title["data"]["title"],
        "Massage for Lower Back Pain: Benefits, Types, and More"
    );

    // Lists, search, includes (nested) and products by SKU.
    let list = app.json("/v1/techniques?format=html&limit=100").await;
    for item in list["data"].as_array().unwrap() {
        let description = item["description"].as_str().unwrap_or("<p>");
        assert!(description.starts_with('<'), "{description}");
    }
    let hits = app.json("/v1/search?q=massage&format=text").await;
    assert!(!hits["data"].as_array().unwrap().is_empty());
    for hit in hits["data"].as_array().unwrap() {
        for field in ["body", "description", "mechanism", "bio"] {
            let value = hit["item"][field].as_str().unwrap_or_default();
            assert!(!value.contains("<p>") && !value.contains("**"), "{value}");
        }
    }
    let product = app
        .json("/v1/products/sku/DEMO-FR-SMOOTH?format=html&include=techniques.benefits")
        .await;
    let technique = &product["data"]["techniques"][0];
    assert!(
        technique["description"]
            .as_str()
            .unwrap()
            .starts_with("<p>")
    );
    let nested = &technique["benefits"][0]["mechanism"];
    assert!(nested.is_null() || nested.as_str().unwrap().starts_with("<p>"));

    // GraphQL: the same renditions through the `format` argument, nested ones included.
    let body = app
        .query(
            None,
            "{ article(slug: \"massage-for-lower-back-pain\") { md: body html: body(format: HTML) \
             text: body(format: TEXT) techniques(first: 3) { description(format: HTML) } } }",
        )
        .await;
    let article = &body["data"]["article"];
    assert_eq!(article["md"], markdown, "{body}");
    assert_eq!(article["html"], html);
    assert_eq!(article["text"], text);
    let first = article["techniques"][0]["description"].as_str().unwrap();
    assert!(first.starts_with("<p>"), "{first}");

    // An unknown format is a 400 naming the parameter, on every path.
    for path in [
        format!("{ARTICLE}?format=pdf"),
        "/v1/techniques?format=HTML".to_owned(),
        "/v1/search?q=massage&format=".to_owned(),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 400, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert!(
            problem["detail"].as_str().unwrap().starts_with("format:"),
            "{problem}"
        );
    }
    let bad = app
        .query(None, "{ article(slug: \"x\") { body(format: PDF) } }")
        .await;
    assert!(bad["errors"][0]["message"].is_string(), "{bad}");
}

async fn description_html(app: &TestApp, key: &str, path: &str) -> Value {
    let response = app.get_with_key(&format!("{path}?format=html"), key).await;
    let body: Value = response.json().await.unwrap();
    body["data"]["description"].clone()
}

async fn renditions_follow_every_write(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let (write, preview) = (
        app.key("w", Scope::Write).await,
        app.key("p", Scope::Preview).await,
    );
    let path = "/v1/techniques/knuckle-glide";
    let (status, _, created) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(&write)
        .json(
            json!({ "slug": "knuckle-glide", "name": "Knuckle glide", "kind": "self",
                      "description": "Glide **slowly**." }),
        )
        .send()
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        description_html(&app, &preview, path).await,
        "<p>Glide <strong>slowly</strong>.</p>\n"
    );
    let (status, body) = app
        .patch_current(&write, path, json!({ "description": "Glide *gently*." }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        description_html(&app, &preview, path).await,
        "<p>Glide <em>gently</em>.</p>\n"
    );
    // A write that leaves the Markdown alone keeps its renditions.
    let (status, body) = app
        .patch_current(&write, path, json!({ "name": "Knuckle glides" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        description_html(&app, &preview, path).await,
        "<p>Glide <em>gently</em>.</p>\n"
    );
    let (status, body) = app
        .patch_current(&write, path, json!({ "description": null }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(description_html(&app, &preview, path).await, Value::Null);

    // Rows an older renderer made (or none) are rendered again at startup.
    let conn = db.connect().await;
    use sea_orm::ConnectionTrait;
    conn.execute_unprepared(
        "UPDATE articles SET body_html = NULL, body_text = 'stale', rendered_with = 0",
    )
    .await
    .unwrap();
    let rewritten = salve::service::renditions::refresh(&conn).await.unwrap();
    assert!(rewritten >= 4, "{rewritten}");
    let text = app.json(&format!("{ARTICLE}?format=text")).await;
    assert!(
        text["data"]["body"]
            .as_str()
            .unwrap()
            .starts_with("Types of massage")
    );
    let html_body = app.json(&format!("{ARTICLE}?format=html")).await;
    assert!(
        html_body["data"]["body"]
            .as_str()
            .unwrap()
            .starts_with("<h2>")
    );

    // Import renders as the API does.
    let dir = db.dir().join("import");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("benefits.ndjson"),
        "{\"slug\":\"imported-calm\",\"name\":\"Calm\",\"status\":\"published\",\
         \"mechanism\":\"Lowers *cortisol*.<script>x()</script>\"}\n",
    )
    .unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let benefit = app
        .json("/v1/benefits/imported-calm?format=html&fields=mechanism")
        .await;
    assert_eq!(
        benefit["data"]["mechanism"],
        "<p>Lowers <em>cortisol</em>.</p>\n"
    );
}

/// Every vector of the corpus, stored as a technique's description through the API and
/// read back as HTML, is harmless: no tag, attribute or URL that could run script.
async fn no_xss_vector_survives_as_html(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let (write, preview) = (
        app.key("w", Scope::Write).await,
        app.key("p", Scope::Preview).await,
    );
    let corpus: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/xss-vectors.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let vectors = corpus["vectors"].as_array().unwrap();
    assert!(vectors.len() >= 150, "{} vectors", vectors.len());
    for (n, vector) in vectors.iter().enumerate() {
        let input = vector["input"].as_str().unwrap();
        let slug = format!("xss-{n}");
        let (status, _, body) = Call::new(&app, Method::POST, "/v1/techniques")
            .key(&write)
            .json(json!({ "slug": slug, "name": "x", "kind": "self", "description": input }))
            .send()
            .await;
        assert_eq!(status, 201, "{input}: {body}");
        for format in ["html", "text"] {
            let response = app
                .get_with_key(&format!("/v1/techniques/{slug}?format={format}"), &preview)
                .await;
            assert_eq!(response.status(), 200);
            let read: Value = response.json().await.unwrap();
            let value = read["data"]["description"].as_str().unwrap_or_default();
            if format == "html" {
                let found = unsafe_parts(value);
                assert!(found.is_empty(), "{input:?} gave {value:?}: {found:?}");
            }
        }
    }
}

engine_tests!(
    markdown_fields_read_as_html_or_text_on_every_path,
    renditions_follow_every_write,
    no_xss_vector_survives_as_html,
);
