//! What a code frame never shows: the password of a connection string. A diagnostic prints
//! its source line and the lines around it, and a config line may hold
//! `postgres://user:PASSWORD@host/db` (written where a variable's name belongs, W407) or
//! `password=…` (libpq's keyword form). The text is masked byte for byte with `*`, so every
//! offset, line and column stays where it was.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// `scheme://user:PASSWORD@`, or `password=VALUE` up to a space.
static SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z][a-z0-9+.-]*://[^\s:/@]*:([^\s@/]+)@|\bpass(?:word)?\s*=\s*([^\s]+)").ok()
});

/// `text` with every password masked; borrowed when there is none.
pub(super) fn masked(text: &str) -> Cow<'_, str> {
    let Some(secret) = SECRET.as_ref() else {
        // The pattern is a constant that compiles; without it, show no source at all.
        return Cow::Owned(mask_all(text));
    };
    let mut found = secret
        .captures_iter(text)
        .filter_map(|c| c.get(1).or_else(|| c.get(2)))
        .peekable();
    if found.peek().is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for password in found {
        out.push_str(&text[at..password.start()]);
        out.push_str(&mask_all(password.as_str()));
        at = password.end();
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// One `*` per byte, line breaks kept.
fn mask_all(text: &str) -> String {
    text.bytes()
        .map(|b| if b == b'\n' { '\n' } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::masked;

    #[test]
    fn a_urls_password_is_masked_byte_for_byte() {
        let text = "store:\n  url_env: postgres://app:s3cr\u{e9}t@db.example:5432/scn\n";
        let shown = masked(text);
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(
            shown.contains("postgres://app:*******@db.example:5432/scn"),
            "{shown}"
        );
        assert_eq!(shown.len(), text.len());
    }

    #[test]
    fn a_keyword_password_is_masked_and_text_without_one_is_untouched() {
        let text = "url_env: host=db user=app password=hunter2 dbname=x";
        assert_eq!(
            masked(text),
            "url_env: host=db user=app password=******* dbname=x"
        );
        let plain = "url: https://example.zendesk.com:443/api/v2\nstep ask { say \"a:b@c\" }\n";
        assert_eq!(masked(plain), plain);
    }
}
