//! The key service's administration on a node: making, enabling, disabling and rotating keys
//! (`coffer admin kms key ...`, and the keys the configuration names at start). New material
//! is made here and sealed under the key-encryption key the node was given before it enters
//! the metadata; a change to a key is a compare-and-swap of its document, retried when another
//! change came first.

use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::meta::MetaCommand;
use coffer_proto::seal::MasterKey;
use coffer_proto::sse::{valid_key_id, KmsKey};
use coffer_proto::{ClusterApi as _, ProtoError};
use tracing::info;

use crate::cluster::Node;

/// How many times a change is tried against concurrent changes.
const TRIES: usize = 8;

fn kek(node: &Node) -> Result<&MasterKey, ProtoError> {
    node.config.kek.as_ref().ok_or_else(|| {
        ProtoError::ValidationError("this node was given no key-encryption key".into())
    })
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn no_such_key(id: &str) -> ProtoError {
    ProtoError::NoSuchEntity(format!("Key '{id}' does not exist"))
}

/// Key `id` as the metadata has it.
pub async fn get(node: &Node, id: &str) -> Result<Option<KmsKey>, ProtoError> {
    match node.kms_key(id).await? {
        None => Ok(None),
        Some(doc) => KmsKey::decode(&doc)
            .map(Some)
            .ok_or_else(|| ProtoError::Internal(format!("key {id} does not decode"))),
    }
}

/// Make key `id` (EntityAlreadyExists if there is one).
pub async fn create(node: &Node, id: &str, description: &str) -> Result<KmsKey, ProtoError> {
    if !valid_key_id(id) {
        return Err(ProtoError::ValidationError(format!(
            "{id:?} is not a key id: 1 to 250 of A-Za-z0-9_.-"
        )));
    }
    let key = KmsKey::generate(id, description, now_ms(), kek(node)?);
    match node
        .meta_write(MetaCommand::CreateKmsKey { key: key.encode() })
        .await
    {
        Ok(_) => Ok(key),
        Err(ProtoError::KmsKeyExists) => Err(ProtoError::EntityAlreadyExists(format!(
            "Key '{id}' already exists"
        ))),
        Err(e) => Err(e),
    }
}

/// What an admin change does to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// It seals and opens data keys.
    Enable,
    /// It neither seals nor opens data keys until enabled again.
    Disable,
    /// New material seals new data keys; the old generations still open what they sealed.
    Rotate,
}

/// Apply `change` to key `id` (NoSuchEntity if there is none); the key as it now is.
pub async fn change(node: &Node, id: &str, change: Change) -> Result<KmsKey, ProtoError> {
    if id.starts_with("coffer/") {
        return Err(ProtoError::ValidationError(format!(
            "{id} is the cluster's own key"
        )));
    }
    for _ in 0..TRIES {
        let Some(key) = get(node, id).await? else {
            return Err(no_such_key(id));
        };
        let next = match change {
            Change::Enable => KmsKey {
                enabled: true,
                ..key.clone()
            },
            Change::Disable => KmsKey {
                enabled: false,
                ..key.clone()
            },
            Change::Rotate => key.rotated(now_ms(), kek(node)?),
        };
        match node
            .meta_write(MetaCommand::ReplaceKmsKey {
                previous: key.encode(),
                key: next.encode(),
            })
            .await
        {
            Ok(_) => return Ok(next),
            Err(ProtoError::KmsKeyChanged) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(ProtoError::Internal(format!(
        "key {id} kept changing: tried {TRIES} times"
    )))
}

/// Every key an admin sees (not SSE-S3's, which is the cluster's own).
pub async fn list(node: &Node) -> Result<Vec<KmsKey>, ProtoError> {
    Ok(node
        .kms_keys()
        .await?
        .iter()
        .filter_map(|d| KmsKey::decode(d))
        .filter(|k| !k.id.starts_with("coffer/"))
        .collect())
}

/// Make the keys the configuration names that the cluster does not have yet.
pub async fn ensure_configured(node: &Node) -> Result<(), ProtoError> {
    for id in &node.config.kms_keys {
        if get(node, id).await?.is_some() {
            continue;
        }
        match create(node, id, "made at start from the configuration").await {
            Ok(_) => info!(key = %id, "key service: key made from the configuration"),
            // Another node made it meanwhile.
            Err(ProtoError::EntityAlreadyExists(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
