//! All configuration in one typed structure, read from the command line and `SALVE_*`
//! environment variables (clap), with defaults that make a bare `salve` serve the demo.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, FromArgMatches, Parser, Subcommand, ValueEnum};

mod embed;
mod webhook;

pub use embed::EmbedSettings;
pub use webhook::WebhookSettings;

pub const DEFAULT_DATABASE_URL: &str = "sqlite://./data/salve.db";

/// Rows one batched statement of relation fields may return (`--graphql-link-row-budget`;
/// REST includes always use this).
pub const DEFAULT_LINK_ROW_BUDGET: usize = 5_000;

/// Salve: a headless content API for health publishers (REST + GraphQL over structured,
/// evidence-based content).
#[derive(Debug, Parser)]
#[command(name = "salve", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseSettings,

    #[command(flatten)]
    pub log: LogSettings,

    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once at start-up; boxing would only obscure the settings"
)]
pub enum Command {
    /// Run the HTTP API (runs pending migrations; loads the demo content into an empty
    /// database unless --no-demo).
    Serve(ServeSettings),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Import a directory of NDJSON files (PRODUCT.md §2): validated, all-or-nothing,
    /// idempotent (upsert by slug).
    Import {
        /// Directory holding `<collection>.ndjson` and `<link>.ndjson` files (any other
        /// file name is refused).
        dir: PathBuf,
        /// Validate everything and report what would change, writing nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        review: ReviewSettings,
    },
    /// Export every item and link as NDJSON files into a directory (created if missing).
    Export {
        /// Target directory; existing interchange files in it are overwritten.
        dir: PathBuf,
    },
    /// Write the generated API contracts (`openapi.json`, `schema.graphql`) into a directory.
    GenContracts {
        /// Target directory (the repository's `openapi/` by default).
        #[arg(default_value = "openapi")]
        dir: PathBuf,
    },
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Inspect webhook endpoints (register and change them through the API).
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// List endpoints: id, state, URL, events, last success and failure (never secrets).
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key and print it once; only its hash is stored.
    Create {
        /// Unique name of the key, e.g. the storefront or editor it belongs to.
        #[arg(long)]
        name: String,
        /// Comma-separated scopes: read, preview, write, publish, admin, metrics.
        #[arg(long, default_value = "read")]
        scopes: String,
        /// Refuse the key after this long, e.g. 90d, 12h or 30m (default: never).
        #[arg(long, conflicts_with = "expires_at")]
        expires_in: Option<String>,
        /// Refuse the key after this instant (RFC 3339, e.g. 2027-06-30T00:00:00Z).
        #[arg(long)]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// The key's own rate limit, e.g. 600/1m (default: its scope's, see
        /// `serve --rate-limit-*`).
        #[arg(long)]
        rate_limit: Option<String>,
    },
    /// List keys: names, scopes, status, expiry, last use (never secrets).
    List,
    /// Issue a new secret for a key and print it once; the old one keeps working for
    /// the overlap, then is refused.
    Rotate {
        name: String,
        /// How long the replaced secret stays valid: 0s to 7d.
        #[arg(long, default_value = "1h")]
        overlap: String,
    },
    /// Change a key's expiry or its own rate limit.
    Update {
        name: String,
        /// Refuse the key after this long from now, e.g. 30d.
        #[arg(long, conflicts_with_all = ["expires_at", "no_expiry"])]
        expires_in: Option<String>,
        /// Refuse the key after this instant (RFC 3339).
        #[arg(long, conflicts_with = "no_expiry")]
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// Remove the key's expiry.
        #[arg(long)]
        no_expiry: bool,
        /// The key's own rate limit, e.g. 600/1m.
        #[arg(long, conflicts_with = "scope_rate_limit")]
        rate_limit: Option<String>,
        /// Return the key to its scope's rate limit.
        #[arg(long)]
        scope_rate_limit: bool,
    },
    /// Revoke a key by name; requests with it get 401 from then on.
    Revoke { name: String },
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseSettings {
    /// Database URL: `sqlite://PATH` (embedded, the default) or `postgres://…`.
    /// DATABASE_URL is read when SALVE_DATABASE_URL is not set.
    #[arg(long, env = "SALVE_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Maximum number of pooled read connections per process [default: on PostgreSQL
    /// twice the CPU cores plus one, on SQLite 4]. On SQLite each connection keeps its own
    /// page cache (--sqlite-cache-mib).
    #[arg(long, env = "SALVE_DB_POOL_SIZE", global = true)]
    pub db_pool_size: Option<u32>,

    /// Connections `serve` keeps for editorial writes apart from the read pool, so an
    /// editor's request never queues behind storefront reads [default: 3 on SQLite, which
    /// takes one writer at a time anyway; on PostgreSQL the CPU cores, at least 2].
    #[arg(long, env = "SALVE_DB_WRITE_POOL_SIZE", global = true)]
    pub db_write_pool_size: Option<u32>,

    /// CPU priority (`nice`, 0–19) of SQLite's editorial write connections: when the cores
    /// are busy, storefront reads run first and writes take what is left (0 = equal).
    #[arg(
        long,
        env = "SALVE_DB_WRITE_NICE",
        default_value_t = 10,
        value_parser = clap::value_parser!(i32).range(0..=19),
        global = true
    )]
    pub db_write_nice: i32,

    /// SQLite: the most each connection keeps in its own page cache, in MiB (filled as
    /// pages are read; the default is SQLite's own). A page not in it is read from the
    /// file, a system call and a copy: raise it where memory allows.
    #[arg(
        long,
        env = "SALVE_SQLITE_CACHE_MIB",
        default_value_t = 2,
        value_parser = clap::value_parser!(u64).range(1..=4096),
        global = true
    )]
    pub sqlite_cache_mib: u64,

    /// How long a request waits for a pooled connection before it gets 503, in milliseconds.
    #[arg(
        long,
        env = "SALVE_DB_ACQUIRE_TIMEOUT_MS",
        default_value_t = 2000,
        global = true
    )]
    pub db_acquire_timeout_ms: u64,

    /// Longest a single SQL statement may run, in milliseconds (PostgreSQL
    /// `statement_timeout`; SQLite lock wait `busy_timeout`).
    #[arg(
        long,
        env = "SALVE_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub db_statement_timeout_ms: u64,

    /// How PostgreSQL plans the server's (always prepared) statements (`plan_cache_mode`):
    /// `generic` plans each statement once per connection; `auto`, PostgreSQL's default,
    /// re-plans on every execution whenever it guesses a custom plan is cheaper; `custom`
    /// plans every execution.
    #[arg(
        long,
        env = "SALVE_PG_PLAN_CACHE_MODE",
        value_enum,
        default_value_t = PlanCacheMode::Generic,
        global = true
    )]
    pub pg_plan_cache_mode: PlanCacheMode,

    /// PostgreSQL `random_page_cost` for the server's sessions (0 = what the database or
    /// role configures). PostgreSQL's default, 4, models disks that seek; the default here
    /// suits a content database held in memory.
    #[arg(
        long,
        env = "SALVE_PG_RANDOM_PAGE_COST",
        default_value_t = 1.1,
        global = true
    )]
    pub pg_random_page_cost: f64,

    /// Statements slower than this are logged at WARN with their SQL (ms; 0 = off).
    #[arg(
        long,
        env = "SALVE_DB_SLOW_STATEMENT_MS",
        default_value_t = 200,
        global = true
    )]
    pub db_slow_statement_ms: u64,

    /// Set by `serve`, which checkpoints SQLite's write-ahead log from a background task
    /// (so no write waits for a checkpoint's fsync); other commands leave it to SQLite.
    #[arg(skip)]
    pub background_checkpoint: bool,
}

/// PostgreSQL's `plan_cache_mode` for prepared statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanCacheMode {
    /// Let PostgreSQL choose, execution by execution (`auto`).
    Auto,
    /// One generic plan per statement and connection (`force_generic_plan`).
    Generic,
    /// Plan every execution with its parameter values (`force_custom_plan`).
    Custom,
}

impl PlanCacheMode {
    /// The value of the `plan_cache_mode` setting.
    pub fn setting(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Generic => "force_generic_plan",
            Self::Custom => "force_custom_plan",
        }
    }
}

impl DatabaseSettings {
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| {
                std::env::var("DATABASE_URL")
                    .ok()
                    .filter(|url| !url.is_empty())
            })
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned())
    }

    fn is_postgres(&self) -> bool {
        self.url().starts_with("postgres")
    }

    /// The read pool's size: as configured, else by engine. PostgreSQL's default is the
    /// usual sizing for a database's cores (twice the cores plus one): a backend runs a
    /// statement on a core, and more connections than the cores can serve only queue
    /// inside PostgreSQL, as preempted backends (likely ones holding buffer locks the
    /// others wait for). Measurements: `docs/performance.md`.
    pub fn pool_size(&self) -> u32 {
        let default = if self.is_postgres() {
            2 * cpu_cores() + 1
        } else {
            4
        };
        self.db_pool_size.unwrap_or(default).max(1)
    }

    /// The editorial write pool's size: as configured, else by engine (PostgreSQL: one
    /// per core, at least 2; see [`Self::pool_size`]).
    pub fn write_pool_size(&self) -> u32 {
        let default = if self.is_postgres() {
            cpu_cores().max(2)
        } else {
            3
        };
        self.db_write_pool_size.unwrap_or(default).max(1)
    }

    pub fn acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.db_acquire_timeout_ms.max(1))
    }

    pub fn statement_timeout(&self) -> Duration {
        Duration::from_millis(self.db_statement_timeout_ms.max(1))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Args)]
pub struct LogSettings {
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, env = "SALVE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,

    /// Log filter (tracing EnvFilter syntax), e.g. `info` or `salve=debug,sqlx=warn`.
    #[arg(
        long,
        env = "SALVE_LOG",
        default_value = "info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn",
        global = true
    )]
    pub log: String,
}

/// Whether an article may be published without a medical reviewer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MedicalReview {
    /// Publishing an article (through the API or an import) needs a medical reviewer.
    Required,
    /// Articles may be published without one; readers see `review_status: unreviewed`
    /// and JSON-LD without `reviewedBy`.
    Optional,
}

/// Medical review rules and dates, applied alike by the API and by imports.
#[derive(Debug, Clone, Copy, Args)]
pub struct ReviewSettings {
    /// Whether publishing an article needs a medical reviewer (an author with
    /// credentials).
    #[arg(
        long,
        env = "SALVE_MEDICAL_REVIEW",
        value_enum,
        default_value = "required"
    )]
    pub medical_review: MedicalReview,

    /// Days from publication (or from a recorded medical review) until an item's next medical
    /// review is due.
    #[arg(long, env = "SALVE_REVIEW_INTERVAL_DAYS", default_value_t = 365,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub review_interval_days: u32,
}

#[derive(Debug, Clone, Args)]
pub struct ServeSettings {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SALVE_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,

    /// Do not load the bundled demo content into an empty database.
    #[arg(long, env = "SALVE_NO_DEMO")]
    pub no_demo: bool,

    #[command(flatten)]
    pub review: ReviewSettings,

    /// The language of the content, as a BCP 47 tag (e.g. `en`, `en-GB`): the `inLanguage`
    /// of articles' JSON-LD.
    #[arg(long, env = "SALVE_CONTENT_LANGUAGE", default_value = "en", value_parser = language_tag)]
    pub content_language: String,

    #[command(flatten)]
    pub embed: EmbedSettings,

    #[command(flatten)]
    pub webhooks: WebhookSettings,

    /// Turn the read cache off (every read goes to the database).
    #[arg(long, env = "SALVE_NO_CACHE")]
    pub no_cache: bool,

    /// Memory the read cache may use, in MiB.
    #[arg(long, env = "SALVE_CACHE_MB", default_value_t = 40,
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub cache_mb: u32,

    /// Require an API key for every read (anonymous callers get 401).
    #[arg(long, env = "SALVE_NO_PUBLIC_READ")]
    pub no_public_read: bool,

    /// HTTP worker threads (default: one per CPU core).
    #[arg(long, env = "SALVE_WORKERS")]
    pub workers: Option<usize>,

    /// After SIGTERM/SIGINT, how long `/readyz` answers 503 while requests are still
    /// served, so load balancers stop routing here before the listener closes (ms).
    #[arg(long, env = "SALVE_SHUTDOWN_DRAIN_MS", default_value_t = 1000)]
    pub shutdown_drain_ms: u64,

    /// Requests a client without an API key may make, per address (IPv6: per /64), as
    /// `N/<window>` (e.g. 600/1m); the quota refills evenly and allows bursts up to N.
    #[arg(
        long,
        env = "SALVE_RATE_LIMIT_ANONYMOUS",
        default_value = "1000000/10s"
    )]
    pub rate_limit_anonymous: String,

    /// Requests per key with the `read`, `preview` or `metrics` scope at most, as `N/<window>`.
    #[arg(long, env = "SALVE_RATE_LIMIT_READ", default_value = "1000000/10s")]
    pub rate_limit_read: String,

    /// Requests per key with the `write` or `publish` scope, as `N/<window>`.
    #[arg(long, env = "SALVE_RATE_LIMIT_WRITE", default_value = "100000/10s")]
    pub rate_limit_write: String,

    /// Requests per key with the `admin` scope, as `N/<window>`.
    #[arg(long, env = "SALVE_RATE_LIMIT_ADMIN", default_value = "100000/10s")]
    pub rate_limit_admin: String,

    /// Callers whose rate-limit state each policy keeps in memory (the idlest are
    /// forgotten beyond it).
    #[arg(long, env = "SALVE_RATE_LIMIT_CLIENTS", default_value_t = 100_000,
          value_parser = clap::value_parser!(u64).range(1_000..=10_000_000))]
    pub rate_limit_clients: u64,

    /// Proxies (addresses or networks, comma-separated, e.g. 10.0.0.0/8) whose
    /// `X-Forwarded-For` names the client; the client is its rightmost address that is not
    /// one of them. Default: none (the peer address is the client).
    #[arg(long, env = "SALVE_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// Seconds between writes of the keys' `last_used_at` (uses are noted in memory
    /// meanwhile, and written once more at shutdown).
    #[arg(long, env = "SALVE_KEY_USAGE_INTERVAL_S", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub key_usage_interval_s: u64,

    /// Seconds in-flight requests get to finish after SIGTERM/SIGINT.
    #[arg(long, env = "SALVE_SHUTDOWN_TIMEOUT_S", default_value_t = 30)]
    pub shutdown_timeout_s: u64,

    /// `Cache-Control` of reads by callers without the preview scope (preview reads are
    /// always `private, no-store`).
    #[arg(
        long,
        env = "SALVE_CACHE_CONTROL",
        default_value = "public, max-age=60, stale-while-revalidate=300",
        value_parser = header_text
    )]
    pub cache_control: String,

    /// Origins allowed to call the API from a browser (CORS), comma-separated, or `*` for
    /// any origin. Browsers may send GET, HEAD and POST (`/graphql`), never with
    /// credentials; PATCH, PUT and DELETE are not allowed cross-origin.
    #[arg(long, env = "SALVE_CORS_ORIGINS", default_value = "*")]
    pub cors_origins: String,

    /// Longest accepted query string, in bytes (longer requests get 414).
    #[arg(long, env = "SALVE_MAX_QUERY_BYTES", default_value_t = 4096)]
    pub max_query_bytes: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SALVE_MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    #[command(flatten)]
    pub graphql: GraphqlSettings,
}

/// Limits and switches of `/graphql`. Every limit is checked before any SQL runs.
#[derive(Debug, Clone, Args)]
pub struct GraphqlSettings {
    /// Deepest selection nesting.
    #[arg(long, env = "SALVE_GRAPHQL_MAX_DEPTH", default_value_t = 10)]
    pub graphql_max_depth: usize,

    /// Highest query cost: each field costs 1, list and connection fields `first` times
    /// their children.
    #[arg(long, env = "SALVE_GRAPHQL_MAX_COMPLEXITY", default_value_t = 1000)]
    pub graphql_max_complexity: u64,

    /// Most aliased fields in a document.
    #[arg(long, env = "SALVE_GRAPHQL_MAX_ALIASES", default_value_t = 30)]
    pub graphql_max_aliases: usize,

    /// Most fields at the root of the operation.
    #[arg(long, env = "SALVE_GRAPHQL_MAX_ROOT_FIELDS", default_value_t = 20)]
    pub graphql_max_root_fields: usize,

    /// Most lexical tokens in a document.
    #[arg(long, env = "SALVE_GRAPHQL_MAX_TOKENS", default_value_t = 2000)]
    pub graphql_max_tokens: usize,

    /// Largest document in bytes (persisted documents included).
    #[arg(
        long,
        env = "SALVE_GRAPHQL_MAX_DOCUMENT_BYTES",
        default_value_t = 16_384
    )]
    pub graphql_max_document_bytes: usize,

    /// Most directives on one field.
    #[arg(long, env = "SALVE_GRAPHQL_MAX_DIRECTIVES", default_value_t = 5)]
    pub graphql_max_directives: usize,

    /// Largest `/graphql` request body in bytes (413 beyond; never buffered).
    #[arg(long, env = "SALVE_GRAPHQL_MAX_BODY_BYTES", default_value_t = 65_536)]
    pub graphql_max_body_bytes: usize,

    /// Rows one batched statement of relation fields may return: each parent's children
    /// are read whole and capped at `first` in the server, unless a level would return
    /// more rows than this (a parent with thousands of links); a second statement then
    /// numbers them in SQL. Bounds the memory of a request whatever the data.
    #[arg(long, env = "SALVE_GRAPHQL_LINK_ROW_BUDGET", default_value_t = DEFAULT_LINK_ROW_BUDGET)]
    pub graphql_link_row_budget: usize,

    /// Turn schema introspection off (the IDE then has no schema to show).
    #[arg(long, env = "SALVE_GRAPHQL_NO_INTROSPECTION")]
    pub graphql_no_introspection: bool,

    /// Run only persisted documents (allow-list mode): requests send the document's
    /// SHA-256, and only admin keys may register new documents.
    #[arg(long, env = "SALVE_GRAPHQL_PERSISTED_ONLY")]
    pub graphql_persisted_only: bool,

    /// Who may register a persisted query by sending its document with its hash:
    /// `anyone`, `keys` (callers with an API key) or `none`. Default: `anyone` while reads
    /// are public, `keys` with --no-public-read. A caller who may not register still gets
    /// the query run, as an ordinary one.
    #[arg(long, env = "SALVE_GRAPHQL_APQ_REGISTER", value_enum)]
    pub graphql_apq_register: Option<ApqRegister>,

    /// Most bytes of persisted documents kept in the database; past it the least
    /// recently used documents are dropped (clients register them again when asked).
    #[arg(long, env = "SALVE_GRAPHQL_APQ_MAX_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub graphql_apq_max_bytes: u64,
}

/// Who may register persisted queries (`--graphql-apq-register`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApqRegister {
    /// Every caller, anonymous ones included.
    Anyone,
    /// Callers with an API key.
    Keys,
    /// Nobody: only documents already stored run by hash.
    None,
}

impl Default for GraphqlSettings {
    fn default() -> Self {
        declared_defaults()
    }
}

impl ServeSettings {
    /// `serve`'s settings when the command line names no subcommand (`salve`, `cargo run`):
    /// its environment variables, else its defaults, as `salve serve` would read them.
    pub fn from_env() -> Result<Self, clap::Error> {
        #[derive(Parser)]
        #[command(name = "salve")]
        struct ServeOnly {
            #[command(flatten)]
            serve: ServeSettings,
        }
        ServeOnly::try_parse_from(["salve"]).map(|only| only.serve)
    }
}

impl Default for ServeSettings {
    fn default() -> Self {
        declared_defaults()
    }
}

/// Everything the HTTP service needs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub serve: ServeSettings,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        declared_defaults()
    }
}

/// A settings group with every flag at the default it declares (the environment is not
/// read): the one place defaults are written is the `#[arg]` attributes.
fn declared_defaults<T: Args + FromArgMatches>() -> T {
    let command = T::augment_args(clap::Command::new("salve").no_binary_name(true))
        .mut_args(|arg| arg.env(None::<&str>));
    command
        .try_get_matches_from(std::iter::empty::<String>())
        .and_then(|matches| T::from_arg_matches(&matches))
        .unwrap_or_else(|e| panic!("the declared defaults do not parse: {e}"))
}

/// A BCP 47 language tag in its common shape: a 2–3 letter language, then subtags of 1–8
/// letters or digits (`en`, `pt-BR`, `zh-Hant-TW`).
fn language_tag(value: &str) -> Result<String, String> {
    let mut parts = value.split('-');
    let language = parts.next().unwrap_or_default();
    let valid = (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_alphabetic())
        && parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?} is not a BCP 47 language tag (e.g. en, en-GB)"
        ))
    }
}

/// A value sent verbatim as an HTTP header: printable ASCII only.
fn header_text(value: &str) -> Result<String, String> {
    if value
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        Ok(value.to_owned())
    } else {
        Err("must be printable ASCII (it is sent as an HTTP header)".into())
    }
}

/// The CPU cores this process may run on (the PostgreSQL pools' defaults follow them).
fn cpu_cores() -> u32 {
    std::thread::available_parallelism()
        .map_or(2, |n| u32::try_from(n.get()).unwrap_or(u32::MAX / 4))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Default` is what the flags declare, whatever the environment holds.
    #[test]
    fn defaults_are_the_declared_ones() {
        let serve = ServeSettings::default();
        assert_eq!(serve.bind, SocketAddr::from(([127, 0, 0, 1], 8080)));
        assert_eq!(serve.cache_mb, 40);
        assert_eq!(serve.graphql.graphql_max_depth, 10);
        assert_eq!(
            serve.graphql.graphql_link_row_budget,
            DEFAULT_LINK_ROW_BUDGET
        );
        assert!(serve.graphql.graphql_apq_register.is_none());
        let database = DatabaseSettings::default();
        assert_eq!(database.db_write_nice, 10);
        assert_eq!(database.pg_plan_cache_mode, PlanCacheMode::Generic);
        assert!(database.database_url.is_none());
        assert!(!database.background_checkpoint);
        assert_eq!(serve.content_language, "en");
    }

    #[test]
    fn language_tags_have_the_common_shape() {
        for good in ["en", "en-GB", "pt-BR", "zh-Hant-TW", "haw"] {
            assert!(language_tag(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "e",
            "english",
            "en_GB",
            "en-",
            "en-GB-toolongsubtag",
            "<en>",
        ] {
            assert!(language_tag(bad).is_err(), "{bad}");
        }
    }
}
