//! Users and access keys, as the IAM model has them and the Raft metadata stores them. A
//! user's ARN is `arn:aws:iam:::user/NAME` (no account id, as Ceph RGW without tenants).
//! Secret keys are stored sealed under the cluster master key ([`crate::seal`]). The changes
//! both IAM front ends make are built in [`commands`].

pub mod commands;

use serde::{Deserialize, Serialize};

/// Access keys one user may have (as on AWS).
pub const MAX_KEYS_PER_USER: usize = 2;

/// An IAM user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Name, unique in the cluster.
    pub name: String,
    /// Stable id (`AIDA` + 17 characters), as IAM's UserId.
    pub user_id: String,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
}

impl UserRecord {
    /// `arn:aws:iam:::user/NAME`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam:::user/{}", self.name)
    }
}

/// An access key of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// Access key id (`AKIA` + 16 characters), unique in the cluster.
    pub access_key_id: String,
    /// Owning user's name.
    pub user: String,
    /// The secret access key, sealed under the cluster master key with the key id as
    /// associated data.
    pub sealed_secret: Vec<u8>,
    /// Active (true) or Inactive: an inactive key authenticates nothing.
    pub active: bool,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
}

/// An IAM group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// Name, unique in the cluster (the rules of user names).
    pub name: String,
    /// Stable id (`AGPA` + 17 characters), as IAM's GroupId.
    pub group_id: String,
    /// Creation time, ms since the epoch.
    pub created_ms: u64,
}

impl GroupRecord {
    /// `arn:aws:iam:::group/NAME`.
    pub fn arn(&self) -> String {
        format!("arn:aws:iam:::group/{}", self.name)
    }
}

/// Who an identity policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum PolicyOwner {
    /// A user, by name.
    User(String),
    /// A group, by name.
    Group(String),
}

/// Everything authorizing one request needs from the metadata, read at once: the caller's
/// key, user and identity policies, and the addressed bucket with its policy and CORS rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthzFacts {
    /// The access key asked about, if it exists.
    pub key: Option<KeyRecord>,
    /// Its user.
    pub user: Option<UserRecord>,
    /// The user's inline policies and those of its groups: (where from, document).
    pub identity_policies: Vec<(String, String)>,
    /// The bucket asked about, if it exists.
    pub bucket: Option<crate::types::BucketInfo>,
    /// Its bucket policy.
    pub bucket_policy: Option<String>,
    /// Its CORS rules.
    pub bucket_cors: Option<String>,
    /// Its Block Public Access settings.
    pub bucket_public_access_block: Option<String>,
    /// The cluster-wide Block Public Access settings.
    pub cluster_public_access_block: Option<String>,
    /// Its access control list.
    pub bucket_acl: Option<String>,
    /// Its Object Ownership setting.
    pub bucket_ownership: Option<String>,
    /// Its default encryption. Not part of this answer's encoding (a build before it would
    /// not read it): sent beside it, in [`crate::meta::MetaAnswer::AuthorizationWith`].
    #[serde(skip)]
    pub bucket_encryption: Option<String>,
}

/// Whether `name` is a valid IAM policy name: 1 to 128 of `A-Za-z0-9+=,.@_-`.
pub fn valid_policy_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// Whether `name` is a valid IAM user name: 1 to 64 of `A-Za-z0-9+=,.@_-`.
pub fn valid_user_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
}

/// A random id of `prefix` and upper-case letters and digits, `len` characters in all.
pub fn random_id(prefix: &str, len: usize) -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = rand::thread_rng();
    let mut id = prefix.to_owned();
    while id.len() < len {
        id.push(char::from(CHARS[rng.gen_range(0..CHARS.len())]));
    }
    id
}

/// A new active access key of `user`: its record, with the secret sealed under `master`, and
/// the secret itself (to show once).
pub fn new_access_key(
    master: &crate::seal::MasterKey,
    user: &str,
    now_ms: u64,
) -> (KeyRecord, String) {
    let id = random_id("AKIA", 20);
    let secret = random_secret();
    let record = KeyRecord {
        sealed_secret: master.seal(secret.as_bytes(), id.as_bytes()),
        access_key_id: id,
        user: user.to_owned(),
        active: true,
        created_ms: now_ms,
    };
    (record, secret)
}

/// A new secret access key: 40 characters of base64's alphabet, as AWS makes them.
pub fn random_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut rng = rand::thread_rng();
    (0..40)
        .map(|_| char::from(CHARS[rng.gen_range(0..CHARS.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_ids() {
        assert!(valid_user_name("alice.smith+ops@example_1-2=,"));
        assert!(!valid_user_name(""));
        assert!(!valid_user_name("with space"));
        assert!(!valid_user_name("slash/"));
        assert!(!valid_user_name(&"a".repeat(65)));
        let id = random_id("AKIA", 20);
        assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
        assert_ne!(id, random_id("AKIA", 20));
        assert_eq!(random_secret().len(), 40);
    }
}
