//! `TestDb` (a fresh database per test), `TestApp` (the real server on port 0) and the
//! `engine_tests!` macro that runs every scenario on SQLite and on PostgreSQL.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use salve::config::{DatabaseSettings, ServeSettings, Settings};
use salve::domain::Collection;
use salve::domain::model::LINKS;
use salve::startup::{Application, ShutdownTrigger};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

/// Runs each listed `async fn name(engine: Engine)` as two tests: `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! engine_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::Engine::Sqlite).await
            })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                super::$name($crate::helpers::Engine::Postgres).await
            })*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Server for PostgreSQL test databases; each test creates its own database there.
fn postgres_admin_url() -> String {
    crate::pg_server::admin_url().to_owned()
}

/// A fresh, empty database (not yet migrated). A PostgreSQL one is dropped with it.
pub struct TestDb {
    pub url: String,
    _dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot block on a future: a thread
        // of its own does. FORCE ends the connections the app under test still holds.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let admin = Database::connect(&postgres_admin_url()).await?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop a test database: {dropped:?}");
        }
    }
}

impl TestDb {
    pub async fn new(engine: Engine) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match engine {
            Engine::Sqlite => Self {
                url: format!("sqlite://{}", dir.path().join("salve.db").display()),
                _dir: dir,
                postgres_name: None,
            },
            Engine::Postgres => {
                let name = format!("salve_t_{}", uuid::Uuid::new_v4().simple());
                let admin_url = postgres_admin_url();
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("connect to the PostgreSQL test server");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let base = admin_url
                    .rsplit_once('/')
                    .map(|(b, _)| b)
                    .unwrap_or(&admin_url);
                Self {
                    url: format!("{base}/{name}"),
                    _dir: dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    pub fn dir(&self) -> &Path {
        self._dir.path()
    }

    pub async fn connect(&self) -> DatabaseConnection {
        salve::db::connect(&settings(&self.url).database, &Default::default())
            .await
            .expect("connect to test database")
    }

    /// Runs the `salve` binary against this database. Imports run under the `optional`
    /// medical-review policy, as the demo's articles (faithful to the seed) name no
    /// reviewer; a test of the policy passes `--medical-review required`.
    pub fn cli(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_salve"))
            .args(args)
            .env("SALVE_DATABASE_URL", &self.url)
            .env("SALVE_MEDICAL_REVIEW", "optional")
            .env("SALVE_LOG", "warn")
            .output()
            .expect("run salve")
    }
}

pub fn settings(url: &str) -> Settings {
    Settings {
        database: DatabaseSettings {
            database_url: Some(url.to_owned()),
            db_pool_size: Some(4),
            db_acquire_timeout_ms: 1000,
            ..DatabaseSettings::default()
        },
        serve: ServeSettings {
            bind: ([127, 0, 0, 1], 0).into(),
            workers: Some(1),
            shutdown_timeout_s: 5,
            ..ServeSettings::default()
        },
    }
}

pub struct TestApp {
    pub address: String,
    pub db: DatabaseConnection,
    pub statements: salve::db::StatementCounter,
    pub cache: std::sync::Arc<salve::service::cache::ReadCache>,
    pub client: reqwest::Client,
    pub shutdown: ShutdownTrigger,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl TestApp {
    pub async fn spawn(settings: Settings) -> TestApp {
        let app = Application::build(settings).await.expect("build app");
        let address = format!("http://127.0.0.1:{}", app.port());
        let db = app.state().db.clone();
        let statements = app.state().statements.clone();
        let cache = app.state().cache.clone();
        let shutdown = app.shutdown_trigger();
        let server = tokio::spawn(app.run_until_stopped());
        TestApp {
            address,
            db,
            statements,
            cache,
            client: reqwest::Client::new(),
            shutdown,
            server,
        }
    }

    /// Waits until the server has followed every change recorded so far (an import by the
    /// CLI reaches it through the change feed: its read cache's epoch stops moving), then
    /// reads once, so what reads keep between changes (the syndication terms) is loaded:
    /// statement counts taken after this are those of a server in its steady state.
    pub async fn settle(&self) {
        let mut last = self.cache.epoch();
        loop {
            // Longer than SQLite's 200 ms change-log poll.
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            let now = self.cache.epoch();
            if now == last {
                break;
            }
            last = now;
        }
        assert_eq!(self.get("/v1/publishers?limit=1").await.status(), 200);
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request")
    }

    /// A CORS preflight for `method` on `/v1/techniques` from `origin`.
    pub async fn preflight(&self, origin: &str, method: &str) -> reqwest::Response {
        self.client
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/v1/techniques", self.address),
            )
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .expect("preflight")
    }

    /// The `/metrics` text, read with a new key of the `metrics` scope.
    pub async fn metrics(&self) -> String {
        let name = format!("metrics-{}", uuid::Uuid::new_v4().simple());
        let key =
            salve::service::keys::create(&self.db, &name, &[salve::domain::Scope::Metrics], None)
                .await
                .expect("create a metrics key");
        let response = self.get_with_key("/metrics", &key.secret).await;
        assert_eq!(response.status(), 200);
        response.text().await.expect("metrics text")
    }

    pub async fn get_with_key(&self, path: &str, key: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(key)
            .send()
            .await
            .expect("request")
    }

    /// GETs `path` with `key`, or anonymously.
    pub async fn get_as(&self, path: &str, key: Option<&str>) -> reqwest::Response {
        match key {
            Some(key) => self.get_with_key(path, key).await,
            None => self.get(path).await,
        }
    }
}

/// The real binary with `args` and `envs`, listening on a free port (`SALVE_BIND`), once
/// `/readyz` answers 200: the process and its base URL.
pub async fn spawn_binary(
    db: &TestDb,
    args: &[&str],
    envs: &[(&str, &str)],
) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_salve"))
        .args(args)
        .env("SALVE_BIND", format!("127.0.0.1:{port}"))
        .env("SALVE_DATABASE_URL", &db.url)
        .env("SALVE_LOG", "warn")
        .envs(envs.iter().copied())
        .spawn()
        .expect("start salve");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = std::time::Instant::now();
    while client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map(|r| r.status() != 200)
        .unwrap_or(true)
    {
        assert!(
            started.elapsed().as_secs() < 20,
            "server never became ready"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    (child, base)
}

/// Spawns the server on a fresh database with the demo content.
pub async fn spawn_app(engine: Engine) -> (TestApp, TestDb) {
    let db = TestDb::new(engine).await;
    let app = TestApp::spawn(settings(&db.url)).await;
    (app, db)
}

/// Row count of every content and link table.
pub async fn row_counts(db: &DatabaseConnection) -> BTreeMap<String, i64> {
    let tables = Collection::ALL
        .iter()
        .map(|c| c.table())
        .chain(LINKS.iter().map(|l| l.table))
        .chain(LINKS.iter().filter_map(|l| l.claim).map(|c| c.citations))
        .chain(["api_keys"]);
    let mut counts = BTreeMap::new();
    for table in tables {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("a row");
        counts.insert(table.to_owned(), row.try_get::<i64>("", "n").expect("n"));
    }
    counts
}

/// The bundled demo set, as files on disk.
pub fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo")
}

/// Generates a synthetic set with the project's copy of the dataset generator.
pub fn generate(scale: &str, out: &Path) -> PathBuf {
    let status = std::process::Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/gen.py"))
        .args(["--scale", scale, "--out"])
        .arg(out)
        .output()
        .expect("python3 runs tools/gen.py");
    assert!(status.status.success(), "gen.py failed: {status:?}");
    out.to_path_buf()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Imports a draft technique linked from the demo's lower-back-pain condition and smooth
/// foam roller: what visibility tests look for.
pub fn import_draft_technique(db: &TestDb) {
    let dir = db.dir().join("draft");
    std::fs::create_dir_all(&dir).unwrap();
    for (file, row) in [
        (
            "techniques.ndjson",
            r#"{"slug":"secret-technique","name":"Secret rolling","kind":"self","status":"draft","summary":"foam rolling variant"}"#,
        ),
        (
            "condition_techniques.ndjson",
            r#"{"condition":"lower-back-pain","technique":"secret-technique"}"#,
        ),
        (
            "technique_products.ndjson",
            r#"{"technique":"secret-technique","product":"smooth-foam-roller"}"#,
        ),
    ] {
        std::fs::write(dir.join(file), row).unwrap();
    }
    let output = db.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
}

/// Imports the export `dir` into an empty database of `engine` and exports that again:
/// the database and its export, each step checked.
pub async fn reimport(engine: Engine, dir: &Path) -> (TestDb, PathBuf) {
    let empty = TestDb::new(engine).await;
    let output = empty.cli(&["import", dir.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    let again = empty.dir().join("export-again");
    let output = empty.cli(&["export", again.to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    (empty, again)
}

/// The slugs of a list of items, or of link entries (`{node: {slug}}`).
pub fn slugs(items: &serde_json::Value) -> Vec<&str> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item["slug"]
                .as_str()
                .or(item["node"]["slug"].as_str())
                .unwrap()
        })
        .collect()
}
