//! A storage failure told twice: to the operator, in the log, with the backend's own words
//! (`Display`: "storage failure (the disk is full): IO error: Os { code: 28, … }"), and to a
//! caller of the API in plain words, once, with what to do ([`StorageFault::plain`]).
//! The backend's words never reach the caller: they are an implementation's debug text,
//! and they may name paths on the server.

use std::fmt;
use std::io::ErrorKind;

/// What a storage failure means for the people who see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageCause {
    /// No space left (`ENOSPC`), a quota reached, a file at its size limit.
    Full,
    /// The process may not write there (permissions, a read-only file system).
    Denied,
    /// Anything else: an I/O error, a broken database.
    Other,
    /// A database server that cannot be reached for now (PostgreSQL restarting, a refused or
    /// lost connection): the failed transaction was rolled back whole, and the next call
    /// connects again. Never a cause on sled, whose I/O errors stop intake.
    Unreachable,
}

impl StorageCause {
    /// The cause of an I/O error.
    pub fn of(kind: ErrorKind) -> Self {
        match kind {
            ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge => {
                StorageCause::Full
            }
            ErrorKind::PermissionDenied | ErrorKind::ReadOnlyFilesystem => StorageCause::Denied,
            _ => StorageCause::Other,
        }
    }

    fn words(self) -> &'static str {
        match self {
            StorageCause::Full => "the disk is full",
            StorageCause::Denied => "it is not allowed to write there",
            StorageCause::Other => "an input/output error",
            StorageCause::Unreachable => "the database cannot be reached",
        }
    }
}

/// A failure of the storage itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageFault {
    pub cause: StorageCause,
    /// The backend's own words, for the log only.
    pub detail: String,
}

impl StorageFault {
    pub fn new(cause: StorageCause, detail: impl Into<String>) -> Self {
        Self {
            cause,
            detail: detail.into(),
        }
    }

    /// Whether the failure passes by itself (the database is back): a request fails, intake
    /// goes on.
    pub fn is_transient(&self) -> bool {
        self.cause == StorageCause::Unreachable
    }

    /// What an API caller is told: the failure in plain words, and what to do.
    pub fn plain(&self) -> String {
        if self.is_transient() {
            // A commit whose answer was lost may have been kept: sending the same message id
            // again is safe, de-duplication answers it from its first answer.
            return "the service cannot reach its database right now; send the request again \
                    in a few seconds (a message sent again with the same id is applied once)"
                .to_owned();
        }
        format!(
            "the service cannot write to its storage ({}); nothing was recorded, try again later",
            self.cause.words()
        )
    }
}

impl fmt::Display for StorageFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "storage failure ({}): {}",
            self.cause.words(),
            self.detail
        )
    }
}

impl From<&std::io::Error> for StorageFault {
    fn from(error: &std::io::Error) -> Self {
        Self::new(StorageCause::of(error.kind()), error.to_string())
    }
}

/// A failure whose cause is not known (a poisoned lock, a stopped task).
impl From<&str> for StorageFault {
    fn from(detail: &str) -> Self {
        Self::new(StorageCause::Other, detail)
    }
}

impl From<String> for StorageFault {
    fn from(detail: String) -> Self {
        Self::new(StorageCause::Other, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_said_in_plain_words_and_logged_with_the_detail() {
        let error = std::io::Error::from_raw_os_error(28);
        let fault = StorageFault::from(&error);
        assert_eq!(fault.cause, StorageCause::Full);
        assert_eq!(
            fault.plain(),
            "the service cannot write to its storage (the disk is full); nothing was recorded, try again later"
        );
        let logged = fault.to_string();
        assert!(
            logged.starts_with("storage failure (the disk is full): ")
                && logged.contains("os error 28"),
            "{logged}"
        );
        assert_eq!(logged.matches("storage failure").count(), 1, "{logged}");
    }
}
