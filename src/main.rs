use std::process::ExitCode;

// mimalloc: the runtime allocates small records on several threads at once, where glibc's
// malloc contends on its arena locks (measured: ~15 % of the runtime benchmark's CPU).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    no_transparent_huge_pages();
    scenarist::cli::main()
}

/// mimalloc reserves its heap as one 1 GiB region, and Linux backs it with transparent huge
/// pages when asked to (mimalloc asks unless built `no_thp`) or when the system's setting is
/// `always`: each 2 MiB page the heap touches is then resident whole. An idle `serve` held
/// 45 MB of such pages for 3 MB of heap (docs/performance.md, "Start-up and memory"). Turned
/// off for the whole process (the flag is the process's and covers pages not touched yet).
/// CPU per message moved by −8 % to +19 % in A/B runs (this machine's noise, or the cost of
/// small pages). A kernel without the flag changes nothing.
fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        let _ = rustix::thread::disable_transparent_huge_pages(true);
    }
}
