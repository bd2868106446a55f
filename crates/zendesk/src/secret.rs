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

/// Writes a secret to a file only its owner can read (0600), replacing it atomically, its
/// folder created owner-only (0700) when missing (`private_file::write`: a leftover temp file
/// or a symlink planted beside it cannot redirect it or loosen its mode).
pub fn write_private(path: &Path, value: &Secret) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(value.expose().len() + 1);
    bytes.extend_from_slice(value.expose().as_bytes());
    bytes.push(b'\n');
    scenarist_base::private_file::write(path, &bytes)
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

    /// A fresh, empty folder of the test's own under the system temp folder.
    #[cfg(unix)]
    fn fresh(test: &str) -> std::path::PathBuf {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "scenarist-secret-{test}-{}",
            scenarist_base::hex::encode(&random)
        ));
        std::fs::create_dir(&dir).unwrap();
        dir
    }

    /// The permission bits in octal, as `ls -l` readers think of them (`600`).
    #[cfg(unix)]
    fn mode(path: &Path) -> String {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::symlink_metadata(path)
            .unwrap()
            .permissions()
            .mode();
        format!("{:o}", mode & 0o777)
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_owner_only_in_an_owner_only_folder() {
        let dir = fresh("mode");
        let path = dir.join("zendesk").join("t.token");
        write_private(&path, &Secret::new("abc")).unwrap();
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "abc");
        assert_eq!(mode(&path), "600");
        assert_eq!(mode(&dir.join("zendesk")), "700");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// The writer before this one opened `<token>.partial` without `O_EXCL`: a leftover one
    /// kept its mode (0666 made the token world-readable) and a symlink there was followed.
    #[cfg(unix)]
    #[test]
    fn a_leftover_partial_file_neither_loosens_the_mode_nor_receives_the_token() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = fresh("partial");
        let path = dir.join("t.token");
        let partial = dir.join("t.partial");
        std::fs::write(&partial, "").unwrap();
        std::fs::set_permissions(&partial, std::fs::Permissions::from_mode(0o666)).unwrap();
        write_private(&path, &Secret::new("abc")).unwrap();
        assert_eq!(mode(&path), "600");
        assert_eq!(std::fs::read_to_string(&partial).unwrap(), "");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_partial_symlink_is_not_followed() {
        let dir = fresh("symlink");
        let victim = dir.join("victim.txt");
        std::fs::write(&victim, "someone else's file\n").unwrap();
        let path = dir.join("t.token");
        std::os::unix::fs::symlink(&victim, dir.join("t.partial")).unwrap();
        write_private(&path, &Secret::new("abc")).unwrap();
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "someone else's file\n"
        );
        assert!(
            std::fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_file()
        );
        assert_eq!(mode(&path), "600");
        assert_eq!(Secret::from_file(&path).unwrap().expose(), "abc");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
