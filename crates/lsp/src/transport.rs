//! The wire: JSON-RPC messages framed by `Content-Length` headers on stdin and stdout.
//! lsp-server's own stdio transport stops reading at the first malformed message; a server
//! an editor keeps open for hours must not, so this reader answers what it cannot parse with
//! a JSON-RPC parse error and goes on with the next message. A reader thread feeds a channel,
//! which lets the server see every message already waiting and coalesce edits
//! (`server::Server::run`).

use std::io::{BufRead, Read as _, Write};
use std::sync::mpsc::{Receiver, Sender, channel};

use lsp_server::Message;

/// The largest message body read (a 4 MiB scenario as JSON, with room to spare); a larger
/// one is skipped and answered with an error.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// What the reader saw.
#[derive(Debug)]
pub(crate) enum Incoming {
    Message(Message),
    /// A frame whose body is not a JSON-RPC message, with why.
    Malformed(String),
}

/// Starts the reader thread over `input`; the channel closes at the end of the input.
pub(crate) fn read_in_background(
    input: impl BufRead + Send + 'static,
) -> std::io::Result<Receiver<Incoming>> {
    let (sender, receiver) = channel();
    std::thread::Builder::new()
        .name("lsp-reader".to_owned())
        .spawn(move || read_loop(input, &sender))?;
    Ok(receiver)
}

fn read_loop(mut input: impl BufRead, sender: &Sender<Incoming>) {
    loop {
        let incoming = match read_frame(&mut input) {
            Ok(Frame::End) | Err(_) => return,
            Ok(Frame::Body(body)) => parse(&body),
            Ok(Frame::Bad(why)) => Incoming::Malformed(why),
        };
        let exit =
            matches!(&incoming, Incoming::Message(Message::Notification(n)) if n.method == "exit");
        if sender.send(incoming).is_err() || exit {
            return;
        }
    }
}

fn parse(body: &[u8]) -> Incoming {
    match serde_json::from_slice::<Message>(body) {
        Ok(message) => Incoming::Message(message),
        Err(error) => Incoming::Malformed(format!("not a JSON-RPC message: {error}")),
    }
}

enum Frame {
    Body(Vec<u8>),
    Bad(String),
    End,
}

/// Reads headers up to the blank line, then the body. Header lines that are not
/// `Name: value` are skipped (a stray line cannot stop the server).
fn read_frame(input: &mut impl BufRead) -> std::io::Result<Frame> {
    let mut length: Option<Result<usize, String>> = None;
    let mut seen_header = false;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.by_ref().take(8 * 1024).read_until(b'\n', &mut line)? == 0 {
            return Ok(Frame::End);
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if text.is_empty() {
            if seen_header {
                break;
            }
            continue;
        }
        seen_header = true;
        if let Some((name, value)) = text.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = Some(
                value
                    .trim()
                    .parse::<usize>()
                    .map_err(|_| format!("bad Content-Length `{}`", value.trim())),
            );
        }
    }
    let length = match length {
        Some(Ok(length)) => length,
        Some(Err(why)) => return Ok(Frame::Bad(why)),
        None => return Ok(Frame::Bad("a message without Content-Length".to_owned())),
    };
    if length > MAX_BODY_BYTES {
        std::io::copy(
            &mut input.by_ref().take(length as u64),
            &mut std::io::sink(),
        )?;
        return Ok(Frame::Bad(format!(
            "a message of {length} bytes; the largest accepted is {MAX_BODY_BYTES}"
        )));
    }
    let mut body = vec![0; length];
    input.read_exact(&mut body)?;
    Ok(Frame::Body(body))
}

/// Writes one message with its header and flushes it.
pub(crate) fn write(out: &mut impl Write, message: &Message) -> std::io::Result<()> {
    let mut value = serde_json::to_value(message).map_err(std::io::Error::other)?;
    if let Some(object) = value.as_object_mut() {
        object.insert("jsonrpc".to_owned(), "2.0".into());
    }
    let body = serde_json::to_vec(&value).map_err(std::io::Error::other)?;
    write!(out, "Content-Length: {}\r\n\r\n", body.len())?;
    out.write_all(&body)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &str) -> Vec<String> {
        let mut input = std::io::Cursor::new(input.as_bytes().to_vec());
        let mut out = Vec::new();
        loop {
            match read_frame(&mut input).unwrap() {
                Frame::End => return out,
                Frame::Body(body) => out.push(String::from_utf8(body).unwrap()),
                Frame::Bad(why) => out.push(format!("bad: {why}")),
            }
        }
    }

    #[test]
    fn bad_frames_are_reported_and_reading_goes_on() {
        let found = frames(
            "Content-Length: 2\r\n\r\n{}garbage line\r\nContent-Length: x\r\n\r\nContent-Length: 4\r\nContent-Type: a\r\n\r\nnull",
        );
        assert_eq!(found, ["{}", "bad: bad Content-Length `x`", "null"]);
        assert!(matches!(parse(b"{\"nope\""), Incoming::Malformed(_)));
    }
}
