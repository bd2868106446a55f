//! An OAuth organization's live token: the access token the client sends, and what it does
//! when Zendesk answers 401 for it (zendesk-api.md §5: "refresh OAuth once, else mark the
//! connection broken").
//!
//! `renew` runs one renewal at a time. It first re-reads the token file — `scenarist zendesk
//! reauthorize`, or another process's refresh, may have written a new pair, which is then
//! simply adopted — and only then spends the refresh token (`oauth::refresh`), keeping the
//! new pair in the file before using it (Zendesk invalidates both old tokens at once). When
//! that is refused, the organization needs `reauthorize`: `reauthorize_needed` says why
//! (for `/readyz` and `/metrics`), and the dead refresh token is not sent again until the
//! file changes. A refresh that gets no answer is a transport error, retried later.

use std::path::PathBuf;
use std::sync::Mutex;

use super::client::ZendeskError;
use super::oauth::{self, OAuthError};
use super::secret::Secret;
use super::token_file::TokenSet;
use scenarist_lang::config::base_url::BaseUrl;

pub struct TokenSession {
    organization: String,
    base: BaseUrl,
    path: PathBuf,
    client_id: String,
    /// The OAuth client's secret, or why it cannot be read.
    client_secret: Result<Secret, String>,
    current: Mutex<Current>,
    renewing: tokio::sync::Mutex<()>,
}

struct Current {
    tokens: TokenSet,
    /// Why the organization needs `reauthorize`, once a renewal failed for good.
    problem: Option<String>,
    /// The refresh token Zendesk refused: not sent again.
    refused_refresh: Option<Secret>,
}

impl std::fmt::Debug for TokenSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSession")
            .field("organization", &self.organization)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TokenSession {
    /// The session of `organization`, whose token set is in `path`.
    pub fn open(
        organization: &str,
        base: BaseUrl,
        path: PathBuf,
        client_id: String,
        client_secret: Result<Secret, String>,
    ) -> Result<Self, String> {
        let tokens = TokenSet::read(&path)?;
        Ok(Self {
            organization: organization.to_owned(),
            base,
            path,
            client_id,
            client_secret,
            current: Mutex::new(Current {
                tokens,
                problem: None,
                refused_refresh: None,
            }),
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    fn current(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The access token to send now.
    pub fn access(&self) -> Secret {
        self.current().tokens.access.clone()
    }

    /// The token set in use (for `zendesk check`'s expiry line).
    pub fn tokens(&self) -> TokenSet {
        self.current().tokens.clone()
    }

    /// Why this organization needs `scenarist zendesk reauthorize`, if it does.
    pub fn reauthorize_needed(&self) -> Option<String> {
        self.current().problem.clone()
    }

    fn adopt(&self, tokens: TokenSet) {
        let mut current = self.current();
        current.tokens = tokens;
        current.problem = None;
        current.refused_refresh = None;
    }

    /// Zendesk refused `refused` (401): after this returns `Ok`, a newer access token is in
    /// use and the request is worth sending once more.
    pub async fn renew(&self, refused: &Secret) -> Result<(), ZendeskError> {
        let _one_at_a_time = self.renewing.lock().await;
        if self.access() != *refused {
            // Renewed while this request was on its way.
            return Ok(());
        }
        let on_disk = TokenSet::read(&self.path).map_err(|problem| self.give_up(problem))?;
        if on_disk.access != *refused {
            tracing::info!(organization = %self.organization, "using the OAuth token newly written to the token file");
            self.adopt(on_disk);
            return Ok(());
        }
        let Some(refresh) = on_disk.refresh.clone() else {
            return Err(self.give_up(
                "Zendesk refused the access token and the token file holds no refresh token to renew it with"
                    .to_owned(),
            ));
        };
        if self.current().refused_refresh.as_ref() == Some(&refresh) {
            let problem = self.reauthorize_needed().unwrap_or_default();
            return Err(self.give_up(problem));
        }
        let client_secret = self.client_secret.clone().map_err(|problem| {
            self.give_up(format!(
                "the refresh token cannot be used without the OAuth client's secret: {problem}"
            ))
        })?;
        match oauth::refresh(&self.base, &self.client_id, &client_secret, &refresh).await {
            Ok(renewed) => {
                // The old pair is dead now: the new one is kept before it is used. If it cannot
                // be written, this process still works with it, and says so.
                if let Err(error) = renewed.write(&self.path) {
                    tracing::error!(organization = %self.organization, path = %self.path.display(), %error,
                        "renewed the OAuth token but cannot write it to its file; after a restart the organization will need `scenarist zendesk reauthorize`");
                }
                tracing::info!(organization = %self.organization, "renewed the expired OAuth access token with the refresh token");
                self.adopt(renewed);
                Ok(())
            }
            Err(OAuthError::Transport(message)) => Err(ZendeskError::Transport {
                message: format!("cannot renew the OAuth token: {message}"),
                sent: false,
            }),
            Err(error) => {
                // Another process may have spent the same refresh token first.
                if let Ok(latest) = TokenSet::read(&self.path)
                    && latest.access != *refused
                {
                    self.adopt(latest);
                    return Ok(());
                }
                self.current().refused_refresh = Some(refresh);
                Err(self.give_up(error.to_string()))
            }
        }
    }

    /// Records that the organization needs `reauthorize`, and the error that says so.
    fn give_up(&self, reason: String) -> ZendeskError {
        if self.current().problem.is_none() {
            tracing::error!(organization = %self.organization, %reason,
                "the Zendesk OAuth token cannot be renewed; run `scenarist zendesk reauthorize`");
        }
        self.current().problem = Some(reason.clone());
        ZendeskError::Reauthorize {
            organization: self.organization.clone(),
            reason,
        }
    }
}
