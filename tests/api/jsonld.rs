//! schema.org JSON-LD by content negotiation and through GraphQL: the mapping, what it
//! never shows (drafts, offers), caching and invalidation, and `Accept` handling.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, spawn_app};
use crate::requests::Call;

const LD: &str = "application/ld+json";

/// The JSON-LD REST serves for `path` (checked: 200, its media type, `Vary`, an ETag).
pub async fn ld(app: &TestApp, path: &str) -> Value {
    let response = app
        .client
        .get(format!("{}{path}", app.address))
        .header("accept", LD)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{path}");
    assert_eq!(response.headers()["content-type"], LD);
    assert!(
        response.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Accept")
    );
    assert!(response.headers().contains_key("etag"));
    response.json().await.unwrap()
}

async fn every_item_has_its_schema_org_type(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let article = ld(&app, "/v1/articles/massage-for-lower-back-pain").await;
    assert_eq!(article["@context"], "https://schema.org");
    assert_eq!(article["@type"], "MedicalWebPage");
    assert_eq!(article["inLanguage"], "en");
    assert_eq!(
        article["headline"],
        "Massage for Lower Back Pain: Benefits, Types, and More"
    );
    assert_eq!(article["author"]["@type"], "Person");
    assert_eq!(article["author"]["honorificSuffix"], "CRT");
    // The demo article records a review date but no reviewer: nothing is made up.
    assert!(article.get("reviewedBy").is_none());
    let reviewed = article["lastReviewed"].as_str().unwrap();
    assert_eq!(reviewed.len(), 10, "one date: {reviewed}");
    assert_eq!(article["about"][0]["@type"], "MedicalCondition");
    assert_eq!(article["mainEntity"], article["about"][0]);
    let cited = article["citation"].as_array().unwrap();
    assert!(cited.len() >= 2);
    for work in cited {
        // `citation` takes creative works: a guideline is the article publishing it.
        let kind = work["@type"].as_str().unwrap();
        assert!(
            ["MedicalScholarlyArticle", "Report"].contains(&kind),
            "{work}"
        );
        if let Some(doi) = work["sameAs"].as_str() {
            assert!(doi.starts_with("https://doi.org/10."));
            assert_eq!(work["identifier"][0]["propertyID"], "DOI");
        }
    }
    assert!(
        cited
            .iter()
            .any(|w| w["publicationType"] == "Practice Guideline")
    );
    let condition = ld(&app, "/v1/conditions/lower-back-pain").await;
    assert_eq!(condition["@type"], "MedicalCondition");
    assert_eq!(
        condition["code"][0],
        json!({ "@type": "MedicalCode", "codeValue": "M54.5", "codingSystem": "ICD-10" })
    );
    assert_eq!(condition["alternateName"][0], "Low back pain");
    assert_eq!(condition["possibleTreatment"][0]["@type"], "MedicalTherapy");
    assert_eq!(condition["guideline"][0]["@type"], "MedicalGuideline");
    let technique = ld(&app, "/v1/techniques/deep-tissue-massage").await;
    assert_eq!(technique["@type"], "MedicalTherapy");
    assert!(
        technique["howPerformed"]
            .as_str()
            .unwrap()
            .starts_with("The therapist")
    );
    assert_eq!(
        technique["@reverse"]["possibleTreatment"][0]["name"],
        "Lower back pain"
    );
    // Products: identifiers only, never an offer.
    for path in [
        "/v1/products/sku/DEMO-FR-SMOOTH",
        "/v1/products/gtin/02001234000017",
        "/v1/products/smooth-foam-roller",
    ] {
        let product = ld(&app, path).await;
        assert_eq!(product["@type"], "Product");
        assert_eq!(product["gtin13"], "2001234000017");
        assert_eq!(product["sku"], "DEMO-FR-SMOOTH");
        for never in ["offers", "price", "priceCurrency", "availability"] {
            assert!(product.get(never).is_none(), "{never}");
        }
    }
    let stick = ld(&app, "/v1/products/foam-massage-stick").await;
    assert_eq!(stick["gtin12"], "200123400033");
    let author = ld(&app, "/v1/authors/maryann-depietro").await;
    assert_eq!(author["@type"], "Person");
    assert_eq!(author["name"], "MaryAnn DePietro", "name only in name");
    for collection in ["publishers", "citations", "benefits"] {
        let list = app.json(&format!("/v1/{collection}?fields=slug")).await;
        let slug = list["data"][0]["slug"].as_str().unwrap();
        let doc = ld(&app, &format!("/v1/{collection}/{slug}")).await;
        assert!(doc["@type"].is_string(), "{doc}");
    }

    // GraphQL: the same document.
    let body = app
        .query(
            None,
            "{ article(slug: \"massage-for-lower-back-pain\") { jsonLd } \
               productByGtin(gtin: \"2001234000017\") { jsonLd } }",
        )
        .await;
    assert_eq!(body["data"]["article"]["jsonLd"], article, "{body}");
    assert_eq!(body["data"]["productByGtin"]["jsonLd"]["@type"], "Product");
}

/// A list's documents are read together: the statements do not grow with the page, and
/// each document is the one REST serves.
async fn graphql_lists_read_their_documents_together(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let mut counts = Vec::new();
    for first in [1, 2, 6] {
        let query = format!(
            "{{ techniques(first: {first}) {{ nodes {{ slug jsonLd }} }} \
               conditions(first: {first}) {{ nodes {{ slug jsonLd }} }} }}"
        );
        app.cache.invalidate(["*"]);
        let before = app.statements.get();
        let body = app.query(None, &query).await;
        counts.push(app.statements.get() - before);
        // The demo has 6 techniques and 2 conditions.
        for (collection, available) in [("techniques", 6), ("conditions", 2)] {
            let nodes = body["data"][collection]["nodes"].as_array().unwrap();
            assert_eq!(nodes.len(), first.min(available), "{body}");
            for node in nodes {
                let slug = node["slug"].as_str().unwrap();
                let rest = ld(&app, &format!("/v1/{collection}/{slug}")).await;
                assert_eq!(node["jsonLd"], rest, "{collection}/{slug}");
            }
        }
    }
    assert_eq!(counts[0], counts[2], "{counts:?}");
}

async fn accept_is_negotiated_and_refused_with_a_406(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let get = |path: &'static str, accept: &'static str| {
        let request = app
            .client
            .get(format!("{}{path}", app.address))
            .header("accept", accept);
        async move { request.send().await.unwrap() }
    };
    let path = "/v1/techniques/deep-tissue-massage";
    for (accept, expected) in [
        ("application/json", "application/json"),
        ("*/*", "application/json"),
        ("application/ld+json, application/json;q=0.5", LD),
        (
            "application/ld+json;q=0.5, application/json",
            "application/json",
        ),
        ("text/html, application/*;q=0.8", "application/json"),
    ] {
        let response = get(path, accept).await;
        assert_eq!(response.status(), 200, "{accept}");
        assert_eq!(response.headers()["content-type"], expected, "{accept}");
    }
    for (path, accept) in [
        (path, "text/csv"),
        ("/v1/techniques", LD),
        ("/v1/search?q=massage", "text/csv"),
    ] {
        let response = get(path, accept).await;
        assert_eq!(response.status(), 406, "{path} {accept}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "not_acceptable");
    }
    // Cached separately: JSON after JSON-LD (and back) for the same URL.
    assert_eq!(get(path, LD).await.headers()["content-type"], LD);
    assert_eq!(
        get(path, "application/json").await.headers()["content-type"],
        "application/json"
    );
    assert_eq!(get(path, LD).await.headers()["content-type"], LD);
}

async fn drafts_never_show_and_changes_reach_cached_documents(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let path = "/v1/techniques/deep-tissue-massage";
    let before = ld(&app, path).await;
    let conditions = before["@reverse"]["possibleTreatment"]
        .as_array()
        .unwrap()
        .len();
    // A draft condition linked to the technique: invisible to readers.
    let (status, _, body) = Call::new(&app, Method::POST, "/v1/conditions")
        .key(&keys["write"])
        .json(json!({ "slug": "secret-ache", "name": "Secret ache",
                      "techniques": [{ "slug": "deep-tissue-massage" }] }))
        .send()
        .await;
    assert_eq!(status, 201, "{body}");
    let after = ld(&app, path).await;
    assert_eq!(
        after["@reverse"]["possibleTreatment"]
            .as_array()
            .unwrap()
            .len(),
        conditions
    );
    assert!(!after.to_string().contains("Secret ache"));

    // Hostile text stays text: the document is JSON whatever the content.
    let hostile = "</script><script>alert(1)</script>\u{2028}\"quotes\" <!-- x";
    let (status, body) = app
        .patch_live(&keys["publish"], path, json!({ "summary": hostile }))
        .await;
    assert_eq!(status, 200, "{body}");
    let changed = ld(&app, path).await;
    assert_eq!(
        changed["description"], hostile,
        "the cached document was invalidated"
    );
    // A change to a related item reaches the document that shows it.
    let (status, body) = app
        .patch_live(
            &keys["publish"],
            "/v1/conditions/lower-back-pain",
            json!({ "name": "Low back pain (renamed)" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let renamed = ld(&app, path).await;
    assert!(renamed.to_string().contains("Low back pain (renamed)"));
}

/// A graded claim is the `study` of the therapy (and, from the technique, of the
/// condition): its statement, its grading in words, its sources as guideline and works,
/// and only the sources a reader may see, even from a cached document.
async fn claims_are_studies(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let treatment = |doc: &Value, name: &str| {
        let list = doc["possibleTreatment"].as_array().expect("treatments");
        list.iter().find(|t| t["name"] == name).cloned().unwrap()
    };
    let condition = ld(&app, "/v1/conditions/lower-back-pain").await;
    let study = &treatment(&condition, "Deep tissue massage")["study"];
    assert_eq!(study["@type"], "MedicalStudy", "{condition}");
    assert_eq!(
        study["name"],
        "Deep tissue massage may help with lower back pain."
    );
    assert_eq!(
        study["disambiguatingDescription"],
        "GRADE certainty of the evidence: low. OCEBM 2011 level of evidence: 1."
    );
    assert_eq!(study["studySubject"]["name"], "Deep tissue massage");
    assert_eq!(study["healthCondition"]["name"], "Lower back pain");
    assert_eq!(study["guideline"][0]["@type"], "MedicalGuideline");
    assert_eq!(study["guideline"][0]["guidelineDate"], "2017");
    assert_eq!(study["subjectOf"][0]["@type"], "MedicalScholarlyArticle");
    // A link without evidence makes no study.
    assert!(treatment(&condition, "Foam rolling").get("study").is_none());
    let technique = ld(&app, "/v1/techniques/deep-tissue-massage").await;
    let conditions = technique["@reverse"]["possibleTreatment"]
        .as_array()
        .unwrap();
    let back = conditions.iter().find(|c| c["name"] == "Lower back pain");
    assert_eq!(back.unwrap()["study"], *study);

    // The guideline withdrawn: the cached document drops it from the study.
    let keys = app.keys().await;
    let guideline = "/v1/citations/acp-low-back-pain-guideline-2017";
    let etag = app.etag(&keys["publish"], guideline).await;
    let (status, _, body) = Call::new(&app, Method::POST, format!("{guideline}/unpublish"))
        .key(&keys["publish"])
        .if_match(&etag)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let condition = ld(&app, "/v1/conditions/lower-back-pain").await;
    let study = &treatment(&condition, "Deep tissue massage")["study"];
    assert!(study.get("guideline").is_none(), "{study}");
    assert_eq!(study["subjectOf"].as_array().unwrap().len(), 1);
}

engine_tests!(
    graphql_lists_read_their_documents_together,
    every_item_has_its_schema_org_type,
    accept_is_negotiated_and_refused_with_a_406,
    drafts_never_show_and_changes_reach_cached_documents,
    claims_are_studies,
);
