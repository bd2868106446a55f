use std::process::ExitCode;

// mimalloc: the runtime allocates small records on several threads at once, where glibc's
// malloc contends on its arena locks (measured: ~15 % of the runtime benchmark's CPU). Its
// defaults for this binary are in src/allocator.rs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    scenarist::allocator::tune();
    scenarist::cli::main()
}
