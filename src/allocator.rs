//! The binary's memory defaults: mimalloc (the global allocator, src/main.rs) tuned for a
//! service that should stay small under a steady load, and transparent huge pages off.
//! Measured in docs/performance.md, "Where the memory goes".
//!
//! The only `unsafe` of the workspace is here: two calls into mimalloc's C library, which
//! has no safe binding for its options. Audit: `mi_option_get` and `mi_option_set` take an
//! option's number and a plain integer, touch no Rust memory, and are thread-safe (an
//! atomic store); mimalloc reads an option when it next needs it, so setting one while the
//! allocator is in use is what mimalloc's own documentation describes.

use std::ffi::c_long;

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// mimalloc v3's option numbers (`mi_option_e` in its mimalloc.h; the Rust binding names only
/// the older ones). A test reads them back after setting them through mimalloc's own
/// environment variables, so a renumbering fails the suite instead of tuning another option.
const ARENA_EAGER_COMMIT: mi_option_t = 4;
const PURGE_DELAY: mi_option_t = 15;

/// How long mimalloc keeps a freed page before it returns it to the system. Its default (1 s)
/// kept 10–30 MB of freed pages resident under load; 10 ms (mimalloc v2's default) returns
/// them between bursts without an `madvise` call for every free.
const PURGE_DELAY_MS: c_long = 10;

/// One option the binary sets unless the environment sets it (mimalloc's names, and the
/// older name it still reads).
struct Default {
    option: mi_option_t,
    value: c_long,
    variables: [&'static str; 2],
}

const DEFAULTS: [Default; 2] = [
    Default {
        option: PURGE_DELAY,
        value: PURGE_DELAY_MS,
        variables: ["MIMALLOC_PURGE_DELAY", "MIMALLOC_RESET_DELAY"],
    },
    // Its arena (1 GiB of address space) committed as pages are used, not at once: an idle
    // `serve` or a one-step `lint` held 4.5 MB of committed, untouched arena.
    Default {
        option: ARENA_EAGER_COMMIT,
        value: 0,
        variables: [
            "MIMALLOC_ARENA_EAGER_COMMIT",
            "MIMALLOC_EAGER_REGION_COMMIT",
        ],
    },
];

/// Sets the binary's defaults; called first thing in `main`. An operator's `MIMALLOC_*`
/// variable still wins (mimalloc read it when the process started).
pub fn tune() {
    no_transparent_huge_pages();
    for default in &DEFAULTS {
        if default
            .variables
            .iter()
            .all(|name| std::env::var_os(name).is_none())
        {
            set(default.option, default.value);
        }
    }
}

/// What the allocator runs with, for `serve`'s start-up log.
#[must_use]
pub fn describe() -> String {
    format!(
        "allocator: freed pages returned after {} ms, arena committed {}",
        get(PURGE_DELAY),
        if get(ARENA_EAGER_COMMIT) == 0 {
            "as used"
        } else {
            "eagerly"
        }
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
