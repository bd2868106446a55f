//! Reading one LSP message (`Content-Length` framing) from the server's stdout: shared by the
//! language server's integration tests and its benchmark (`benches/lsp.rs`), kept apart from the
//! server's own transport so that both drive it as an editor would.

use std::io::BufRead;

use serde_json::Value;

/// The next message, or `None` at the end of the stream or on a malformed frame.
pub(crate) fn read_frame(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(value) = line.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}
