//! Organization names that become part of a file name: the OAuth token
//! `<data>/zendesk/<org>.token` (`oauth::token_path`) and the sandbox's state
//! `<data>/zendesk-sandbox-<org>.json` (`sandbox::state_file`). The name comes from the config
//! or the command line, so it is treated as hostile: only 1 to [`MAX_LEN`] ASCII letters,
//! digits, `-` and `_` are accepted. No accepted name can climb out of the data folder
//! (`../../etc/x`), name a folder (`a/b`), end the path early (NUL) or put control characters
//! into a file name or a terminal. Other names are refused, not rewritten: a rewrite could
//! make two organizations share one file (`a.b` and `a_b`), and the error says which
//! organization and what to change.

use std::fmt;

/// The longest name accepted (a DNS label, the usual source of a name, is at most 63).
pub const MAX_LEN: usize = 64;

/// An organization name that cannot be part of a file name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the organization name {} cannot be part of a file name: {reason}; use 1 to {MAX_LEN} ASCII letters, digits, `-` and `_` (e.g. `acme`)",
    quoted(name)
)]
pub struct OrganizationNameError {
    pub name: String,
    /// What is wrong: `it contains '/'`, `it is empty`, …
    pub reason: String,
}

/// `name` when it can be part of a file name.
pub fn check(name: &str) -> Result<&str, OrganizationNameError> {
    let refuse = |reason: String| {
        Err(OrganizationNameError {
            name: name.to_owned(),
            reason,
        })
    };
    if name.is_empty() {
        return refuse("it is empty".to_owned());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return refuse(format!("it contains {c:?}"));
    }
    if name.len() > MAX_LEN {
        return refuse(format!(
            "it has {} characters, more than {MAX_LEN}",
            name.len()
        ));
    }
    Ok(name)
}

/// `name` for a message: in backticks when it is plain, else escaped in double quotes, so a
/// control character in a name cannot reach the terminal.
pub fn quoted(name: &str) -> impl fmt::Display + '_ {
    Quoted(name)
}

struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self
            .0
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.: ".contains(c))
            && !self.0.is_empty()
        {
            write!(f, "`{}`", self.0)
        } else {
            write!(f, "{:?}", self.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in ["acme", "acme-shop", "ACME_2", &"a".repeat(MAX_LEN)] {
            assert_eq!(check(name), Ok(name));
        }
    }

    #[test]
    fn names_that_could_leave_the_folder_or_look_odd_are_refused_by_name() {
        for (name, reason, shown) in [
            ("../../etc/x", "it contains '.'", "\"../../etc/x\""),
            ("a/b", "it contains '/'", "\"a/b\""),
            ("a\\b", "it contains '\\\\'", "\"a\\\\b\""),
            ("a\0b", "it contains '\\0'", "\"a\\0b\""),
            ("a\u{1b}[2Jb", "it contains '\\u{1b}'", "\"a\\u{1b}[2Jb\""),
            ("a\nb", "it contains '\\n'", "\"a\\nb\""),
            ("acme shop", "it contains ' '", "`acme shop`"),
            ("..", "it contains '.'", "`..`"),
            ("", "it is empty", "\"\""),
            ("café", "it contains 'é'", "`café`"),
        ] {
            let error = check(name).unwrap_err();
            assert_eq!(error.reason, reason, "{name:?}");
            let text = error.to_string();
            assert!(
                text.starts_with(&format!(
                    "the organization name {shown} cannot be part of a file name: {reason}; "
                )),
                "{text}"
            );
            assert!(!text.contains(['\0', '\u{1b}', '\n']), "{text:?}");
        }
        let long = "a".repeat(MAX_LEN + 1);
        assert_eq!(
            check(&long).unwrap_err().reason,
            "it has 65 characters, more than 64"
        );
    }
}
