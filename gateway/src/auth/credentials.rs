//! The access keys the gateway accepts. Today: the root key from the configuration.

use std::collections::HashMap;

/// Access key id → secret key.
#[derive(Clone, Default)]
pub struct Credentials {
    keys: HashMap<String, String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.debug_struct("Credentials")
            .field("access_keys", &self.keys.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Credentials {
    /// Add a key.
    pub fn insert(&mut self, access_key: impl Into<String>, secret: impl Into<String>) {
        self.keys.insert(access_key.into(), secret.into());
    }

    /// The secret of an access key.
    pub fn secret(&self, access_key: &str) -> Option<&str> {
        self.keys.get(access_key).map(String::as_str)
    }
}
