//! Files only their owner may read, replaced atomically: OAuth tokens, the connection
//! registry, the Zendesk sandbox's state (which holds the access tokens it issued), and the
//! backups of `store export` (every contact's data).
//!
//! [`write`] creates a temp file with a random name beside the target, exclusively
//! (`O_CREAT|O_EXCL`: an existing file or symlink of that name is an error, never opened, so a
//! link planted there is not followed and a leftover's mode is not inherited) and mode 0600,
//! writes, fsyncs, renames it over the target (a rename replaces a symlink at the target
//! itself, it does not write through it) and fsyncs the folder so the rename survives a
//! crash. [`create_folder`] makes missing folders 0700. Existing folders are left as they
//! are: they may be the admin's own (a `token_file` next to the config).

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// How many random temp names `write` tries before giving up (a clash needs someone to
/// guess 64 random bits; a second one means something is wrong).
const ATTEMPTS: usize = 4;

/// Creates `folder` and its missing parents, each new one 0700 (owner only).
pub fn create_folder(folder: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(folder)
}

/// Replaces the file at `path` with `bytes`, readable and writable by its owner only (0600),
/// atomically: a reader sees the old content or the new, never a mix. Missing folders are
/// created 0700.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_with(path, |file| file.write_all(bytes))
}

/// [`write`] with the content streamed by `content` (a backup too large to hold in memory).
/// Nothing replaces the target unless `content` succeeds.
pub fn write_with<T, E: From<io::Error>>(
    path: &Path,
    content: impl FnOnce(&mut io::BufWriter<&File>) -> Result<T, E>,
) -> Result<T, E> {
    let folder = folder(path);
    create_folder(folder)?;
    let (temp, file) = create_temp(path)?;
    let written = (|| {
        let mut writer = io::BufWriter::new(&file);
        let value = content(&mut writer)?;
        writer.flush()?;
        drop(writer);
        file.sync_all()?;
        fs::rename(&temp, path)?;
        Ok(value)
    })();
    if written.is_err() {
        // Best effort: the temp file is ours and may hold secrets.
        let _ = fs::remove_file(&temp);
        return written;
    }
    // Make the rename itself durable. Best effort: some file systems refuse to fsync a
    // folder, and the new file is in place either way.
    #[cfg(unix)]
    if let Ok(dir) = File::open(folder) {
        let _ = dir.sync_all();
    }
    written
}

/// The folder `path` is in (`.` for a bare file name).
fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A new, empty, owner-only file `.<name>.<random>.tmp` beside `path`.
fn create_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} names no file", path.display()),
        )
    })?;
    let mut last = None;
    for _ in 0..ATTEMPTS {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).map_err(|e| {
            io::Error::other(format!(
                "the operating system's random number generator failed: {e}"
            ))
        })?;
        let mut temp_name = OsString::from(".");
        temp_name.push(name);
        temp_name.push(format!(".{}.tmp", crate::hex::encode(&random)));
        let temp = path.with_file_name(temp_name);
        let mut options = OpenOptions::new();
        // `create_new` is O_CREAT|O_EXCL: it fails on any existing entry, a symlink included
        // (even a dangling one), so nothing planted at this name is ever opened.
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last = Some(error),
            Err(error) => return Err(error),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no temp file name was free")))
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _, symlink};

    use super::*;

    /// A fresh, empty folder of the test's own under the system temp folder.
    fn fresh(test: &str) -> PathBuf {
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "scenarist-private-{test}-{}",
            crate::hex::encode(&random)
        ));
        fs::create_dir(&dir).unwrap();
        dir
    }

    /// The permission bits in octal, as `ls -l` readers think of them (`600`).
    fn mode(path: &Path) -> String {
        format!(
            "{:o}",
            fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
        )
    }

    /// Only the target is left in the folder: no temp file behind.
    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn the_file_is_owner_only_and_replaced_whole() {
        let dir = fresh("mode");
        let path = dir.join("a.token");
        // A looser file already there is replaced, not rewritten in place.
        fs::write(&path, "old\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let before = fs::metadata(&path).unwrap().ino();
        write(&path, b"new\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new\n");
        assert_eq!(mode(&path), "600");
        assert_ne!(fs::metadata(&path).unwrap().ino(), before);
        assert_eq!(entries(&dir), ["a.token"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_folders_are_created_owner_only() {
        let dir = fresh("folder");
        let path = dir.join("data/zendesk/a.token");
        write(&path, b"t\n").unwrap();
        assert_eq!(mode(&dir.join("data")), "700");
        assert_eq!(mode(&dir.join("data/zendesk")), "700");
        assert_eq!(mode(&path), "600");
        // An existing folder is the admin's: its mode stays.
        let shared = dir.join("shared");
        fs::create_dir(&shared).unwrap();
        fs::set_permissions(&shared, fs::Permissions::from_mode(0o755)).unwrap();
        write(&shared.join("b.token"), b"t\n").unwrap();
        assert_eq!(mode(&shared), "755");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlink_at_the_target_is_replaced_not_followed() {
        let dir = fresh("target-link");
        let elsewhere = dir.join("elsewhere");
        fs::write(&elsewhere, "precious\n").unwrap();
        let path = dir.join("a.token");
        symlink(&elsewhere, &path).unwrap();
        write(&path, b"secret\n").unwrap();
        assert_eq!(fs::read_to_string(&elsewhere).unwrap(), "precious\n");
        let meta = fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_file());
        assert_eq!(mode(&path), "600");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bare_file_name_is_in_the_current_folder() {
        assert_eq!(folder(Path::new("a.token")), Path::new("."));
        assert_eq!(folder(Path::new("/a.token")), Path::new("/"));
        assert!(write(Path::new("/"), b"x").is_err());
    }
}
