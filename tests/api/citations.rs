//! Citations that reference managers understand (issue 24): identifiers in one normal form
//! and unique, partial issue dates kept in step with `year`, the new bibliographic fields
//! — through REST, GraphQL and import, on both engines.

use reqwest::Method;
use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, demo_dir, spawn_app, stderr};
use crate::requests::{Call, pointers};

async fn create(app: &TestApp, key: &str, body: Value) -> (u16, Value) {
    let (status, _, body) = Call::new(app, Method::POST, "/v1/citations")
        .key(key)
        .json(body)
        .send()
        .await;
    (status.as_u16(), body)
}

async fn identifiers_are_normal_and_unique(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let write = &keys["write"];
    let (status, body) = create(
        &app,
        write,
        json!({ "slug": "rct-one", "kind": "study", "title": "One trial",
                "doi": "https://doi.org/10.1001/JAMA.2017.0001", "pmid": "28192793",
                "pmcid": "pmc5467890", "issued": "2017-04-04", "volume": "166",
                "issue": "7", "pages": "514-530", "publisher": "American College of Physicians",
                "accessed": "2025-09-18" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let data = &body["data"];
    assert_eq!(data["doi"], "10.1001/jama.2017.0001");
    assert_eq!(data["pmcid"], "PMC5467890");
    assert_eq!(data["year"], 2017, "the year follows the issue date");
    assert_eq!(
        (&data["issued"], &data["volume"], &data["pages"]),
        (&json!("2017-04-04"), &json!("166"), &json!("514-530"))
    );

    // The same identifiers in other forms belong to the first citation.
    for (field, value) in [
        ("doi", "doi:10.1001/jama.2017.0001"),
        ("pmid", "28192793"),
        ("pmcid", "5467890"),
    ] {
        let (status, body) = create(
            &app,
            write,
            json!({ "slug": "rct-copy", "kind": "study", "title": "Copy", field: value }),
        )
        .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(pointers(&body), [format!("/{field}")], "{body}");
        let detail = body["errors"][0]["detail"].as_str().unwrap();
        assert!(detail.contains("citation \"rct-one\""), "{detail}");
    }
    // Filters read identifiers in any form.
    let found = app
        .json("/v1/citations?doi=https://doi.org/10.1001/JAMA.2017.0001&status=draft")
        .await;
    assert_eq!(
        found["data"].as_array().unwrap().len(),
        0,
        "drafts stay hidden"
    );
    let found: Value = app
        .get_with_key(
            "/v1/citations?doi=https://doi.org/10.1001/JAMA.2017.0001",
            &keys["preview"],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["data"][0]["slug"], "rct-one", "{found}");

    for (body, pointer) in [
        (json!({ "issued": "2017-13" }), "/issued"),
        (json!({ "issued": "2018", "year": 2017 }), "/issued"),
        (json!({ "accessed": "2025-09" }), "/accessed"),
        (json!({ "pmcid": "PMC" }), "/pmcid"),
        (json!({ "doi": "https://doi.org/not-a-doi" }), "/doi"),
    ] {
        let mut citation = json!({ "slug": "bad-one", "kind": "study", "title": "Bad" });
        citation
            .as_object_mut()
            .unwrap()
            .extend(body.as_object().unwrap().clone());
        let (status, problem) = create(&app, write, citation).await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(pointers(&problem), [pointer], "{problem}");
    }
}

async fn imports_normalize_and_refuse_duplicates(engine: Engine) {
    let db = TestDb::new(engine).await;
    assert!(
        db.cli(&["import", demo_dir().to_str().unwrap()])
            .status
            .success()
    );
    let dir = db.dir().join("citations");
    std::fs::create_dir_all(&dir).unwrap();
    let rows = [
        json!({ "slug": "imported-one", "kind": "study", "title": "One",
                "doi": "HTTPS://DX.DOI.ORG/10.5555/ABC", "year": 2020 }),
        json!({ "slug": "imported-two", "kind": "study", "title": "Two",
                "doi": "10.5555/abc" }),
    ];
    let text: Vec<String> = rows.iter().map(Value::to_string).collect();
    std::fs::write(dir.join("citations.ndjson"), text.join("\n")).unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("citations.ndjson:2: duplicate doi \"10.5555/abc\""),
        "{}",
        stderr(&output)
    );
    std::fs::write(dir.join("citations.ndjson"), &text[0]).unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    std::fs::write(dir.join("citations.ndjson"), &text[1]).unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(
        stderr(&output).contains("doi \"10.5555/abc\" already belongs to \"imported-one\""),
        "{}",
        stderr(&output)
    );
    let export = db.dir().join("export");
    assert!(
        db.cli(&["export", export.to_str().unwrap()])
            .status
            .success()
    );
    let exported = std::fs::read_to_string(export.join("citations.ndjson")).unwrap();
    let row: Value = exported
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|row| row["slug"] == "imported-one")
        .unwrap();
    assert_eq!(row["doi"], "10.5555/abc");
    assert_eq!(row["issued"], "2020", "{row}");
}

async fn authors_are_structured(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let publish = &keys["publish"];
    let (status, body) = create(
        &app,
        publish,
        json!({ "slug": "named-trial", "kind": "study", "title": "Named trial",
                "authors": ["Zielinska JA", "Qaseem, Amir", "Hanna van Kowalski",
                            { "family": "Okafor", "given": "Chidi" },
                            { "literal": "Massage Outcomes Working Group" }] }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        body["data"]["authors"],
        json!([
            { "family": "Zielinska", "given": "JA" },
            { "family": "Qaseem", "given": "Amir" },
            { "family": "van Kowalski", "given": "Hanna" },
            { "family": "Okafor", "given": "Chidi" },
            { "literal": "Massage Outcomes Working Group" },
        ])
    );
    for (authors, pointer) in [
        (json!([{ "given": "Amir" }]), "/authors/0"),
        (json!([{ "family": "A", "literal": "B" }]), "/authors/0"),
        (json!([""]), "/authors/0"),
        (json!("Qaseem A"), "/authors"),
    ] {
        let (status, problem) = create(
            &app,
            publish,
            json!({ "slug": "bad-names", "kind": "study", "title": "Bad", "authors": authors }),
        )
        .await;
        assert_eq!(status, 422, "{problem}");
        assert_eq!(pointers(&problem), [pointer], "{problem}");
    }
    // GraphQL writes and reads the parts; search still finds authors by name.
    let mutation = json!({ "query": "mutation { createCitation(input: { slug: \"gql-named\", \
        kind: STUDY, title: \"GraphQL named\", authors: [{ family: \"Mbeki\", given: \"T\" }] }) \
        { authors { family given literal } } }" });
    let created = app.graphql(Some(publish), &mutation).await;
    assert_eq!(
        created["data"]["createCitation"]["authors"],
        json!([{ "family": "Mbeki", "given": "T", "literal": null }]),
        "{created}"
    );
    let found: Value = app
        .get_with_key("/v1/citations?q=Zielinska", publish)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(found["data"][0]["slug"], "named-trial", "{found}");
}

engine_tests!(
    identifiers_are_normal_and_unique,
    imports_normalize_and_refuse_duplicates,
    authors_are_structured
);
