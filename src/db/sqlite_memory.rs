//! SQLite's memory allocator: mimalloc, as for the Rust side.
//!
//! SQLite allocates for every value a row hands over (sqlx copies each one) through
//! `sqlite3_malloc`, by default the C library's `malloc`. Serving nested includes, glibc's
//! malloc (and its fastbin consolidation) still took about 14 % of the server's CPU time
//! after the Rust side had moved to mimalloc. (Memory statistics, which would add a global
//! mutex per allocation, are compiled out: see `.cargo/config.toml`.)

use std::ffi::{c_int, c_void};
use std::sync::Once;

use libmimalloc_sys as mi;
use libsqlite3_sys as ffi;

/// Installs the allocator once per process, before the first connection opens. SQLite
/// accepts it only before it initializes: if something opened a SQLite database earlier
/// in this process, its default allocator stays (a debug message says so).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(configure);
}

#[allow(
    unsafe_code,
    reason = "FFI: sqlite3_config has no safe binding; it runs once, before SQLite initializes"
)]
fn configure() {
    let methods = ffi::sqlite3_mem_methods {
        xMalloc: Some(malloc),
        xFree: Some(free),
        xRealloc: Some(realloc),
        xSize: Some(size),
        xRoundup: Some(roundup),
        xInit: Some(init),
        xShutdown: Some(shutdown),
        pAppData: std::ptr::null_mut(),
    };
    // SAFETY: SQLITE_CONFIG_MALLOC is documented for use before sqlite3_initialize
    // (SQLite refuses it with SQLITE_MISUSE after it, changing nothing), and copies the
    // methods struct during the call.
    let rc = unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MALLOC, &raw const methods) };
    if rc != ffi::SQLITE_OK {
        tracing::debug!(
            rc,
            "SQLite was initialized already: it keeps its default allocator"
        );
    }
}

fn to_size(n: c_int) -> usize {
    usize::try_from(n).unwrap_or(0)
}

#[allow(unsafe_code, reason = "SQLite's allocator callbacks are C functions")]
unsafe extern "C" fn malloc(n: c_int) -> *mut c_void {
    // SAFETY: mi_malloc accepts any size; SQLite never asks for 0 or negative sizes,
    // and a null result is SQLite's out-of-memory signal.
    unsafe { mi::mi_malloc(to_size(n)) }
}

#[allow(unsafe_code, reason = "SQLite's allocator callbacks are C functions")]
unsafe extern "C" fn free(p: *mut c_void) {
    // SAFETY: SQLite frees only what `malloc` or `realloc` above returned.
    unsafe { mi::mi_free(p) }
}

#[allow(unsafe_code, reason = "SQLite's allocator callbacks are C functions")]
unsafe extern "C" fn realloc(p: *mut c_void, n: c_int) -> *mut c_void {
    // SAFETY: `p` came from `malloc`/`realloc` above (SQLite never passes null here).
    unsafe { mi::mi_realloc(p, to_size(n)) }
}

#[allow(unsafe_code, reason = "SQLite's allocator callbacks are C functions")]
unsafe extern "C" fn size(p: *mut c_void) -> c_int {
    // SAFETY: `p` is null or a live block from `malloc`/`realloc` above.
    let usable = unsafe { mi::mi_usable_size(p) };
    c_int::try_from(usable).unwrap_or(c_int::MAX)
}

#[allow(unsafe_code, reason = "SQLite's allocator callbacks are C functions")]
unsafe extern "C" fn roundup(n: c_int) -> c_int {
    // SAFETY: a pure function of its argument.
    let good = unsafe { mi::mi_good_size(to_size(n)) };
    c_int::try_from(good).unwrap_or(n)
}

#[allow(unsafe_code, reason = "SQLite's allocator callbacks are C functions")]
unsafe extern "C" fn init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

#[allow(unsafe_code, reason = "SQLite's allocator callbacks are C functions")]
unsafe extern "C" fn shutdown(_: *mut c_void) {}
