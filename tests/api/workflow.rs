//! Workflow rules (publish blockers, hard delete), medical review, keys over HTTP and
//! the GraphQL mutations — on SQLite and PostgreSQL.

use reqwest::Method;
use salve::domain::Scope;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, slugs, spawn_app};
use crate::requests::{Call, pointers};

async fn gql(app: &TestApp, key: Option<&str>, query: &str, variables: Value) -> Value {
    let mut request = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap().json().await.unwrap()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

async fn publishing_is_blocked_by_unpublished_references(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish) = (&keys["write"], &keys["publish"]);
    let (status, _, _) = Call::new(&app, Method::POST, "/v1/authors")
        .key(write)
        .json(json!({ "slug": "new-writer", "name": "New Writer" }))
        .send()
        .await;
    assert_eq!(status, 201);
    let (status, _, problem) = Call::new(&app, Method::POST, "/v1/articles")
        .key(write)
        .json(
            json!({ "slug": "fresh-article", "title": "Fresh", "author": "new-writer",
                      "reviewer": "new-writer" }),
        )
        .send()
        .await;
    assert_eq!(status, 422, "a reviewer needs credentials");
    assert_eq!(problem["errors"][0]["pointer"], "/reviewer");
    let (status, tag, _) = Call::new(&app, Method::POST, "/v1/articles")
        .key(write)
        .json(
            json!({ "slug": "fresh-article", "title": "Fresh", "author": "new-writer",
                      "techniques": ["foam-rolling"] }),
        )
        .send()
        .await;
    assert_eq!(status, 201);
    let (status, _, problem) = Call::new(&app, Method::POST, "/v1/articles/fresh-article/publish")
        .key(publish)
        .if_match(&tag.unwrap())
        .send()
        .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["code"], "blocked");
    let blockers = pointers(&problem);
    assert_eq!(blockers, ["/reviewer", "/author"], "{problem}");
    assert_eq!(
        problem["detail"], "the article cannot be published yet: 2 blocker(s)",
        "{problem}"
    );

    // Publishing the author and naming a credentialed reviewer unblocks it.
    let author = app.etag(write, "/v1/authors/new-writer").await;
    let (status, _, _) = Call::new(&app, Method::POST, "/v1/authors/new-writer/publish")
        .key(publish)
        .if_match(&author)
        .send()
        .await;
    assert_eq!(status, 200);
    let article = app.etag(write, "/v1/articles/fresh-article").await;
    let (status, _, body) = Call::new(&app, Method::PATCH, "/v1/articles/fresh-article")
        .key(write)
        .if_match(&article)
        .json(json!({ "reviewer": "maryann-depietro" }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let article = app.etag(write, "/v1/articles/fresh-article").await;
    let (status, _, body) = Call::new(&app, Method::POST, "/v1/articles/fresh-article/publish")
        .key(publish)
        .if_match(&article)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let due = body["data"]["next_review_due"].as_str().unwrap();
    let published = body["data"]["published_at"].as_str().unwrap();
    assert_eq!(
        &due[..4],
        &(published[..4].parse::<i32>().unwrap() + 1).to_string()
    );

    // Wrong-state steps are conflicts, not silent no-ops.
    let article = app.etag(write, "/v1/articles/fresh-article").await;
    let (status, _, _) = Call::new(&app, Method::POST, "/v1/articles/fresh-article/submit")
        .key(write)
        .if_match(&article)
        .send()
        .await;
    assert_eq!(status, 409);
}

async fn medical_reviews_are_recorded_and_listed(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = &keys["publish"];
    let article: Value = app
        .get("/v1/articles?fields=slug,version,updated_at")
        .await
        .json()
        .await
        .unwrap();
    let slug = article["data"][0]["slug"].as_str().unwrap().to_owned();
    let version = article["data"][0]["version"].clone();
    let (status, _, body) = Call::new(&app, Method::POST, format!("/v1/articles/{slug}/reviews"))
        .key(publish)
        .json(
            json!({ "reviewer": "maryann-depietro", "reviewed_at": "2024-01-15T00:00:00Z",
                      "note": "checked the evidence" }),
        )
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["last_reviewed_at"], "2024-01-15T00:00:00Z");
    assert_eq!(body["data"]["next_review_due"], "2025-01-14T00:00:00Z");
    assert_eq!(
        body["data"]["version"],
        version.as_i64().unwrap() + 1,
        "a review is a new version"
    );
    assert_ne!(
        body["data"]["updated_at"], article["data"][0]["updated_at"],
        "and moves Last-Modified"
    );
    let overdue: Value = app
        .get("/v1/articles?review=overdue&fields=slug")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        slugs(&overdue["data"]).contains(&slug.as_str()),
        "{overdue}"
    );
    let due: Value = app
        .get("/v1/articles?due_within=30d&fields=slug")
        .await
        .json()
        .await
        .unwrap();
    assert!(slugs(&due["data"]).contains(&slug.as_str()), "{due}");
    let data = gql(
        &app,
        None,
        r#"{ articles(filter: {review: "overdue"}) { nodes { slug nextReviewDue } } }"#,
        json!({}),
    )
    .await;
    assert!(
        slugs(&data["data"]["articles"]["nodes"]).contains(&slug.as_str()),
        "{data}"
    );

    let (status, _, _) = Call::new(&app, Method::POST, format!("/v1/articles/{slug}/reviews"))
        .key(publish)
        .json(json!({}))
        .send()
        .await;
    assert_eq!(status, 200, "a review today with the current reviewer");
    let overdue: Value = app
        .get("/v1/articles?review=overdue")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        !slugs(&overdue["data"]).contains(&slug.as_str()),
        "{overdue}"
    );
    for bad in [
        json!({ "reviewed_at": "2999-01-01T00:00:00Z" }),
        json!({ "reviewer": "no-such-author" }),
        json!({ "verdict": "ok" }),
    ] {
        let (status, _, _) = Call::new(&app, Method::POST, format!("/v1/articles/{slug}/reviews"))
            .key(publish)
            .json(bad.clone())
            .send()
            .await;
        assert_eq!(status, 422, "{bad}");
    }
    for (path, expected) in [
        ("/v1/articles?review=soon", 400),
        ("/v1/articles?due_within=30", 400),
        ("/v1/articles?due_within=99999d", 400),
    ] {
        assert_eq!(app.get(path).await.status(), expected, "{path}");
    }
    let (_, _, audit) = Call::new(&app, Method::GET, "/v1/audit?action=review")
        .key(&keys["admin"])
        .send()
        .await;
    assert_eq!(audit["data"][1]["detail"]["note"], "checked the evidence");
}

async fn hard_deletes_respect_published_links(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (admin, publish) = (&keys["admin"], &keys["publish"]);
    let path = "/v1/benefits/released-knots";
    let tag = app.etag(admin, path).await;
    let (status, _, _) = Call::new(&app, Method::DELETE, format!("{path}?hard=true"))
        .key(publish)
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(status, 403, "hard deletes are for admins");
    let (status, _, problem) = Call::new(&app, Method::DELETE, format!("{path}?hard=true"))
        .key(admin)
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(status, 409, "{problem}");
    assert_eq!(problem["errors"][0]["pointer"], "/techniques");
    let (status, _, _) = Call::new(
        &app,
        Method::DELETE,
        format!("{path}?hard=true&cascade=links"),
    )
    .key(admin)
    .if_match(&tag)
    .send()
    .await;
    assert_eq!(status, 204);
    assert_eq!(app.get_with_key(path, admin).await.status(), 404);
    let technique: Value = app
        .get("/v1/techniques/foam-rolling?include=benefits")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        technique["data"]["benefits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b["slug"] != "released-knots")
    );

    // Archiving (soft delete) hides an item and keeps it.
    let path = "/v1/techniques/foam-rolling";
    let tag = app.etag(admin, path).await;
    let (status, _, body) = Call::new(&app, Method::DELETE, path)
        .key(publish)
        .if_match(&tag)
        .send()
        .await;
    assert_eq!(
        (status.as_u16(), body["data"]["status"].as_str()),
        (200, Some("archived"))
    );
    assert_eq!(app.get(path).await.status(), 404);
    // An author that articles name cannot be deleted, even with cascade.
    let author = "/v1/authors/maryann-depietro";
    let tag = app.etag(admin, author).await;
    let (status, _, problem) = Call::new(
        &app,
        Method::DELETE,
        format!("{author}?hard=true&cascade=links"),
    )
    .key(admin)
    .if_match(&tag)
    .send()
    .await;
    assert_eq!(status, 409, "{problem}");
}

async fn keys_are_managed_over_http(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let admin = app.key("root", Scope::Admin).await;
    let (status, _, created) = Call::new(&app, Method::POST, "/v1/keys")
        .key(&admin)
        .json(json!({ "name": "shop", "scopes": ["read"] }))
        .send()
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["data"]["key"].as_str().unwrap().to_owned();
    assert_eq!(
        app.get_with_key("/v1/techniques", &secret).await.status(),
        200
    );
    let (_, _, listed) = Call::new(&app, Method::GET, "/v1/keys")
        .key(&admin)
        .send()
        .await;
    let text = listed.to_string();
    assert!(
        text.contains("\"shop\"") && !text.contains(&secret),
        "never the secret"
    );
    for bad in [
        json!({ "name": "shop", "scopes": ["read"] }),
        json!({ "name": "x", "scopes": ["owner"] }),
        json!({ "name": "bad name", "scopes": ["read"] }),
        json!({ "name": "y" }),
    ] {
        let (status, _, _) = Call::new(&app, Method::POST, "/v1/keys")
            .key(&admin)
            .json(bad.clone())
            .send()
            .await;
        assert!(status == 409 || status == 422, "{bad}: {status}");
    }
    let (status, _, _) = Call::new(&app, Method::POST, "/v1/keys")
        .key(&secret)
        .json(json!({ "name": "escalate", "scopes": ["admin"] }))
        .send()
        .await;
    assert_eq!(status, 403);
    let (status, _, _) = Call::new(&app, Method::DELETE, "/v1/keys/shop")
        .key(&admin)
        .send()
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        app.get_with_key("/v1/techniques", &secret).await.status(),
        401
    );
}

async fn graphql_mutations_mirror_rest(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish) = (keys["write"].as_str(), keys["publish"].as_str());
    let create = r#"mutation($input: TechniqueInput!) { createTechnique(input: $input) { slug status version kind } }"#;
    let input = json!({ "input": { "slug": "gql-rolling", "name": "GraphQL rolling", "kind": "SELF",
                                   "benefits": [{ "slug": "released-knots", "note": "often" }] } });
    assert_eq!(
        code(&gql(&app, None, create, input.clone()).await),
        "UNAUTHORIZED"
    );
    assert_eq!(
        code(&gql(&app, Some(&keys["read"]), create, input.clone()).await),
        "FORBIDDEN"
    );
    let created = gql(&app, Some(write), create, input.clone()).await;
    assert_eq!(
        created["data"]["createTechnique"],
        json!({ "slug": "gql-rolling", "status": "DRAFT", "version": 1, "kind": "SELF" }),
        "{created}"
    );
    let anonymous = gql(
        &app,
        None,
        r#"{ technique(slug: "gql-rolling") { slug } }"#,
        json!({}),
    )
    .await;
    assert!(anonymous["data"]["technique"].is_null());

    let invalid = gql(
        &app,
        Some(write),
        create,
        json!({ "input": { "slug": "Bad Slug", "name": "", "kind": "SELF" } }),
    )
    .await;
    assert_eq!(code(&invalid), "VALIDATION_FAILED");
    assert_eq!(
        pointers(&invalid["errors"][0]["extensions"]),
        ["/slug", "/name"]
    );

    let update = r#"mutation($v: Int!) { updateTechnique(slug: "gql-rolling", expectedVersion: $v, patch: {summary: "Edited", pressure: FIRM}) { version summary pressure } }"#;
    let stale = gql(&app, Some(write), update, json!({ "v": 7 })).await;
    assert_eq!(code(&stale), "PRECONDITION_FAILED");
    let updated = gql(&app, Some(write), update, json!({ "v": 1 })).await;
    assert_eq!(
        updated["data"]["updateTechnique"],
        json!({ "version": 2, "summary": "Edited", "pressure": "FIRM" })
    );
    let links = r#"mutation { setTechniqueLinks(slug: "gql-rolling", expectedVersion: 2, relation: CONDITIONS, links: [{slug: "lower-back-pain"}]) { version conditions { slug } } }"#;
    let linked = gql(&app, Some(write), links, json!({})).await;
    assert_eq!(
        linked["data"]["setTechniqueLinks"]["version"], 3,
        "{linked}"
    );
    assert_eq!(
        linked["data"]["setTechniqueLinks"]["conditions"][0]["slug"],
        "lower-back-pain"
    );

    let publish_q =
        r#"mutation { publishTechnique(slug: "gql-rolling", expectedVersion: 3) { status } }"#;
    assert_eq!(
        code(&gql(&app, Some(write), publish_q, json!({})).await),
        "FORBIDDEN"
    );
    let published = gql(&app, Some(publish), publish_q, json!({})).await;
    assert_eq!(
        published["data"]["publishTechnique"]["status"], "PUBLISHED",
        "{published}"
    );
    let anonymous = gql(
        &app,
        None,
        r#"{ technique(slug: "gql-rolling") { benefits { slug } conditions { slug } } }"#,
        json!({}),
    )
    .await;
    assert_eq!(
        anonymous["data"]["technique"]["benefits"][0]["slug"],
        "released-knots"
    );

    // The REST view of the same item agrees: version 4, revisions 1-3.
    let (_, _, revisions) = Call::new(&app, Method::GET, "/v1/techniques/gql-rolling/revisions")
        .key(write)
        .send()
        .await;
    assert_eq!(revisions["data"].as_array().unwrap().len(), 3);
    let restore = r#"mutation { restoreTechniqueRevision(slug: "gql-rolling", expectedVersion: 4, number: 1) { version summary } }"#;
    let restored = gql(&app, Some(publish), restore, json!({})).await;
    assert_eq!(
        restored["data"]["restoreTechniqueRevision"],
        json!({ "version": 5, "summary": null })
    );
    let archive =
        r#"mutation { deleteTechnique(slug: "gql-rolling", expectedVersion: 5) { status } }"#;
    let archived = gql(&app, Some(publish), archive, json!({})).await;
    assert_eq!(
        archived["data"]["deleteTechnique"]["status"], "ARCHIVED",
        "{archived}"
    );
    let review = r#"mutation { recordArticleReview(slug: "massage-for-lower-back-pain", reviewer: "maryann-depietro", reviewedAt: "2025-03-01T00:00:00Z") { lastReviewedAt reviewer { slug } } }"#;
    let reviewed = gql(&app, Some(publish), review, json!({})).await;
    assert_eq!(
        reviewed["data"]["recordArticleReview"],
        json!({ "lastReviewedAt": "2025-03-01T00:00:00Z", "reviewer": { "slug": "maryann-depietro" } }),
        "{reviewed}"
    );
}

engine_tests!(
    publishing_is_blocked_by_unpublished_references,
    medical_reviews_are_recorded_and_listed,
    hard_deletes_respect_published_links,
    keys_are_managed_over_http,
    graphql_mutations_mirror_rest,
);
