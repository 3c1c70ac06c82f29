use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::prelude::*;

use crate::engine_tests;
use crate::helpers::{Engine, TestDb, demo_dir, stderr};

/// Creates a table, then fails: the table must not survive.
#[derive(DeriveMigrationName)]
struct FailingMigration;

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for FailingMigration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("half_done"))
                    .col(
                        ColumnDef::new(Alias::new("id"))
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO no_such_table VALUES (1)")
            .await?;
        Ok(())
    }
}

struct MigratorWithFailure;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for MigratorWithFailure {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = Migrator::migrations();
        all.push(Box::new(FailingMigration));
        all
    }
}

async fn table_exists(db: &sea_orm::DatabaseConnection, table: &str) -> bool {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => format!(
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = '{table}'"
        ),
        _ => format!("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = '{table}'"),
    };
    let row = db
        .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<i64>("", "n").unwrap() > 0
}

async fn migrations_run_forward_from_an_empty_database(engine: Engine) {
    let db = TestDb::new(engine).await;
    let conn = db.connect().await;
    Migrator::up(&conn, None).await.expect("migrations apply");
    assert!(
        Migrator::get_pending_migrations(&conn)
            .await
            .unwrap()
            .is_empty()
    );
    for table in [
        "techniques",
        "article_related",
        "api_keys",
        "condition_techniques",
    ] {
        assert!(table_exists(&conn, table).await, "{table}");
    }
    // Applying again is a no-op.
    Migrator::up(&conn, None).await.expect("idempotent");
}

/// SQLite link tables are clustered on their key (`WITHOUT ROWID`): the last migration
/// converts them with their rows and indexes, and rolls back to rowid tables.
async fn link_tables_are_clustered_and_the_conversion_rolls_back(engine: Engine) {
    let db = TestDb::new(engine).await;
    let output = db.cli(&["import", demo_dir().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let conn = db.connect().await;
    let links = |sql: &'static str| {
        let conn = &conn;
        async move {
            let rows = conn
                .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
                .await
                .unwrap();
            rows.iter()
                .map(|row| row.try_get_by_index::<i64>(0).unwrap())
                .collect::<Vec<_>>()
        }
    };
    let count = "SELECT COUNT(*) FROM technique_benefits";
    let before = links(count).await;
    assert!(before[0] > 0);
    if engine == Engine::Sqlite {
        let clustered = || async {
            let mut n = 0;
            for (table, ..) in migration::LINKS {
                let sql = format!("SELECT sql FROM sqlite_master WHERE name = '{table}'");
                let row = conn
                    .query_one_raw(Statement::from_string(sea_orm::DbBackend::Sqlite, sql))
                    .await
                    .unwrap()
                    .unwrap();
                let definition: String = row.try_get_by_index(0).unwrap();
                n += usize::from(definition.ends_with("WITHOUT ROWID"));
            }
            n
        };
        assert_eq!(clustered().await, migration::LINKS.len());
        // Rolls back the conversion and every migration after it.
        let names: Vec<String> = Migrator::migrations()
            .iter()
            .map(|m| m.name().to_owned())
            .collect();
        let clustered_at = names
            .iter()
            .position(|n| n.ends_with("clustered_links"))
            .unwrap();
        let after = <u32 as TryFrom<usize>>::try_from(names.len() - clustered_at).unwrap();
        Migrator::down(&conn, Some(after))
            .await
            .expect("rolls back");
        assert_eq!(clustered().await, 0);
        assert_eq!(links(count).await, before);
        Migrator::up(&conn, None).await.expect("reapplies");
        assert_eq!(clustered().await, migration::LINKS.len());
    }
    assert_eq!(links(count).await, before, "no link lost");
    let joined = "SELECT COUNT(*) FROM technique_benefits l \
                   JOIN benefits b ON b.id = l.benefit_id";
    assert_eq!(links(joined).await, before);
}

async fn a_failing_migration_leaves_the_schema_as_it_was(engine: Engine) {
    let db = TestDb::new(engine).await;
    let conn = db.connect().await;
    let result = MigratorWithFailure::up(&conn, None).await;
    assert!(result.is_err());
    assert!(
        !table_exists(&conn, "half_done").await,
        "the failed migration was rolled back"
    );
    assert!(
        table_exists(&conn, "techniques").await,
        "earlier migrations stay applied"
    );
    assert_eq!(
        MigratorWithFailure::get_pending_migrations(&conn)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn enumerations_are_checked_by_the_database(engine: Engine) {
    let db = TestDb::new(engine).await;
    let conn = db.connect().await;
    Migrator::up(&conn, None).await.unwrap();
    let now = "2026-01-01T00:00:00Z";
    let insert = |status: &str, kind: &str| {
        let id = match conn.get_database_backend() {
            sea_orm::DbBackend::Postgres => format!("'{}'", uuid::Uuid::new_v4()),
            _ => format!("x'{}'", uuid::Uuid::new_v4().simple()),
        };
        format!(
            "INSERT INTO techniques (id, slug, status, name, kind, created_at, updated_at, version) \
             VALUES ({id}, 's-{status}-{kind}', '{status}', 'n', '{kind}', '{now}', '{now}', 1)"
        )
    };
    assert!(
        conn.execute_unprepared(&insert("published", "self"))
            .await
            .is_ok()
    );
    assert!(
        conn.execute_unprepared(&insert("live", "self"))
            .await
            .is_err()
    );
    assert!(
        conn.execute_unprepared(&insert("draft", "robotic"))
            .await
            .is_err()
    );
}

/// The server's read pool on `db`, shrunk to one connection: every statement shares it.
async fn single_connection_pool(db: &TestDb) -> sea_orm::DatabaseConnection {
    let mut settings = crate::helpers::settings(&db.url).database;
    settings.db_pool_size = Some(1);
    salve::db::connect(&settings, &Default::default())
        .await
        .unwrap()
}

/// Connections go back to the pool right after each statement (sqlx-core is patched to
/// skip its release ping, vendor/README.md): a single pooled connection serves dropped
/// transactions, cancelled statements and the statements after them, and never leaks.
async fn one_connection_survives_dropped_transactions_and_cancelled_statements(engine: Engine) {
    use sea_orm::TransactionTrait;
    let db = TestDb::new(engine).await;
    let conn = single_connection_pool(&db).await;
    let backend = conn.get_database_backend();
    conn.execute_unprepared("CREATE TABLE pool_probe (n INTEGER NOT NULL)")
        .await
        .unwrap();
    let slow = "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c \
                WHERE n < 2000000) SELECT count(*) FROM c";
    for round in 0..3 {
        let txn = conn.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO pool_probe (n) VALUES (1)")
            .await
            .unwrap();
        drop(txn); // never committed: rolled back
        let cancelled = conn.query_one_raw(Statement::from_string(backend, slow));
        let _ = tokio::time::timeout(std::time::Duration::from_millis(5), cancelled).await;
        let row = conn
            .query_one_raw(Statement::from_string(
                backend,
                "SELECT CAST(COUNT(*) AS BIGINT) AS rows_kept FROM pool_probe",
            ))
            .await
            .unwrap_or_else(|e| panic!("round {round}: {e}"))
            .unwrap();
        assert_eq!(row.try_get::<i64>("", "rows_kept").unwrap(), 0);
    }
}

/// SQLite's worker thread hands rows over in bursts (sqlx-sqlite is patched, see
/// vendor/README.md): results larger than a burst and than the row channel arrive whole
/// and in order, an error after some rows is reported, and a result abandoned half-read
/// leaves the single pooled connection usable.
async fn large_results_arrive_whole_and_errors_mid_result_surface(engine: Engine) {
    let db = TestDb::new(engine).await;
    let conn = single_connection_pool(&db).await;
    let backend = conn.get_database_backend();
    let numbers = |n: u32| {
        format!(
            "WITH RECURSIVE c(n) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT n + 1 FROM c \
             WHERE n < {n}) SELECT n FROM c"
        )
    };
    for n in [1, 255, 256, 257, 1023, 1024, 1025, 5000] {
        let rows = conn
            .query_all_raw(Statement::from_string(backend, numbers(n)))
            .await
            .unwrap();
        let got: Vec<i64> = rows.iter().map(|r| r.try_get("", "n").unwrap()).collect();
        assert_eq!(got, (1..=i64::from(n)).collect::<Vec<_>>(), "{n} rows");
    }
    // Row 700 overflows (abs of the smallest integer): the rows before it may arrive, the
    // error must.
    let failing = "WITH RECURSIVE c(n) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT n + 1 \
                   FROM c WHERE n < 2000) SELECT CASE WHEN n = 700 THEN \
                   abs(CAST(-9223372036854775808 AS BIGINT) + n - 700) ELSE n END AS n FROM c";
    let result = conn
        .query_all_raw(Statement::from_string(backend, failing))
        .await;
    assert!(
        result.is_err(),
        "an overflow mid-result must fail the statement"
    );
    // Abandoned while rows are in flight: the worker stops at its next burst.
    let abandoned = conn.query_all_raw(Statement::from_string(backend, numbers(2_000_000)));
    let _ = tokio::time::timeout(std::time::Duration::from_millis(20), abandoned).await;
    let rows = conn
        .query_all_raw(Statement::from_string(backend, numbers(3)))
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
}

/// Every storage class survives the trip from a result row to a Rust value (sqlx-sqlite
/// is patched to copy rows into one buffer, see vendor/README.md): NULL, integers at
/// their limits, reals, multi-byte and empty text, a text of 100 kB, a blob, over many
/// rows and columns; a column read as the wrong type is an error, not a panic.
async fn row_values_of_every_storage_class_decode(engine: Engine) {
    let db = TestDb::new(engine).await;
    let conn = single_connection_pool(&db).await;
    let backend = conn.get_database_backend();
    let (blob, big) = match engine {
        Engine::Sqlite => ("X'00FF10'", "replace(hex(zeroblob(25000)), '0', 'ab')"),
        Engine::Postgres => ("'\\x00ff10'::bytea", "repeat('abab', 25000)"),
    };
    let sql = format!(
        "WITH RECURSIVE c(n) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT n + 1 FROM c \
         WHERE n < 300) SELECT n, CAST(NULL AS TEXT) AS absent, \
         CAST(9223372036854775807 AS BIGINT) AS max, CAST(-9223372036854775807 AS BIGINT) - 1 \
         AS min, CAST(n AS DOUBLE PRECISION) / 4 AS quarter, 'héllo ✓ ' || CAST(n AS TEXT) \
         AS word, '' AS empty, {blob} AS bytes, {big} AS big FROM c"
    );
    let rows = conn
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    assert_eq!(rows.len(), 300);
    for (row, n) in rows.iter().zip(1_i64..) {
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), n);
        assert_eq!(row.try_get::<Option<String>>("", "absent").unwrap(), None);
        assert_eq!(row.try_get::<i64>("", "max").unwrap(), i64::MAX);
        assert_eq!(row.try_get::<i64>("", "min").unwrap(), i64::MIN);
        #[allow(clippy::cast_precision_loss, reason = "n is at most 300")]
        let quarter = n as f64 / 4.0;
        assert!((row.try_get::<f64>("", "quarter").unwrap() - quarter).abs() < f64::EPSILON);
        assert_eq!(
            row.try_get::<String>("", "word").unwrap(),
            format!("héllo ✓ {n}")
        );
        assert_eq!(row.try_get::<String>("", "empty").unwrap(), "");
        assert_eq!(
            row.try_get::<Vec<u8>>("", "bytes").unwrap(),
            vec![0, 255, 16]
        );
        let big: String = row.try_get("", "big").unwrap();
        assert_eq!((big.len(), &big[..6]), (100_000, "ababab"));
        assert!(
            row.try_get::<i64>("", "word").is_err(),
            "text read as an integer"
        );
    }
}

engine_tests!(
    migrations_run_forward_from_an_empty_database,
    link_tables_are_clustered_and_the_conversion_rolls_back,
    a_failing_migration_leaves_the_schema_as_it_was,
    enumerations_are_checked_by_the_database,
    one_connection_survives_dropped_transactions_and_cancelled_statements,
    large_results_arrive_whole_and_errors_mid_result_surface,
    row_values_of_every_storage_class_decode,
);
