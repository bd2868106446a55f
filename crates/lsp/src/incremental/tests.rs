use super::*;

const EXAMPLES: &[&str] = &[
    include_str!("../../../../scenarios/order_lookup.scn"),
    include_str!("../../../../scenarios/bilingual.scn"),
    include_str!("../../../../scenarios/email_capture.scn"),
    include_str!("../../../../scenarios/after_hours.scn"),
];

/// Snippets typed into steps: whole statements, half-typed ones, strings, comments, braces,
/// multibyte characters.
const SNIPPETS: &[&str] = &[
    "say \"héllo 😀\"\n",
    "goto ",
    "\"",
    "{",
    "}",
    "# a comment\n",
    "set x = 1\n",
    "é",
    "\"\"\"\nmore\n\"\"\"",
    "if contact.vip is set {\n say \"v\"\n}\n",
    "x",
    "\n",
    "\n  step typed {\n    end\n  }\n",
    "start ",
    "step",
];

/// A small deterministic generator (xorshift), so a failure replays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}

fn boundary(text: &str, mut at: usize) -> usize {
    at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn assert_same(incremental: &Parsed, full: &Parsed, text: &str) {
    assert_eq!(
        incremental.scenario, full.scenario,
        "scenario differs for:\n{text}"
    );
    assert_eq!(incremental.flows, full.flows, "flows differ for:\n{text}");
    assert_eq!(
        incremental.comments, full.comments,
        "comments differ for:\n{text}"
    );
    assert_eq!(
        incremental.diagnostics, full.diagnostics,
        "findings differ for:\n{text}"
    );
}

#[test]
fn an_edit_parsed_alone_parses_as_the_whole_file_does() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut fast = 0;
    for example in EXAMPLES {
        let mut text = (*example).to_owned();
        let mut parsed = syntax::parse(&SourceFile::new("t.scn", text.clone())).unwrap();
        for _ in 0..300 {
            let at = boundary(&text, rng.below(text.len()));
            let mut next = text.clone();
            if rng.below(3) == 0 {
                let end = boundary(&text, at + rng.below(12));
                next.replace_range(at..end, "");
            } else {
                next.insert_str(at, SNIPPETS[rng.below(SNIPPETS.len())]);
            }
            let file = SourceFile::new("t.scn", next.clone());
            let full = syntax::parse(&file);
            if let Some(incremental) = reparse(&text, &parsed, &file) {
                fast += 1;
                let full = full
                    .as_ref()
                    .expect("the fast path parsed what the full parse refuses");
                assert_same(&incremental, full, &next);
            }
            // Go on from texts that parse, as an editor's last good parse does.
            if let Ok(full) = full {
                text = next;
                parsed = full;
            }
        }
    }
    assert!(fast > 300, "the fast path was taken only {fast} times");
}

#[test]
fn a_step_typed_between_two_steps_is_parsed_alone() {
    let text = EXAMPLES[0];
    let parsed = syntax::parse(&SourceFile::new("t.scn", text)).unwrap();
    let at = text.find("\n  step not_found").unwrap();
    let mut next = text.to_owned();
    next.insert_str(at, "\n  # between\n  step typed {\n    goto handoff\n  }\n");
    let file = SourceFile::new("t.scn", next.clone());
    let incremental = reparse(text, &parsed, &file).expect("the fast path");
    assert_same(&incremental, &syntax::parse(&file).unwrap(), &next);
}

#[test]
fn an_edit_in_a_header_takes_the_full_parse() {
    let text = EXAMPLES[0];
    let parsed = syntax::parse(&SourceFile::new("t.scn", text)).unwrap();
    let next = text.replacen("scenario order_lookup", "scenario order_lookups", 1);
    assert!(reparse(text, &parsed, &SourceFile::new("t.scn", next)).is_none());
}
