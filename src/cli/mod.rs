//! (stub)
#![expect(clippy::print_stdout, clippy::print_stderr, reason = "the CLI prints")]
use std::process::ExitCode;

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = args.get(1) else {
        return ExitCode::from(2);
    };
    let bytes = std::fs::read(path).unwrap_or_default();
    let (file, problem) = crate::syntax::read_source(path, bytes);
    if let Some(d) = problem {
        print!("{}", crate::diagnostic::render::render(&file, &d, false));
        return ExitCode::from(1);
    }
    match crate::syntax::parse(&file) {
        Ok(parsed) => {
            println!("{:#?}", parsed.scenario);
            ExitCode::SUCCESS
        }
        Err(d) => {
            print!("{}", crate::diagnostic::render::render(&file, &d, false));
            ExitCode::from(1)
        }
    }
}
