//! An organization's OAuth token file: the access token on the first line — so a config's
//! `token_file` and `Secret::from_file` read it as before — then, when Zendesk gave them, the
//! refresh token and both expiry times as `key=value` lines:
//!
//! ```text
//! gErypPlm4dOVgGRvA1ZzMH5MQ3nLo8bo
//! refresh_token=af3t24tfj34h43s
//! expires_at=1795860000
//! refresh_expires_at=1798452000
//! ```
//!
//! Times are Unix seconds. The whole set is written at once (`private_file::write`: 0600,
//! atomic, never through a symlink), so a refresh never leaves a new access token beside a
//! dead refresh token: Zendesk invalidates both old ones when it issues new ones.

use std::fmt::Write as _;
use std::path::Path;

use super::secret::Secret;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenSet {
    pub access: Secret,
    /// `None` for a token issued without one (Zendesk's older non-expiring tokens, an API
    /// token pasted by hand): it cannot be refreshed.
    pub refresh: Option<Secret>,
    /// When the access token stops working (Unix seconds); `None`: it does not expire.
    pub expires_at: Option<i64>,
    /// When the refresh token stops working (Unix seconds).
    pub refresh_expires_at: Option<i64>,
}

impl TokenSet {
    pub fn new(access: Secret) -> Self {
        Self {
            access,
            refresh: None,
            expires_at: None,
            refresh_expires_at: None,
        }
    }

    /// Reads a token file; one with only the access token is a set without a refresh token.
    /// An unknown or malformed line is refused with its line number (never its value).
    pub fn read(path: &Path) -> Result<Self, String> {
        let access = Secret::from_file(path)?;
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let mut set = Self::new(access);
        for (index, line) in text.lines().enumerate().skip(1) {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let problem = |what: &str| {
                format!(
                    "the token file {} has {what} on line {}; write it again with `scenarist zendesk reauthorize`",
                    path.display(),
                    index + 1
                )
            };
            let Some((key, value)) = line.split_once('=') else {
                return Err(problem("a line that is not `key=value`"));
            };
            let seconds = || {
                value
                    .trim()
                    .parse::<i64>()
                    .map_err(|_| problem("a time that is not a number of seconds"))
            };
            match key.trim() {
                "refresh_token" if !value.trim().is_empty() => {
                    set.refresh = Some(Secret::new(value.trim()));
                }
                "expires_at" => set.expires_at = Some(seconds()?),
                "refresh_expires_at" => set.refresh_expires_at = Some(seconds()?),
                _ => return Err(problem("an unknown line")),
            }
        }
        Ok(set)
    }

    /// Writes the whole set at once, owner-only.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        scenarist_base::private_file::write(path, self.text().as_bytes())
    }

    fn text(&self) -> String {
        let mut text = format!("{}\n", self.access.expose());
        if let Some(refresh) = &self.refresh {
            let _ = writeln!(text, "refresh_token={}", refresh.expose());
        }
        if let Some(at) = self.expires_at {
            let _ = writeln!(text, "expires_at={at}");
        }
        if let Some(at) = self.refresh_expires_at {
            let _ = writeln!(text, "refresh_expires_at={at}");
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh_dir() -> std::path::PathBuf {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "scenarist-token-file-{}",
            scenarist_base::hex::encode(&random)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_token_set_round_trips_and_its_first_line_is_the_access_token() {
        let dir = fresh_dir();
        let path = dir.join("acme.token");
        let set = TokenSet {
            access: Secret::new("access-1"),
            refresh: Some(Secret::new("refresh-1")),
            expires_at: Some(1_795_860_000),
            refresh_expires_at: Some(1_798_452_000),
        };
        set.write(&path).unwrap();
        assert_eq!(TokenSet::read(&path).unwrap(), set);
        // A config's `token_file` still reads the access token.
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "access-1");
        // A token file from before refresh tokens: one line.
        std::fs::write(&path, "old-token\n").unwrap();
        assert_eq!(
            TokenSet::read(&path).unwrap(),
            TokenSet::new(Secret::new("old-token"))
        );
        std::fs::write(&path, "a\nrefresh_token=r\nexpires_at=soon\n").unwrap();
        let error = TokenSet::read(&path).unwrap_err();
        assert!(error.contains("line 3"), "{error}");
        assert!(!error.contains("soon") && !error.contains("=r"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let set = TokenSet {
            access: Secret::new("access-1"),
            refresh: Some(Secret::new("refresh-1")),
            expires_at: None,
            refresh_expires_at: None,
        };
        let shown = format!("{set:?}");
        assert!(
            !shown.contains("access-1") && !shown.contains("refresh-1"),
            "{shown}"
        );
    }
}
