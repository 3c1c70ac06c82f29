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

const CSL: &str = "application/vnd.citationstyles.csl+json";

async fn get_as(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

async fn references_are_formatted_and_exchanged(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let keys = app.keys().await;
    let acp = "/v1/citations/acp-low-back-pain-guideline-2017";
    let ama = app.json(&format!("{acp}?style=ama")).await;
    let text = ama["data"]["formatted"]["text"].as_str().unwrap();
    assert!(
        text.starts_with("Qaseem A, Wilt TJ, McLean RM, Forciea MA.")
            && text.ends_with("doi:10.7326/m16-2367"),
        "{text}"
    );
    let html = ama["data"]["formatted"]["html"].as_str().unwrap();
    assert!(
        html.contains("<a href=\"https://doi.org/10.7326/m16-2367\">"),
        "{html}"
    );
    let embedded = app
        .json("/v1/techniques/deep-tissue-massage?include=citations&style=vancouver")
        .await;
    let cited = &embedded["data"]["citations"][0];
    assert!(
        cited["formatted"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Qaseem A"),
        "{cited}"
    );
    let response = app.get(&format!("{acp}?style=chicago")).await;
    assert_eq!(response.status(), 400);
    let hits = app.json("/v1/search?q=noninvasive&style=apa").await;
    let hit = &hits["data"][0];
    assert_eq!(hit["type"], "citations", "{hits}");
    assert!(
        hit["item"]["formatted"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Qaseem, A., Wilt, T. J."),
        "{hit}"
    );
    let graphql = app
        .graphql(
            None,
            &json!({ "query": "{ citation(slug: \"acp-low-back-pain-guideline-2017\") \
                { formatted(style: AMA) { text html } } technique(slug: \"deep-tissue-massage\") \
                { citations { formatted(style: VANCOUVER) { text } } } }" }),
        )
        .await;
    assert_eq!(
        graphql["data"]["citation"]["formatted"]["text"], text,
        "{graphql}"
    );
    assert!(
        graphql["data"]["technique"]["citations"][0]["formatted"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Qaseem A")
    );

    // CSL-JSON: one item, and pages linked by `Link: rel="next"`.
    let response = get_as(&app, acp, CSL).await;
    assert_eq!(response.headers()["content-type"], CSL);
    let item: Value = response.json().await.unwrap();
    assert_eq!(
        (&item["id"], &item["type"], &item["DOI"]),
        (
            &json!("acp-low-back-pain-guideline-2017"),
            &json!("article-journal"),
            &json!("10.7326/m16-2367")
        )
    );
    assert_eq!(
        item["author"][0],
        json!({ "family": "Qaseem", "given": "Amir" })
    );
    let response = get_as(&app, "/v1/citations?limit=1", CSL).await;
    let next = response.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert!(next.starts_with("</v1/citations?limit=1&cursor=") && next.ends_with("rel=\"next\""));
    let response = get_as(&app, "/v1/techniques/foam-rolling", CSL).await;
    assert_eq!(response.status(), 406);

    // A write formats the citation again.
    let etag = app.etag(&keys["publish"], acp).await;
    let (status, _, body) = Call::new(&app, Method::PATCH, acp)
        .key(&keys["publish"])
        .if_match(&etag)
        .json(json!({ "volume": "166", "issue": "7", "pages": "514-530", "issued": "2017-04-04" }))
        .send()
        .await;
    assert_eq!(status, 200, "{body}");
    let draft = app
        .get_with_key(&format!("{acp}?style=ama"), &keys["publish"])
        .await;
    let draft: Value = draft.json().await.unwrap();
    let text = draft["data"]["formatted"]["text"].as_str().unwrap();
    assert!(
        text.contains("2017;166(7):514-530."),
        "the draft's, to preview: {text}"
    );
    let ama = app.json(&format!("{acp}?style=ama")).await;
    let text = ama["data"]["formatted"]["text"].as_str().unwrap();
    assert!(
        !text.contains("2017;166(7):514-530."),
        "readers keep the published: {text}"
    );
    let (status, body) = app.publish_current(&keys["publish"], acp).await;
    assert_eq!(status, 200, "{body}");
    let ama = app.json(&format!("{acp}?style=ama")).await;
    let text = ama["data"]["formatted"]["text"].as_str().unwrap();
    assert!(text.contains("2017;166(7):514-530."), "{text}");
}

engine_tests!(
    identifiers_are_normal_and_unique,
    imports_normalize_and_refuse_duplicates,
    authors_are_structured,
    references_are_formatted_and_exchanged
);
