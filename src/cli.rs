//! The `salve` command line: serve, migrate, import, export, keys.

use std::process::ExitCode;

use crate::config::{
    Cli, Command, DatabaseSettings, KeysCommand, ServeSettings, Settings, WebhooksCommand,
};
use crate::domain::Scopes;
use crate::domain::key_lifetime::{Overlap, Span};
use crate::domain::rate_limit::RateQuota;
use crate::service::interchange::{self, DirSource, ImportError, ImportMode};
use crate::service::keys;
use crate::startup::Application;

pub async fn run(cli: Cli) -> ExitCode {
    crate::telemetry::init(&cli.log);
    let command = match cli.command {
        Some(command) => command,
        None => match ServeSettings::from_env() {
            Ok(serve) => Command::Serve(serve),
            // An invalid SALVE_* value: clap's message and exit status, as for `serve`.
            Err(error) => error.exit(),
        },
    };
    match execute(cli.database, command).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(database: DatabaseSettings, command: Command) -> anyhow::Result<ExitCode> {
    if let Command::Serve(serve) = command {
        let app = Application::build(Settings { database, serve }).await?;
        app.run_until_stopped().await?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::GenContracts { dir } = &command {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("openapi.json");
        std::fs::write(&path, crate::api::openapi::document_json())?;
        eprintln!("wrote {}", path.display());
        let path = dir.join("schema.graphql");
        std::fs::write(&path, crate::api::graphql::sdl())?;
        eprintln!("wrote {}", path.display());
        return Ok(ExitCode::SUCCESS);
    }
    let db = crate::db::connect(&database, &crate::db::StatementCounter::default()).await?;
    crate::db::migrate(&db).await?;
    crate::service::renditions::refresh(&db).await?;
    crate::service::references_store::refresh(&db).await?;
    match command {
        Command::Serve(_) | Command::GenContracts { .. } | Command::Migrate => {
            eprintln!("migrations are up to date");
        }
        Command::Import {
            dir,
            dry_run,
            review,
        } => {
            if !dir.is_dir() {
                anyhow::bail!("{} is not a directory", dir.display());
            }
            let mode = if dry_run {
                ImportMode::DryRun
            } else {
                ImportMode::Commit
            };
            match interchange::import(&db, &DirSource(dir), mode, review).await {
                Ok(report) => {
                    let changed: u64 = report.files.iter().map(|f| f.changed).sum();
                    if changed > 0 && !dry_run {
                        let files: Vec<serde_json::Value> = report
                            .files
                            .iter()
                            .map(|f| serde_json::json!({ "file": f.file, "rows": f.rows, "changed": f.changed }))
                            .collect();
                        cli_audit(&db, "import", None, serde_json::json!({ "files": files }))
                            .await?;
                    }
                    let verb = if dry_run { "would change" } else { "changed" };
                    for file in report.files {
                        eprintln!(
                            "{}: {} rows, {} {verb} ({:.2} s)",
                            file.file,
                            file.rows,
                            file.changed,
                            file.elapsed.as_secs_f64()
                        );
                    }
                    if dry_run {
                        eprintln!("dry run: {changed} row(s) would change; nothing was written");
                    }
                }
                Err(ImportError::Rows(errors)) => {
                    for error in &errors {
                        eprintln!("{error}");
                    }
                    eprintln!("import failed: nothing was written");
                    return Ok(ExitCode::FAILURE);
                }
                Err(other) => return Err(other.into()),
            }
        }
        Command::Export { dir } => {
            for (file, rows) in interchange::export(&db, &dir).await? {
                eprintln!("{file}: {rows} rows");
            }
        }
        Command::Keys(command) => keys_command(&db, command).await?,
        Command::Webhooks(WebhooksCommand::List) => {
            let policy = crate::domain::webhook::UrlPolicy::default();
            let admin = crate::service::webhooks::WebhookAdmin::cli(&db, policy);
            print_webhooks(&admin.list().await?);
        }
    }
    db.close().await?;
    Ok(ExitCode::SUCCESS)
}

/// `salve keys …`: the same key administration the API offers, recorded as the CLI's.
async fn keys_command(
    db: &sea_orm::DatabaseConnection,
    command: KeysCommand,
) -> anyhow::Result<()> {
    keys_change(db, command).await.map_err(|error| match error {
        KeysError::App(crate::error::AppError::Validation(errors)) => anyhow::anyhow!(
            "{}",
            errors
                .iter()
                .map(|e| e.detail.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        ),
        KeysError::App(other) => other.into(),
        KeysError::Usage(message) => anyhow::anyhow!(message),
    })
}

/// Why a `salve keys` command failed: the service's error, or the command line's.
enum KeysError {
    App(crate::error::AppError),
    Usage(String),
}

impl From<crate::error::AppError> for KeysError {
    fn from(error: crate::error::AppError) -> Self {
        Self::App(error)
    }
}

async fn keys_change(
    db: &sea_orm::DatabaseConnection,
    command: KeysCommand,
) -> Result<(), KeysError> {
    let usage = keys::KeyUsage::default();
    let admin = keys::KeyAdmin::cli(db, &usage);
    match command {
        KeysCommand::Create {
            name,
            scopes,
            expires_in,
            expires_at,
            rate_limit,
        } => {
            let rate_limit = rate_limit
                .map(|text| RateQuota::parse(&text))
                .transpose()
                .map_err(|e| KeysError::Usage(format!("--rate-limit: {e}")))?;
            let scopes = Scopes::parse_list(&scopes).map_err(KeysError::Usage)?;
            let expires_at = match expires_in {
                Some(span) => Some(
                    Span::parse(&span)
                        .map_err(|e| KeysError::Usage(format!("--expires-in: {e}")))?
                        .after(chrono::Utc::now()),
                ),
                None => expires_at,
            };
            let key = admin.create(&name, &scopes, expires_at, rate_limit).await?;
            let until = key
                .info
                .expires_at
                .map(|t| format!(" until {}", t.to_rfc3339()));
            eprintln!(
                "created key {:?} with scopes {}{}; it is shown only once:",
                key.info.name,
                key.info.scopes.join(","),
                until.unwrap_or_default()
            );
            println!("{}", key.secret);
        }
        KeysCommand::List => print_keys(&admin.list().await?),
        KeysCommand::Update {
            name,
            expires_in,
            expires_at,
            no_expiry,
            rate_limit,
            scope_rate_limit,
        } => {
            let expires_at = match (expires_in, expires_at, no_expiry) {
                (Some(span), _, _) => Some(Some(
                    Span::parse(&span)
                        .map_err(|e| KeysError::Usage(format!("--expires-in: {e}")))?
                        .after(chrono::Utc::now()),
                )),
                (None, Some(at), _) => Some(Some(at)),
                (None, None, true) => Some(None),
                (None, None, false) => None,
            };
            let rate_limit = match (rate_limit, scope_rate_limit) {
                (Some(text), _) => {
                    Some(Some(RateQuota::parse(&text).map_err(|e| {
                        KeysError::Usage(format!("--rate-limit: {e}"))
                    })?))
                }
                (None, true) => Some(None),
                (None, false) => None,
            };
            let change = keys::KeyChange {
                expires_at,
                rate_limit,
            };
            let key = admin.update(&name, &change).await?;
            eprintln!(
                "updated key {name:?}: expires {}, rate limit {}",
                key.expires_at
                    .map_or_else(|| "never".to_owned(), |t| t.to_rfc3339()),
                key.rate_limit.as_deref().unwrap_or("its scope's")
            );
        }
        KeysCommand::Rotate { name, overlap } => {
            let overlap = Span::parse(&overlap)
                .and_then(|span| Overlap::from_seconds(span.seconds()))
                .map_err(|e| KeysError::Usage(format!("--overlap: {e}")))?;
            let key = admin.rotate(&name, overlap).await?;
            eprintln!(
                "rotated key {name:?}; the previous secret works until {}; the new one is \
                 shown only once:",
                key.info
                    .previous_secret_expires_at
                    .map_or_else(|| "now".to_owned(), |t| t.to_rfc3339())
            );
            println!("{}", key.secret);
        }
        KeysCommand::Revoke { name } => {
            admin.revoke(&name).await?;
            eprintln!("revoked key {name:?}");
        }
    }
    Ok(())
}

fn print_keys(keys: &[keys::KeyInfo]) {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339())
    };
    println!(
        "{:<24} {:<18} {:<32} {:<8} {:<26} {:<26} {:<26} rate limit",
        "name", "prefix", "scopes", "status", "created", "expires", "last used"
    );
    for key in keys {
        println!(
            "{:<24} {:<18} {:<32} {:<8} {:<26} {:<26} {:<26} {}",
            key.name,
            key.prefix,
            key.scopes.join(","),
            key.status,
            key.created_at.to_rfc3339(),
            time(key.expires_at),
            time(key.last_used_at),
            key.rate_limit.as_deref().unwrap_or("-"),
        );
    }
}

fn print_webhooks(endpoints: &[crate::service::webhooks::EndpointInfo]) {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(|| "-".to_owned(), |t| t.to_rfc3339())
    };
    println!(
        "{:<36} {:<8} {:<26} {:<26} {:<40} events",
        "id", "state", "last success", "last failure", "url"
    );
    for endpoint in endpoints {
        let state = if endpoint.enabled {
            "enabled"
        } else {
            "disabled"
        };
        println!(
            "{:<36} {:<8} {:<26} {:<26} {:<40} {}",
            endpoint.id,
            state,
            time(endpoint.last_success_at),
            time(endpoint.last_failure_at),
            endpoint.url,
            endpoint.events.join(","),
        );
        if let Some(reason) = &endpoint.disabled_reason {
            println!("    disabled: {reason}");
        }
    }
}

/// An audit entry for a change made from the command line (no API key: `actor` is null).
async fn cli_audit(
    db: &sea_orm::DatabaseConnection,
    action: &str,
    subject: Option<&str>,
    mut detail: serde_json::Value,
) -> anyhow::Result<()> {
    detail["via"] = serde_json::json!("cli");
    crate::service::editing::audit::record_raw(db, None, None, action, None, None, subject, detail)
        .await?;
    Ok(())
}
