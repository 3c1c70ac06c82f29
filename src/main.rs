use std::process::ExitCode;

use clap::Parser;

// glibc's malloc took a third of the server's CPU time serving nested includes (many
// small JSON values built and freed per request, its fastbin consolidation on every
// larger block); mimalloc's per-thread free lists make that work a fraction of it.
// Built without transparent huge pages (`no_thp`): with them, the server's resident
// memory under load doubled (54 -> 120 MB with the cache off).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mi_option_t` (libmimalloc-sys, pinned by
/// Cargo.lock, does not name it).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Returns freed memory to the OS 10 ms after it is freed, not mimalloc 3's 1 s: under load
/// the long delay kept ~10 MB more resident (the cache-on peak went past 150 MB) for no
/// measurable CPU saving, while purging at once (0) cost ~15 % more CPU on large responses.
#[allow(
    unsafe_code,
    reason = "FFI: setting a mimalloc option; no safe binding exists"
)]
fn return_freed_memory_promptly() {
    // SAFETY: mi_option_set stores an option value; any delay in ms is valid.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 10) }
}

#[tokio::main]
async fn main() -> ExitCode {
    return_freed_memory_promptly();
    salve::cli::run(salve::config::Cli::parse()).await
}
