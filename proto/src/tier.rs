//! Tiers: where a storage class keeps its data. A tier is cluster configuration, one JSON
//! document ([`crate::meta::BucketConfigKind::Tiers`]) that every node reads from its own copy
//! of the metadata:
//!
//! - a **local** tier is a pool of nodes, those whose labels match its selector, with its own
//!   erasure profile. A node belongs to at most one pool: the first tier (in the order they
//!   were added) whose selector its labels match; nodes no tier claims form the default pool,
//!   where STANDARD and every class without a tier are written.
//! - a **remote** tier is a bucket (and key prefix) on any S3 endpoint; its secret access key
//!   is kept sealed under the cluster's key-encryption key, never in clear.
//!
//! Storage classes map to tiers in the same document. A node's labels are its own
//! configuration (`--label KEY=VALUE`), published in a second cluster document
//! ([`crate::meta::BucketConfigKind::NodeLabels`]) so that every node computes the same pools.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::seal::MasterKey;
use crate::types::STORAGE_CLASSES;

/// The format the documents of this module are written in.
pub const FORMAT: u8 = 1;

/// The node id that stands for "not on a node": a blob placed on a remote tier has one
/// [`crate::types::ShardLoc`] with this node and the tier's id as its drive. No node may take
/// this id.
pub const REMOTE_NODE: u64 = u64::MAX;

/// Labels: key to value.
pub type Labels = BTreeMap<String, String>;

/// The tiers document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Tiers {
    /// [`FORMAT`].
    pub format: u8,
    /// The id the next tier added gets (ids are never reused: a blob on a remote tier names
    /// its tier by id).
    pub next_id: u32,
    /// The tiers, in the order they were added.
    pub tiers: Vec<Tier>,
    /// Storage class to tier name.
    pub classes: BTreeMap<String, String>,
}

/// One tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tier {
    /// Stable id.
    pub id: u32,
    /// Name (1 to 63 of a-z, 0-9 and '-').
    pub name: String,
    /// Where its data goes.
    pub kind: TierKind,
}

/// A local pool or a remote S3 bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TierKind {
    /// Nodes whose labels include every pair of `pool`, erasure-coded k + m.
    Local {
        /// Label selector: every pair must match.
        pool: Labels,
        /// Data shards.
        k: u8,
        /// Parity shards.
        m: u8,
    },
    /// A bucket on an S3 endpoint.
    Remote(RemoteTier),
}

/// Where a remote tier is and how to sign for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteTier {
    /// Endpoint URL (`http://host:port` or `https://...`).
    pub endpoint: String,
    /// Bucket.
    pub bucket: String,
    /// Key prefix of the objects Coffer writes there.
    pub prefix: String,
    /// Signing region.
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// The secret access key sealed under the key-encryption key ([`seal_secret`]), hex.
    pub sealed_secret: String,
}

/// What is wrong with a tier change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TierError {
    /// Bad input (a name, a selector, a profile, a class).
    #[error("{0}")]
    Invalid(String),
    /// No tier of that name.
    #[error("there is no tier {0:?}")]
    NoSuchTier(String),
    /// A tier of that name exists.
    #[error("there is already a tier {0:?}")]
    Exists(String),
    /// The tier is still in use.
    #[error("{0}")]
    InUse(String),
}

fn invalid(s: impl Into<String>) -> TierError {
    TierError::Invalid(s.into())
}

/// Whether `name` is a tier name: 1 to 63 of a-z, 0-9 and '-', not starting with '-'.
pub fn valid_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && !name.starts_with('-')
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `s` may be a label key or value: 1 to 63 of A-Za-z, 0-9, '-', '_' and '.'.
pub fn valid_label_part(s: &str) -> bool {
    (1..=63).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// `KEY=VALUE` as a label.
pub fn parse_label(s: &str) -> Result<(String, String), TierError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| invalid(format!("{s:?} is not KEY=VALUE")))?;
    if !valid_label_part(k) || !valid_label_part(v) {
        return Err(invalid(format!(
            "{s:?}: label keys and values are 1 to 63 of A-Za-z0-9-_."
        )));
    }
    Ok((k.to_owned(), v.to_owned()))
}

/// The associated data a remote tier's secret is sealed with: the tier's name, so that a
/// sealed secret cannot be moved to another tier.
fn secret_aad(tier: &str) -> Vec<u8> {
    format!("coffer remote tier secret v1 {tier}").into_bytes()
}

/// `secret` sealed under `kek` for tier `tier`, as hex.
pub fn seal_secret(kek: &MasterKey, tier: &str, secret: &str) -> String {
    kek.seal(secret.as_bytes(), &secret_aad(tier))
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl RemoteTier {
    /// The secret access key of tier `tier`, if it opens under `kek`.
    pub fn secret(&self, kek: &MasterKey, tier: &str) -> Option<String> {
        let hex = self.sealed_secret.as_bytes();
        if !hex.len().is_multiple_of(2) {
            return None;
        }
        let bytes: Option<Vec<u8>> = hex
            .chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
            .collect();
        String::from_utf8(kek.open(&bytes?, &secret_aad(tier))?).ok()
    }
}

impl Tiers {
    /// The document as stored (None: no document yet).
    pub fn decode(doc: Option<&str>) -> Result<Tiers, TierError> {
        match doc {
            None => Ok(Tiers {
                format: FORMAT,
                next_id: 1,
                ..Tiers::default()
            }),
            Some(d) => {
                let t: Tiers = serde_json::from_str(d)
                    .map_err(|e| invalid(format!("the tiers document does not decode: {e}")))?;
                if t.format != FORMAT {
                    return Err(invalid(format!(
                        "the tiers document is of format {}, this build reads {FORMAT}",
                        t.format
                    )));
                }
                Ok(t)
            }
        }
    }

    /// As stored.
    pub fn encode(&self) -> String {
        // Strings, integers and maps with string keys always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The tier named `name`.
    pub fn get(&self, name: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.name == name)
    }

    /// The tier with id `id`.
    pub fn by_id(&self, id: u32) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id == id)
    }

    /// The tier storage class `class` writes to (None: the default pool).
    pub fn of_class(&self, class: &str) -> Option<&Tier> {
        self.get(self.classes.get(class)?)
    }

    /// Add `tier` (its id is assigned here) and map `classes` to it.
    pub fn add(&mut self, name: &str, kind: TierKind, classes: &[String]) -> Result<(), TierError> {
        if !valid_name(name) {
            return Err(invalid(format!(
                "{name:?} is not a tier name: 1 to 63 of a-z, 0-9 and '-'"
            )));
        }
        if self.get(name).is_some() {
            return Err(TierError::Exists(name.to_owned()));
        }
        match &kind {
            TierKind::Local { pool, k, m } => {
                if pool.is_empty() {
                    return Err(invalid("a local tier needs a pool: at least one label"));
                }
                for (key, v) in pool {
                    if !valid_label_part(key) || !valid_label_part(v) {
                        return Err(invalid(format!("{key}={v} is not a label")));
                    }
                }
                if *k == 0 || usize::from(*k) + usize::from(*m) > 255 {
                    return Err(invalid(format!("{k}+{m} is not an erasure profile")));
                }
                if let Some(t) = self.tiers.iter().find(|t| match &t.kind {
                    TierKind::Local { pool: p, .. } => p == pool,
                    TierKind::Remote(_) => false,
                }) {
                    return Err(invalid(format!("tier {:?} already has this pool", t.name)));
                }
            }
            TierKind::Remote(r) => {
                let url = r.endpoint.strip_prefix("http://");
                let url = url.or_else(|| r.endpoint.strip_prefix("https://"));
                if url.is_none_or(|u| u.is_empty()) {
                    return Err(invalid(format!(
                        "{:?} is not an endpoint URL (http://host:port or https://...)",
                        r.endpoint
                    )));
                }
                if r.bucket.is_empty() || r.access_key_id.is_empty() {
                    return Err(invalid("a remote tier needs a bucket and an access key id"));
                }
            }
        }
        let id = self.next_id.max(1);
        self.next_id = id + 1;
        self.tiers.push(Tier {
            id,
            name: name.to_owned(),
            kind,
        });
        for c in classes {
            self.map_class(c, Some(name))?;
        }
        Ok(())
    }

    /// Map storage class `class` to tier `tier` (None: back to the default pool).
    pub fn map_class(&mut self, class: &str, tier: Option<&str>) -> Result<(), TierError> {
        if !STORAGE_CLASSES.contains(&class) {
            return Err(invalid(format!("{class:?} is not a storage class")));
        }
        if class == "STANDARD" {
            return Err(invalid("STANDARD stays on the default pool"));
        }
        match tier {
            Some(t) => {
                if self.get(t).is_none() {
                    return Err(TierError::NoSuchTier(t.to_owned()));
                }
                self.classes.insert(class.to_owned(), t.to_owned());
            }
            None => {
                self.classes.remove(class);
            }
        }
        Ok(())
    }

    /// Remove tier `name`: refused while a storage class maps to it (the caller also checks
    /// that no data is left on it).
    pub fn remove(&mut self, name: &str) -> Result<Tier, TierError> {
        let at = self
            .tiers
            .iter()
            .position(|t| t.name == name)
            .ok_or_else(|| TierError::NoSuchTier(name.to_owned()))?;
        let classes: Vec<&str> = self
            .classes
            .iter()
            .filter(|(_, t)| *t == name)
            .map(|(c, _)| c.as_str())
            .collect();
        if !classes.is_empty() {
            return Err(TierError::InUse(format!(
                "storage classes {} write to tier {name:?}: map them elsewhere first",
                classes.join(", ")
            )));
        }
        Ok(self.tiers.remove(at))
    }

    /// The local tier node `labels` belong to: the first whose selector they match.
    pub fn pool_of(&self, labels: &Labels) -> Option<&Tier> {
        self.tiers.iter().find(|t| match &t.kind {
            TierKind::Local { pool, .. } => pool.iter().all(|(k, v)| labels.get(k) == Some(v)),
            TierKind::Remote(_) => false,
        })
    }

    /// The nodes of `nodes` (id, labels) in the pool of tier `tier` (None: the default
    /// pool, the nodes no local tier claims).
    pub fn pool_members<'a>(
        &self,
        tier: Option<&Tier>,
        nodes: impl IntoIterator<Item = (u64, &'a Labels)>,
    ) -> BTreeSet<u64> {
        let want = tier.map(|t| t.id);
        nodes
            .into_iter()
            .filter(|(_, l)| self.pool_of(l).map(|t| t.id) == want)
            .map(|(id, _)| id)
            .collect()
    }
}

/// The node labels document: each node's labels, as it published them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct NodeLabels {
    /// [`FORMAT`].
    pub format: u8,
    /// Node id to its labels.
    pub nodes: BTreeMap<u64, Labels>,
}

impl NodeLabels {
    /// The document as stored (None: no node has published labels).
    pub fn decode(doc: Option<&str>) -> Result<NodeLabels, TierError> {
        match doc {
            None => Ok(NodeLabels {
                format: FORMAT,
                nodes: BTreeMap::new(),
            }),
            Some(d) => {
                let l: NodeLabels = serde_json::from_str(d).map_err(|e| {
                    invalid(format!("the node labels document does not decode: {e}"))
                })?;
                if l.format != FORMAT {
                    return Err(invalid(format!(
                        "the node labels document is of format {}, this build reads {FORMAT}",
                        l.format
                    )));
                }
                Ok(l)
            }
        }
    }

    /// As stored.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Node `id`'s labels (none published: none).
    pub fn of(&self, id: u64) -> Labels {
        self.nodes.get(&id).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn local(pairs: &[(&str, &str)], k: u8, m: u8) -> TierKind {
        TierKind::Local {
            pool: labels(pairs),
            k,
            m,
        }
    }

    fn remote(endpoint: &str) -> TierKind {
        TierKind::Remote(RemoteTier {
            endpoint: endpoint.into(),
            bucket: "cold".into(),
            prefix: "tier/".into(),
            region: "us-east-1".into(),
            access_key_id: "AK".into(),
            sealed_secret: String::new(),
        })
    }

    #[test]
    fn tiers_are_added_mapped_and_removed_with_stable_ids() {
        let mut t = Tiers::decode(None).unwrap();
        t.add(
            "big",
            local(&[("disk", "large")], 8, 4),
            &["STANDARD_IA".into()],
        )
        .unwrap();
        t.add("cold", remote("http://127.0.0.1:9000"), &[]).unwrap();
        assert_eq!(t.get("big").unwrap().id, 1);
        assert_eq!(t.get("cold").unwrap().id, 2);
        assert_eq!(t.of_class("STANDARD_IA").unwrap().name, "big");
        assert!(t.of_class("GLACIER").is_none());
        t.map_class("GLACIER", Some("cold")).unwrap();
        assert_eq!(t.of_class("GLACIER").unwrap().id, 2);
        // Round trip.
        let again = Tiers::decode(Some(&t.encode())).unwrap();
        assert_eq!(again, t);
        // In use: refused; unmapped: removed; ids are not reused.
        assert!(matches!(t.remove("cold"), Err(TierError::InUse(_))));
        t.map_class("GLACIER", None).unwrap();
        t.remove("cold").unwrap();
        t.add("cold2", remote("https://s3.example"), &[]).unwrap();
        assert_eq!(t.get("cold2").unwrap().id, 3);
        assert!(t.by_id(2).is_none());
    }

    #[test]
    fn bad_tiers_are_refused() {
        let mut t = Tiers::decode(None).unwrap();
        let bad = |r: Result<(), TierError>| assert!(matches!(r, Err(TierError::Invalid(_))));
        bad(t.add("Big", local(&[("a", "b")], 2, 1), &[]));
        bad(t.add("", local(&[("a", "b")], 2, 1), &[]));
        bad(t.add("big", local(&[], 2, 1), &[]));
        bad(t.add("big", local(&[("a", "b c")], 2, 1), &[]));
        bad(t.add("big", local(&[("a", "b")], 0, 1), &[]));
        bad(t.add("cold", remote("ftp://x"), &[]));
        bad(t.add("cold", remote("http://"), &[]));
        t.add("big", local(&[("a", "b")], 2, 1), &[]).unwrap();
        assert_eq!(
            t.add("big", local(&[("a", "c")], 2, 1), &[]),
            Err(TierError::Exists("big".into()))
        );
        bad(t.add("big2", local(&[("a", "b")], 4, 2), &[]));
        bad(t.map_class("STANDARD", Some("big")));
        bad(t.map_class("GOLD", Some("big")));
        assert_eq!(
            t.map_class("GLACIER", Some("none")),
            Err(TierError::NoSuchTier("none".into()))
        );
        assert!(matches!(
            Tiers::decode(Some(r#"{"format":2,"next_id":1,"tiers":[],"classes":{}}"#)),
            Err(TierError::Invalid(_))
        ));
        assert!(parse_label("disk=large").is_ok());
        assert!(parse_label("disk").is_err());
        assert!(parse_label("disk=").is_err());
    }

    #[test]
    fn a_node_belongs_to_the_first_pool_that_selects_it() {
        let mut t = Tiers::decode(None).unwrap();
        t.add("big", local(&[("disk", "large")], 8, 4), &[])
            .unwrap();
        t.add(
            "big-ssd",
            local(&[("disk", "large"), ("media", "ssd")], 2, 1),
            &[],
        )
        .unwrap();
        let (plain, large, ssd) = (
            labels(&[("zone", "a")]),
            labels(&[("disk", "large")]),
            labels(&[("disk", "large"), ("media", "ssd")]),
        );
        let nodes = [(1, &plain), (2, &large), (3, &ssd)];
        assert_eq!(t.pool_members(None, nodes), BTreeSet::from([1]));
        assert_eq!(t.pool_members(t.get("big"), nodes), BTreeSet::from([2, 3]));
        assert!(t.pool_members(t.get("big-ssd"), nodes).is_empty());
    }

    #[test]
    fn a_remote_secret_opens_only_for_its_tier_and_key() {
        let kek = MasterKey::from_bytes([7; 32]);
        let sealed = seal_secret(&kek, "cold", "s3cr3t");
        assert!(!sealed.contains("s3cr3t"));
        let r = RemoteTier {
            sealed_secret: sealed,
            ..match remote("http://x") {
                TierKind::Remote(r) => r,
                TierKind::Local { .. } => unreachable!(),
            }
        };
        assert_eq!(r.secret(&kek, "cold").as_deref(), Some("s3cr3t"));
        assert_eq!(r.secret(&kek, "cold2"), None);
        assert_eq!(r.secret(&MasterKey::from_bytes([8; 32]), "cold"), None);
    }
}
