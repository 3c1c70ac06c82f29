use std::process::ExitCode;

use clap::Parser;

// glibc's malloc took a third of the server's CPU time serving nested includes (many
// small JSON values built and freed per request, its fastbin consolidation on every
// larger block); mimalloc's per-thread free lists make that work a fraction of it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    salve::cli::run(salve::config::Cli::parse()).await
}
