//! Claims with evidence (issue 24): graded technique→benefit and condition→technique links,
//! written from either end, read through REST includes and GraphQL links, kept in
//! revisions, and never showing a citation the reader may not see — on both engines.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, demo_dir, slugs, spawn_app, stderr};
use crate::requests::{Call, pointers};

const PATH: &str = "/v1/techniques/deep-tissue-massage/conditions";
/// The seed article's two sources.
const BOTH_SOURCES: [&str; 2] = [
    "back-massage-degenerative-disc-older-adults",
    "acp-low-back-pain-guideline-2017",
];

/// Replaces a link set of the published item at `path` and publishes the edit.
async fn put_links(app: &TestApp, key: &str, path: &str, body: Value) -> (u16, Value) {
    let (status, body) = app.put_links(key, path, body).await;
    if status != 200 {
        return (status, body);
    }
    let item = path.rsplit_once('/').map_or(path, |(item, _)| item);
    app.publish_current(key, item).await
}

/// The slugs of an evidence's citations, in order.
fn cited_slugs(evidence: &Value) -> Vec<&str> {
    let cited = evidence["citations"].as_array().expect("citations");
    cited.iter().map(|c| c["slug"].as_str().unwrap()).collect()
}

fn graded(certainty: &str, citations: &[&str]) -> Value {
    json!({
        "certainty": certainty,
        "level": 2,
        "direction": "benefit",
        "summary": "Two trials; small effect on pain at 4 weeks.",
        "citations": citations,
    })
}

/// The demo app, with deep tissue massage's claim for lower back pain graded `certainty`
/// on the ACP guideline alone.
async fn graded_app(
    engine: Engine,
    certainty: &str,
) -> (
    TestApp,
    crate::helpers::TestDb,
    std::collections::BTreeMap<&'static str, String>,
) {
    let (app, db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let cited = ["acp-low-back-pain-guideline-2017"];
    let (status, body) = put_links(
        &app,
        &keys["publish"],
        PATH,
        json!([{ "slug": "lower-back-pain", "evidence": graded(certainty, &cited) }]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (app, db, keys)
}

async fn claims_round_trip(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let write = &keys["publish"];
    let cited = BOTH_SOURCES;
    let (status, body) = put_links(
        &app,
        write,
        PATH,
        json!([{ "slug": "lower-back-pain", "note": "Eases pain.",
                 "evidence": graded("moderate", &cited) }]),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let item: Value = app
        .get("/v1/techniques/deep-tissue-massage?include=conditions")
        .await
        .json()
        .await
        .unwrap();
    let link = &item["data"]["conditions"][0]["link"];
    assert_eq!(link["note"], "Eases pain.");
    let evidence = &link["evidence"];
    assert_eq!(evidence["certainty"], "moderate");
    assert_eq!(evidence["level"], 2);
    assert_eq!(evidence["direction"], "benefit");
    assert_eq!(
        evidence["statement"],
        "Deep tissue massage probably helps with lower back pain."
    );
    assert_eq!(cited_slugs(evidence), cited, "in the order written");
    assert_eq!(
        evidence["citations"][0]["kind"], "study",
        "citations as objects"
    );

    // With a style, each cited work carries its reference, as the citation itself does.
    let styled: Value = app
        .get("/v1/techniques/deep-tissue-massage?include=conditions&style=vancouver")
        .await
        .json()
        .await
        .unwrap();
    let first = &styled["data"]["conditions"][0]["link"]["evidence"]["citations"][0];
    let own: Value = app
        .get(&format!("/v1/citations/{}?style=vancouver", cited[0]))
        .await
        .json()
        .await
        .unwrap();
    let text = first["formatted"]["text"].as_str().unwrap_or_default();
    assert!(text.contains("Medical Science Plus"), "{first}");
    assert_eq!(first["formatted"], own["data"]["formatted"]);

    // The same claim from the other end, and through GraphQL.
    let condition: Value = app
        .get("/v1/conditions/lower-back-pain?include=techniques")
        .await
        .json()
        .await
        .unwrap();
    let from_condition = condition["data"]["techniques"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["slug"] == "deep-tissue-massage")
        .unwrap();
    assert_eq!(from_condition["link"]["evidence"], *evidence);
    let graphql = app
        .graphql(
            None,
            &json!({ "query": "{ technique(slug: \"deep-tissue-massage\") { conditionsLinks { \
                note evidence { certainty level direction summary statement \
                citations { slug title } } node { slug } } } }" }),
        )
        .await;
    let links = &graphql["data"]["technique"]["conditionsLinks"];
    assert_eq!(links[0]["evidence"]["certainty"], "MODERATE", "{graphql}");
    assert_eq!(links[0]["evidence"]["direction"], "BENEFIT");
    assert_eq!(links[0]["evidence"]["statement"], evidence["statement"]);
    assert_eq!(links[0]["evidence"]["citations"][1]["slug"], cited[1]);

    // Kept in the item's revision, as written.
    let revisions: Value = app
        .get_with_key("/v1/techniques/deep-tissue-massage/revisions", write)
        .await
        .json()
        .await
        .unwrap();
    let latest = revisions["data"][0]["number"].as_i64().unwrap();
    let revision: Value = app
        .get_with_key(
            &format!("/v1/techniques/deep-tissue-massage/revisions/{latest}"),
            write,
        )
        .await
        .json()
        .await
        .unwrap();
    let kept = &revision["data"]["document"]["conditions"][0]["evidence"];
    assert_eq!(kept["certainty"], "moderate", "{revision}");
    assert_eq!(kept["citations"], json!(cited));

    // Writing the set again without evidence clears it.
    let (status, _) = put_links(&app, write, PATH, json!(["lower-back-pain"])).await;
    assert_eq!(status, 200);
    let item: Value = app
        .get("/v1/techniques/deep-tissue-massage?include=conditions")
        .await
        .json()
        .await
        .unwrap();
    assert!(item["data"]["conditions"][0]["link"]["evidence"].is_null());
}

async fn bad_evidence_is_named(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let write = &keys["publish"];
    let cases = [
        (
            json!({ "certainty": "certain", "citations": [] }),
            vec!["/conditions/0/evidence/certainty"],
        ),
        (
            json!({ "certainty": "high" }),
            vec!["/conditions/0/evidence/citations"],
        ),
        (
            json!({ "certainty": "low", "level": 0, "direction": "sideways",
                    "citations": ["no-such-study"] }),
            vec![
                "/conditions/0/evidence/level",
                "/conditions/0/evidence/direction",
            ],
        ),
        (
            json!({ "certainty": "low", "citations": ["no-such-study"] }),
            vec!["/conditions/0/evidence/citations/0"],
        ),
    ];
    for (evidence, expected) in cases {
        let (status, body) = put_links(
            &app,
            write,
            PATH,
            json!([{ "slug": "lower-back-pain", "evidence": evidence }]),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(pointers(&body), expected, "{body}");
    }
    // A link that makes no claim carries no evidence.
    let (status, body) = put_links(
        &app,
        write,
        "/v1/techniques/deep-tissue-massage/products",
        json!([{ "slug": "x", "evidence": { "certainty": "very_low" } }]),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        pointers(&body).iter().any(|p| p.ends_with("/0/evidence")),
        "{body}"
    );
}

async fn unpublished_citations_stay_hidden(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = &keys["publish"];
    let cited = BOTH_SOURCES;
    let (status, body) = put_links(
        &app,
        publish,
        PATH,
        json!([{ "slug": "lower-back-pain", "evidence": graded("low", &cited) }]),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    // Withdrawn after the claim cited it: readers no longer see it among the evidence.
    let citation = format!("/v1/citations/{}", cited[0]);
    let etag = app.etag(publish, &citation).await;
    let (status, _, body) = Call::new(&app, Method::POST, format!("{citation}/unpublish"))
        .key(publish)
        .if_match(&etag)
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let path = "/v1/techniques/deep-tissue-massage?include=conditions";
    let public: Value = app.get(path).await.json().await.unwrap();
    let evidence = &public["data"]["conditions"][0]["link"]["evidence"];
    assert_eq!(cited_slugs(evidence), [cited[1]], "{public}");
    let preview: Value = app
        .get_with_key(path, &keys["preview"])
        .await
        .json()
        .await
        .unwrap();
    let evidence = &preview["data"]["conditions"][0]["link"]["evidence"];
    assert_eq!(cited_slugs(evidence), cited);

    // A published item may not start citing it; a draft may, and is held at publishing.
    let (status, body) = put_links(
        &app,
        publish,
        "/v1/techniques/swedish-massage/conditions",
        json!([{ "slug": "lower-back-pain", "evidence": graded("low", &cited) }]),
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        pointers(&body),
        ["/conditions/0/evidence/citations/0"],
        "{body}"
    );
    let (status, _, body) = Call::new(&app, Method::POST, "/v1/techniques")
        .key(publish)
        .json(
            json!({ "slug": "new-rub", "name": "New rub", "kind": "self",
                      "conditions": [{ "slug": "lower-back-pain",
                                       "evidence": graded("low", &cited) }] }),
        )
        .send()
        .await;
    assert_eq!(status, 201, "{body}");
    let etag = app.etag(publish, "/v1/techniques/new-rub").await;
    let (status, _, body) = Call::new(&app, Method::POST, "/v1/techniques/new-rub/publish")
        .key(publish)
        .if_match(&etag)
        .send()
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(pointers(&body), ["/conditions/0/evidence/citations/0"]);
}

async fn cited_citations_cannot_be_deleted(engine: Engine) {
    let (app, _db, keys) = graded_app(engine, "high").await;
    let cited = ["acp-low-back-pain-guideline-2017"];
    let citation = format!("/v1/citations/{}", cited[0]);
    for query in ["?hard=true", "?hard=true&cascade=links"] {
        let etag = app.etag(&keys["admin"], &citation).await;
        let (status, _, body) = Call::new(&app, Method::DELETE, format!("{citation}{query}"))
            .key(&keys["admin"])
            .if_match(&etag)
            .send()
            .await;
        assert_eq!(status, 409, "{body}");
        let details: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["detail"].as_str())
            .collect();
        assert!(
            details.iter().any(|d| d.contains("\"deep-tissue-massage\"")
                && d.contains("\"lower-back-pain\"")),
            "{body}"
        );
    }
}

/// The rows of an exported file that link `left` (a JSON key) to `slug`.
fn exported_rows(dir: &std::path::Path, file: &str, key: &str, slug: &str) -> Vec<Value> {
    std::fs::read_to_string(dir.join(file))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|row| row[key] == slug)
        .collect()
}

async fn claims_import_and_export(engine: Engine) {
    let db = TestDb::new(engine).await;
    assert!(
        db.cli(&["import", demo_dir().to_str().unwrap()])
            .status
            .success()
    );
    let cited = [
        "acp-low-back-pain-guideline-2017",
        "back-massage-degenerative-disc-older-adults",
    ];
    let import = |n: usize, citations: &[&str]| {
        let dir = db.dir().join(format!("claims-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let row = json!({ "condition": "lower-back-pain", "technique": "swedish-massage",
                          "note": "Gentle.", "evidence": { "certainty": "moderate", "level": 2,
                          "citations": citations } });
        std::fs::write(dir.join("condition_techniques.ndjson"), row.to_string()).unwrap();
        let output = db.cli(&["import", dir.to_str().unwrap()]);
        assert!(output.status.success(), "{}", stderr(&output));
        stderr(&output)
    };
    let export = |n: usize| {
        let dir = db.dir().join(format!("export-{n}"));
        assert!(db.cli(&["export", dir.to_str().unwrap()]).status.success());
        exported_rows(
            &dir,
            "condition_techniques.ndjson",
            "technique",
            "swedish-massage",
        )
    };
    let report = import(1, &cited);
    assert!(report.contains("1 changed"), "{report}");
    let rows = export(1);
    assert_eq!(
        rows[0]["evidence"],
        json!({ "certainty": "moderate", "level": 2, "direction": "benefit", "summary": null,
                "citations": cited }),
    );
    // The same again changes nothing; another order of citations is a change.
    let report = import(2, &cited);
    assert!(report.contains(" 0 changed"), "{report}");
    let report = import(3, &[cited[1], cited[0]]);
    assert!(report.contains("1 changed"), "{report}");
    assert_eq!(
        export(3)[0]["evidence"]["citations"],
        json!([cited[1], cited[0]])
    );
}

async fn readers_ask_for_a_minimum_certainty(engine: Engine) {
    let (app, _db, _) = graded_app(engine, "moderate").await;
    // The demo grades Swedish massage for lower back pain low; four techniques have none.
    let path = "/v1/conditions/lower-back-pain?include=techniques";
    assert_eq!(slugs(&app.json(path).await["data"]["techniques"]).len(), 6);
    let moderate = app.json(&format!("{path}&min_certainty=moderate")).await;
    assert_eq!(
        slugs(&moderate["data"]["techniques"]),
        ["deep-tissue-massage"]
    );
    let low = app.json(&format!("{path}&min_certainty=low")).await;
    assert_eq!(
        slugs(&low["data"]["techniques"]),
        ["deep-tissue-massage", "swedish-massage"]
    );
    let list = app
        .json("/v1/techniques?condition=lower-back-pain&min_certainty=moderate")
        .await;
    assert_eq!(slugs(&list["data"]), ["deep-tissue-massage"]);
    let response = app.get(&format!("{path}&min_certainty=sure")).await;
    assert_eq!(response.status(), 400);
    let problem: Value = response.json().await.unwrap();
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("min_certainty"),
        "{problem}"
    );

    // GraphQL: on the root lookup (read with its item) and on a list (batched).
    let query = "{ condition(slug: \"lower-back-pain\") { techniquesLinks(minCertainty: MODERATE) \
        { evidence { certainty } node { slug } } techniques(minCertainty: LOW) { slug } } \
        conditions(first: 5) { nodes { slug techniques(minCertainty: MODERATE) { slug } } } }";
    let graphql = app.graphql(None, &json!({ "query": query })).await;
    let condition = &graphql["data"]["condition"];
    assert_eq!(
        slugs(&condition["techniquesLinks"]),
        ["deep-tissue-massage"],
        "{graphql}"
    );
    assert_eq!(
        slugs(&condition["techniques"]),
        ["deep-tissue-massage", "swedish-massage"]
    );
    let listed = graphql["data"]["conditions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["slug"] == "lower-back-pain")
        .unwrap();
    assert_eq!(slugs(&listed["techniques"]), ["deep-tissue-massage"]);
}

engine_tests!(
    claims_round_trip,
    bad_evidence_is_named,
    unpublished_citations_stay_hidden,
    cited_citations_cannot_be_deleted,
    claims_import_and_export,
    readers_ask_for_a_minimum_certainty
);
