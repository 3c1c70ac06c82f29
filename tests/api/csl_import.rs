//! `citations.csl.json` on import (issue 24): CSL-JSON as reference managers export it
//! becomes citations, Salve's own CSL-JSON reads back as it was served, and an item the
//! CSL-JSON schema refuses fails the import at its line with nothing changed.

use serde_json::{Value, json};

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, demo_dir, row_counts, settings, stderr};

const CSL: &str = "application/vnd.citationstyles.csl+json";

/// A directory holding only `citations.csl.json` with `text`.
fn csl_dir(db: &TestDb, name: &str, text: &str) -> String {
    let dir = db.dir().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("citations.csl.json"), text).unwrap();
    dir.to_str().unwrap().to_owned()
}

/// A Zotero export, pretty-printed as Zotero writes it.
fn zotero_export() -> String {
    let items = json!([
        {
            "id": "http://zotero.org/users/local/kQ2/items/FURLAN15",
            "type": "article-journal",
            "title": "Massage for low-back pain",
            "container-title": "Cochrane Database of Systematic Reviews",
            "genre": "Systematic Review",
            "volume": 2015, "issue": "9", "page": "CD001929",
            "DOI": "https://doi.org/10.1002/14651858.CD001929.PUB3",
            "PMID": "26329399", "language": "en",
            "author": [
                { "family": "Furlan", "given": "Andrea D" },
                { "family": "Tulder", "given": "Maurits", "non-dropping-particle": "van" }
            ],
            "issued": { "date-parts": [[2015, 9, 1]] },
            "accessed": { "date-parts": [["2024", "1", "31"]] }
        }
    ]);
    serde_json::to_string_pretty(&items).unwrap()
}

async fn reference_manager_exports_import(engine: Engine) {
    let db = TestDb::new(engine).await;
    let demo = demo_dir();
    assert!(db.cli(&["import", demo.to_str().unwrap()]).status.success());
    let dir = csl_dir(&db, "zotero", &zotero_export());
    let output = db.cli(&["import", &dir]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("citations.csl.json: 1 rows, 1 changed"),
        "{}",
        stderr(&output)
    );
    // The same file again changes nothing.
    let output = db.cli(&["import", &dir]);
    assert!(
        stderr(&output).contains("citations.csl.json: 1 rows, 0 changed"),
        "{}",
        stderr(&output)
    );

    let app = TestApp::spawn(settings(&db.url)).await;
    let slug = "http-zotero-org-users-local-kq2-items-furlan15";
    let citation = app.json(&format!("/v1/citations/{slug}")).await["data"].clone();
    assert_eq!(citation["kind"], "review");
    assert_eq!(
        citation["journal"],
        "Cochrane Database of Systematic Reviews"
    );
    assert_eq!(citation["doi"], "10.1002/14651858.cd001929.pub3");
    assert_eq!(citation["volume"], "2015");
    assert_eq!(citation["pages"], "CD001929");
    assert_eq!(citation["issued"], "2015-09-01");
    assert_eq!(citation["year"], 2015);
    assert_eq!(citation["accessed"], "2024-01-31");
    assert_eq!(
        citation["authors"],
        json!([{ "family": "Furlan", "given": "Andrea D" },
               { "family": "van Tulder", "given": "Maurits" }])
    );
}

/// What Salve serves as CSL-JSON, imported into an empty database, is served again the
/// same.
async fn salve_csl_json_reads_back(engine: Engine) {
    let db = TestDb::new(engine).await;
    assert!(
        db.cli(&["import", demo_dir().to_str().unwrap()])
            .status
            .success()
    );
    let app = TestApp::spawn(settings(&db.url)).await;
    let served = |app: &TestApp| {
        let request = app
            .client
            .get(format!("{}/v1/citations?limit=100", app.address));
        async move {
            let response = request.header("accept", CSL).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.unwrap()
        }
    };
    let before = served(&app).await;
    assert!(before.as_array().unwrap().len() >= 3, "{before}");

    let empty = TestDb::new(engine).await;
    let dir = csl_dir(
        &empty,
        "salve",
        &serde_json::to_string_pretty(&before).unwrap(),
    );
    let output = empty.cli(&["import", &dir]);
    assert!(output.status.success(), "{}", stderr(&output));
    let again = TestApp::spawn(settings(&empty.url)).await;
    assert_eq!(served(&again).await, before);
}

async fn invalid_csl_json_fails_at_its_line(engine: Engine) {
    let db = TestDb::new(engine).await;
    assert!(
        db.cli(&["import", demo_dir().to_str().unwrap()])
            .status
            .success()
    );
    let connection = db.connect().await;
    let counts = row_counts(&connection).await;
    let cases = [
        // The second item (line 3) has a type CSL does not know.
        (
            "[\n{\"id\": \"a\", \"type\": \"report\", \"title\": \"A\"},\n\
             {\"id\": \"b\", \"type\": \"journal\", \"title\": \"B\"}\n]",
            "citations.csl.json:3: not valid CSL-JSON (csl-data.json): /type:",
        ),
        (
            "[\n  {\"id\": \"a\", \"type\": \"report\",\n   \"author\": [{\"family\": 5}]}\n]",
            "citations.csl.json:2: not valid CSL-JSON (csl-data.json): /author/0:",
        ),
        (
            "[\n  {\"id\": \"a\", \"type\": \"report\", \"title\": \"A\",,}\n]",
            "citations.csl.json:2: not a CSL-JSON array of items:",
        ),
        (
            "{\"id\": \"a\", \"type\": \"report\"}",
            "citations.csl.json:1: not a CSL-JSON array of items:",
        ),
        // Valid CSL-JSON, refused by a citation's own rules, named as for NDJSON rows.
        (
            "[{\"id\": \"x\", \"type\": \"report\", \"title\": \"X\", \"PMID\": \"28192789\"}]",
            "citations.csl.json:1: pmid \"28192789\" already belongs to \
             \"acp-low-back-pain-guideline-2017\"",
        ),
        (
            "[{\"id\": \"x\", \"type\": \"report\", \"title\": \"X\", \"DOI\": \"doi:nope\"}]",
            "citations.csl.json:1: field \"doi\"",
        ),
    ];
    for (n, (text, expected)) in cases.into_iter().enumerate() {
        let dir = csl_dir(&db, &format!("bad-{n}"), text);
        let output = db.cli(&["import", &dir]);
        assert!(!output.status.success(), "{text}");
        assert!(stderr(&output).contains(expected), "{}", stderr(&output));
        assert_eq!(row_counts(&connection).await, counts, "nothing changed");
    }
    // A slug in both files is a duplicate, as within one.
    let dir = csl_dir(
        &db,
        "both",
        "[{\"id\": \"twice\", \"type\": \"report\", \"title\": \"T\"}]",
    );
    let row = json!({ "slug": "twice", "kind": "report", "title": "T" });
    std::fs::write(
        std::path::Path::new(&dir).join("citations.ndjson"),
        row.to_string(),
    )
    .unwrap();
    let output = db.cli(&["import", &dir]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("citations.csl.json:1: duplicate slug \"twice\""),
        "{}",
        stderr(&output)
    );
}

engine_tests!(
    reference_manager_exports_import,
    salve_csl_json_reads_back,
    invalid_csl_json_fails_at_its_line,
);
