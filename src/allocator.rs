//! The binary's memory defaults: mimalloc (the global allocator, src/main.rs) tuned for a
//! service that should stay small under a steady load, and transparent huge pages off.
//! Measured in docs/performance.md, "Where the memory goes".
//!
//! The only `unsafe` of the workspace is here: two calls into mimalloc's C library, which
//! has no safe binding for its options. (Its arena's eager commit was measured too and left as
//! it is: with huge pages off it changes no figure.) Audit: `mi_option_get` and `mi_option_set` take an
//! option's number and a plain integer, touch no Rust memory, and are thread-safe (an
//! atomic store); mimalloc reads an option when it next needs it, so setting one while the
//! allocator is in use is what mimalloc's own documentation describes.

use std::ffi::c_long;

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// mimalloc v3's number for its purge delay (`mi_option_e` in its mimalloc.h; the Rust binding
/// names only the older options). A test reads it back after setting it through mimalloc's
/// own variable, so a renumbering fails the suite instead of tuning another option.
const PURGE_DELAY: mi_option_t = 15;

/// How long mimalloc keeps a freed page before it returns it to the system. Its default, 1 s,
/// kept 5 MB more at the peak of a 10 s load of 16 connections (71–72 MB against 76–77 MB,
/// docs/performance.md); 10 ms (mimalloc v2's default) returns them between bursts without an
/// `madvise` call for every free.
const PURGE_DELAY_MS: c_long = 10;

/// The variables by which an operator sets the delay (mimalloc's name and the older one it
/// still reads); either wins over this binary's default.
const PURGE_DELAY_VARIABLES: [&str; 2] = ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"];

/// Sets the binary's defaults; called first thing in `main`. An operator's `MIMALLOC_*`
/// variable still wins (mimalloc read it when the process started).
pub fn tune() {
    no_transparent_huge_pages();
    if PURGE_DELAY_VARIABLES
        .iter()
        .all(|name| std::env::var_os(name).is_none())
    {
        set(PURGE_DELAY, PURGE_DELAY_MS);
    }
}

/// What the allocator runs with, for `serve`'s start-up log.
#[must_use]
pub fn describe() -> String {
    format!(
        "allocator: freed pages returned after {} ms",
        get(PURGE_DELAY)
    )
}

#[allow(unsafe_code)]
fn set(option: mi_option_t, value: c_long) {
    // SAFETY: see the module's audit; an integer option, no pointer crosses.
    unsafe { mi_option_set(option, value) }
}

#[allow(unsafe_code)]
fn get(option: mi_option_t) -> c_long {
    // SAFETY: see the module's audit; reads an integer option.
    unsafe { mi_option_get(option) }
}

/// mimalloc reserves its heap as one 1 GiB region, and Linux backs it with transparent huge
/// pages when asked to (mimalloc asks unless built `no_thp`) or when the system's setting is
/// `always`: each 2 MiB page the heap touches is then resident whole. An idle `serve` held
/// 45 MB of such pages for 3 MB of heap. Turned off for the whole process (the flag is the
/// process's and covers pages not touched yet). A kernel without the flag changes nothing.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
}
