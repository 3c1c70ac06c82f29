//! Database connections: one code path for the embedded SQLite default and PostgreSQL.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement,
    TransactionTrait,
};

use crate::config::DatabaseSettings;

pub mod fts5_rank;
mod sqlite_memory;
use crate::error::{AppError, Result};

/// Counts SQL statements run through a connection (tests assert it; metrics expose it).
#[derive(Debug, Clone, Default)]
pub struct StatementCounter(Arc<AtomicU64>);

impl StatementCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Opens a connection pool. For SQLite the file (and its directory) is created on first use,
/// in WAL mode with foreign keys enforced.
pub async fn connect(
    settings: &DatabaseSettings,
    statements: &StatementCounter,
) -> anyhow::Result<DatabaseConnection> {
    let pool = PoolShape {
        size: settings.pool_size(),
        acquire_timeout: settings.acquire_timeout(),
        nice: 0,
        writer: false,
    };
    connect_sized(settings, statements, pool).await
}

/// Opens the pool `serve` keeps for editorial writes (see `--db-write-pool-size`).
pub async fn connect_writer(
    settings: &DatabaseSettings,
    statements: &StatementCounter,
) -> anyhow::Result<DatabaseConnection> {
    connect_editorial(settings, statements, settings.write_pool_size()).await
}

/// On SQLite, the one connection [`WriteGate`]d transactions run on; `None` elsewhere
/// (PostgreSQL writers do not take turns).
pub async fn connect_gated_writer(
    settings: &DatabaseSettings,
    statements: &StatementCounter,
) -> anyhow::Result<Option<DatabaseConnection>> {
    if !settings.url().starts_with("sqlite:") {
        return Ok(None);
    }
    Ok(Some(connect_editorial(settings, statements, 1).await?))
}

async fn connect_editorial(
    settings: &DatabaseSettings,
    statements: &StatementCounter,
    size: u32,
) -> anyhow::Result<DatabaseConnection> {
    // Writes yield the CPU to reads (`nice`), so under read load their turn for a
    // connection can come later than a read's: they wait up to the statement timeout
    // before giving up with 503, not the (shorter) acquire timeout of reads.
    let pool = PoolShape {
        size,
        acquire_timeout: settings.acquire_timeout().max(settings.statement_timeout()),
        nice: settings.db_write_nice,
        writer: true,
    };
    connect_sized(settings, statements, pool).await
}

struct PoolShape {
    size: u32,
    acquire_timeout: Duration,
    /// The CPU priority of each SQLite connection's thread (0 leaves it as is).
    nice: i32,
    /// The editorial pool: on PostgreSQL its statements never scan a whole table.
    writer: bool,
}

async fn connect_sized(
    settings: &DatabaseSettings,
    statements: &StatementCounter,
    pool: PoolShape,
) -> anyhow::Result<DatabaseConnection> {
    let nice = pool.nice;
    let url = settings.url();
    if url.starts_with("sqlite:") {
        if sqlite_path(&url).is_none() || url.contains("mode=memory") {
            // Each pooled connection would open a database of its own, empty and unseen
            // by the others (and by the change feed).
            anyhow::bail!(
                "the SQLite database must be a file (e.g. sqlite://./data/salve.db): \
                 an in-memory database is not shared between connections"
            );
        }
        sqlite_memory::install();
    }
    let sqlite_dir = sqlite_path(&url)
        .and_then(|path| Path::new(path).parent())
        .filter(|dir| !dir.as_os_str().is_empty());
    if let Some(dir) = sqlite_dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create database directory {dir:?}: {e}"))?;
    }
    let statement_timeout = settings.statement_timeout();
    let background_checkpoint = settings.background_checkpoint;
    let plan_cache_mode = settings.pg_plan_cache_mode.setting();
    let random_page_cost = settings.pg_random_page_cost;
    let cache_kib = settings.sqlite_cache_mib.saturating_mul(1024);
    // Every statement of a write looks rows up by key, but a plan made while a table was
    // small (revisions, on a new database) scans it, and the cached plan keeps scanning
    // as the table grows until autovacuum next analyzes it: in the write benchmark, each
    // write read every revision written so far. Writers take the index whatever the
    // statistics say.
    let writer = pool.writer;
    let mut options = ConnectOptions::new(url.clone());
    options
        .max_connections(pool.size)
        .min_connections(0)
        .acquire_timeout(pool.acquire_timeout)
        .connect_timeout(settings.acquire_timeout())
        .idle_timeout(Duration::from_secs(300))
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |opts: SqliteConnectOptions| {
            opts.create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(statement_timeout)
                .row_buffer_size(ROW_BUFFER)
                // A restarted log larger than this is truncated back to it. Not lower: a
                // writer extending a truncated log pays for the file system's block
                // allocation, which tripled the write p99 (44 → 130+ ms) when it was
                // 64 MiB; reusing the file costs nothing.
                .pragma("journal_size_limit", (1024 * 1024 * 1024).to_string())
                // Negative: a size in KiB, not a number of pages.
                .pragma("cache_size", format!("-{cache_kib}"))
        })
        .map_sqlx_sqlite_pool_opts(move |pool| {
            pool.after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if background_checkpoint {
                        sea_orm::sqlx::Executor::execute(
                            &mut *conn,
                            "PRAGMA wal_autocheckpoint = 0",
                        )
                        .await?;
                    }
                    let mut handle = conn.lock_handle().await?;
                    enable_query_planner_stability(handle.as_raw_handle());
                    fts5_rank::register(handle.as_raw_handle())
                        .map_err(|e| sea_orm::sqlx::Error::Configuration(e.into()))?;
                    if nice > 0 {
                        register_lower_priority(handle.as_raw_handle(), nice);
                        drop(handle);
                        // Statements run on the connection's own thread: so does this.
                        sea_orm::sqlx::Executor::execute(
                            &mut *conn,
                            "SELECT salve_lower_thread_priority()",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
        })
        .map_sqlx_postgres_opts(move |opts: PgConnectOptions| {
            let millis = statement_timeout.as_millis().to_string();
            let mut opts = opts
                .options([
                    ("statement_timeout", millis.as_str()),
                    ("plan_cache_mode", plan_cache_mode),
                ])
                .application_name("salve");
            if random_page_cost > 0.0 {
                opts = opts.options([("random_page_cost", random_page_cost.to_string())]);
            }
            // Reads keep whatever the database or role configures. Writes are short
            // statements: with sequential scans priced out, a scan of a small table (there
            // is no other plan without an index) costs enough to trigger JIT compilation,
            // which takes longer than any write.
            if writer {
                opts.options([("enable_seqscan", "off"), ("jit", "off")])
            } else {
                opts
            }
        });
    let mut db = Database::connect(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot connect to the database ({}): {e}", redact(&url)))?;
    let counter = statements.0.clone();
    let slow = Duration::from_millis(settings.db_slow_statement_ms);
    db.set_metric_callback(move |info| {
        let sql = &info.statement.sql;
        if !sql.starts_with(CHECKPOINT_PREFIX) && !sql.starts_with(BACKGROUND) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
        if !slow.is_zero() && info.elapsed >= slow {
            tracing::warn!(
                elapsed_ms = info.elapsed.as_secs_f64() * 1000.0,
                sql = %info.statement.sql,
                "slow SQL statement"
            );
        }
    });
    Ok(db)
}

/// Queues this process's writers for SQLite, which takes one writer at a time: waiting
/// here is first come, first served and holds no pooled connection, where waiting on
/// SQLite's lock would hold a connection (starving readers) and poll with growing sleeps.
/// The checkpointer takes a turn too when it restarts the log, which holds writers off.
#[derive(Clone, Default)]
pub struct WriteGate {
    turn: Arc<tokio::sync::Mutex<()>>,
    connection: Arc<std::sync::OnceLock<DatabaseConnection>>,
}

impl WriteGate {
    pub async fn turn(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.turn.lock().await
    }

    /// The connection gated write transactions run on, when one was set.
    pub fn connection(&self) -> Option<&DatabaseConnection> {
        self.connection.get()
    }

    /// Runs every gated write transaction on `db` (a pool of one connection). SQLite
    /// empties a connection's page cache whenever another connection has written since
    /// its last transaction: with writes taking turns over several connections, each
    /// started from a cold cache and read every page it touched from the file again,
    /// while every other writer waited for it.
    pub fn set_connection(&self, db: DatabaseConnection) {
        let _ = self.connection.set(db);
    }
}

/// Checkpoints SQLite's write-ahead log every `interval` from a pooled connection, for
/// pools opened with `background_checkpoint`. By default the commit that fills the log
/// runs the checkpoint — copying pages and fsyncing the database file — while every
/// queued writer waits; a PASSIVE checkpoint here runs beside readers and writers.
pub fn spawn_checkpointer(db: &DatabaseConnection, gate: WriteGate, interval: Duration) {
    if db.get_database_backend() != DbBackend::Sqlite {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_restart = std::time::Instant::now();
        loop {
            ticks.tick().await;
            if let Err(error) = checkpoint(&db, &gate, &mut last_restart).await {
                tracing::warn!(%error, "SQLite checkpoint failed");
            }
        }
    });
}

/// The background checkpointer's statements start so. They run on no request's behalf,
/// so the statement counter leaves them out (per-request counts stay exact).
/// Rows a SQLite connection's thread may hand over before the reading task takes them. At
/// sqlx's default (50) a batched include level (hundreds of rows) stopped the thread every
/// 50 rows until the task had run: two more context switches each time.
const ROW_BUFFER: usize = 1024;

const CHECKPOINT_PREFIX: &str = "PRAGMA wal_checkpoint";

/// Starts statements that background tasks run on no request's behalf, so the statement
/// counter leaves them out.
pub const BACKGROUND: &str = "/* background */ ";

/// WAL frames (4 KiB pages) past which the log is restarted: 64 MiB.
const RESTART_WAL_FRAMES: i64 = 16 * 1024;
/// Restarts stall this process's writers briefly; at most one per this interval.
const RESTART_EVERY: Duration = Duration::from_secs(5);

/// A PASSIVE checkpoint copies what it can without waiting. Under steady reads and writes
/// that is never all of the log: readers always hold a snapshot, so SQLite never gets to
/// restart the log from its beginning and the file grows without end (900 MB in a
/// 12-second write benchmark), every new frame appended further out. Past
/// [`RESTART_WAL_FRAMES`], a RESTART checkpoint copies the rest and waits for the readers
/// of old frames (20–30 ms under that benchmark; readers never wait for it), so the next
/// writer starts the log over, reusing the file. It takes a [`WriteGate`] turn: this
/// process's writers queue on the gate meanwhile instead of polling SQLite's lock.
async fn checkpoint(
    db: &DatabaseConnection,
    gate: &WriteGate,
    last_restart: &mut std::time::Instant,
) -> Result<(), sea_orm::DbErr> {
    let passive = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            format!("{CHECKPOINT_PREFIX}(PASSIVE)"),
        ))
        .await?;
    let frames: i64 = match passive {
        Some(row) => row.try_get_by_index(1)?,
        None => 0,
    };
    if frames > RESTART_WAL_FRAMES && last_restart.elapsed() >= RESTART_EVERY {
        let _turn = gate.turn().await;
        db.execute_unprepared(&format!("{CHECKPOINT_PREFIX}(RESTART)"))
            .await?;
        *last_restart = std::time::Instant::now();
    }
    Ok(())
}

/// A random secret shared by every instance on this database, created on first use.
pub async fn server_secret(db: &DatabaseConnection, name: &str) -> anyhow::Result<Vec<u8>> {
    let backend = db.get_database_backend();
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    db.execute_raw(Statement::from_sql_and_values(
        backend,
        match backend {
            DbBackend::Postgres => {
                "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING"
            }
            _ => "INSERT INTO server_secrets (name, value) VALUES (?, ?) ON CONFLICT DO NOTHING",
        },
        [name.into(), fresh.into()],
    ))
    .await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                DbBackend::Postgres => "SELECT value FROM server_secrets WHERE name = $1",
                _ => "SELECT value FROM server_secrets WHERE name = ?",
            },
            [name.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("server secret {name} missing"))?;
    let value: String = row.try_get("", "value")?;
    Ok(value.into_bytes())
}

/// Turns on SQLite's query-planner stability guarantee for a connection. Without it, the
/// bundled SQLite (built with STAT4) marks a prepared statement as expired whenever a
/// newly bound value might change its plan, so cached statements were re-parsed and
/// re-planned on almost every execution (a fifth of the CPU of include-heavy reads).
/// Our plans come from indexes, not from the bound values.
#[allow(
    unsafe_code,
    reason = "one documented FFI call; no safe binding exists"
)]
fn enable_query_planner_stability(db: std::ptr::NonNull<libsqlite3_sys::sqlite3>) {
    // SAFETY: `db` is a live connection handle held under sqlx's connection lock for the
    // duration of the call; SQLITE_DBCONFIG_ENABLE_QPSG takes an int and an optional
    // int* for the new setting, and a null pointer is allowed.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as std::ffi::c_int,
            std::ptr::null_mut::<std::ffi::c_int>(),
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        tracing::warn!(rc, "could not enable SQLite query planner stability");
    }
}

/// Registers `salve_lower_thread_priority()`, which sets the `nice` value of the thread that
/// runs it. sqlx runs each SQLite connection on a thread of its own, so running it once on
/// a connection lowers the priority of everything that connection executes: editorial
/// writes then yield the cores to storefront reads under load, instead of taking half.
#[allow(
    unsafe_code,
    reason = "FFI: registering a SQL function; no safe binding exists"
)]
fn register_lower_priority(db: std::ptr::NonNull<libsqlite3_sys::sqlite3>, nice: i32) {
    use std::ffi::{c_int, c_void};

    unsafe extern "C" fn lower_priority(
        ctx: *mut libsqlite3_sys::sqlite3_context,
        _argc: c_int,
        _argv: *mut *mut libsqlite3_sys::sqlite3_value,
    ) {
        // SAFETY: `ctx` is the live context SQLite passes to this call; its user data is
        // the nice value stored as a pointer-sized integer below, never dereferenced.
        // setpriority(PRIO_PROCESS, 0, …) changes only the calling thread on Linux.
        unsafe {
            let nice = libsqlite3_sys::sqlite3_user_data(ctx) as usize as c_int;
            let rc = libc::setpriority(libc::PRIO_PROCESS, 0, nice);
            libsqlite3_sys::sqlite3_result_int(ctx, rc);
        }
    }

    // SAFETY: `db` is a live connection handle held under sqlx's connection lock; the name
    // is a NUL-terminated static string; the function keeps no state besides the integer
    // user data, so it needs no destructor.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_create_function_v2(
            db.as_ptr(),
            c"salve_lower_thread_priority".as_ptr(),
            0,
            libsqlite3_sys::SQLITE_UTF8,
            nice as usize as *mut c_void,
            Some(lower_priority),
            None,
            None,
            None,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        tracing::warn!(rc, "could not register salve_lower_thread_priority");
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// The URL without its password, for logs and error messages.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Applies pending migrations. On PostgreSQL an advisory lock serialises instances that
/// start at the same time against one database (each migration is its own savepoint).
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    let result = if db.get_database_backend() == DbBackend::Postgres {
        // The lock is held by this transaction's connection and released at commit.
        let txn = db.begin().await?;
        txn.execute_unprepared("SELECT pg_advisory_xact_lock(1514143745)")
            .await?;
        let result = Migrator::up(&txn, None).await;
        if result.is_ok() {
            txn.commit().await?;
        }
        result
    } else {
        Migrator::up(db, None).await
    };
    result.map_err(|e| anyhow::anyhow!("migration failed: {e}"))
}

/// Ready = the database answers and every migration this binary knows is applied.
pub async fn check_ready(db: &DatabaseConnection, timeout: Duration) -> Result<()> {
    let expected = Migrator::migrations().len() as i64;
    let query = db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT COUNT(*) AS applied FROM seaql_migrations",
    ));
    let row = tokio::time::timeout(timeout, query)
        .await
        .map_err(|_| AppError::Unavailable(None))??;
    let applied: i64 = row
        .map(|row| row.try_get("", "applied"))
        .transpose()?
        .unwrap_or(0);
    if applied >= expected {
        Ok(())
    } else {
        Err(AppError::Unavailable(None))
    }
}
