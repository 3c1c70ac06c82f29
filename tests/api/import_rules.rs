//! Imports follow the rules the API follows (issue 25): published articles get the next
//! medical review date that publishing them through the API gives.

use serde_json::Value;

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, demo_dir, settings, stderr};

/// A published article without `next_review_due` is due its last review (else its
/// publication) plus the review interval (`--review-interval-days`); a date in the file is
/// kept; a draft has none. `?review=overdue` and `due_within` see them.
async fn imports_derive_the_next_review_date(engine: Engine) {
    let db = TestDb::new(engine).await;
    let output = db.cli(&["import", demo_dir().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let dir = db.dir().join("reviewed");
    std::fs::create_dir_all(&dir).unwrap();
    let article = |slug: &str, dates: &str| {
        format!(r#"{{"slug":"{slug}","title":"{slug}","author":"maryann-depietro",{dates}}}"#)
    };
    let rows = [
        article(
            "reviewed-piece",
            r#""status":"published","published_at":"2024-01-01T00:00:00Z","last_reviewed_at":"2024-06-01T00:00:00Z""#,
        ),
        article(
            "published-piece",
            r#""status":"published","published_at":"2024-02-01T00:00:00Z""#,
        ),
        article(
            "scheduled-piece",
            r#""status":"published","published_at":"2024-02-01T00:00:00Z","next_review_due":"2999-01-01T00:00:00Z""#,
        ),
        article("draft-piece", r#""status":"draft""#),
    ];
    std::fs::write(dir.join("articles.ndjson"), rows.join("\n")).unwrap();
    let output = db.cli(&[
        "import",
        "--review-interval-days",
        "30",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));

    let app = TestApp::spawn(settings(&db.url)).await;
    let keys = app.keys().await;
    for (slug, due) in [
        ("reviewed-piece", Value::from("2024-07-01T00:00:00Z")),
        ("published-piece", Value::from("2024-03-02T00:00:00Z")),
        ("scheduled-piece", Value::from("2999-01-01T00:00:00Z")),
        ("draft-piece", Value::Null),
    ] {
        let item: Value = app
            .get_with_key(&format!("/v1/articles/{slug}"), &keys["preview"])
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(item["data"]["next_review_due"], due, "{slug}");
    }
    let overdue = app
        .json("/v1/articles?review=overdue&fields=slug&limit=100")
        .await;
    let slugs: Vec<&str> = overdue["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert!(
        slugs.contains(&"reviewed-piece") && slugs.contains(&"published-piece"),
        "{slugs:?}"
    );
    assert!(!slugs.contains(&"scheduled-piece"), "{slugs:?}");
}

engine_tests!(imports_derive_the_next_review_date);
