//! Search across collections, page by page through the API, is exactly the ranking of one
//! statement over every type (on SQLite the server skips collections that cannot place a
//! hit and ranks on the full-text index first; it must never change a page).

use salve::domain::Collection;
use salve::domain::listing::SearchTerms;
use salve::service::Visibility;
use serde_json::Value;

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, generate, import_draft_technique, spawn_app, stderr};

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
        let response = match key {
            Some(key) => app.get_with_key(&path, key).await,
            None => app.get(&path).await,
        };
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

engine_tests!(pages_across_collections_follow_the_one_ranking);
