//! Gives freed heap memory back to the operating system.
//!
//! glibc's allocator keeps memory a thread frees in that thread's arena for reuse and
//! returns only the top of the main heap. A server whose read cache evicts and refills
//! entries of many sizes from several threads would keep its peak footprint forever; a
//! periodic `malloc_trim` releases the free pages (of every arena) instead.

use std::time::Duration;

/// Starts a background thread trimming the heap every `interval` (never when zero, or
/// with an allocator other than glibc's).
pub fn spawn_trimmer(interval: Duration) {
    if interval.is_zero() || !cfg!(all(target_os = "linux", target_env = "gnu")) {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("memory-trim".into())
        .spawn(move || {
            loop {
                std::thread::sleep(interval);
                trim();
            }
        });
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot start the memory trimmer");
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() {
    // SAFETY: malloc_trim takes no pointers and synchronizes with other threads through
    // glibc's own arena locks; it may be called from any thread at any time.
    unsafe {
        libc::malloc_trim(128 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}
