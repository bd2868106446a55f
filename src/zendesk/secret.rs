//! Secrets (API and OAuth tokens, client secrets). They are read from an environment
//! variable or a file named in the config — never written in it — and a `Secret` never shows
//! its value in `Debug` or `Display`, so it cannot leak into a log by accident. The value is
//! reachable only through `expose`, at the one place a header is built.

use std::fmt;
use std::path::Path;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Reads an environment variable.
    pub fn from_env(name: &str) -> Result<Self, String> {
        match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => Ok(Self(value.trim().to_owned())),
            Ok(_) => Err(format!("the environment variable {name} is empty")),
            Err(_) => Err(format!("the environment variable {name} is not set")),
        }
    }

    /// Reads a file (its first line, trimmed).
    pub fn from_file(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "not connected yet: there is no token file {} (`scenarist zendesk connect` writes it); its calls fail until then",
                    path.display()
                )
            } else {
                format!("cannot read the token file {}: {e}", path.display())
            }
        })?;
        let value = text.lines().next().unwrap_or("").trim();
        if value.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        Ok(Self(value.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([REDACTED])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[REDACTED]")
    }
}

/// Writes a secret to a file only its owner can read (0600), replacing it atomically.
pub fn write_private(path: &Path, value: &Secret) -> std::io::Result<()> {
    use std::io::Write as _;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let partial = path.with_extension("partial");
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&partial)?;
        file.write_all(value.expose().as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
    }
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_or_display() {
        let secret = Secret::new("sk-live-123");
        assert_eq!(format!("{secret:?}"), "Secret([REDACTED])");
        assert_eq!(format!("{secret}"), "[REDACTED]");
        assert!(!format!("{:?}", Some(secret.clone())).contains("sk-live"));
        assert_eq!(secret.expose(), "sk-live-123");
    }

    #[test]
    fn private_files_are_owner_only() {
        let path = std::env::temp_dir()
            .join(format!("scenarist-secret-{}", std::process::id()))
            .join("t.token");
        write_private(&path, &Secret::new("abc")).unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "abc");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }
}
