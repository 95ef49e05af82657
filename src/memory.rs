//! Giving freed memory back to the system.
//!
//! glibc's allocator keeps the pages of freed blocks for reuse, and returns on its own only
//! blocks large enough to have been mapped alone. The CSV engine's chunks are small (a few
//! thousand rows each): once a file's rows are copied into one chunk per column, the freed
//! chunks stayed resident beside the copy for the rest of the run, and the next stage's peak
//! added to them. Measured at 3M households (messy), the end of the roster read held 4.4 GB
//! resident for 3.2 GB in use; one `malloc_trim` gave 1.15 GB back. A release walks the whole
//! heap (10–100 ms measured at 1M and 3M households), so it is called only after a large
//! file's read and between the batches of a large copy (`frame::rows`).

/// Returns the free pages the allocator holds to the system (glibc on Linux; elsewhere the
/// allocator is left to do its own).
pub fn release_freed() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks glibc's own arenas, under their locks; any thread may
    // call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
