//! What each account's messages must pass at the door: its signature secret and its rate
//! limit. Built from the config at start and again by a reload.

use std::collections::HashMap;

use super::RateLimits;
use crate::config::Config;
use crate::zendesk::secret::Secret;

#[derive(Default)]
pub struct AccountGuards {
    /// Account → the secret its messages are signed with.
    pub signing: HashMap<String, Secret>,
    pub rate_limits: RateLimits,
}

impl AccountGuards {
    /// Reads each signing account's secret from its environment variable; the error names
    /// the account and the variable.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let mut signing = HashMap::new();
        let mut rates = HashMap::new();
        for (id, account) in &config.accounts {
            if let Some(var) = &account.signing_secret_env {
                let secret = Secret::from_env(var).map_err(|problem| {
                    format!("account `{id}` signs its messages, but {problem}")
                })?;
                signing.insert(id.clone(), secret);
            }
            if let Some(rate) = account.max_messages_per_second {
                rates.insert(id.clone(), rate);
            }
        }
        Ok(Self {
            signing,
            rate_limits: RateLimits::new(rates),
        })
    }
}
