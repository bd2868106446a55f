//! The `scenarist` command on the system allocator instead of mimalloc, for heap profilers
//! that hook `malloc` (heaptrack, valgrind): mimalloc is linked in and bypasses them.
//! `cargo build --release --example serve_system_alloc`, then e.g.
//! `heaptrack target/release/examples/serve_system_alloc serve --data DIR` under load
//! (docs/performance.md, "Under a sustained load").

use std::process::ExitCode;

fn main() -> ExitCode {
    scenarist::cli::main()
}
