//! Products by GTIN: any of the four forms of one number finds the product, the number is
//! unique whatever its form, and a malformed GTIN is refused with the reason.

use reqwest::Method;
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, spawn_app, stderr};
use crate::requests::{Call, pointers};

async fn products_are_found_by_any_form_of_their_gtin(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    // The demo's smooth foam roller is GTIN-13 2001234000017; its massage stick GTIN-12.
    for form in ["2001234000017", "02001234000017"] {
        let body = app.json(&format!("/v1/products/gtin/{form}")).await;
        assert_eq!(body["data"]["slug"], "smooth-foam-roller", "{form}");
        assert_eq!(body["data"]["gtin"], "2001234000017", "stored as given");
    }
    for form in ["200123400033", "0200123400033", "00200123400033"] {
        let body = app
            .json(&format!(
                "/v1/products/gtin/{form}?include=techniques&format=html&fields=slug"
            ))
            .await;
        assert_eq!(body["data"]["slug"], "foam-massage-stick", "{form}");
        assert!(body["data"]["techniques"].is_array());
    }
    let short = app.json("/v1/products/gtin/20012342").await;
    assert_eq!(short["data"]["slug"], "smooth-massage-ball");
    assert_eq!(
        app.get("/v1/products/gtin/4006381333931").await.status(),
        404
    );

    for (bad, reason) in [
        ("2001234000018", "check digit"),
        ("123", "not a GTIN"),
        ("20012340000a7", "not a GTIN"),
    ] {
        let response = app.get(&format!("/v1/products/gtin/{bad}")).await;
        assert_eq!(response.status(), 400, "{bad}");
        let problem: Value = response.json().await.unwrap();
        let detail = problem["detail"].as_str().unwrap();
        assert!(
            detail.starts_with("gtin:") && detail.contains(reason),
            "{detail}"
        );
    }

    let found = app
        .query(
            None,
            "{ a: productByGtin(gtin: \"02001234000017\") { slug gtin } \
               b: productByGtin(gtin: \"4006381333931\") { slug } }",
        )
        .await;
    assert_eq!(found["data"]["a"]["slug"], "smooth-foam-roller", "{found}");
    assert_eq!(found["data"]["a"]["gtin"], "2001234000017");
    assert!(found["data"]["b"].is_null());
    let bad = app
        .query(None, "{ productByGtin(gtin: \"2001234000018\") { slug } }")
        .await;
    let message = bad["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("check digit"), "{bad}");
}

async fn a_gtin_is_unique_whatever_its_form(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let write = app.key("w", Scope::Write).await;
    let create = |slug: &str, sku: &str, gtin: &str| json!({ "slug": slug, "sku": sku, "name": "Roller", "gtin": gtin });
    // The GTIN-14 form of the demo roller's GTIN-13.
    let (status, _, problem) = Call::new(&app, Method::POST, "/v1/products")
        .key(&write)
        .json(create("copy-roller", "COPY-1", "02001234000017"))
        .send()
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/gtin"]);
    let detail = problem["errors"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("already used"), "{detail}");
    let (status, _, problem) = Call::new(&app, Method::POST, "/v1/products")
        .key(&write)
        .json(create("bad-roller", "BAD-1", "2001234000018"))
        .send()
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(pointers(&problem), ["/gtin"]);
    assert!(
        problem["errors"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("check digit")
    );
    // `gtin` and `sku` name lookups beside slugs: no product may take them as its slug.
    for reserved in ["gtin", "sku"] {
        let (status, _, problem) = Call::new(&app, Method::POST, "/v1/products")
            .key(&write)
            .json(create(reserved, "RES-1", "4006381333931"))
            .send()
            .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(pointers(&problem), ["/slug"]);
    }
    let (status, _, created) = Call::new(&app, Method::POST, "/v1/products")
        .key(&write)
        .json(create("new-roller", "NEW-1", "4006381333931"))
        .send()
        .await;
    assert_eq!(status, 201, "{created}");
    // Changing the GTIN moves the key with it.
    let preview = app.key("p", Scope::Preview).await;
    let (status, body) = app
        .patch_current(
            &write,
            "/v1/products/new-roller",
            json!({ "gtin": "96385074" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let found = app
        .get_with_key("/v1/products/gtin/00000096385074", &preview)
        .await;
    assert_eq!(found.status(), 200);
    assert_eq!(
        app.get_with_key("/v1/products/gtin/4006381333931", &preview)
            .await
            .status(),
        404
    );

    // Import: a duplicate by key, within the file or against the store, names the line.
    let dir = db.dir().join("import");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("products.ndjson"),
        "{\"slug\":\"i-one\",\"sku\":\"I-1\",\"name\":\"One\",\"gtin\":\"0096385074\"}\n",
    )
    .unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("products.ndjson:1"), "{err}");
    std::fs::write(
        dir.join("products.ndjson"),
        "{\"slug\":\"i-one\",\"sku\":\"I-1\",\"name\":\"One\",\"gtin\":\"036000291452\"}\n\
         {\"slug\":\"i-two\",\"sku\":\"I-2\",\"name\":\"Two\",\"gtin\":\"0036000291452\"}\n",
    )
    .unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("products.ndjson:2") && err.contains("duplicate gtin"),
        "{err}"
    );
    std::fs::write(
        dir.join("products.ndjson"),
        "{\"slug\":\"i-one\",\"sku\":\"I-1\",\"name\":\"One\",\"gtin\":\"036000291452\",\"status\":\"published\"}\n",
    )
    .unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let body = app.json("/v1/products/gtin/00036000291452").await;
    assert_eq!(body["data"]["slug"], "i-one");
    std::fs::write(
        dir.join("products.ndjson"),
        "{\"slug\":\"sku\",\"sku\":\"I-9\",\"name\":\"Nine\"}\n",
    )
    .unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("products.ndjson:1") && err.contains("reserved"),
        "{err}"
    );
}

/// A draft of a published product is checked as any edit is: its SKU and GTIN may not
/// be another product's, though the draft is not published yet.
async fn a_drafts_identifiers_are_unique(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let item = "/v1/products/textured-foam-roller";
    for (edit, pointer) in [
        (json!({ "sku": "DEMO-FR-SMOOTH" }), "/sku"),
        (json!({ "gtin": "02001234000017" }), "/gtin"),
    ] {
        let (status, body) = app.patch_current(&keys["write"], item, edit).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(pointers(&body), [pointer], "{body}");
    }
    let (status, body) = app
        .patch_current(&keys["write"], item, json!({ "sku": "DEMO-FR-NEW" }))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["status"], "draft", "{body}");
}

engine_tests!(
    products_are_found_by_any_form_of_their_gtin,
    a_gtin_is_unique_whatever_its_form,
    a_drafts_identifiers_are_unique,
);
