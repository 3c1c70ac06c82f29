//! The `salve` command line: serve, migrate, import, export, keys.

use std::process::ExitCode;

use crate::config::{Cli, Command, DatabaseSettings, KeysCommand, ServeSettings, Settings};
use crate::domain::Scopes;
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
    match command {
        Command::Serve(_) | Command::GenContracts { .. } | Command::Migrate => {
            eprintln!("migrations are up to date");
        }
        Command::Import { dir, dry_run } => {
            if !dir.is_dir() {
                anyhow::bail!("{} is not a directory", dir.display());
            }
            let mode = if dry_run {
                ImportMode::DryRun
            } else {
                ImportMode::Commit
            };
            match interchange::import(&db, &DirSource(dir), mode).await {
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
        Command::Keys(KeysCommand::Create { name, scopes }) => {
            let scopes = Scopes::parse_list(&scopes).map_err(anyhow::Error::msg)?;
            let key = keys::create(&db, &name, &scopes).await?;
            let detail = serde_json::json!({ "scopes": key.info.scopes });
            cli_audit(&db, "key.create", Some(&name), detail).await?;
            eprintln!(
                "created key {:?} with scopes {}; it is shown only once:",
                key.info.name,
                key.info.scopes.join(",")
            );
            println!("{}", key.secret);
        }
        Command::Keys(KeysCommand::List) => {
            println!(
                "{:<24} {:<18} {:<32} {:<26} revoked",
                "name", "prefix", "scopes", "created"
            );
            for key in keys::list(&db).await? {
                println!(
                    "{:<24} {:<18} {:<32} {:<26} {}",
                    key.name,
                    key.prefix,
                    key.scopes.join(","),
                    key.created_at.to_rfc3339(),
                    key.revoked_at
                        .map(|t| t.to_rfc3339())
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
        Command::Keys(KeysCommand::Revoke { name }) => {
            keys::revoke(&db, &name).await?;
            cli_audit(&db, "key.revoke", Some(&name), serde_json::json!({})).await?;
            eprintln!("revoked key {name:?}");
        }
    }
    db.close().await?;
    Ok(ExitCode::SUCCESS)
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
