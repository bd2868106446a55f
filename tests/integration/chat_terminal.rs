//! `chat` on a terminal, driven in a pseudo-terminal as a person would: the prompt is shown
//! once while a line is typed slowly (the idle tick used to print it again every second:
//! `you> you> you> Ada`), a timeout that falls due meanwhile is still printed — above the line
//! being typed, which stays as it was — and the arrow keys recall earlier lines. What is
//! asserted is the screen, as a terminal draws the program's output (vt100).

use std::process::Command;

use crate::support::{root, tempdir};

const SCENARIO: &str = r#"scenario slow {
  start ask_name

  step ask_name {
    ask "What is your name?" {
      save name
      timeout 3s then goto nudge
    }
    say "Nice to meet you, {name}."
    end
  }

  step nudge {
    say "Are you still there?"
    end
  }
}
"#;

struct Terminal {
    session: rexpect::session::PtySession,
    /// Everything the program wrote, escapes included.
    output: String,
}

impl Terminal {
    /// Waits for `needle` in the output.
    fn expect(&mut self, needle: &str) {
        let before = self
            .session
            .exp_string(needle)
            .unwrap_or_else(|e| panic!("waiting for {needle:?}: {e}\nso far: {:?}", self.output));
        self.output.push_str(&before);
        self.output.push_str(needle);
    }

    fn send(&mut self, keys: &str) {
        self.session.send(keys).unwrap();
        self.session.flush().unwrap();
    }

    /// The screen's rows, as a terminal shows the output so far.
    fn screen(&self) -> Vec<String> {
        let mut parser = vt100::Parser::new(
            std::num::NonZero::new(200).unwrap(),
            std::num::NonZero::new(80).unwrap(),
            0,
        );
        parser.process(self.output.as_bytes());
        parser
            .screen()
            .contents()
            .lines()
            .map(|l| l.trim_end().to_owned())
            .collect()
    }
}

#[test]
fn a_line_typed_slowly_keeps_one_prompt_and_a_timeout_still_arrives() {
    let dir = tempdir();
    let scenario = dir.join("slow.scn");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_scenarist"));
    command
        .arg("chat")
        .arg("--data")
        .arg(dir.join("data"))
        .arg(&scenario)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env_remove("SCENARIST_CONFIG");
    let options = rexpect::reader::Options::new()
        .timeout_ms(Some(30_000))
        .strip_ansi_escape_codes(false);
    let session = rexpect::session::spawn_with_options(command, options).unwrap();
    let mut terminal = Terminal {
        session,
        output: String::new(),
    };
    terminal.expect("you> ");
    terminal.send("hi\r");
    terminal.expect("What is your name?");
    terminal.expect("you> ");
    // Slower than the one-second tick: the prompt must not come back while typing.
    for key in ["A", "d", "a"] {
        std::thread::sleep(std::time::Duration::from_millis(900));
        terminal.send(key);
    }
    terminal.expect("Are you still there?");
    terminal.send("\r");
    // The conversation had ended: "Ada" starts it over.
    terminal.expect("What is your name?");
    terminal.expect("you> ");
    let screen = terminal.screen();
    assert!(
        !screen.iter().any(|row| row.matches("you>").count() > 1),
        "the prompt is printed once per line:\n{}",
        screen.join("\n")
    );
    // History: the up arrow recalls "Ada", which answers this time.
    terminal.send("\x1b[A\r");
    terminal.expect("Nice to meet you, Ada.");
    terminal.expect("you> ");
    terminal.send("/quit\r");
    terminal.session.exp_eof().unwrap();

    let screen = terminal.screen();
    let shown = screen.join("\n");
    assert!(
        !screen.iter().any(|row| row.matches("you>").count() > 1),
        "the prompt is printed once per line:\n{shown}"
    );
    let typed: Vec<usize> = (0..screen.len())
        .filter(|i| screen[*i] == "you> Ada")
        .collect();
    assert_eq!(
        typed.len(),
        2,
        "the slow line and the recalled one:\n{shown}"
    );
    let nudge = screen
        .iter()
        .position(|row| row == "bot: Are you still there?")
        .unwrap_or_else(|| panic!("the timeout's message:\n{shown}"));
    assert!(
        nudge < typed[0],
        "the timeout's message comes above the line being typed:\n{shown}"
    );
    assert!(
        screen
            .iter()
            .any(|row| row == "bot: Nice to meet you, Ada."),
        "{shown}"
    );
}
