//! The full-text index prepared by the migrations stays in sync with every write.

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

use crate::engine_tests;
use crate::helpers::{Engine, TestDb, demo_dir, stderr};

/// Slugs of techniques whose searchable text matches `query` (stemmed English words).
async fn matching_techniques(db: &DatabaseConnection, query: &str) -> Vec<String> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => "SELECT slug FROM techniques \
             WHERE search @@ plainto_tsquery('english', $1) ORDER BY slug"
            .to_owned(),
        _ => "SELECT t.slug FROM techniques_fts f JOIN techniques t ON t.rowid = f.rowid \
             WHERE techniques_fts MATCH ? ORDER BY t.slug"
            .to_owned(),
    };
    db.query_all_raw(Statement::from_sql_and_values(backend, sql, [query.into()]))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<String>("", "slug").unwrap())
        .collect()
}

async fn search_index_follows_inserts_updates_and_deletes(engine: Engine) {
    let db = TestDb::new(engine).await;
    assert!(
        db.cli(&["import", demo_dir().to_str().unwrap()])
            .status
            .success()
    );
    let conn = db.connect().await;

    // Stemming: "rolled" finds "Foam rolling" though the word itself appears nowhere.
    assert_eq!(
        matching_techniques(&conn, "rolled").await,
        vec!["foam-rolling"]
    );
    assert!(
        matching_techniques(&conn, "kneading")
            .await
            .contains(&"swedish-massage".to_owned())
    );

    let dir = db.dir().join("update");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("techniques.ndjson"),
        r#"{"slug":"foam-rolling","name":"Cylinder compression","kind":"self","pressure":"moderate","summary":"Lying on a cylinder."}"#,
    )
    .unwrap();
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        matching_techniques(&conn, "rolled").await.is_empty(),
        "old text is gone"
    );
    assert_eq!(
        matching_techniques(&conn, "compressions").await,
        vec!["foam-rolling"]
    );

    conn.execute_unprepared("DELETE FROM techniques WHERE slug = 'foam-rolling'")
        .await
        .unwrap();
    assert!(
        matching_techniques(&conn, "compression").await.is_empty(),
        "deleted rows leave the index"
    );
}

engine_tests!(search_index_follows_inserts_updates_and_deletes);
