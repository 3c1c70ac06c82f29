use std::collections::BTreeMap;
use std::path::Path;

use salve::domain::citation;
use salve::domain::evidence::Evidence;
use salve::domain::model::{LINKS, file_links};
use salve::domain::{Collection, FieldKind};
use serde_json::{Map, Value};

use crate::engine_tests;
use crate::helpers::{Engine, TestDb, demo_dir, generate, reimport, row_counts, stderr};

fn read_rows(path: &Path) -> Vec<Map<String, Value>> {
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("valid JSON line"))
            .collect(),
        Err(_) => vec![],
    }
}

/// An input row as export writes it: absent optional fields null (lists empty), absent
/// status published.
fn normalize_item(collection: Collection, mut row: Map<String, Value>) -> Map<String, Value> {
    if collection == Collection::Citations {
        // Identifiers in normal form, the issue date from the year.
        assert!(citation::normalize(&mut row).is_empty());
    }
    row.entry("status").or_insert_with(|| "published".into());
    row.entry("published_at").or_insert(Value::Null);
    for field in collection.fields() {
        let empty = match field.kind {
            FieldKind::StringList | FieldKind::Statistics => Value::Array(vec![]),
            _ => Value::Null,
        };
        row.entry(field.name).or_insert(empty);
    }
    for link in collection.inline_links() {
        row.entry(link.inline.unwrap())
            .or_insert(Value::Array(vec![]));
    }
    if collection.reviewable() && row["status"] == "published" && row["next_review_due"].is_null() {
        // The import derives it as publishing would: last review, else publication, plus
        // the review interval (365 days by default).
        let from = [&row["last_reviewed_at"], &row["published_at"]]
            .into_iter()
            .find_map(|at| at.as_str())
            .map(|at| chrono::DateTime::parse_from_rfc3339(at).unwrap());
        if let Some(from) = from {
            let due = (from + chrono::Duration::days(365)).with_timezone(&chrono::Utc);
            row["next_review_due"] = due
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
                .into();
        }
    }
    row
}

/// Every row of every file of `dirs`, normalized, as a sorted multiset per file.
fn normalized_inputs(dirs: &[&Path]) -> BTreeMap<String, Vec<String>> {
    let mut files: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for dir in dirs {
        for collection in Collection::ALL {
            let file = format!("{collection}.ndjson");
            for row in read_rows(&dir.join(&file)) {
                let row = normalize_item(collection, row);
                files
                    .entry(file.clone())
                    .or_default()
                    .push(Value::Object(row).to_string());
            }
        }
        for link in file_links() {
            let file = format!("{}.ndjson", link.table);
            for mut row in read_rows(&dir.join(&file)) {
                row.entry("note").or_insert(Value::Null);
                row.entry("position").or_insert(Value::from(0));
                if link.claim.is_some() {
                    // Exported in full: defaults written out.
                    let evidence = row.remove("evidence").unwrap_or(Value::Null);
                    let evidence = Evidence::parse("", &evidence).unwrap();
                    row.insert(
                        "evidence".into(),
                        evidence.map_or(Value::Null, |e| e.to_json()),
                    );
                }
                files
                    .entry(file.clone())
                    .or_default()
                    .push(Value::Object(row).to_string());
            }
        }
    }
    files.values_mut().for_each(|rows| rows.sort());
    files
}

fn exported(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut files = BTreeMap::new();
    for collection in Collection::ALL {
        let file = format!("{collection}.ndjson");
        let mut rows: Vec<String> = read_rows(&dir.join(&file))
            .into_iter()
            .map(|mut row| {
                assert!(
                    row.remove("id").is_some_and(|id| id.is_string()),
                    "export carries ids"
                );
                // And when each item was created and last changed, and its version.
                for meta in ["created_at", "updated_at"] {
                    assert!(row.remove(meta).is_some_and(|at| at.is_string()), "{meta}");
                }
                assert!(row.remove("version").is_some_and(|v| v.is_i64()));
                Value::Object(row).to_string()
            })
            .collect();
        rows.sort();
        files.insert(file, rows);
    }
    for link in file_links() {
        let file = format!("{}.ndjson", link.table);
        let mut rows: Vec<String> = read_rows(&dir.join(&file))
            .into_iter()
            .map(|r| Value::Object(r).to_string())
            .collect();
        rows.sort();
        files.insert(file, rows);
    }
    files.retain(|_, rows| !rows.is_empty());
    files
}

async fn export_reproduces_imported_rows_and_round_trips_byte_identically(engine: Engine) {
    let db = TestDb::new(engine).await;
    let scale_s = generate("S", &db.dir().join("scale-s"));
    let demo = demo_dir();
    for dir in [&demo, &scale_s] {
        let output = db.cli(&["import", dir.to_str().unwrap()]);
        assert!(output.status.success(), "{}", stderr(&output));
    }

    let first = db.dir().join("export-1");
    let output = db.cli(&["export", first.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(exported(&first), normalized_inputs(&[&demo, &scale_s]));

    // Importing the same sets again changes nothing.
    let before = row_counts(&db.connect().await).await;
    let output = db.cli(&["import", scale_s.to_str().unwrap()]);
    assert!(output.status.success());
    assert!(
        stderr(&output).lines().all(|l| l.contains(" 0 changed")),
        "{}",
        stderr(&output)
    );
    assert_eq!(row_counts(&db.connect().await).await, before);

    // export → import into an empty database → export gives identical bytes.
    let (_empty, second) = reimport(engine, &first).await;
    let names = Collection::ALL
        .iter()
        .map(|c| c.as_str())
        .chain(LINKS.iter().filter(|l| l.inline.is_none()).map(|l| l.table));
    for name in names {
        let file = format!("{name}.ndjson");
        let a = std::fs::read(first.join(&file)).unwrap();
        let b = std::fs::read(second.join(&file)).unwrap();
        assert!(a == b, "{file} differs after a round trip");
    }
}

/// (description, files to write as (name, text), expected `file:line: reason` fragment)
type BadImport = (
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
);

fn bad_imports() -> Vec<BadImport> {
    let new_technique = r#"{"slug":"new-technique","name":"New","kind":"self"}"#;
    vec![
        (
            "misnamed file",
            vec![
                ("techniques.ndjson", new_technique),
                (
                    "condition_technique.ndjson",
                    "{\"condition\":\"lower-back-pain\",\"technique\":\"new-technique\"}",
                ),
            ],
            "unknown file(s) condition_technique.ndjson; nothing was imported (known files: publishers.ndjson",
        ),
        (
            "NUL in a link note",
            vec![(
                "condition_techniques.ndjson",
                "{\"condition\":\"lower-back-pain\",\"technique\":\"foam-rolling\",\"note\":\"a\\u0000b\"}",
            )],
            "condition_techniques.ndjson:1: field \"note\" contains the control character U+0000",
        ),
        (
            "unknown reference",
            vec![
                ("techniques.ndjson", new_technique),
                (
                    "condition_techniques.ndjson",
                    "{\"condition\":\"lower-back-pain\",\"technique\":\"new-technique\"}\n{\"condition\":\"lower-back-pain\",\"technique\":\"no-such-technique\"}",
                ),
            ],
            "condition_techniques.ndjson:2: unknown technique \"no-such-technique\"",
        ),
        (
            "duplicate slug",
            vec![(
                "benefits.ndjson",
                "{\"slug\":\"calm\",\"name\":\"Calm\"}\n{\"slug\":\"calm\",\"name\":\"Calm again\"}",
            )],
            "benefits.ndjson:2: duplicate slug \"calm\"",
        ),
        (
            "bad enum",
            vec![(
                "techniques.ndjson",
                "{\"slug\":\"ok-one\",\"name\":\"Ok\",\"kind\":\"self\"}\n{\"slug\":\"robot\",\"name\":\"Robot\",\"kind\":\"robotic\"}",
            )],
            "techniques.ndjson:2: field \"kind\"",
        ),
        (
            "malformed JSON line",
            vec![(
                "authors.ndjson",
                "{\"slug\":\"fine-author\",\"name\":\"Fine\"}\n{\"slug\": ",
            )],
            "authors.ndjson:2: malformed JSON",
        ),
        (
            "bad slug",
            vec![(
                "conditions.ndjson",
                "{\"slug\":\"fine\",\"name\":\"Fine\"}\n\n{\"slug\":\"Bad Slug\",\"name\":\"Bad\"}",
            )],
            "conditions.ndjson:3: field \"slug\"",
        ),
        (
            "unknown field",
            vec![(
                "benefits.ndjson",
                "{\"slug\":\"fine\",\"name\":\"Fine\",\"colour\":\"red\"}",
            )],
            "benefits.ndjson:1: unknown field \"colour\"",
        ),
        (
            "missing required field",
            vec![(
                "citations.ndjson",
                "{\"slug\":\"no-title\",\"kind\":\"study\"}",
            )],
            "citations.ndjson:1: field \"title\" is required",
        ),
        (
            "sku of another product",
            vec![(
                "products.ndjson",
                "{\"slug\":\"copycat\",\"name\":\"Copy\",\"sku\":\"DEMO-FR-SMOOTH\"}",
            )],
            "products.ndjson:1: sku \"DEMO-FR-SMOOTH\" already belongs to \"smooth-foam-roller\"",
        ),
        (
            "unknown inline mention",
            vec![(
                "articles.ndjson",
                "{\"slug\":\"a-new-article\",\"title\":\"New\",\"author\":\"maryann-depietro\",\"products\":[\"no-such-product\"]}",
            )],
            "articles.ndjson:1: field \"products\": unknown product \"no-such-product\"",
        ),
        (
            "evidence citing an unknown citation",
            vec![(
                "technique_benefits.ndjson",
                "{\"technique\":\"foam-rolling\",\"benefit\":\"released-knots\",\"evidence\":{\"certainty\":\"low\",\"citations\":[\"no-such-study\"]}}",
            )],
            "technique_benefits.ndjson:1: field \"evidence\": unknown citation \"no-such-study\"",
        ),
        (
            "evidence of an unknown certainty",
            vec![(
                "condition_techniques.ndjson",
                "{\"condition\":\"lower-back-pain\",\"technique\":\"foam-rolling\",\"evidence\":{\"certainty\":\"sure\"}}",
            )],
            "condition_techniques.ndjson:1: field \"evidence\": /certainty must be one of",
        ),
        (
            "evidence on a link that makes no claim",
            vec![(
                "technique_products.ndjson",
                "{\"technique\":\"foam-rolling\",\"product\":\"smooth-foam-roller\",\"evidence\":null}",
            )],
            "technique_products.ndjson:1: unknown field \"evidence\"",
        ),
        (
            "unknown author",
            vec![(
                "articles.ndjson",
                "{\"slug\":\"orphan\",\"title\":\"Orphan\",\"author\":\"nobody\"}",
            )],
            "articles.ndjson:1: field \"author\": unknown author \"nobody\"",
        ),
    ]
}

async fn bad_imports_name_the_line_and_change_nothing(engine: Engine) {
    let db = TestDb::new(engine).await;
    assert!(
        db.cli(&["import", demo_dir().to_str().unwrap()])
            .status
            .success()
    );
    let snapshot = db.dir().join("before");
    assert!(
        db.cli(&["export", snapshot.to_str().unwrap()])
            .status
            .success()
    );
    let counts = row_counts(&db.connect().await).await;

    for (n, (case, files, expected)) in bad_imports().into_iter().enumerate() {
        let dir = db.dir().join(format!("bad-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (file, text) in files {
            std::fs::write(dir.join(file), text).unwrap();
        }
        let output = db.cli(&["import", dir.to_str().unwrap()]);
        assert!(!output.status.success(), "{case}: import must fail");
        assert!(
            stderr(&output).contains(expected),
            "{case}: {}",
            stderr(&output)
        );
        assert_eq!(
            row_counts(&db.connect().await).await,
            counts,
            "{case}: rows changed"
        );
    }

    let after = db.dir().join("after");
    assert!(
        db.cli(&["export", after.to_str().unwrap()])
            .status
            .success()
    );
    for entry in std::fs::read_dir(&snapshot).unwrap() {
        let name = entry.unwrap().file_name();
        assert_eq!(
            std::fs::read(snapshot.join(&name)).unwrap(),
            std::fs::read(after.join(&name)).unwrap(),
            "{name:?} changed"
        );
    }
}

/// `--dry-run` validates and reports what would change, and writes nothing.
async fn dry_runs_report_and_write_nothing(engine: Engine) {
    let db = TestDb::new(engine).await;
    let demo = demo_dir();
    let output = db.cli(&["import", "--dry-run", demo.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("techniques.ndjson: 6 rows, 6 would change"),
        "{}",
        stderr(&output)
    );
    assert!(
        row_counts(&db.connect().await)
            .await
            .values()
            .all(|n| *n == 0)
    );
    assert!(db.cli(&["import", demo.to_str().unwrap()]).status.success());
    let counts = row_counts(&db.connect().await).await;

    let dir = db.dir().join("change");
    std::fs::create_dir_all(&dir).unwrap();
    let new = r#"{"slug":"new-technique","name":"New","kind":"self"}"#;
    std::fs::write(dir.join("techniques.ndjson"), new).unwrap();
    let output = db.cli(&["import", "--dry-run", dir.to_str().unwrap()]);
    let text = stderr(&output);
    assert!(
        text.contains("techniques.ndjson: 1 rows, 1 would change"),
        "{text}"
    );
    assert!(
        text.contains("dry run: 1 row(s) would change; nothing was written"),
        "{text}"
    );
    assert_eq!(row_counts(&db.connect().await).await, counts);
    let bad = r#"{"slug":"bad","name":"Bad","kind":"robotic"}"#;
    std::fs::write(dir.join("techniques.ndjson"), bad).unwrap();
    let output = db.cli(&["import", "--dry-run", dir.to_str().unwrap()]);
    assert!(
        !output.status.success(),
        "a dry run fails like the import would"
    );
    assert!(
        stderr(&output).contains("techniques.ndjson:1"),
        "{}",
        stderr(&output)
    );
}

engine_tests!(
    export_reproduces_imported_rows_and_round_trips_byte_identically,
    bad_imports_name_the_line_and_change_nothing,
    dry_runs_report_and_write_nothing,
);
