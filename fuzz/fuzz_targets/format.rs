//! parse → fmt → parse: whatever parses formats to text that parses to the same tree, and
//! formatting that text again changes nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scenarist::ast::erase_spans;
use scenarist::source::SourceFile;
use scenarist::syntax::parse;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let file = SourceFile::new("fuzz.scn", text);
    let Ok(parsed) = parse(&file) else { return };
    let formatted = scenarist::fmt::format(&parsed, &file);
    let again_file = SourceFile::new("fuzz.scn", formatted.clone());
    let again = parse(&again_file).expect("formatted output parses");
    assert_eq!(scenarist::fmt::format(&again, &again_file), formatted, "not idempotent");
    let (mut before, mut after) = (parsed.scenario, again.scenario);
    erase_spans(&mut before);
    erase_spans(&mut after);
    assert_eq!(before, after, "formatting changed the tree");
});
