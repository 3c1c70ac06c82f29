//! Imports follow the rules the API follows (issue 25): published articles get the next
//! medical review date and the publication date that publishing them through the API
//! gives, and a published item that the API would refuse to publish is refused, reported
//! as `file:line`, with nothing changed.

use serde_json::Value;

use crate::engine_tests;
use sea_orm::ConnectionTrait;

use crate::helpers::{Engine, TestApp, TestDb, demo_dir, row_counts, settings, stderr};

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

/// Writes `files` (name, lines) into a new directory under the database's.
fn write_set(db: &TestDb, name: &str, files: &[(&str, &[&str])]) -> std::path::PathBuf {
    let dir = db.dir().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (file, lines) in files {
        std::fs::write(dir.join(file), lines.join("\n")).unwrap();
    }
    dir
}

/// Every publish blocker the API applies stops an import, each reported at its line, and
/// the database is left as it was.
async fn imports_refuse_what_publishing_would_refuse(engine: Engine) {
    let db = TestDb::new(engine).await;
    let output = db.cli(&["import", demo_dir().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let conn = db.connect().await;
    let before = row_counts(&conn).await;
    let authors: &[&str] = &[
        r#"{"slug":"draft-writer","name":"Draft Writer","credentials":"MD","status":"draft"}"#,
        r#"{"slug":"no-letters","name":"No Letters"}"#,
    ];
    let citations: &[&str] =
        &[r#"{"slug":"draft-study","kind":"study","title":"Draft","status":"draft"}"#];
    let articles: &[&str] = &[
        r#"{"slug":"unreviewed","title":"U","author":"maryann-depietro"}"#,
        r#"{"slug":"by-a-draft","title":"D","author":"draft-writer","reviewer":"maryann-depietro"}"#,
        r#"{"slug":"lay-reviewer","title":"L","author":"maryann-depietro","reviewer":"no-letters","status":"draft"}"#,
        r#"{"slug":"draft-is-fine","title":"F","author":"draft-writer","status":"draft"}"#,
    ];
    let conditions: &[&str] = &[
        r#"{"slug":"cites-a-draft","name":"C","statistics":[{"label":"x","value":1,"citation":"draft-study"}]}"#,
    ];
    let claims: &[&str] = &[
        r#"{"technique":"foam-rolling","benefit":"released-knots","evidence":{"certainty":"low","citations":["draft-study"]}}"#,
    ];
    let dir = write_set(
        &db,
        "blocked",
        &[
            ("authors.ndjson", authors),
            ("citations.ndjson", citations),
            ("articles.ndjson", articles),
        ],
    );
    let output = db.cli(&[
        "import",
        "--medical-review",
        "required",
        dir.to_str().unwrap(),
    ]);
    assert!(!output.status.success());
    let report = stderr(&output);
    for expected in [
        "articles.ndjson:1: field \"reviewer\": an article needs a medical reviewer",
        "articles.ndjson:2: field \"author\": author \"draft-writer\" is draft",
        "articles.ndjson:3: field \"reviewer\": \"no-letters\" has no credentials",
    ] {
        assert!(report.contains(expected), "{expected}\n{report}");
    }
    assert!(!report.contains("articles.ndjson:4"), "{report}");
    assert_eq!(row_counts(&conn).await, before, "nothing was imported");

    // Citations a published item shows: its statistics', its claims'.
    let cases: [(&str, &str, &[&str], &str); 2] = [
        (
            "statistics",
            "conditions.ndjson",
            conditions,
            "conditions.ndjson:1: field \"statistics\": citation \"draft-study\" is draft",
        ),
        (
            "claims",
            "technique_benefits.ndjson",
            claims,
            "technique_benefits.ndjson:1: field \"evidence\": citation \"draft-study\" is draft",
        ),
    ];
    for (name, file, lines, expected) in cases {
        let dir = write_set(&db, name, &[("citations.ndjson", citations), (file, lines)]);
        let output = db.cli(&["import", dir.to_str().unwrap()]);
        assert!(!output.status.success());
        let report = stderr(&output);
        assert!(report.contains(expected), "{expected}\n{report}");
        assert_eq!(row_counts(&conn).await, before, "nothing was imported");
    }

    // Under the `optional` policy an article may go without a reviewer: readers see it
    // as unreviewed.
    let dir = write_set(&db, "optional", &[("articles.ndjson", &articles[..1])]);
    let output = db.cli(&[
        "import",
        "--medical-review",
        "optional",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let app = TestApp::spawn(settings(&db.url)).await;
    let item = app.json("/v1/articles/unreviewed").await;
    assert_eq!(item["data"]["review_status"], "unreviewed");
    assert!(item["data"]["published_at"].is_string(), "dated on import");
    let jsonld: Value = app
        .client
        .get(format!("{}/v1/articles/unreviewed", app.address))
        .header("accept", "application/ld+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(jsonld.get("reviewedBy").is_none(), "{jsonld}");
    let reviewed = app
        .json("/v1/articles?fields=slug,review_status&limit=100")
        .await;
    assert!(
        reviewed["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["review_status"] == "unreviewed"),
        "the demo's articles name no reviewer: {reviewed}"
    );
    // Importing the same file again keeps the date it was given.
    let output = db.cli(&[
        "import",
        "--medical-review",
        "optional",
        dir.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT version FROM articles WHERE slug = 'unreviewed'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "version").unwrap(), 1, "unchanged");
}

/// A restore keeps each item's creation and update times and version, as exported; they
/// must make sense.
async fn imports_keep_the_times_and_version_they_are_given(engine: Engine) {
    let db = TestDb::new(engine).await;
    let row = |meta: &str| {
        format!(
            r#"{{"slug":"kept","name":"Kept","kind":"self","published_at":"2020-01-01T00:00:00Z",{meta}}}"#
        )
    };
    for (meta, expected) in [
        (r#""version":0"#, "techniques.ndjson:1: field \"version\""),
        (
            r#""created_at":"2021-01-01T00:00:00Z","updated_at":"2020-01-01T00:00:00Z""#,
            "techniques.ndjson:1: field \"updated_at\" is before \"created_at\"",
        ),
    ] {
        let dir = write_set(&db, "bad-meta", &[("techniques.ndjson", &[&row(meta)])]);
        let output = db.cli(&["import", dir.to_str().unwrap()]);
        assert!(!output.status.success());
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
    }
    let meta =
        r#""created_at":"2020-01-01T00:00:00Z","updated_at":"2021-06-01T12:00:00.5Z","version":7"#;
    let dir = write_set(&db, "meta", &[("techniques.ndjson", &[&row(meta)])]);
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let app = TestApp::spawn(settings(&db.url)).await;
    let item = app.json("/v1/techniques/kept").await;
    assert_eq!(item["data"]["created_at"], "2020-01-01T00:00:00Z");
    assert_eq!(item["data"]["updated_at"], "2021-06-01T12:00:00.500Z");
    assert_eq!(item["data"]["version"], 7);
    // A changed row is a change made now: a new version, whatever the file says.
    let changed = row(&meta.replace("2021-06-01", "2021-07-01")).replace("Kept", "Changed");
    let dir = write_set(&db, "changed", &[("techniques.ndjson", &[&changed])]);
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let conn = db.connect().await;
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            conn.get_database_backend(),
            "SELECT version, created_at, updated_at FROM techniques WHERE slug = 'kept'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "version").unwrap(), 8);
    let updated: chrono::DateTime<chrono::Utc> = row.try_get("", "updated_at").unwrap();
    assert!(chrono::Utc::now() - updated < chrono::Duration::minutes(5));
}

engine_tests!(
    imports_keep_the_times_and_version_they_are_given,
    imports_derive_the_next_review_date,
    imports_refuse_what_publishing_would_refuse,
);
