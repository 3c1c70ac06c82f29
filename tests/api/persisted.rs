//! Persisted queries cannot be used to grow the database: documents are stored only after
//! every limit passed, registration follows `--graphql-apq-register`, and the store keeps
//! within its quota, least recently used dropped first.

use salve::config::ApqRegister;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings, spawn_app};

fn registration(document: &str) -> Value {
    let hash = hex::encode(Sha256::digest(document.as_bytes()));
    json!({ "query": document, "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } })
}

fn by_hash(document: &str) -> Value {
    json!({ "extensions": registration(document)["extensions"] })
}

/// (documents, bytes) in the store.
async fn stored(app: &TestApp) -> (i64, i64) {
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(bytes), 0) AS BIGINT) AS total FROM persisted_queries",
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get("", "n").unwrap(),
        row.try_get("", "total").unwrap(),
    )
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

async fn spawn_with(
    engine: Engine,
    register: Option<ApqRegister>,
    quota: u64,
) -> (TestApp, TestDb) {
    let db = TestDb::new(engine).await;
    let mut settings = settings(&db.url);
    settings.serve.graphql.graphql_apq_register = register;
    settings.serve.graphql.graphql_apq_max_bytes = quota;
    (TestApp::spawn(settings).await, db)
}

/// A document refused by a limit (tokens, size) is never stored, whoever sends it.
async fn refused_documents_are_never_stored(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let many_tokens = format!("{{ {} }}", "a ".repeat(2100));
    let refused = app.graphql(None, &registration(&many_tokens)).await;
    assert_eq!(code(&refused), "TOKEN_LIMIT_EXCEEDED", "{refused}");
    let too_large = format!("{{ __typename }}\n#{}", "x".repeat(17_000));
    let refused = app.graphql(None, &registration(&too_large)).await;
    assert_eq!(code(&refused), "DOCUMENT_TOO_LARGE", "{refused}");
    let unknown_field = "{ nothingHere }";
    let refused = app.graphql(None, &registration(unknown_field)).await;
    assert!(!refused["errors"].is_null(), "{refused}");
    assert_eq!(stored(&app).await.0, 0, "refused documents were stored");
    assert_eq!(
        code(&app.graphql(None, &by_hash(&many_tokens)).await),
        "PERSISTED_QUERY_NOT_FOUND"
    );

    let document = r#"{ technique(slug: "foam-rolling") { name } }"#;
    let ran = app.graphql(None, &registration(document)).await;
    assert_eq!(ran["data"]["technique"]["name"], "Foam rolling");
    assert_eq!(stored(&app).await, (1, document.len() as i64));
    assert_eq!(app.graphql(None, &by_hash(document)).await, ran);
}

/// `none`: queries sent with their hash run but are not stored; `keys`: only callers with
/// a key register.
async fn registration_follows_the_setting(engine: Engine) {
    let document = r#"{ product(slug: "smooth-foam-roller") { sku } }"#;
    let (app, _db) = spawn_with(engine, Some(ApqRegister::None), 1 << 20).await;
    let ran = app.graphql(None, &registration(document)).await;
    assert_eq!(ran["data"]["product"]["sku"], "DEMO-FR-SMOOTH", "{ran}");
    assert_eq!(stored(&app).await.0, 0);
    assert_eq!(
        code(&app.graphql(None, &by_hash(document)).await),
        "PERSISTED_QUERY_NOT_FOUND"
    );

    let (app, _db) = spawn_with(engine, Some(ApqRegister::Keys), 1 << 20).await;
    let ran = app.graphql(None, &registration(document)).await;
    assert_eq!(ran["data"]["product"]["sku"], "DEMO-FR-SMOOTH", "{ran}");
    assert_eq!(stored(&app).await.0, 0, "an anonymous caller registered");
    let key = salve::service::keys::create(&app.db, "reader", &[salve::domain::Scope::Read], None)
        .await
        .unwrap()
        .secret;
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&key)
        .json(&registration(document))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(stored(&app).await.0, 1);
    assert_eq!(app.graphql(None, &by_hash(document)).await, ran);
}

/// 300 anonymous registrations of distinct 1 KiB documents into a 32 KiB store: it stays
/// within the quota, keeps the newest documents and drops the oldest.
async fn a_registration_flood_stays_within_the_quota(engine: Engine) {
    let quota = 32 * 1024;
    let (app, _db) = spawn_with(engine, None, quota).await;
    let documents: Vec<String> = (0..300)
        .map(|i| format!("{{ __typename }}\n# {i:04} {}", "x".repeat(1000)))
        .collect();
    for document in &documents {
        let body = app.graphql(None, &registration(document)).await;
        assert_eq!(body["data"]["__typename"], "Query", "{body}");
    }
    let (count, bytes) = stored(&app).await;
    assert!(bytes as u64 <= quota, "{bytes} bytes stored");
    assert!(count >= 25, "only {count} documents kept");
    let newest = documents.last().unwrap();
    assert_eq!(
        app.graphql(None, &by_hash(newest)).await["data"]["__typename"],
        "Query"
    );
    let oldest = by_hash(&documents[0]);
    let fresh = TestApp::spawn(settings(&_db.url)).await;
    assert_eq!(
        code(&fresh.graphql(None, &oldest).await),
        "PERSISTED_QUERY_NOT_FOUND"
    );
}

engine_tests!(
    refused_documents_are_never_stored,
    registration_follows_the_setting,
    a_registration_flood_stays_within_the_quota,
);
