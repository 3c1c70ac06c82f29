//! GraphQL (issue 4): the storefront query, batching, connections, limits, visibility,
//! persisted queries and HTTP caching — on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::engine_tests;
use crate::helpers::{
    Engine, TestApp, TestDb, generate, import_draft_technique, spawn_app, stderr,
};

fn error_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

pub(crate) async fn app_with_data(engine: Engine) -> (TestApp, TestDb) {
    let (app, db) = spawn_app(engine).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    (app, db)
}

async fn storefront_query_returns_the_demo_content(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let body = app
        .query(
            None,
            r#"{ productBySku(sku: "DEMO-FR-SMOOTH") { name techniques { name benefits { name }
             conditions { name } citations { title doi } } } }"#,
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let product = &body["data"]["productBySku"];
    assert_eq!(product["name"], "Smooth foam roller");
    let techniques = product["techniques"].as_array().unwrap();
    assert_eq!(techniques.len(), 1);
    assert_eq!(techniques[0]["name"], "Foam rolling");
    let benefits: Vec<&str> = techniques[0]["benefits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        benefits,
        [
            "Improved range of motion",
            "Reduced inflammation",
            "Released knots and tight muscles"
        ]
    );
    assert_eq!(
        techniques[0]["conditions"],
        json!([{ "name": "Lower back pain" }])
    );
    // The REST API agrees on the citations (the same service layer).
    let rest: Value = app
        .get("/v1/techniques/foam-rolling?include=citations")
        .await
        .json()
        .await
        .unwrap();
    let expected: Vec<Value> = rest["data"]["citations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| json!({ "title": c["title"], "doi": c["doi"] }))
        .collect();
    assert_eq!(techniques[0]["citations"], Value::Array(expected));
    let missing = app
        .query(None, r#"{ technique(slug: "no-such") { name } }"#)
        .await;
    assert_eq!(missing, json!({ "data": { "technique": null } }));
}

async fn connections_walk_every_node_once_in_order(engine: Engine) {
    let (app, _db) = app_with_data(engine).await;
    let rest: Value = app
        .get("/v1/techniques?sort=-slug&limit=100&count=true")
        .await
        .json()
        .await
        .unwrap();
    let expected: Vec<String> = rest["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap().to_owned())
        .collect();
    let document =
        "query($after: String) { techniques(first: 7, after: $after, sort: [SLUG_DESC]) {
        totalCount edges { cursor node { slug } } pageInfo { hasNextPage endCursor } } }";
    let mut walked = Vec::new();
    let mut after = Value::Null;
    loop {
        let body = app
            .graphql(
                None,
                &json!({ "query": document, "variables": { "after": after } }),
            )
            .await;
        let page = &body["data"]["techniques"];
        assert_eq!(page["totalCount"], rest["page"]["total"], "{body}");
        for edge in page["edges"].as_array().unwrap() {
            assert!(edge["cursor"].is_string());
            walked.push(edge["node"]["slug"].as_str().unwrap().to_owned());
        }
        if page["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
        assert!(walked.len() < 1000, "pagination does not end");
    }
    assert_eq!(walked, expected);
    let unique: BTreeSet<&String> = walked.iter().collect();
    assert_eq!(unique.len(), walked.len());
    // Filters are the REST filters.
    let body = app.query(None, "{ citations(first: 100, filter: { kind: [GUIDELINE], yearGte: 2015 }) { nodes { kind year } } }",
    )
    .await;
    for citation in body["data"]["citations"]["nodes"].as_array().unwrap() {
        assert_eq!(citation["kind"], "GUIDELINE");
        assert!(citation["year"].as_i64().unwrap() >= 2015);
    }
}

fn deep(depth: usize) -> String {
    let mut inner = "name".to_owned();
    for n in 0..depth {
        inner = if n % 2 == 0 {
            format!("techniques(first: 1) {{ {inner} }}")
        } else {
            format!("conditions(first: 1) {{ {inner} }}")
        };
    }
    format!("{{ condition(slug: \"lower-back-pain\") {{ {inner} }} }}")
}

/// Every limit answers its code before any SQL statement runs.
async fn limits_reject_before_any_sql(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let aliases = |n: usize| {
        let fields: Vec<String> = (0..n).map(|i| format!("a{i}:__typename")).collect();
        format!("{{ {} }}", fields.join(" "))
    };
    let duplicates = |n: usize| {
        format!(
            "{{ technique(slug: \"foam-rolling\") {{ {} }} }}",
            vec!["id"; n].join(" ")
        )
    };
    let wide =
        "{ conditions(first: 100) { nodes { techniques(first: 100) { name } } } }".to_owned();
    let cases: Vec<(&str, String, &str)> = vec![
        ("depth 20", deep(20), "DEPTH_LIMIT_EXCEEDED"),
        ("depth 50", deep(50), "DEPTH_LIMIT_EXCEEDED"),
        ("1,000 aliases", aliases(1_000), "TOKEN_LIMIT_EXCEEDED"),
        (
            "40 aliases",
            format!(
                "{{ technique(slug: \"foam-rolling\") {{ {} }} }}",
                (0..40)
                    .map(|i| format!("n{i}: name"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            "ALIAS_LIMIT_EXCEEDED",
        ),
        (
            "5,000 duplicate fields",
            duplicates(5_000),
            "TOKEN_LIMIT_EXCEEDED",
        ),
        (
            "10,000 duplicate fields",
            duplicates(10_000),
            "DOCUMENT_TOO_LARGE",
        ),
        (
            "fragment cycle",
            "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }".into(),
            "FRAGMENT_CYCLE",
        ),
        (
            "first 10000",
            "{ techniques(first: 10000) { nodes { name } } }".into(),
            "PAGE_SIZE_EXCEEDED",
        ),
        ("wide", wide, "COMPLEXITY_LIMIT_EXCEEDED"),
        (
            "21 root fields",
            format!("{{ {} }}", vec!["benefits { totalCount }"; 21].join(" ")),
            "ROOT_FIELD_LIMIT_EXCEEDED",
        ),
        (
            "document over 16 KiB",
            format!("{{ __typename }} # {}", "x".repeat(20_000)),
            "DOCUMENT_TOO_LARGE",
        ),
        ("syntax", "{ techniques(".into(), "GRAPHQL_PARSE_FAILED"),
    ];
    for (name, document, code) in cases {
        let before = app.statements.get();
        let started = std::time::Instant::now();
        let body = app.query(None, &document).await;
        assert_eq!(error_code(&body), code, "{name}: {body}");
        assert!(body["data"].is_null(), "{name}");
        assert_eq!(app.statements.get(), before, "{name} ran SQL");
        assert!(
            started.elapsed().as_millis() < 500,
            "{name} took {:?}",
            started.elapsed()
        );
    }
    // 100,000 aliases, a 1 MB document and a 2 MiB comment: the body limit (413).
    let url = format!("{}/graphql", app.address);
    for (name, document) in [
        ("100,000 aliases", aliases(100_000)),
        (
            "1 MB document",
            format!("{{ __typename {} }}", " ".repeat(1_000_000)),
        ),
        (
            "2 MiB comment",
            format!("# {}\n{{ __typename }}", "c".repeat(2 << 20)),
        ),
    ] {
        let before = app.statements.get();
        let response = app
            .client
            .post(&url)
            .json(&json!({ "query": document }))
            .send()
            .await;
        assert_eq!(response.unwrap().status(), 413, "{name}");
        assert_eq!(app.statements.get(), before, "{name} ran SQL");
    }
    // A 30 MiB body is refused from its Content-Length, without reading it.
    let huge = vec![b' '; 30 << 20];
    let response = app
        .client
        .post(&url)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await;
    if let Ok(response) = response {
        assert_eq!(response.status(), 413);
    }
    // Mutations never run over GET; text/plain and forms are not accepted.
    let response = app
        .get("/graphql?query=mutation%20%7B%20__typename%20%7D")
        .await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "method_not_allowed", "{problem}");
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let response = app
            .client
            .post(&url)
            .header("content-type", content_type)
            .body(r#"{"query":"mutation { __typename }"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 415, "{content_type}");
    }
    // Batches are refused.
    let response = app
        .client
        .post(&url)
        .json(&json!([{ "query": "{ __typename }" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

async fn bad_input_is_a_coded_error_and_not_found_is_null(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let cases = [
        (
            r#"{ techniques(after: "forged") { nodes { name } } }"#,
            "INVALID_PARAMETER",
        ),
        (
            "{ techniques(first: 0) { nodes { name } } }",
            "PAGE_SIZE_EXCEEDED",
        ),
        (
            "{ techniques(filter: { kind: [NOPE] }) { nodes { name } } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ techniques { nodes { nope } } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            r#"{ search(q: "") { hits { score } } }"#,
            "INVALID_PARAMETER",
        ),
        (r#"{ node(id: "not-a-uuid") { id } }"#, "INVALID_PARAMETER"),
    ];
    for (document, code) in cases {
        let body = app.query(None, document).await;
        assert_eq!(error_code(&body), code, "{document}: {body}");
        let text = body.to_string();
        assert!(!text.contains("sqlx") && !text.contains("SELECT"), "{text}");
    }
    let found = app
        .query(None, r#"{ technique(slug: "foam-rolling") { id } }"#)
        .await;
    let id = found["data"]["technique"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let node = app
        .query(
            None,
            &format!(r#"{{ node(id: "{id}") {{ __typename id }} }}"#),
        )
        .await;
    assert_eq!(
        node["data"]["node"],
        json!({ "__typename": "Technique", "id": id })
    );
}

async fn drafts_are_invisible_without_the_preview_scope(engine: Engine) {
    let (app, db) = spawn_app(engine).await;
    import_draft_technique(&db);
    let key = |scopes: &str| {
        let output = db.cli(&["keys", "create", "--name", scopes, "--scopes", scopes]);
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    let (read, preview) = (key("read"), key("preview"));
    let document = r#"{ technique(slug: "secret-technique") { name }
        condition(slug: "lower-back-pain") { techniques(first: 100) { slug } }
        techniques(first: 100, q: "secret") { totalCount nodes { slug } }
        search(q: "secret") { hits { item { ... on Technique { slug } } } } }"#;
    for bearer in [None, Some(read.as_str()), Some(preview.as_str())] {
        let body = app.graphql(bearer, &json!({ "query": document })).await;
        assert!(body["errors"].is_null(), "{body}");
        let text = body.to_string();
        if bearer == Some(preview.as_str()) {
            assert_eq!(body["data"]["technique"]["name"], "Secret rolling");
            assert!(text.matches("secret-technique").count() >= 3, "{text}");
            assert_eq!(body["data"]["techniques"]["totalCount"], 1);
        } else {
            assert!(!text.contains("secret"), "{text}");
            assert_eq!(body["data"]["techniques"]["totalCount"], 0);
        }
    }
}

async fn persisted_queries_and_get_are_cacheable(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let document = r#"{ technique(slug: "foam-rolling") { name } }"#;
    let hash = hex::encode(Sha256::digest(document.as_bytes()));
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let unknown = app
        .graphql(None, &json!({ "extensions": extensions }))
        .await;
    assert_eq!(error_code(&unknown), "PERSISTED_QUERY_NOT_FOUND");
    let wrong = app
        .graphql(
            None,
            &json!({ "query": "{ __typename }", "extensions": extensions }),
        )
        .await;
    assert_eq!(error_code(&wrong), "PERSISTED_QUERY_HASH_MISMATCH");
    let registered = app
        .graphql(
            None,
            &json!({ "query": document, "extensions": extensions }),
        )
        .await;
    assert_eq!(registered["data"]["technique"]["name"], "Foam rolling");
    let by_hash = app
        .graphql(None, &json!({ "extensions": extensions }))
        .await;
    assert_eq!(by_hash, registered);

    let path = format!(
        "/graphql?extensions={}",
        urlencoding(&extensions.to_string())
    );
    let response = app.get(&path).await;
    assert_eq!(response.status(), 200);
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("public")
    );
    let again = app
        .client
        .get(format!("{}{path}", app.address))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    // GraphiQL: a page whose every file this server serves (the browser check runs it).
    let ide = app
        .client
        .get(format!("{}/graphql", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(ide.status(), 200);
    let html = ide.text().await.unwrap();
    let files: Vec<&str> = html
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphql/ide/"))
        .collect();
    assert_eq!(files.len(), 6, "{html}");
    assert!(!html.contains("http"), "{html}");
    for file in files {
        let response = app.get(file).await;
        assert_eq!(response.status(), 200, "{file}");
        assert!(response.headers().contains_key("content-security-policy"));
    }
    assert_eq!(app.get("/graphql/ide/secret.env").await.status(), 404);
}

/// Allow-list mode: only stored documents run, only admin keys register new ones;
/// introspection can be switched off.
async fn allow_list_mode_runs_only_persisted_documents(engine: Engine) {
    let db = TestDb::new(engine).await;
    let mut settings = crate::helpers::settings(&db.url);
    settings.serve.graphql.graphql_persisted_only = true;
    settings.serve.graphql.graphql_no_introspection = true;
    let app = TestApp::spawn(settings).await;
    let output = db.cli(&["keys", "create", "--name", "ops", "--scopes", "admin,read"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let admin = String::from_utf8(output.stdout).unwrap().trim().to_owned();
    let document = r#"{ product(slug: "smooth-foam-roller") { sku } }"#;
    let hash = hex::encode(Sha256::digest(document.as_bytes()));
    let with_hash = json!({ "query": document,
        "extensions": { "persistedQuery": { "version": 1, "sha256Hash": hash } } });
    let only_hash = json!({ "extensions": with_hash["extensions"] });

    let plain = app.query(None, document).await;
    assert_eq!(error_code(&plain), "PERSISTED_QUERY_ONLY");
    let anonymous = app.graphql(None, &with_hash).await;
    assert_eq!(error_code(&anonymous), "PERSISTED_QUERY_ONLY");
    assert_eq!(
        error_code(&app.graphql(None, &only_hash).await),
        "PERSISTED_QUERY_NOT_FOUND"
    );
    let registered = app.graphql(Some(&admin), &with_hash).await;
    assert_eq!(
        registered["data"]["product"]["sku"], "DEMO-FR-SMOOTH",
        "{registered}"
    );
    assert_eq!(app.graphql(None, &only_hash).await, registered);
    // Anyone may send the full document of a stored hash.
    assert_eq!(app.graphql(None, &with_hash).await, registered);

    let introspection = json!({ "query": "{ __schema { queryType { name } } }",
        "extensions": { "persistedQuery": { "version": 1,
            "sha256Hash": hex::encode(Sha256::digest(b"{ __schema { queryType { name } } }")) } } });
    let refused = app.graphql(Some(&admin), &introspection).await;
    assert!(
        refused["data"].is_null() || refused["data"]["__schema"].is_null(),
        "{refused}"
    );
    assert!(!refused["errors"].is_null(), "{refused}");
}

/// Relation fields read only the columns their selection shows: however a field is
/// selected (directly, in a fragment, an inline fragment or a link's node), it carries
/// the stored value, the same as REST's full include.
async fn relation_fields_carry_every_selected_field(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    let fields =
        "title journal year doi pmid url authors { family given literal } sampleSize summary";
    let body = app
        .query(
            None,
            &format!(
                r#"query {{ technique(slug: "deep-tissue-massage") {{
                 direct: citations {{ {fields} }}
                 spread: citations {{ ...Cited }}
                 inline: citations {{ ... on Citation {{ {fields} }} }}
                 linked: citationsLinks {{ note node {{ ...Cited }} }}
                 partial: citations {{ title }} }} }}
               fragment Cited on Citation {{ {fields} }}"#
            ),
        )
        .await;
    assert!(body["errors"].is_null(), "{body}");
    let rest: Value = app
        .get("/v1/techniques/deep-tissue-massage?include=citations")
        .await
        .json()
        .await
        .unwrap();
    let included = rest["data"]["citations"].as_array().unwrap();
    let expected: Vec<Value> = included
        .iter()
        .map(|c| {
            json!({ "title": c["title"], "journal": c["journal"], "year": c["year"],
                    "doi": c["doi"], "pmid": c["pmid"], "url": c["url"],
                    "authors": c["authors"].as_array().unwrap().iter().map(|a| {
                        json!({ "family": a["family"], "given": a["given"], "literal": a["literal"] })
                    }).collect::<Vec<_>>(),
                    "sampleSize": c["sample_size"],
                    "summary": c["summary"] })
        })
        .collect();
    assert!(!expected.is_empty());
    // The compared values are stored text, not nulls a skipped column would also give.
    for citation in &expected {
        assert!(citation["summary"].is_string() && citation["journal"].is_string());
    }
    let technique = &body["data"]["technique"];
    for alias in ["direct", "spread", "inline"] {
        assert_eq!(technique[alias], Value::Array(expected.clone()), "{alias}");
    }
    let linked = technique["linked"].as_array().unwrap();
    let nodes: Vec<&Value> = linked.iter().map(|l| &l["node"]).collect();
    assert_eq!(nodes, expected.iter().collect::<Vec<_>>());
    for (link, citation) in linked.iter().zip(included) {
        assert_eq!(link["note"], citation["link"]["note"]);
    }
    let titles: Vec<Value> = included
        .iter()
        .map(|c| json!({ "title": c["title"] }))
        .collect();
    assert_eq!(technique["partial"], Value::Array(titles));
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

engine_tests!(
    storefront_query_returns_the_demo_content,
    relation_fields_carry_every_selected_field,
    connections_walk_every_node_once_in_order,
    limits_reject_before_any_sql,
    bad_input_is_a_coded_error_and_not_found_is_null,
    drafts_are_invisible_without_the_preview_scope,
    persisted_queries_and_get_are_cacheable,
    allow_list_mode_runs_only_persisted_documents,
);
