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
                    if let Ok(mut server) = TcpStream::connect("127.0.0.1:5432").await {
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
    let url = db
        .url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
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
    async fn readiness_follows_the_database_and_recovers_without_restart() {
        super::readiness_follows_the_database_and_recovers_without_restart(
            crate::helpers::Engine::Postgres,
        )
        .await
    }
}
