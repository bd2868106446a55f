use std::process::ExitCode;

fn main() -> ExitCode {
    scenarist::cli::main()
}
