//! Drafts' link sets (issue 25): a preview reader's includes, GraphQL links and link
//! filters show the links a draft would publish, with their notes and evidence; readers,
//! and preview readers asking for `?version=published`, keep the published links.

use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, spawn_app};

const ITEM: &str = "/v1/techniques/deep-tissue-massage";
const CONDITIONS: &str = "/v1/techniques/deep-tissue-massage/conditions";
const INCLUDED: &str = "/v1/techniques/deep-tissue-massage?include=conditions,products";
const BOTH_SOURCES: [&str; 2] = [
    "back-massage-degenerative-disc-older-adults",
    "acp-low-back-pain-guideline-2017",
];

fn claim(note: &str, certainty: &str, citations: &[&str]) -> Value {
    json!([{ "slug": "lower-back-pain", "note": note, "evidence": {
        "certainty": certainty, "level": 2, "direction": "benefit",
        "summary": format!("{certainty} evidence."), "citations": citations } }])
}

/// An included claim: its note, certainty and cited slugs.
type Claim = (Value, Value, Vec<String>);

/// The included condition's claim, and the products' slugs.
fn links(body: &Value) -> (Option<Claim>, Vec<String>) {
    let item = &body["data"];
    let condition = item["conditions"].as_array().expect("conditions").first();
    let claim = condition.map(|c| {
        let link = &c["link"];
        let cited = link["evidence"]["citations"].as_array().expect("citations");
        let cited = cited.iter().map(|w| w["slug"].as_str().unwrap().to_owned());
        (
            link["note"].clone(),
            link["evidence"]["certainty"].clone(),
            cited.collect(),
        )
    });
    let products = item["products"].as_array().expect("products").iter();
    let products = products.map(|p| p["slug"].as_str().unwrap().to_owned());
    (claim, products.collect())
}

/// The slugs of a list's page.
pub fn slugs(page: &Value) -> Vec<String> {
    let data = page["data"].as_array().expect("a list").iter();
    data.map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect()
}

async fn filtered(app: &TestApp, key: Option<&str>, filter: &str) -> Vec<String> {
    let path = format!("/v1/techniques?{filter}&limit=100");
    slugs(&app.json_as(key, &path).await)
}

async fn a_drafts_link_sets_are_what_preview_readers_include(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish) = (&keys["write"], &keys["publish"]);
    let published = claim("As published.", "low", &BOTH_SOURCES[1..]);
    let (status, body) = app.put_links(publish, CONDITIONS, published).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.publish_current(publish, ITEM).await;
    assert_eq!(status, 200, "{body}");
    let as_published = links(&app.json_as(None, INCLUDED).await);
    let (claim_read, products) = &as_published;
    let claim_read = claim_read.as_ref().expect("the published claim");
    assert_eq!(claim_read.0, "As published.");
    assert_eq!(claim_read.1, "low");
    assert_eq!(claim_read.2, [BOTH_SOURCES[1]]);
    assert!(products.is_empty(), "the demo sells nothing for it");

    // The draft regrades the claim on both sources and adds a product.
    let drafted = claim("As drafted.", "moderate", &BOTH_SOURCES);
    let (status, body) = app.put_links(write, CONDITIONS, drafted).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "draft", "{body}");
    let products_path = format!("{ITEM}/products");
    let (status, body) = app
        .put_links(write, &products_path, json!(["smooth-foam-roller"]))
        .await;
    assert_eq!(status, 200, "{body}");

    let preview = links(&app.json_as(Some(write), INCLUDED).await);
    let expected_claim = (
        "As drafted.".into(),
        "moderate".into(),
        BOTH_SOURCES.map(String::from).to_vec(),
    );
    assert_eq!(
        preview,
        (Some(expected_claim), vec!["smooth-foam-roller".to_owned()])
    );
    assert_eq!(
        links(&app.json_as(None, INCLUDED).await),
        as_published,
        "readers keep the published links"
    );
    let versioned = format!("{INCLUDED}&version=published");
    assert_eq!(
        links(&app.json_as(Some(write), &versioned).await),
        as_published
    );

    // GraphQL's links and the link filters read the same sets.
    let query = r#"{ technique(slug: "deep-tissue-massage") { conditionsLinks { note
        evidence { certainty citations { slug } } } products { slug } } }"#;
    let graphql = app.query(Some(write), query).await;
    let technique = &graphql["data"]["technique"];
    assert_eq!(
        technique["conditionsLinks"][0]["note"], "As drafted.",
        "{graphql}"
    );
    assert_eq!(
        technique["conditionsLinks"][0]["evidence"]["citations"][0]["slug"],
        BOTH_SOURCES[0]
    );
    assert_eq!(
        technique["products"],
        json!([{ "slug": "smooth-foam-roller" }])
    );
    let graphql = app.query(None, query).await;
    assert_eq!(
        graphql["data"]["technique"]["products"],
        json!([]),
        "{graphql}"
    );
    let by_product = "product=smooth-foam-roller";
    assert!(
        filtered(&app, Some(write), by_product)
            .await
            .contains(&"deep-tissue-massage".into())
    );
    assert!(
        !filtered(&app, None, by_product)
            .await
            .contains(&"deep-tissue-massage".into())
    );

    // A link the draft drops is gone for preview readers only.
    let (status, body) = app.put_links(write, CONDITIONS, json!([])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(links(&app.json_as(Some(write), INCLUDED).await).0, None);
    let by_condition = "condition=lower-back-pain";
    assert!(
        !filtered(&app, Some(write), by_condition)
            .await
            .contains(&"deep-tissue-massage".into())
    );
    assert!(
        filtered(&app, None, by_condition)
            .await
            .contains(&"deep-tissue-massage".into())
    );

    // Discarded, the draft's links are gone for everyone.
    let (status, body) = app.step_current(publish, ITEM, "discard").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        links(&app.json_as(Some(write), INCLUDED).await),
        as_published
    );
}

async fn embeds_show_preview_readers_the_draft(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let item = "/v1/techniques/swedish-massage";
    let (status, body) = app
        .patch_current(
            &keys["write"],
            item,
            json!({ "summary": "A drafted summary." }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let page = "/embed/techniques/swedish-massage";
    let text = |response: reqwest::Response| async move {
        assert_eq!(response.status(), 200);
        response.text().await.unwrap()
    };
    let preview = keys["preview"].as_str();
    assert!(
        text(app.get_with_key(page, preview).await)
            .await
            .contains("A drafted summary.")
    );
    let published = format!("{page}?version=published");
    assert!(
        !text(app.get_with_key(&published, preview).await)
            .await
            .contains("A drafted summary.")
    );
    assert!(
        !text(app.get(page).await)
            .await
            .contains("A drafted summary.")
    );
    let drafted = format!("{page}?version=draft");
    assert_eq!(app.get(&drafted).await.status(), 401);
    assert_eq!(
        app.get_with_key(&drafted, &keys["read"]).await.status(),
        403
    );
}

/// Every slug of a list, page by page (`limit=2`), as `key` reads it.
async fn paged(app: &TestApp, key: Option<&str>, query: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut path = format!("/v1/techniques?{query}&limit=2");
    loop {
        let body = app.json_as(key, &path).await;
        found.extend(slugs(&body));
        match body["page"]["next_cursor"].as_str() {
            Some(cursor) => path = format!("/v1/techniques?{query}&limit=2&cursor={cursor}"),
            None => return found,
        }
    }
}

async fn preview_filters_and_sorts_match_the_drafts(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let write = keys["write"].as_str();
    let item = "/v1/techniques/swedish-massage";
    let edit = json!({ "name": "Zen stroke massage", "kind": "self" });
    let (status, body) = app.patch_current(write, item, edit).await;
    assert_eq!(status, 200, "{body}");
    let swedish = "swedish-massage".to_owned();

    let by_name = paged(&app, Some(write), "sort=name").await;
    assert_eq!(
        by_name.last(),
        Some(&swedish),
        "sorted by the draft's name: {by_name:?}"
    );
    let mut all = by_name.clone();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), by_name.len(), "each item once across pages");
    let read_by_name = paged(&app, None, "sort=name").await;
    assert_ne!(read_by_name.last(), Some(&swedish), "{read_by_name:?}");
    assert_eq!(read_by_name.len(), by_name.len());
    let searched = paged(&app, Some(write), "q=massage&sort=name").await;
    assert_eq!(searched.last(), Some(&swedish), "{searched:?}");
    let counted = app
        .json_as(Some(write), "/v1/techniques?kind=self&count=true")
        .await;
    let shown = counted["data"].as_array().unwrap().len();
    assert_eq!(counted["page"]["total"], json!(shown), "{counted}");

    assert!(
        filtered(&app, Some(write), "kind=self")
            .await
            .contains(&swedish)
    );
    assert!(
        !filtered(&app, Some(write), "kind=professional")
            .await
            .contains(&swedish)
    );
    assert!(!filtered(&app, None, "kind=self").await.contains(&swedish));
    assert!(
        filtered(&app, None, "kind=professional")
            .await
            .contains(&swedish)
    );
    let versioned = "kind=self&version=published";
    assert!(
        !filtered(&app, Some(write), versioned)
            .await
            .contains(&swedish)
    );
    // The editorial queue: what is in draft, published items' drafts included.
    assert_eq!(
        filtered(&app, Some(write), "status=draft").await,
        std::slice::from_ref(&swedish)
    );
    let (status, body) = app.step_current(write, item, "submit").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        filtered(&app, Some(write), "status=in_review").await,
        [swedish]
    );
    assert!(filtered(&app, Some(write), "status=draft").await.is_empty());
}

engine_tests!(
    a_drafts_link_sets_are_what_preview_readers_include,
    preview_filters_and_sorts_match_the_drafts,
    embeds_show_preview_readers_the_draft
);
