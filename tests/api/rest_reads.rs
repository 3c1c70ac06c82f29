//! REST reads: filters, sorts, includes, pagination, visibility, caching, bad input.

use std::collections::{BTreeSet, HashMap};

use salve::domain::Collection;
use salve::domain::listing::sort_fields;
use salve::domain::model::file_links;
use serde_json::Value;

use crate::engine_tests;
use crate::helpers::{
    Engine, TestApp, TestDb, generate, import_draft_technique, settings, spawn_app, stderr,
};

fn slugs(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["slug"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// Follows `next_cursor` from `path` to the end; returns every slug in order.
async fn walk(app: &TestApp, path: &str) -> Vec<String> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        let body = app.json(&page_path).await;
        all.extend(slugs(&body));
        match body["page"]["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
        assert!(all.len() < 10_000, "pagination does not end");
    }
}

/// Server with the demo and a generated scale-S set.
async fn app_with_data(engine: Engine) -> (TestApp, TestDb) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    (app, db)
}

async fn every_collection_lists_gets_and_404s(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    for collection in Collection::ALL {
        let body = app.json(&format!("/v1/{collection}?count=true")).await;
        let listed = slugs(&body);
        assert!(!listed.is_empty(), "{collection}");
        assert_eq!(body["page"]["limit"], 20);
        let total = body["page"]["total"].as_i64().unwrap();
        assert!(total >= listed.len() as i64);
        let one = app.json(&format!("/v1/{collection}/{}", listed[0])).await;
        assert_eq!(one["data"]["slug"], listed[0].as_str());
        for field in ["id", "status", "created_at", "updated_at", "version"] {
            assert!(!one["data"][field].is_null(), "{collection}.{field}");
        }
        let missing = app.get(&format!("/v1/{collection}/no-such-item")).await;
        assert_eq!(missing.status(), 404);
    }
    let by_sku = app.json("/v1/products/sku/DEMO-FR-SMOOTH").await;
    assert_eq!(by_sku["data"]["slug"], "smooth-foam-roller");
    assert_eq!(app.get("/v1/products/sku/NOPE-1").await.status(), 404);
}

async fn pagination_walks_every_row_once_in_order_for_every_sort(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    for collection in Collection::ALL {
        for field in sort_fields(collection) {
            for sort in [field.name.to_owned(), format!("-{}", field.name)] {
                let full = slugs(
                    &app.json(&format!("/v1/{collection}?sort={sort}&limit=100"))
                        .await,
                );
                let walked = walk(&app, &format!("/v1/{collection}?sort={sort}&limit=3")).await;
                assert_eq!(walked, full, "{collection} sort={sort}");
                let unique: BTreeSet<&String> = walked.iter().collect();
                assert_eq!(
                    unique.len(),
                    walked.len(),
                    "{collection} sort={sort}: duplicates"
                );
            }
        }
        let two_keys = format!("/v1/{collection}?sort=-published_at,slug&limit=2");
        let full = slugs(&app.json(&two_keys.replace("limit=2", "limit=100")).await);
        assert_eq!(walk(&app, &two_keys).await, full, "{collection} two keys");
    }
}

async fn pages_stay_stable_when_rows_are_added_before_the_cursor(engine: Engine) {
    let (app, db) = app_with_data(engine).await;
    let first = app.json("/v1/benefits?sort=slug&limit=5").await;
    let cursor = first["page"]["next_cursor"].as_str().unwrap().to_owned();
    let expected = slugs(
        &app.json(&format!("/v1/benefits?sort=slug&limit=5&cursor={cursor}"))
            .await,
    );
    let dir = db.dir().join("early");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("benefits.ndjson"),
        r#"{"slug":"aaa-first","name":"A"}"#,
    )
    .unwrap();
    assert!(db.cli(&["import", dir.to_str().unwrap()]).status.success());
    let again = slugs(
        &app.json(&format!("/v1/benefits?sort=slug&limit=5&cursor={cursor}"))
            .await,
    );
    assert_eq!(again, expected);
}

async fn filters_select_exactly_the_matching_items(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "/v1/techniques?kind=self",
            vec!["foam-rolling", "massage-ball-release"],
        ),
        (
            "/v1/techniques?pressure=firm",
            vec![
                "deep-tissue-massage",
                "massage-ball-release",
                "trigger-point-therapy",
            ],
        ),
        (
            "/v1/techniques?pressure=light,moderate&kind=professional",
            vec!["acupressure", "swedish-massage"],
        ),
        (
            "/v1/products?technique=foam-rolling",
            vec![
                "foam-massage-stick",
                "smooth-foam-roller",
                "textured-foam-roller",
            ],
        ),
        (
            "/v1/techniques?product=smooth-massage-ball",
            vec!["massage-ball-release", "trigger-point-therapy"],
        ),
        (
            "/v1/citations?kind=guideline&year_gte=2015",
            vec!["acp-low-back-pain-guideline-2017"],
        ),
        (
            "/v1/citations?year_lte=2020",
            vec!["acp-low-back-pain-guideline-2017"],
        ),
        ("/v1/citations?year=2022", vec!["us-severe-back-pain-2022"]),
        (
            "/v1/citations?condition=degenerative-disc-disease",
            vec!["back-massage-degenerative-disc-older-adults"],
        ),
        (
            "/v1/conditions?citation=us-severe-back-pain-2022",
            vec!["lower-back-pain"],
        ),
        (
            "/v1/articles?related=massage-for-lower-back-pain",
            vec![
                "lower-back-pain-injury-overview",
                "lower-back-pain-treatments",
                "pt-exercises-for-lower-back-pain",
            ],
        ),
        ("/v1/articles?author=nobody-at-all", vec![]),
        ("/v1/techniques?condition=no-such-condition", vec![]),
        (
            "/v1/products?category=foam%20roller",
            vec![
                "foam-massage-stick",
                "smooth-foam-roller",
                "textured-foam-roller",
            ],
        ),
        ("/v1/conditions?status=draft", vec![]),
    ];
    for (path, expected) in cases {
        let found: BTreeSet<String> = slugs(&app.json(&format!("{path}&limit=100")).await)
            .into_iter()
            .collect();
        assert_eq!(found, set(&expected), "{path}");
    }
    let by_author = slugs(&app.json("/v1/articles?author=maryann-depietro").await);
    assert_eq!(by_author.len(), 4);
}

/// Every file link, filtered and included from both ends, matches the link file exactly.
async fn link_filters_and_includes_match_the_links_from_both_ends(engine: Engine) {
    let (app, db) = app_with_data(engine).await;
    let export = db.dir().join("links");
    assert!(
        db.cli(&["export", export.to_str().unwrap()])
            .status
            .success()
    );
    for link in file_links() {
        let text = std::fs::read_to_string(export.join(format!("{}.ndjson", link.table))).unwrap();
        let mut by_left: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut by_right: HashMap<String, BTreeSet<String>> = HashMap::new();
        for line in text.lines() {
            let row: Value = serde_json::from_str(line).unwrap();
            let left = row[link.left_key()].as_str().unwrap().to_owned();
            let right = row[link.right_key()].as_str().unwrap().to_owned();
            by_left
                .entry(left.clone())
                .or_default()
                .insert(right.clone());
            by_right.entry(right).or_default().insert(left);
        }
        let (left, right) = (link.left, link.right);
        for (parent, children) in by_left.iter().take(3) {
            let filtered = format!("/v1/{right}?{}={parent}&limit=100", left.singular());
            let found: BTreeSet<String> = slugs(&app.json(&filtered).await).into_iter().collect();
            assert_eq!(&found, children, "{filtered}");
            let included = app
                .json(&format!("/v1/{left}/{parent}?include={right}"))
                .await;
            let found: BTreeSet<String> = included["data"][right.as_str()]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["slug"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(&found, children, "{left}/{parent}?include={right}");
        }
        for (child, parents) in by_right.iter().take(3) {
            let filtered = format!("/v1/{left}?{}={child}&limit=100", right.singular());
            let found: BTreeSet<String> = slugs(&app.json(&filtered).await).into_iter().collect();
            assert_eq!(&found, parents, "{filtered}");
            let included = app
                .json(&format!("/v1/{right}/{child}?include={left}"))
                .await;
            let found: BTreeSet<String> = included["data"][left.as_str()]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["slug"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(&found, parents, "{right}/{child}?include={left}");
        }
    }
}

async fn nested_includes_and_references_expand(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let body = app.json("/v1/products/sku/DEMO-FR-SMOOTH?include=techniques.benefits,techniques.conditions,techniques.citations",
    )
    .await;
    let techniques = body["data"]["techniques"].as_array().unwrap();
    assert_eq!(techniques.len(), 1);
    assert_eq!(techniques[0]["slug"], "foam-rolling");
    assert!(techniques[0]["link"].is_object());
    assert!(!techniques[0]["benefits"].as_array().unwrap().is_empty());
    assert_eq!(techniques[0]["conditions"][0]["slug"], "lower-back-pain");

    let article = app.json("/v1/articles/massage-for-lower-back-pain?include=author.articles,publisher,reviewer,related").await;
    assert_eq!(article["data"]["author"]["slug"], "maryann-depietro");
    assert_eq!(
        article["data"]["author"]["articles"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    assert_eq!(article["data"]["publisher"]["slug"], "carex-health-brands");
    assert!(article["data"]["reviewer"].is_null());
    assert_eq!(article["data"]["related"].as_array().unwrap().len(), 3);

    let sparse = app
        .json("/v1/techniques/foam-rolling?fields=slug,name&include=products")
        .await;
    let keys: BTreeSet<&str> = sparse["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["name", "products", "slug"].into_iter().collect());
}

/// One statement for the page and one per include level, however many rows and however
/// many relations on the level.
async fn includes_run_one_statement_per_level(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    app.settle().await;
    let mut counts = Vec::new();
    for limit in [1, 50] {
        let before = app.statements.get();
        let body = app
            .json(&format!(
                "/v1/conditions?include=techniques.benefits,techniques.products&limit={limit}"
            ))
            .await;
        counts.push(app.statements.get() - before);
        assert_eq!(slugs(&body).len(), limit.min(12));
    }
    assert_eq!(
        counts,
        vec![3, 3],
        "page + techniques + (benefits and products)"
    );

    // The storefront's technique page (benchmark W1): the item and its three relations,
    // in one statement.
    const W1: &str = "include=benefits,citations,products";
    let all = app.json(&format!("/v1/techniques?limit=100&{W1}")).await;
    let related = |item: &Value| {
        ["benefits", "citations", "products"]
            .iter()
            .all(|r| !item[r].as_array().unwrap().is_empty())
    };
    let slug = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| related(item))
        .expect("a technique with benefits, citations and products")["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.statements.get();
    let body = app.json(&format!("/v1/techniques/{slug}?{W1}")).await;
    assert_eq!(
        app.statements.get() - before,
        1,
        "item with one include level"
    );
    assert!(related(&body["data"]), "{body}");
    let listed = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["slug"] == slug.as_str())
        .unwrap();
    assert_eq!(
        body["data"], *listed,
        "the same item from its page and a list"
    );

    // A condition page with its techniques and theirs (benchmark W3-REST): the item with
    // its techniques, then the techniques' three relations.
    let condition = "/v1/conditions/lower-back-pain";
    const W3: &str = "include=techniques.benefits,techniques.citations,techniques.products";
    let before = app.statements.get();
    let body = app.json(&format!("{condition}?{W3}")).await;
    assert_eq!(
        app.statements.get() - before,
        2,
        "item with its level, then one more"
    );
    let techniques = body["data"]["techniques"].as_array().unwrap();
    let with_benefits = |t: &Value| !t["benefits"].as_array().unwrap().is_empty();
    assert!(techniques.iter().any(with_benefits), "{body}");
    let all = app.json(&format!("/v1/conditions?limit=100&{W3}")).await;
    let listed = all["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["slug"] == "lower-back-pain")
        .unwrap();
    assert_eq!(
        body["data"], *listed,
        "the same item from its page and a list"
    );
}

async fn drafts_and_links_to_drafts_never_reach_read_consumers(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    import_draft_technique(&db);
    let output = db.cli(&["keys", "create", "--name", "editor", "--scopes", "preview"]);
    let preview = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let output = db.cli(&["keys", "create", "--name", "shop", "--scopes", "read"]);
    let read = String::from_utf8(output.stdout).unwrap().trim().to_owned();

    let paths = [
        "/v1/techniques?limit=100&count=true",
        "/v1/techniques?condition=lower-back-pain&limit=100&count=true",
        "/v1/techniques?product=smooth-foam-roller&count=true",
        "/v1/techniques?q=secret&count=true",
        "/v1/search?q=secret",
        "/v1/search?q=rolling&type=techniques",
        "/v1/conditions/lower-back-pain?include=techniques",
        "/v1/products/smooth-foam-roller?include=techniques",
        "/v1/techniques/secret-technique",
    ];
    for path in paths {
        for key in [None, Some(read.as_str())] {
            let response = app.get_as(path, key).await;
            let status = response.status();
            let text = response.text().await.unwrap();
            // The name appears only in the draft's own data (a 404 may echo the asked slug).
            assert!(
                !text.contains("Secret rolling"),
                "{path} leaks the draft: {text}"
            );
            assert!(status == 200 || status == 404, "{path}: {status}");
        }
        let response = app.get_with_key(path, &preview).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        assert!(
            response.text().await.unwrap().contains("Secret rolling"),
            "{path} for preview"
        );
    }
    let anonymous: Value = app
        .get("/v1/techniques?count=true")
        .await
        .json()
        .await
        .unwrap();
    let previewed: Value = app
        .get_with_key("/v1/techniques?count=true", &preview)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        previewed["page"]["total"].as_i64().unwrap(),
        anonymous["page"]["total"].as_i64().unwrap() + 1
    );
}

async fn etags_round_trip_and_follow_included_items(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let path = "/v1/techniques/foam-rolling?include=benefits";
    let first = app.get(path).await;
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"));
    assert_eq!(
        first.headers()["cache-control"],
        "public, max-age=60, stale-while-revalidate=300"
    );
    assert!(
        first.headers()["vary"]
            .to_str()
            .unwrap()
            .contains("Authorization")
    );
    assert!(first.headers().contains_key("last-modified"));

    let revalidated = app
        .client
        .get(format!("{}{path}", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);
    assert_eq!(revalidated.headers()["etag"], etag.as_str());
    assert!(revalidated.bytes().await.unwrap().is_empty());

    // Another instance on the same database computes the same ETag.
    let other = TestApp::spawn(settings(&db.url)).await;
    assert_eq!(other.get(path).await.headers()["etag"], etag.as_str());

    // Changing an included benefit changes the ETag.
    let dir = db.dir().join("change");
    std::fs::create_dir_all(&dir).unwrap();
    let benefits =
        std::fs::read_to_string(crate::helpers::demo_dir().join("benefits.ndjson")).unwrap();
    let changed: String = benefits
        .lines()
        .map(|line| {
            let mut row: Value = serde_json::from_str(line).unwrap();
            if row["slug"] == "released-knots" {
                row["name"] = Value::from("Released knots (revised)");
            }
            format!("{row}\n")
        })
        .collect();
    std::fs::write(dir.join("benefits.ndjson"), changed).unwrap();
    assert!(db.cli(&["import", dir.to_str().unwrap()]).status.success());
    // A write by another process reaches this instance's read cache within 1 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        let after = app.get(path).await;
        assert_eq!(after.status(), 200);
        if after.headers()["etag"] != etag.as_str() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still the old ETag after 1 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let stale = app
        .client
        .get(format!("{}{path}", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 200);
}

async fn bad_inputs_are_4xx_problems_never_5xx(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let long_q = "massage ".repeat(1300);
    let cases: Vec<String> = vec![
        "/v1/techniques?cursor=garbage".into(),
        "/v1/techniques?cursor=eyJrIjpbXX0.AAAA".into(),
        "/v1/techniques?sort=colour".into(),
        "/v1/techniques?sort=name,name".into(),
        "/v1/techniques?include=unicorns".into(),
        "/v1/techniques?include=benefits.techniques.benefits.techniques".into(),
        "/v1/techniques?fields=colour".into(),
        "/v1/techniques?colour=red".into(),
        "/v1/techniques?limit=0".into(),
        "/v1/techniques?limit=101".into(),
        "/v1/techniques?limit=-1".into(),
        "/v1/techniques?limit=abc".into(),
        "/v1/techniques?limit=1&limit=2".into(),
        "/v1/techniques?kind=robotic".into(),
        "/v1/citations?year_gte=soon".into(),
        "/v1/techniques?condition=NOT%20A%20SLUG".into(),
        format!("/v1/techniques?q={long_q}"),
        "/v1/techniques?q=%27%3B%20DROP%20TABLE%20techniques%3B%20--".into(),
        "/v1/techniques?q=%22unpaired".into(),
        "/v1/techniques?q=NEAR(foam%20OR%20-roll)%20AND%20*".into(),
        "/v1/techniques?q=%00".into(),
        "/v1/techniques?q=***".into(),
        "/v1/authors?q=anything".into(),
        "/v1/techniques/foam-rolling?limit=5".into(),
        "/v1/techniques/foam-rolling?include=unicorns".into(),
    ];
    for path in &cases {
        let response = app.get(path).await;
        let status = response.status().as_u16();
        assert!(
            (400..500).contains(&status) || status == 200,
            "{path}: {status}"
        );
        if status != 200 {
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{path}"
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["status"], status);
        }
    }
    // Search input that is only noise is rejected; SQL and FTS syntax is searched as words.
    assert_eq!(app.get("/v1/techniques?q=***").await.status(), 400);
    assert_eq!(app.get("/v1/techniques?limit=101").await.status(), 400);
    // 10 kB of query string is refused before parsing; 600 bytes of words by the search rule.
    assert_eq!(
        app.get(&format!("/v1/techniques?q={long_q}"))
            .await
            .status(),
        414
    );
    assert_eq!(
        app.get(&format!("/v1/techniques?q={}", "foam ".repeat(120)))
            .await
            .status(),
        400
    );
    assert_eq!(app.get("/v1/techniques?q=%22unpaired").await.status(), 200);
    let cursor_from_other_query = app.json("/v1/techniques?limit=1").await["page"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let reused = app
        .get(&format!(
            "/v1/techniques?limit=1&sort=-name&cursor={cursor_from_other_query}"
        ))
        .await;
    assert_eq!(reused.status(), 400);
    let body: Value = reused.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().starts_with("cursor"));
}

async fn search_is_stemmed_ranked_and_supports_prefixes(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let stemmed = slugs(&app.json("/v1/techniques?q=rolled").await);
    assert_eq!(stemmed, vec!["foam-rolling"]);
    let prefix = slugs(&app.json("/v1/techniques?q=trig*").await);
    assert!(
        prefix.contains(&"trigger-point-therapy".to_owned()),
        "{prefix:?}"
    );
    // A name match outranks a body-only match.
    let ranked = slugs(&app.json("/v1/techniques?q=trigger").await);
    assert_eq!(ranked[0], "trigger-point-therapy", "{ranked:?}");
    let walked = walk(&app, "/v1/techniques?q=massage&limit=1").await;
    let full = slugs(&app.json("/v1/techniques?q=massage&limit=100").await);
    assert_eq!(walked, full);
    assert!(full.len() >= 3);
}

async fn search_across_collections_ranks_types_and_paginates(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    let body = app.json("/v1/search?q=foam&limit=100").await;
    let hits = body["data"].as_array().unwrap();
    let types: BTreeSet<&str> = hits.iter().map(|h| h["type"].as_str().unwrap()).collect();
    assert!(
        types.contains("techniques") && types.contains("products"),
        "{types:?}"
    );
    let scores: Vec<f64> = hits.iter().map(|h| h["score"].as_f64().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );
    for hit in hits {
        let kind = hit["type"].as_str().unwrap();
        let slug = hit["item"]["slug"].as_str().unwrap();
        assert_eq!(app.get(&format!("/v1/{kind}/{slug}")).await.status(), 200);
    }

    let only = app.json("/v1/search?q=foam&type=products&limit=100").await;
    assert!(
        only["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["type"] == "products")
    );

    let full: Vec<(String, String)> = hits
        .iter()
        .map(|h| {
            (
                h["type"].as_str().unwrap().to_owned(),
                h["item"]["slug"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut walked = Vec::new();
    let mut path = "/v1/search?q=foam&limit=2".to_owned();
    loop {
        let page = app.json(&path).await;
        for h in page["data"].as_array().unwrap() {
            walked.push((
                h["type"].as_str().unwrap().to_owned(),
                h["item"]["slug"].as_str().unwrap().to_owned(),
            ));
        }
        match page["page"]["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/search?q=foam&limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(walked, full);

    for bad in [
        "/v1/search",
        "/v1/search?q=foam&type=authors",
        "/v1/search?q=foam&colour=red",
        "/v1/search?q=***",
    ] {
        assert_eq!(app.get(bad).await.status(), 400, "{bad}");
    }
}

engine_tests!(
    search_across_collections_ranks_types_and_paginates,
    every_collection_lists_gets_and_404s,
    pagination_walks_every_row_once_in_order_for_every_sort,
    pages_stay_stable_when_rows_are_added_before_the_cursor,
    filters_select_exactly_the_matching_items,
    link_filters_and_includes_match_the_links_from_both_ends,
    nested_includes_and_references_expand,
    includes_run_one_statement_per_level,
    drafts_and_links_to_drafts_never_reach_read_consumers,
    etags_round_trip_and_follow_included_items,
    bad_inputs_are_4xx_problems_never_5xx,
    search_is_stemmed_ranked_and_supports_prefixes,
);
