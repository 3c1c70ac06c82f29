use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::engine_tests;
use crate::helpers::{Engine, TestApp, TestDb, settings, spawn_app};

/// A TCP proxy in front of PostgreSQL that the test can cut and restore, to play a
/// database outage without touching the shared server.
struct Outage {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Outage {
    async fn start(port: u16) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let registry = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(crate::pg_server::address()).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                registry.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Self { port, tasks }
    }

    /// Refuses new connections and drops the open ones.
    fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

async fn wait_for_status(app: &TestApp, path: &str, status: u16, within: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if app.get(path).await.status() == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{path} did not turn {status} within {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// PostgreSQL goes away and comes back: /readyz and content requests answer 503 with
/// Retry-After quickly (never hang, never 500), and the service recovers by itself.
async fn readiness_follows_the_database_and_recovers_without_restart(engine: Engine) {
    assert_eq!(engine, Engine::Postgres);
    let db = TestDb::new(engine).await;
    let proxy = Outage::start(0).await;
    let url = db.url.replace(
        &crate::pg_server::address(),
        &format!("127.0.0.1:{}", proxy.port),
    );
    let app = TestApp::spawn(settings(&url)).await;
    assert_eq!(app.get("/readyz").await.status(), 200);

    proxy.cut();
    tokio::time::sleep(Duration::from_millis(200)).await;
    for path in ["/readyz", "/v1/techniques/foam-rolling"] {
        let started = Instant::now();
        let response = app.get(path).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{path} answered quickly"
        );
        assert_eq!(response.status(), 503, "{path}");
        assert_eq!(response.headers()["retry-after"], "2");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "service_unavailable");
    }
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "the process is still alive"
    );

    let _restored = Outage::start(proxy.port).await;
    wait_for_status(&app, "/readyz", 200, Duration::from_secs(10)).await;
    assert_eq!(app.get("/v1/techniques/foam-rolling").await.status(), 200);
}

/// Every PostgreSQL backend serving the app is terminated under concurrent reads (as a
/// server restart does): the broken connections are closed, never handed out again, and
/// reads and /readyz succeed again within 2 s, with no 500 and no process restart.
async fn terminated_backends_are_replaced_within_two_seconds(engine: Engine) {
    assert_eq!(engine, Engine::Postgres);
    let db = TestDb::new(engine).await;
    let mut settings = settings(&db.url);
    settings.serve.no_cache = true;
    let app = Arc::new(TestApp::spawn(settings).await);
    let statuses = read_concurrently(&app, Duration::from_millis(500)).await;
    assert!(
        statuses.iter().all(|(_, status)| *status == 200),
        "{statuses:?}"
    );

    let database = db.url.rsplit('/').next().unwrap().to_owned();
    let admin = sea_orm::Database::connect(db.url.replace(&database, "postgres"))
        .await
        .unwrap();
    let load = tokio::spawn({
        let app = app.clone();
        async move { read_concurrently(&app, Duration::from_secs(4)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let terminated = admin
        .query_one_raw(Statement::from_string(
            admin.get_database_backend(),
            format!(
                "SELECT COUNT(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
                 WHERE datname = '{database}' AND pid <> pg_backend_pid()"
            ),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    let terminated_at = Instant::now();
    assert!(terminated > 0, "the app held connections to terminate");
    let statuses = load.await.unwrap();

    let failures: Vec<_> = statuses
        .iter()
        .filter(|(_, status)| *status != 200)
        .collect();
    assert!(
        failures.iter().all(|(_, status)| *status == 503),
        "only 503 while connections are replaced: {failures:?}"
    );
    let last_failure = failures.iter().map(|(at, _)| *at).max();
    if let Some(last) = last_failure {
        let recovered = last.saturating_duration_since(terminated_at);
        assert!(
            recovered < Duration::from_secs(2),
            "503s for {recovered:?} after the backends ended"
        );
    }
    let after = statuses
        .iter()
        .filter(|(at, _)| *at > terminated_at + Duration::from_secs(2))
        .count();
    assert!(after > 50, "reads kept going after recovery ({after})");
    assert_eq!(app.get("/readyz").await.status(), 200);
    admin.close().await.ok();
}

/// Reads from 8 tasks for `period`: each response's time and status.
async fn read_concurrently(app: &Arc<TestApp>, period: Duration) -> Vec<(Instant, u16)> {
    let until = Instant::now() + period;
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let paths = [
                    "/v1/techniques/foam-rolling",
                    "/v1/conditions?include=techniques",
                    "/readyz",
                ];
                let mut i = task;
                while Instant::now() < until {
                    let status = app.get(paths[i % paths.len()]).await.status().as_u16();
                    seen.push((Instant::now(), status));
                    i += 1;
                }
                seen
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.extend(task.await.unwrap());
    }
    statuses
}

/// /readyz also requires every migration of this binary to be applied.
async fn readiness_requires_applied_migrations(engine: Engine) {
    let (app, _db) = spawn_app(engine).await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    let backend = app.db.get_database_backend();
    let row = app
        .db
        .query_one_raw(Statement::from_string(
            backend,
            "SELECT version, applied_at FROM seaql_migrations ORDER BY version DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap();
    let version: String = row.try_get("", "version").unwrap();
    let applied_at: i64 = row.try_get("", "applied_at").unwrap();
    app.db
        .execute_unprepared(&format!(
            "DELETE FROM seaql_migrations WHERE version = '{version}'"
        ))
        .await
        .unwrap();
    assert_eq!(app.get("/readyz").await.status(), 503);
    app.db
        .execute_unprepared(&format!(
            "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{version}', {applied_at})"
        ))
        .await
        .unwrap();
    assert_eq!(app.get("/readyz").await.status(), 200);
}

engine_tests!(readiness_requires_applied_migrations);

mod postgres_outage {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn terminated_backends_are_replaced_within_two_seconds() {
        super::terminated_backends_are_replaced_within_two_seconds(crate::helpers::Engine::Postgres)
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn readiness_follows_the_database_and_recovers_without_restart() {
        super::readiness_follows_the_database_and_recovers_without_restart(
            crate::helpers::Engine::Postgres,
        )
        .await
    }
}
