//! Full-text search over a collection, paginated: the matches are ranked and cut to a
//! page before their rows are read, and every page must still hold complete items in the
//! one order, whatever the sort.

use serde_json::Value;

use crate::engine_tests;
use crate::helpers::{Engine, generate, spawn_app, stderr};

async fn searched_pages_walk_every_match_once_in_order(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));

    for sort in [
        "",
        "&sort=name",
        "&sort=-published_at",
        "&sort=-updated_at,slug",
    ] {
        let base = format!("/v1/techniques?q=massage{sort}");
        let response = app.get(&format!("{base}&limit=100")).await;
        assert_eq!(response.status(), 200, "{base}");
        let whole: Value = response.json().await.unwrap();
        let whole = whole["data"].as_array().unwrap().clone();
        assert!(whole.len() > 4, "{base}: {} matches", whole.len());
        assert!(whole.len() < 100, "{base}: raise the limit");
        let mut walked = Vec::new();
        let mut path = format!("{base}&limit=2");
        loop {
            let response = app.get(&path).await;
            assert_eq!(response.status(), 200, "{path}");
            let page: Value = response.json().await.unwrap();
            walked.extend(page["data"].as_array().unwrap().iter().cloned());
            match page["page"]["next_cursor"].as_str() {
                Some(cursor) => path = format!("{base}&limit=2&cursor={cursor}"),
                None => break,
            }
            assert!(
                walked.len() <= whole.len(),
                "{base}: pagination does not end"
            );
        }
        // Whole items (every field), each once, in the single page's order.
        assert_eq!(walked, whole, "{base}");
    }
}

engine_tests!(searched_pages_walk_every_match_once_in_order);
