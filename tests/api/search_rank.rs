//! SQLite ranks with `salve_bm25` (FTS5's bm25 given each row's size; `db::fts5_rank`):
//! it must give exactly the scores of FTS5's own `bm25()`, with the statistics it counts
//! itself and with those a caller passes.

use salve::db::fts5_rank::QueryStatistics;
use salve::domain::listing::SearchTerms;
use salve::service::fulltext::{SearchSql, fts5_match, searchable};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::helpers::{Engine, generate, spawn_app, stderr};

/// Each matching row's (rowid, bm25, salve_bm25, salve_bm25 with `statistics`).
async fn scores(
    db: &sea_orm::DatabaseConnection,
    table: &str,
    weights: &str,
    query: &str,
    statistics: &str,
) -> Vec<(i64, f64, f64, f64)> {
    let sql = format!(
        "SELECT {table}_fts.rowid AS rid, bm25({table}_fts, {weights}) AS builtin, \
         salve_bm25({table}_fts, {table}_ds.sz, {weights}) AS counted, \
         salve_bm25({table}_fts, {table}_ds.sz, {weights}, ?) AS given \
         FROM {table}_fts CROSS JOIN {table}_fts_docsize {table}_ds \
         ON {table}_ds.id = {table}_fts.rowid WHERE {table}_fts MATCH ?"
    );
    let statement =
        Statement::from_sql_and_values(DbBackend::Sqlite, sql, [statistics.into(), query.into()]);
    db.query_all_raw(statement)
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("", "rid").unwrap(),
                row.try_get("", "builtin").unwrap(),
                row.try_get("", "counted").unwrap(),
                row.try_get("", "given").unwrap(),
            )
        })
        .collect()
}

/// The collection's statistics for `terms`, read as the cross-collection search reads them.
async fn statistics(db: &sea_orm::DatabaseConnection, table: &str, terms: &SearchTerms) -> String {
    let one = |sql: String, values: Vec<sea_orm::Value>| {
        db.query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            sql,
            values,
        ))
    };
    let averages: Vec<u8> = one(
        format!("SELECT block FROM {table}_fts_data WHERE id = 1"),
        vec![],
    )
    .await
    .unwrap()
    .unwrap()
    .try_get("", "block")
    .unwrap();
    let mut hits = Vec::new();
    for word in terms.each() {
        let sql = format!("SELECT COUNT(*) AS n FROM {table}_fts WHERE {table}_fts MATCH ?");
        let row = one(sql, vec![fts5_match(&word).into()])
            .await
            .unwrap()
            .unwrap();
        hits.push(row.try_get::<i64>("", "n").unwrap() as u64);
    }
    QueryStatistics::from_averages(&averages, hits)
        .expect("an averages record")
        .encode()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salve_bm25_is_fts5_bm25() {
    let (app, db) = spawn_app(Engine::Sqlite).await;
    let set = generate("S", &db.dir().join("scale-s"));
    let output = db.cli(&["import", set.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut compared = 0;
    for query in [
        "massage",
        "pain",
        "back pain",
        "trig*",
        "foam rolling",
        "the",
    ] {
        let terms = SearchTerms::parse(query).unwrap();
        for collection in searchable() {
            let search = SearchSql::new(DbBackend::Sqlite, collection, &terms).unwrap();
            let table = collection.table();
            let given = statistics(&app.db, table, &terms).await;
            let rows = scores(
                &app.db,
                table,
                search.weights(),
                &fts5_match(&terms),
                &given,
            )
            .await;
            for (rid, builtin, counted, passed) in rows {
                let label = format!("{query} {table} row {rid}");
                assert_eq!(
                    builtin.to_bits(),
                    counted.to_bits(),
                    "{label}: {builtin} {counted}"
                );
                assert_eq!(
                    builtin.to_bits(),
                    passed.to_bits(),
                    "{label}: {builtin} {passed}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 150, "only {compared} scores compared");
}
