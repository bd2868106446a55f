//! How conversation messages read in Zendesk: the first comment of a ticket carries the
//! history so far (each message with its author and time), and each later message becomes
//! its own comment. Bodies are HTML (`html_body` keeps line breaks, `body` collapses them),
//! escaped, with Zendesk's `{{placeholders}}` neutralised so a contact cannot inject one.

use std::fmt::Write as _;

use scenarist_base::clock::iso8601;
use scenarist_runtime::state::{Author, Message};

/// Whether a message belongs on the ticket (the runtime's own notes do not).
pub fn syncable(message: &Message) -> bool {
    !matches!(message.author, Author::System)
}

/// Who wrote a message, as shown on the ticket.
pub fn author_label(message: &Message, contact_name: &str) -> String {
    match &message.author {
        Author::Contact => {
            if contact_name.is_empty() {
                "Contact".to_owned()
            } else {
                contact_name.to_owned()
            }
        }
        Author::Bot => "Bot".to_owned(),
        Author::Advisor { name, .. } => format!("Advisor {name}"),
        Author::System => "Scenarist".to_owned(),
    }
}

/// Zendesk silently truncates a comment body over 64 kB; comments stay under this.
pub const MAX_COMMENT_BYTES: usize = 60_000;

/// The first comment: an introduction and the messages so far, as many as fit in
/// [`MAX_COMMENT_BYTES`] (at least one); returns the HTML and how many messages it holds —
/// the rest follow as comments.
pub fn history_html(account: &str, contact_name: &str, messages: &[&Message]) -> (String, usize) {
    let mut html = format!(
        "<p><em>Conversation on {} — history synced by Scenarist</em></p>",
        escape(account)
    );
    let mut count = 0;
    for message in messages {
        let mut part = String::new();
        let _ = write!(
            part,
            "<p><strong>{}</strong> · {}<br>{}</p>",
            escape(&author_label(message, contact_name)),
            escape(&iso8601(message.at)),
            text_html(&message.text)
        );
        if count > 0 && html.len() + part.len() > MAX_COMMENT_BYTES {
            break;
        }
        html.push_str(&part);
        count += 1;
    }
    (html, count)
}

/// A later message as its own comment. A contact's message is authored by their Zendesk user,
/// so it needs no label; the bot's and advisors' are written by the API user, so they say who.
pub fn comment_html(message: &Message, contact_name: &str) -> String {
    match message.author {
        Author::Contact => format!("<p>{}</p>", text_html(&message.text)),
        _ => format!(
            "<p><strong>{}</strong><br>{}</p>",
            escape(&author_label(message, contact_name)),
            text_html(&message.text)
        ),
    }
}

fn text_html(text: &str) -> String {
    escape(text).replace('\n', "<br>")
}

/// HTML-escapes, and breaks `{{` so Zendesk does not expand placeholders in what a contact wrote.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace("{{", "&#123;&#123;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(author: Author, text: &str) -> Message {
        Message {
            author,
            text: text.into(),
            choices: vec![],
            parts: vec![],
            at: 1_795_860_000_000,
        }
    }

    #[test]
    fn history_names_every_author_with_the_time_and_escapes() {
        let contact = message(
            Author::Contact,
            "Hi <b>there</b> {{ticket.id}}\nsecond line",
        );
        let bot = message(Author::Bot, "Hello Ada!");
        let advisor = message(
            Author::Advisor {
                id: "g".into(),
                name: "Grace".into(),
            },
            "On it",
        );
        let (html, count) =
            history_html("facebook:acme", "Ada Lovelace", &[&contact, &bot, &advisor]);
        assert_eq!(count, 3);
        assert!(html.contains("<strong>Ada Lovelace</strong> · 2026-11-28T10:00:00Z<br>Hi &lt;b&gt;there&lt;/b&gt; &#123;&#123;ticket.id}}<br>second line"), "{html}");
        assert!(html.contains("<strong>Bot</strong>"));
        assert!(html.contains("<strong>Advisor Grace</strong>"));
        assert!(!syncable(&message(Author::System, "routed")));
    }

    #[test]
    fn a_long_history_stops_before_zendesk_would_truncate_it() {
        let long = message(Author::Contact, &"x".repeat(4000));
        let messages: Vec<&Message> = std::iter::repeat_n(&long, 40).collect();
        let (html, count) = history_html("facebook:acme", "Ada", &messages);
        assert!(html.len() <= MAX_COMMENT_BYTES, "{}", html.len());
        assert!(
            count < 40 && html.len() + 4100 > MAX_COMMENT_BYTES,
            "as many as fit: {count}"
        );
        assert_eq!(
            html.matches("<p><strong>").count(),
            count,
            "whole messages only"
        );
        let huge = message(Author::Contact, &"y".repeat(70_000));
        assert_eq!(history_html("a", "Ada", &[&huge]).1, 1, "never empty");
    }

    #[test]
    fn comments_label_who_wrote_unless_it_is_the_contact() {
        assert_eq!(
            comment_html(&message(Author::Contact, "a & b"), "Ada"),
            "<p>a &amp; b</p>"
        );
        assert_eq!(
            comment_html(&message(Author::Bot, "ok"), "Ada"),
            "<p><strong>Bot</strong><br>ok</p>"
        );
    }
}
