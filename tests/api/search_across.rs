//! Search across collections, page by page through the API, is exactly the ranking of one
//! statement over every type (on SQLite the server skips collections that cannot place a
//! hit and ranks on the full-text index first; it must never change a page).

use reqwest::Method;
use salve::domain::Collection;
use salve::domain::listing::SearchTerms;
use salve::service::Visibility;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, generate, import_draft_technique, spawn_app, stderr};
use crate::requests::Call;

/// (type, id, score) of the first `most` hits (or every one), walking `/v1/search` pages
/// of `limit`.
async fn walk(
    app: &TestApp,
    key: Option<&str>,
    query: &str,
    limit: u32,
    most: usize,
) -> Vec<(String, String, f64)> {
    let mut hits = Vec::new();
    let mut path = format!("/v1/search?q={query}&limit={limit}");
    loop {
        let response = app.get_as(&path, key).await;
        assert_eq!(response.status(), 200, "{path}");
        let page: Value = response.json().await.unwrap();
        for hit in page["data"].as_array().unwrap() {
            hits.push((
                hit["type"].as_str().unwrap().to_owned(),
                hit["item"]["id"].as_str().unwrap().to_owned(),
                hit["score"].as_f64().unwrap(),
            ));
        }
        match page["page"]["next_cursor"].as_str() {
            Some(_) if hits.len() >= most => return hits,
            Some(cursor) => path = format!("/v1/search?q={query}&limit={limit}&cursor={cursor}"),
            None => return hits,
        }
    }
}

async fn pages_across_collections_follow_the_one_ranking(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    import_draft_technique(&db);
    let preview = app.key("previewer", salve::domain::Scope::Preview).await;
    let types: Vec<Collection> = salve::service::fulltext::searchable().collect();

    for query in [
        "massage",
        "pain",
        "foam",
        "back%20pain",
        "trig*",
        "rolling",
        "secret",
    ] {
        let terms = SearchTerms::parse(&query.replace("%20", " ")).unwrap();
        for (visibility, key) in [
            (Visibility::PublishedOnly, None),
            (Visibility::All, Some(preview.as_str())),
        ] {
            let expected: Vec<(String, String, f64)> =
                salve::service::search::rank_all(&app.db, visibility, &terms, &types)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|(c, id, score)| (c.as_str().to_owned(), id.to_string(), score))
                    .collect();
            // Every hit by pages of 100; the first ones by small pages (ties, cursors).
            for (limit, most) in [(100, usize::MAX), (7, 50), (1, 12)] {
                let walked = walk(&app, key, query, limit, most).await;
                let label = format!("{query} {visibility:?} limit {limit}");
                assert!(
                    walked.len() <= expected.len(),
                    "{label}: more hits than ranked: {} against {}\n{walked:?}\n{expected:?}",
                    walked.len(),
                    expected.len()
                );
                assert!(
                    walked.len() == expected.len() || walked.len() >= most,
                    "{label}: stopped early"
                );
                for (n, (got, want)) in walked.iter().zip(&expected).enumerate() {
                    assert_eq!((&got.0, &got.1), (&want.0, &want.1), "{label}: hit {n}");
                    assert!(
                        (got.2 - want.2).abs() < 1e-9,
                        "{query}: score {} against {}",
                        got.2,
                        want.2
                    );
                }
            }
        }
    }
}

/// The hits of `queries`, page by page for every reader, against the one ranking; on
/// PostgreSQL also the stored postings against the search vectors they come from.
async fn search_matches_the_ranking(app: &TestApp, preview: &str, queries: &[&str], step: &str) {
    let types: Vec<Collection> = salve::service::fulltext::searchable().collect();
    for query in queries {
        let terms = SearchTerms::parse(query).unwrap();
        for (visibility, key) in [
            (Visibility::PublishedOnly, None),
            (Visibility::All, Some(preview)),
        ] {
            let expected = salve::service::search::rank_all(&app.db, visibility, &terms, &types)
                .await
                .unwrap();
            let walked = walk(app, key, query, 3, usize::MAX).await;
            let walked: Vec<(String, String)> =
                walked.into_iter().map(|(c, id, _)| (c, id)).collect();
            let expected: Vec<(String, String)> = expected
                .into_iter()
                .map(|(c, id, _)| (c.as_str().to_owned(), id.to_string()))
                .collect();
            assert_eq!(walked, expected, "{step}: {query} {visibility:?}");
        }
    }
    if app.db.get_database_backend() != sea_orm::DbBackend::Postgres {
        return;
    }
    let stored = postings(app, "search_postings").await;
    let derived = postings(app, &salve_postings_source()).await;
    assert_eq!(
        stored, derived,
        "{step}: the postings are not the search vectors'"
    );
    assert!(!stored.is_empty());
}

/// Every posting as (lexeme, kind, id, score bits), each score checked positive.
async fn postings(app: &TestApp, source: &str) -> Vec<(String, String, String, u32)> {
    use sea_orm::ConnectionTrait;
    let rows = app
        .db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            format!(
                "SELECT lexeme, kind, id::text AS id, score FROM {source} p \
                 ORDER BY lexeme, kind, id"
            ),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            let score: f32 = row.try_get("", "score").unwrap();
            let lexeme: String = row.try_get("", "lexeme").unwrap();
            assert!(score > 0.0, "{lexeme}: score {score}");
            (
                lexeme,
                row.try_get("", "kind").unwrap(),
                row.try_get("", "id").unwrap(),
                score.to_bits(),
            )
        })
        .collect()
}

/// The postings as the search vectors make them now.
fn salve_postings_source() -> String {
    let tables: Vec<String> = salve::service::fulltext::searchable()
        .map(|c| {
            format!(
                "SELECT l.lexeme, '{c}' AS kind, t.id, \
                 ts_rank(t.search, {}) AS score FROM {c} t, unnest(t.search) l",
                migration::LEXEME_QUERY
            )
        })
        .collect();
    format!("({})", tables.join(" UNION ALL "))
}

async fn search_follows_every_write(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let (write, publish, admin) = (&keys["write"], &keys["publish"], &keys["admin"]);
    let preview = keys["preview"].as_str();
    let queries = ["zebrafoam", "massage", "brien", "rolling"];
    // Text whose lexemes need quoting in a tsquery (`example.com/a'b`).
    let (status, _, created) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(write)
        .json(
            json!({ "slug": "quoted-rolling", "name": "Zebrafoam rolling", "kind": "self",
            "summary": "O'Brien's zebrafoam routine, see http://example.com/a'b\\c it's" }),
        )
        .send()
        .await;
    assert_eq!(status, 201, "{created}");
    search_matches_the_ranking(&app, preview, &queries, "created").await;
    let item = "/v1/techniques/quoted-rolling";
    for (action, key) in [
        ("publish", publish),
        ("unpublish", publish),
        ("publish", publish),
    ] {
        let tag = app.etag(key, item).await;
        let (status, _, body) = Call::new(&app, Method::POST, format!("{item}/{action}"))
            .key(key)
            .if_match(&tag)
            .send()
            .await;
        assert_eq!(status, 200, "{action}: {body}");
        search_matches_the_ranking(&app, preview, &queries, action).await;
    }
    let tag = app.etag(publish, item).await;
    let (status, _, body) = Call::new(&app, Method::PATCH, item)
        .key(publish)
        .if_match(&tag)
        .json(json!({ "name": "Quoted massage", "summary": "Rolling, massage and more massage." }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.publish_current(publish, item).await;
    assert_eq!(status, 200, "{body}");
    search_matches_the_ranking(&app, preview, &queries, "edited").await;
    let tag = app.etag(admin, item).await;
    let (status, _, body) = Call::new(&app, Method::DELETE, format!("{item}?hard=true"))
        .key(admin)
        .if_match(&tag)
        .send()
        .await;
    assert!(status.is_success(), "{status} {body}");
    search_matches_the_ranking(&app, preview, &queries, "deleted").await;
}

/// (type, id, score) of every hit of `query` across collections for `visibility`, as
/// ranked in one statement.
async fn ranked(app: &TestApp, visibility: Visibility, query: &str) -> Vec<(String, String, f64)> {
    let terms = SearchTerms::parse(query).unwrap();
    let types: Vec<Collection> = salve::service::fulltext::searchable().collect();
    salve::service::search::rank_all(&app.db, visibility, &terms, &types)
        .await
        .unwrap()
        .into_iter()
        .map(|(c, id, score)| (c.as_str().to_owned(), id.to_string(), score))
        .collect()
}

/// SQLite keeps phrase counts per database and index structure: two databases in one
/// process whose technique indexes have the same structure record but different rows
/// must each score with their own counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn databases_in_one_process_score_with_their_own_counts() {
    let (first, _first_db) = spawn_app(Engine::Sqlite).await;
    let (second, _second_db) = spawn_app(Engine::Sqlite).await;
    for (app, name) in [(&first, "Massage zeta"), (&second, "Quokka zeta")] {
        let keys = app.keys().await;
        let (status, _, body) = Call::new(app, Method::POST, "/v1/techniques")
            .key(&keys["write"])
            .json(json!({ "slug": "zeta", "name": name, "kind": "self" }))
            .send()
            .await;
        assert_eq!(status, 201, "{body}");
        let item = "/v1/techniques/zeta";
        let tag = app.etag(&keys["publish"], item).await;
        let (status, _, body) = Call::new(app, Method::POST, format!("{item}/publish"))
            .key(&keys["publish"])
            .if_match(&tag)
            .send()
            .await;
        assert_eq!(status, 200, "{body}");
    }
    let structure = "SELECT block FROM techniques_fts_data WHERE id = 10";
    let read = |app: &TestApp| {
        let db = app.db.clone();
        async move {
            let row = db
                .query_one_raw(Statement::from_string(DbBackend::Sqlite, structure))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<Vec<u8>>("", "block").unwrap()
        }
    };
    // The case the counts' key must tell apart (if FTS5 ever writes these differently,
    // make the two writes alike again).
    assert_eq!(read(&first).await, read(&second).await);
    // "quokka" matches no technique of the first database and one of the second.
    for (query, app) in [("quokka", &first), ("quokka", &second), ("massage", &first)] {
        let walked = walk(app, None, query, 100, usize::MAX).await;
        let expected = ranked(app, Visibility::PublishedOnly, query).await;
        assert_eq!(walked.len(), expected.len(), "{query}: {walked:?}");
        for (got, want) in walked.iter().zip(&expected) {
            assert_eq!((&got.0, &got.1), (&want.0, &want.1));
            assert!(
                (got.2 - want.2).abs() < 1e-9,
                "score {} against {}",
                got.2,
                want.2
            );
        }
    }
    assert!(
        !ranked(&second, Visibility::PublishedOnly, "quokka")
            .await
            .is_empty()
    );
}

engine_tests!(
    pages_across_collections_follow_the_one_ranking,
    search_follows_every_write
);
