//! GraphQL batching (issue 4): one statement per level of relation fields, whatever the
//! number of parents, and each parent's children capped at `first` in editorial order.

use serde_json::{Value, json};

use crate::engine_tests;
use crate::graphql::app_with_data;
use crate::helpers::{Engine, TestApp, settings, slugs};

/// One statement per level, whatever the number of parents or of relation fields on it
/// (sibling fields of nested objects are resolved together: see vendor/README.md).
async fn nested_queries_run_one_statement_per_level(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    let mut counts = Vec::new();
    for first in [1, 12] {
        let before = app.statements.get();
        let body = app.query(None, &format!(
                "{{ conditions(first: {first}) {{ edges {{ node {{ name techniques(first: 5) {{
                   name benefits(first: 3) {{ name }} citations(first: 3) {{ title }} }} }} }} }} }}"
            ),
        )
        .await;
        counts.push(app.statements.get() - before);
        assert!(body["errors"].is_null(), "{body}");
        let edges = body["data"]["conditions"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first.min(12));
        for edge in edges {
            let techniques = edge["node"]["techniques"].as_array().unwrap();
            assert!(techniques.len() <= 5);
            for technique in techniques {
                assert!(technique["benefits"].as_array().unwrap().len() <= 3);
            }
        }
    }
    assert_eq!(
        counts,
        [3, 3],
        "page + techniques + (benefits and citations)"
    );
}

/// Relation fields are capped at `first` per parent, in the order REST lists the whole
/// relation; past the link row budget, a second statement numbers the children in SQL and
/// the answer is the same.
async fn capped_relations_keep_each_parents_first_children(engine: Engine) {
    let (app, db) = app_with_data(engine).await;
    let mut tight = settings(&db.url);
    tight.serve.graphql.graphql_link_row_budget = 3;
    let tight = TestApp::spawn(tight).await;
    let document = "{ conditions(first: 12) { edges { node { slug techniques(first: 2) {
        slug benefits(first: 1) { slug } } } } } }";
    let mut answers = Vec::new();
    let mut counts = Vec::new();
    for app in [&app, &tight] {
        let before = app.statements.get();
        let body = app.query(None, document).await;
        counts.push(app.statements.get() - before);
        assert!(body["errors"].is_null(), "{body}");
        answers.push(body);
    }
    assert_eq!(answers[0], answers[1]);
    assert_eq!(
        counts,
        [3, 5],
        "past the budget, each level takes one more statement"
    );
    let mut capped = 0;
    for edge in answers[0]["data"]["conditions"]["edges"]
        .as_array()
        .unwrap()
    {
        let node = &edge["node"];
        let rest: Value = app
            .get(&format!(
                "/v1/conditions/{}?include=techniques",
                node["slug"].as_str().unwrap()
            ))
            .await
            .json()
            .await
            .unwrap();
        let all = slugs(&rest["data"]["techniques"]);
        let shown = slugs(&node["techniques"]);
        assert_eq!(shown, all[..all.len().min(2)], "{}", node["slug"]);
        capped += usize::from(all.len() > 2);
    }
    assert!(capped > 0, "no condition has more techniques than the cap");
}

/// `condition(slug)` reads the condition and the relation fields selected on it in one
/// statement: the same answer as through a connection (where the DataLoader reads them),
/// one statement less.
async fn root_lookups_read_their_relations_with_the_item(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    let selection = "slug name techniques(first: 3) { slug benefitsLinks(first: 2) { note
        node { slug name } } products { sku } } citations(first: 2) { title doi }";
    let listing = app
        .query(
            None,
            &format!("{{ conditions(first: 6) {{ edges {{ node {{ {selection} }} }} }} }}"),
        )
        .await;
    let edges = listing["data"]["conditions"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 6, "{listing}");
    let mut linked = 0;
    for edge in edges {
        let node = &edge["node"];
        let slug = node["slug"].as_str().unwrap();
        let before = app.statements.get();
        let body = app
            .query(
                None,
                &format!("{{ condition(slug: \"{slug}\") {{ {selection} }} }}"),
            )
            .await;
        let count = app.statements.get() - before;
        assert_eq!(&body["data"]["condition"], node, "{slug}");
        let has_techniques = !node["techniques"].as_array().unwrap().is_empty();
        // The condition with its relations, then (if any) the techniques' relations.
        assert_eq!(count, 1 + u64::from(has_techniques), "{slug}");
        linked += usize::from(has_techniques);
    }
    assert!(linked > 0, "no condition has techniques");
    let before = app.statements.get();
    let missing = app
        .query(
            None,
            r#"{ condition(slug: "no-such") { name techniques { name } } }"#,
        )
        .await;
    assert_eq!(missing["data"]["condition"], Value::Null);
    assert_eq!(app.statements.get() - before, 1);
}

/// `formatted(style:)` is read with the citations it is selected on (a root lookup, a
/// relation, a claim's evidence), in any of the ways a client may name the style; a second
/// style on the same citations costs one statement for all of them. Each reference is the
/// one REST serves.
async fn references_are_read_with_their_citations(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    let graded = app
        .query(
            None,
            "{ conditions(first: 40) { nodes { slug techniquesLinks(first: 5) { evidence { citations { slug } } } } } }",
        )
        .await;
    assert!(graded["errors"].is_null(), "{graded}");
    let slug = graded["data"]["conditions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c.to_string().contains("\"citations\":[{"))
        .map(|c| c["slug"].as_str().unwrap().to_owned())
        .expect("a condition with a graded claim that cites a work");
    let selection = "id slug title year formatted(style: $style) { text html }";
    let document = |node: &str, evidence: &str| {
        format!(
            "query($style: CitationStyle!) {{ condition(slug: \"{slug}\") {{ citations(first: 5) {{ \
             {selection} }} techniquesLinks(first: 5) {{ evidence {{ citations {{ {selection} {evidence} }} }} \
             node {{ citations(first: 5) {{ {selection} {node} }} }} }} }} }}"
        )
    };
    let mut counts = Vec::new();
    let mut answers = Vec::new();
    let apa = "apa: formatted(style: APA) { text }";
    for (node, evidence) in [("", ""), (apa, ""), ("", "volume")] {
        let before = app.statements.get();
        let body = json!({ "query": document(node, evidence), "variables": { "style": "AMA" } });
        let answer = app.graphql(None, &body).await;
        counts.push(app.statements.get() - before);
        assert!(answer["errors"].is_null(), "{answer}");
        answers.push(answer);
    }
    assert_eq!(
        counts,
        [2, 3, 3],
        "the condition with its relations and the claims' works, then the techniques' \
         citations; a second style for every citation at once; the claims' citations read \
         again for a field the works lack"
    );
    // The citations behind claims are the same, whether the works serve them or not.
    let behind_claims: usize = answers[0]["data"]["condition"]["techniquesLinks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|link| Some(link.pointer("/evidence/citations")?.as_array()?.len()))
        .sum();
    assert!(behind_claims > 0, "{}", answers[0]);
    let mut read_again = answers[2].clone();
    for link in read_again["data"]["condition"]["techniquesLinks"]
        .as_array_mut()
        .unwrap()
    {
        let cited = link
            .pointer_mut("/evidence/citations")
            .and_then(Value::as_array_mut);
        for cited in cited.into_iter().flatten() {
            cited.as_object_mut().unwrap().remove("volume");
        }
    }
    assert_eq!(read_again, answers[0]);
    let inline = document("", "")
        .replace("query($style: CitationStyle!) ", "")
        .replace("$style", "AMA");
    assert_eq!(app.query(None, &inline).await, answers[0]);

    let mut checked = 0;
    for (cited, style) in references(&answers[1]) {
        let rest = app
            .json(&format!(
                "/v1/citations/{}?style={style}",
                cited["slug"].as_str().unwrap()
            ))
            .await;
        let key = if style == "ama" { "formatted" } else { "apa" };
        assert_eq!(
            cited[key]["text"], rest["data"]["formatted"]["text"],
            "{cited}"
        );
        if style == "ama" {
            assert_eq!(cited[key]["html"], rest["data"]["formatted"]["html"]);
        }
        checked += 1;
    }
    assert!(checked > 2, "{}", answers[1]);
}

/// Every citation in a condition answer, with the styles its fields show.
fn references(answer: &Value) -> Vec<(&Value, &'static str)> {
    let condition = &answer["data"]["condition"];
    let mut found: Vec<(&Value, &'static str)> = Vec::new();
    for cited in condition["citations"].as_array().unwrap() {
        found.push((cited, "ama"));
    }
    for link in condition["techniquesLinks"].as_array().unwrap() {
        for cited in link["evidence"]["citations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            found.push((cited, "ama"));
        }
        for cited in link["node"]["citations"].as_array().unwrap() {
            found.push((cited, "ama"));
            found.push((cited, "apa"));
        }
    }
    found
}

engine_tests!(
    nested_queries_run_one_statement_per_level,
    capped_relations_keep_each_parents_first_children,
    root_lookups_read_their_relations_with_the_item,
    references_are_read_with_their_citations,
);
