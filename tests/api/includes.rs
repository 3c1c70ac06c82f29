//! Includes batched by level: every relation of a level shares one statement (a
//! `UNION ALL` whose branches read different collections), and must answer exactly what
//! each relation answers alone.

use salve::domain::Collection;
use salve::domain::relations::relations;
use serde_json::Value;

use crate::engine_tests;
use crate::helpers::{Engine, generate, spawn_app, stderr};

/// For every collection: all its relations in one request equal each relation alone,
/// item by item, and cost one statement for the page plus one for the level.
async fn every_relation_of_a_level_in_one_statement_matches_each_alone(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    app.settle().await;

    for collection in Collection::ALL {
        let names: Vec<&str> = relations(collection).iter().map(|r| r.name).collect();
        let base = format!("/v1/{}?limit=40&sort=slug", collection.as_str());
        let before = app.statements.get();
        let together = app
            .json(&format!("{base}&include={}", names.join(",")))
            .await;
        // Publishers' own syndication terms come with the page's rows.
        assert_eq!(
            app.statements.get() - before,
            2,
            "{collection}: page + one level for {names:?}"
        );
        let items = together["data"].as_array().unwrap();
        assert!(!items.is_empty(), "{collection}");
        let mut non_empty = 0;
        for name in &names {
            let alone = app.json(&format!("{base}&include={name}")).await;
            let alone = alone["data"].as_array().unwrap();
            assert_eq!(alone.len(), items.len(), "{collection}.{name}");
            for (one, all) in alone.iter().zip(items) {
                assert_eq!(one["slug"], all["slug"]);
                assert_eq!(
                    one[name], all[name],
                    "{collection}.{name} of {}",
                    one["slug"]
                );
                non_empty += usize::from(one[name].as_array().is_some_and(|a| !a.is_empty()));
            }
        }
        assert!(non_empty > 0, "{collection}: no relation had items");
    }
}

/// Levels below the first: each relation of a level has its own parents (the children
/// found through its own parent relation), and nested objects still match.
async fn nested_levels_mix_relations_with_different_parents(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    app.settle().await;

    let base = "/v1/articles?limit=30&sort=slug";
    let before = app.statements.get();
    let together = app.json(&format!("{base}&include=author.articles,reviewer,techniques.benefits,techniques.products,related.author"),
    )
    .await;
    assert_eq!(
        app.statements.get() - before,
        3,
        "page + two levels (the publishers' own syndication terms with the page)"
    );
    for (path, pick) in [
        ("author.articles", ["author", "articles"]),
        ("techniques.benefits", ["techniques", "benefits"]),
        ("techniques.products", ["techniques", "products"]),
        ("related.author", ["related", "author"]),
    ] {
        let alone = app.json(&format!("{base}&include={path}")).await;
        for (one, all) in alone["data"]
            .as_array()
            .unwrap()
            .iter()
            .zip(together["data"].as_array().unwrap())
        {
            let [outer, inner] = pick;
            let nested = |item: &Value| -> Vec<Value> {
                match &item[outer] {
                    Value::Array(children) => children.iter().map(|c| c[inner].clone()).collect(),
                    Value::Null => Vec::new(),
                    child => vec![child[inner].clone()],
                }
            };
            assert_eq!(nested(one), nested(all), "{path} of {}", one["slug"]);
        }
    }
    assert_eq!(
        app.json(&format!("{base}&include=reviewer")).await["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["reviewer"].clone())
            .collect::<Vec<_>>(),
        together["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["reviewer"].clone())
            .collect::<Vec<_>>(),
    );
}

/// `?style=` costs no statement where citations are read (an item, its includes, a list,
/// a search, with a sparse fieldset too): each reference comes with its citation, and is
/// the one the citation serves.
async fn references_come_with_the_citations_that_show_them(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    app.settle().await;

    let technique = app.json("/v1/techniques?limit=1&sort=slug").await["data"][0]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    // A search counts its words' matches once (SQLite keeps the counts): count them
    // before the search below, so its plain and styled requests count alike.
    app.json("/v1/search?q=massage&type=citations&limit=1")
        .await;
    let mut references = Vec::new();
    for path in [
        format!("/v1/techniques/{technique}?include=citations,benefits.citations"),
        "/v1/techniques?limit=5&sort=slug&include=citations".to_owned(),
        "/v1/citations?limit=5&sort=slug".to_owned(),
        "/v1/citations?limit=5&sort=slug&fields=slug".to_owned(),
        "/v1/search?q=massage&type=citations&limit=5".to_owned(),
    ] {
        let before = app.statements.get();
        app.json(&path).await;
        let plain = app.statements.get() - before;
        let before = app.statements.get();
        let styled = app.json(&format!("{path}&style=apa")).await;
        assert_eq!(app.statements.get() - before, plain, "{path}");
        let text = styled.to_string();
        assert!(!text.contains("formatted:"), "{path}: {text}");
        collect(&styled["data"], &mut references);
    }
    assert!(references.len() > 10, "{references:?}");
    for (slug, formatted) in references {
        let own = app.json(&format!("/v1/citations/{slug}?style=apa")).await;
        assert_eq!(formatted, own["data"]["formatted"], "{slug}");
        assert!(formatted["text"].is_string(), "{slug}");
    }
}

/// Every object with `formatted` under `value` (search hits hold theirs in `item`).
fn collect(value: &Value, found: &mut Vec<(String, Value)>) {
    match value {
        Value::Array(list) => list.iter().for_each(|v| collect(v, found)),
        Value::Object(map) => {
            if let (Some(Value::String(slug)), Some(formatted)) =
                (map.get("slug"), map.get("formatted"))
            {
                found.push((slug.clone(), formatted.clone()));
            }
            map.values().for_each(|v| collect(v, found));
        }
        _ => {}
    }
}

engine_tests!(
    every_relation_of_a_level_in_one_statement_matches_each_alone,
    nested_levels_mix_relations_with_different_parents,
    references_come_with_the_citations_that_show_them,
);
