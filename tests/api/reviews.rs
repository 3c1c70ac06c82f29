//! Medical review for every embeddable item (issue 25, part 3): conditions, techniques and
//! benefits are reviewed like articles; each review is kept in a history (reviewer as they
//! were then, date, note) that is public while the item is, over REST and GraphQL alike.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, demo_dir, settings, slugs, spawn_app, stderr};
use crate::requests::Call;

async fn review(app: &TestApp, key: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, _, answer) = Call::new(app, Method::POST, format!("{path}/reviews"))
        .key(key)
        .json(body)
        .send()
        .await;
    (status.as_u16(), answer)
}

/// Changes an author's credentials (a published author: the `publish` scope).
async fn set_credentials(app: &TestApp, key: &str, slug: &str, credentials: &str) {
    let path = format!("/v1/authors/{slug}");
    let tag = app.etag(key, &path).await;
    let (status, _, body) = Call::new(app, Method::PATCH, &path)
        .key(key)
        .if_match(&tag)
        .json(json!({ "credentials": credentials }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.publish_current(key, &path).await;
    assert_eq!(status, 200, "{body}");
}

async fn techniques_conditions_and_benefits_keep_a_review_history(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = &keys["publish"];
    let path = "/v1/techniques/foam-rolling";
    let before = app.json(path).await;
    assert_eq!(before["data"]["reviewer"], Value::Null);
    assert_eq!(before["data"]["last_reviewed_at"], Value::Null);
    let history = app.json(&format!("{path}/reviews")).await;
    assert_eq!(history["data"], json!([]), "no review yet");

    let (status, body) = review(
        &app,
        publish,
        path,
        json!({ "reviewer": "maryann-depietro", "reviewed_at": "2025-02-01T09:00:00Z",
                "note": "Checked the pressure advice." }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let item = &body["data"];
    assert_eq!(item["reviewer"], "maryann-depietro");
    assert_eq!(item["last_reviewed_at"], "2025-02-01T09:00:00Z");
    assert_eq!(item["next_review_due"], "2026-02-01T09:00:00Z");
    assert_eq!(
        item["version"],
        before["data"]["version"].as_i64().unwrap() + 1
    );
    // The reviewer's credentials change later; the history keeps those of the review.
    set_credentials(&app, publish, "maryann-depietro", "CRT, RRT").await;
    let (status, body) = review(&app, publish, path, json!({ "note": "Annual review." })).await;
    assert_eq!(status, 200, "{body}");
    let version = body["data"]["version"].clone();

    let history = app.json(&format!("{path}/reviews")).await;
    let reviews = history["data"].as_array().unwrap();
    assert_eq!(reviews.len(), 2, "{history}");
    assert_eq!(reviews[0]["note"], "Annual review.", "newest first");
    assert_eq!(reviews[0]["version"], version);
    assert_eq!(reviews[0]["reviewer"]["credentials"], "CRT, RRT");
    assert_eq!(
        reviews[1],
        json!({ "reviewed_at": "2025-02-01T09:00:00Z", "note": "Checked the pressure advice.",
                "version": before["data"]["version"].as_i64().unwrap() + 1,
                "reviewer": { "slug": "maryann-depietro", "name": "MaryAnn DePietro",
                              "credentials": "CRT" } })
    );
    // Pages of one, with the cursor the first page gives.
    let first = app.json(&format!("{path}/reviews?limit=1")).await;
    assert_eq!(first["data"].as_array().unwrap().len(), 1);
    let cursor = first["page"]["next_cursor"].as_str().unwrap().to_owned();
    let cursor = cursor.replace('+', "%2B");
    let second = app
        .json(&format!("{path}/reviews?limit=1&cursor={cursor}"))
        .await;
    assert_eq!(second["data"][0], reviews[1]);
    assert_eq!(second["page"]["next_cursor"], Value::Null);

    // The embedded page's footer names the reviewer as readers see them now.
    let page = app
        .get("/embed/techniques/foam-rolling")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Medically reviewed by MaryAnn DePietro, CRT, RRT on"),
        "{page}"
    );

    // GraphQL shows the same history, and records reviews of conditions and benefits.
    let data = app
        .query(
            None,
            r#"{ technique(slug: "foam-rolling") { reviews { reviewedAt note version
             reviewer { slug name credentials } } } }"#,
        )
        .await;
    let shown = &data["data"]["technique"]["reviews"];
    assert_eq!(shown[1]["reviewedAt"], "2025-02-01T09:00:00Z", "{data}");
    assert_eq!(shown[1]["reviewer"]["credentials"], "CRT");
    assert_eq!(shown[0]["note"], "Annual review.");
    for (mutation, field) in [
        ("recordConditionReview", "lower-back-pain"),
        ("recordBenefitReview", "released-knots"),
    ] {
        let query = format!(
            r#"mutation {{ {mutation}(slug: "{field}", reviewer: "maryann-depietro",
                 reviewedAt: "2025-03-01T00:00:00Z", note: "ok") {{ slug lastReviewedAt
                 reviews {{ note }} }} }}"#
        );
        let data = app.query(Some(publish), &query).await;
        assert_eq!(
            data["data"][mutation]["lastReviewedAt"], "2025-03-01T00:00:00Z",
            "{data}"
        );
        assert_eq!(data["data"][mutation]["reviews"][0]["note"], "ok", "{data}");
    }
    // Review dates filter and sort every reviewed collection.
    for (collection, slug, overdue) in [
        ("techniques", "foam-rolling", false),
        ("conditions", "lower-back-pain", true),
        ("benefits", "released-knots", true),
    ] {
        for (filter, expected) in [("review=overdue", overdue), ("due_within=400d", true)] {
            let found = app
                .json(&format!("/v1/{collection}?{filter}&fields=slug"))
                .await;
            assert_eq!(
                slugs(&found["data"]).contains(&slug),
                expected,
                "{collection}?{filter}: {found}"
            );
        }
        let sorted = app
            .json(&format!(
                "/v1/{collection}?sort=next_review_due&fields=slug,next_review_due"
            ))
            .await;
        let dates: Vec<&str> = sorted["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|item| item["next_review_due"].as_str())
            .collect();
        assert!(dates.len() > 1 && dates.is_sorted(), "{sorted}");
    }
}

async fn review_rules_hold_on_every_surface(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = &keys["publish"];
    let path = "/v1/benefits/released-knots";
    let (status, _) = review(&app, &keys["write"], path, json!({})).await;
    assert_eq!(status, 403, "recording a review needs publish");
    let (status, body) = review(&app, publish, path, json!({})).await;
    assert_eq!(status, 422, "no reviewer yet: {body}");
    let at = json!({ "reviewer": "maryann-depietro", "reviewed_at": "2025-01-01T00:00:00Z" });
    assert_eq!(review(&app, publish, path, at.clone()).await.0, 200);
    let (status, body) = review(&app, publish, path, at).await;
    assert_eq!(status, 409, "one review per instant: {body}");
    for bad in [
        json!({ "reviewed_at": "2999-01-01T00:00:00Z" }),
        json!({ "reviewer": "no-such-author" }),
        json!({ "verdict": "fine" }),
    ] {
        assert_eq!(
            review(&app, publish, path, bad.clone()).await.0,
            422,
            "{bad}"
        );
    }
    // The review dates are the review's to set, never a write body's.
    let tag = app.etag(publish, path).await;
    let (status, _, body) = Call::new(&app, Method::PATCH, path)
        .key(publish)
        .if_match(&tag)
        .json(json!({ "last_reviewed_at": "2020-01-01T00:00:00Z" }))
        .send()
        .await;
    assert_eq!(status, 422, "{body}");
    // Products are not medically reviewed.
    let (status, _) = review(&app, publish, "/v1/products/DEMO-FR-SMOOTH", json!({})).await;
    assert!(status == 404 || status == 405, "{status}");
    for bad in [
        format!("{path}/reviews?limit=0"),
        format!("{path}/reviews?cursor=yesterday"),
        format!("{path}/reviews?sort=name"),
    ] {
        assert_eq!(app.get(&bad).await.status(), 400, "{bad}");
    }
    assert_eq!(app.get("/v1/benefits/no-such/reviews").await.status(), 404);
}

/// Drafts never leak: a draft's history is for `preview` keys, and a reviewer readers may
/// not see is not named.
async fn histories_show_only_what_the_reader_may_see(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (publish, preview) = (&keys["publish"], &keys["preview"]);
    let path = "/v1/conditions/degenerative-disc-disease";
    let body = json!({ "reviewer": "maryann-depietro", "note": "Reviewed." });
    assert_eq!(review(&app, publish, path, body).await.0, 200);
    let history = app.json(&format!("{path}/reviews")).await;
    assert_eq!(history["data"][0]["reviewer"]["slug"], "maryann-depietro");

    // Reading the history through the cache, then unpublishing the reviewer: the cached
    // answer must not keep naming them.
    let author = "/v1/authors/maryann-depietro";
    let tag = app.etag(publish, author).await;
    let (status, _, body) = Call::new(&app, Method::POST, format!("{author}/unpublish"))
        .key(publish)
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let history = app.json(&format!("{path}/reviews")).await;
    assert_eq!(history["data"][0]["reviewer"], Value::Null, "{history}");
    assert_eq!(history["data"][0]["note"], "Reviewed.");
    let seen: Value = app
        .get_with_key(&format!("{path}/reviews"), preview)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen["data"][0]["reviewer"]["name"], "MaryAnn DePietro");
    let data = app
        .query(
            None,
            r#"{ condition(slug: "degenerative-disc-disease") { reviews { reviewer { slug } } } }"#,
        )
        .await;
    assert_eq!(
        data["data"]["condition"]["reviews"],
        json!([{ "reviewer": null }])
    );

    let tag = app.etag(publish, path).await;
    let (status, _, body) = Call::new(&app, Method::POST, format!("{path}/unpublish"))
        .key(publish)
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(app.get(&format!("{path}/reviews")).await.status(), 404);
    let seen = app.get_with_key(&format!("{path}/reviews"), preview).await;
    assert_eq!(seen.status(), 200);
}

/// Reviews recorded before the history existed were only in the audit log: the migration
/// that adds the history copies them, with the reviewer as they are at that point, and a
/// reviewer deleted since by the slug the entry names.
async fn the_history_starts_from_the_audit_log(engine: Engine) {
    use migration::{Migrator, MigratorTrait};
    use sea_orm::{ConnectionTrait, Statement};

    let db = TestDb::new(engine).await;
    let output = db.cli(&["import", demo_dir().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let conn = db.connect().await;
    // Back to before the history (and every migration after it).
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let reviews = names.iter().position(|n| n.ends_with("_reviews")).unwrap();
    let after = u32::try_from(names.len() - reviews).unwrap();
    Migrator::down(&conn, Some(after))
        .await
        .expect("rolls back");
    let backend = conn.get_database_backend();
    let (first, second) = match backend {
        sea_orm::DbBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let article = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!("SELECT id FROM articles WHERE slug = {first}"),
            ["massage-for-lower-back-pain".into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let article: uuid::Uuid = article.try_get("", "id").unwrap();
    for (n, detail) in [
        json!({ "reviewer": "maryann-depietro", "reviewed_at": "2025-01-02T03:04:05Z",
                "note": "Backfilled.", "version": 2 }),
        json!({ "reviewer": "someone-deleted", "reviewed_at": "2025-06-01T00:00:00Z",
                "note": null }),
    ]
    .into_iter()
    .enumerate()
    {
        let at = chrono::Utc::now() + chrono::Duration::seconds(n as i64);
        conn.execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "INSERT INTO audit_log (id, at, action, collection, item_id, slug, detail) \
                 VALUES ({first}, {second}, 'review', 'articles', {}, \
                 'massage-for-lower-back-pain', {})",
                if backend == sea_orm::DbBackend::Postgres {
                    "$3"
                } else {
                    "?"
                },
                if backend == sea_orm::DbBackend::Postgres {
                    "CAST($4 AS jsonb)"
                } else {
                    "?"
                },
            ),
            [
                uuid::Uuid::new_v4().into(),
                at.into(),
                article.into(),
                detail.to_string().into(),
            ],
        ))
        .await
        .unwrap();
    }
    Migrator::up(&conn, None).await.expect("migrates");
    let app = TestApp::spawn(settings(&db.url)).await;
    let history = app
        .json("/v1/articles/massage-for-lower-back-pain/reviews")
        .await;
    let keys = app.keys().await;
    let seen: Value = app
        .get_with_key(
            "/v1/articles/massage-for-lower-back-pain/reviews",
            &keys["preview"],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(seen, history, "nothing here is hidden from readers");
    assert_eq!(
        history["data"],
        json!([
            { "reviewed_at": "2025-06-01T00:00:00Z", "note": null, "version": null,
              "reviewer": null },
            { "reviewed_at": "2025-01-02T03:04:05Z", "note": "Backfilled.", "version": 2,
              "reviewer": { "slug": "maryann-depietro", "name": "MaryAnn DePietro",
                            "credentials": "CRT" } },
        ])
    );
}

engine_tests!(
    the_history_starts_from_the_audit_log,
    techniques_conditions_and_benefits_keep_a_review_history,
    review_rules_hold_on_every_surface,
    histories_show_only_what_the_reader_may_see,
);
