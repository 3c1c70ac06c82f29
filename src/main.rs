use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    salve::cli::run(salve::config::Cli::parse()).await
}
