//! The gateway's side of the key service: the key-encryption key it was given (which unseals
//! the keys' material from the metadata), the keys it read lately, and the sealing and
//! opening of data keys under them.
//!
//! A key's document is read from the metadata and kept [`FRESH`] before it is read again, so
//! a key disabled or rotated through the admin API takes effect on every gateway within that
//! time. SSE-S3's key and SSE-KMS's default key (`aws/s3`) are made by the first gateway that
//! needs them ([`Keyring::sse_s3`], [`Keyring::default_kms`]): it proposes a key with fresh
//! material, and whichever proposal commits first is the cluster's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::MetaCommand;
use coffer_proto::seal::MasterKey;
use coffer_proto::sse::{KmsKey, DEFAULT_KMS_KEY, SSE_S3_KEY};
use coffer_proto::{ClusterApi, ProtoError};

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};

/// How long a key read from the metadata is used before it is read again.
pub const FRESH: Duration = Duration::from_secs(2);

/// A key's material of one generation, unsealed.
#[derive(Clone)]
pub struct Unsealed {
    /// The generation.
    pub generation: u32,
    /// The material as a sealing key.
    pub key: MasterKey,
}

/// The key-encryption key and the keys lately read.
pub struct Keyring {
    kek: Option<MasterKey>,
    cache: Mutex<HashMap<String, (Instant, Arc<KmsKey>)>>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring(..)")
    }
}

impl Keyring {
    /// A keyring with key-encryption key `kek` (None: this gateway cannot encrypt).
    pub fn new(kek: Option<MasterKey>) -> Keyring {
        Keyring {
            kek,
            cache: Mutex::new(HashMap::new()),
        }
    }

    fn kek(&self) -> S3Result<&MasterKey> {
        self.kek
            .as_ref()
            .ok_or_else(|| S3Error::internal("this gateway was given no key-encryption key"))
    }

    /// Key `id` as the metadata has it (None: no such key), read at most [`FRESH`] ago.
    pub async fn key(
        &self,
        cluster: &Arc<dyn ClusterApi>,
        id: &str,
    ) -> S3Result<Option<Arc<KmsKey>>> {
        if let Some(k) = self.cached(id) {
            return Ok(Some(k));
        }
        let Some(doc) = cluster.kms_key(id).await? else {
            return Ok(None);
        };
        let key = KmsKey::decode(&doc).ok_or_else(|| {
            S3Error::internal(format!("the key service's key {id} does not decode"))
        })?;
        let key = Arc::new(key);
        if let Ok(mut c) = self.cache.lock() {
            c.insert(id.to_owned(), (Instant::now(), key.clone()));
        }
        Ok(Some(key))
    }

    fn cached(&self, id: &str) -> Option<Arc<KmsKey>> {
        let c = self.cache.lock().ok()?;
        c.get(id)
            .filter(|(at, _)| at.elapsed() < FRESH)
            .map(|(_, k)| k.clone())
    }

    /// SSE-S3's key, made now if the cluster has none yet.
    pub async fn sse_s3(&self, cluster: &Arc<dyn ClusterApi>) -> S3Result<Arc<KmsKey>> {
        self.made_on_first_use(cluster, SSE_S3_KEY, "SSE-S3").await
    }

    /// The key SSE-KMS uses when a write names none (`aws/s3`), made now if the cluster has
    /// none yet.
    pub async fn default_kms(&self, cluster: &Arc<dyn ClusterApi>) -> S3Result<Arc<KmsKey>> {
        self.made_on_first_use(
            cluster,
            DEFAULT_KMS_KEY,
            "Default key for SSE-KMS writes that name no key",
        )
        .await
    }

    /// The service's own key `id`, made now if the cluster has none yet.
    async fn made_on_first_use(
        &self,
        cluster: &Arc<dyn ClusterApi>,
        id: &str,
        description: &str,
    ) -> S3Result<Arc<KmsKey>> {
        if let Some(k) = self.key(cluster, id).await? {
            return Ok(k);
        }
        let proposal = KmsKey::generate(id, description, crate::s3::headers::now_ms(), self.kek()?);
        match cluster
            .meta_write(MetaCommand::CreateKmsKey {
                key: proposal.encode(),
            })
            .await
        {
            // Another gateway's proposal won the race: it is the key.
            Ok(_) | Err(ProtoError::KmsKeyExists) => {}
            Err(e) => return Err(e.into()),
        }
        self.key(cluster, id)
            .await?
            .ok_or_else(|| S3Error::internal(format!("key {id} was made but cannot be read")))
    }

    /// The material of `generation` of `key`, unsealed (an error when it does not open: this
    /// gateway was given another key-encryption key than the one that sealed it).
    pub fn unseal(&self, key: &KmsKey, generation: u32) -> S3Result<Unsealed> {
        let material = key.material(generation, self.kek()?).ok_or_else(|| {
            S3Error::internal(format!(
                "generation {generation} of key {} does not open under this gateway's \
                 key-encryption key",
                key.id
            ))
        })?;
        Ok(Unsealed {
            generation,
            key: MasterKey::from_bytes(material),
        })
    }

    /// The newest generation of `key`, unsealed: what seals new data keys.
    pub fn newest(&self, key: &KmsKey) -> S3Result<Unsealed> {
        self.unseal(key, key.generation())
    }
}

/// The error for a data key that does not open under the key its record names: its record or
/// the key's material was changed.
pub fn tampered_key() -> S3Error {
    S3Error::msg(
        S3ErrorCode::InternalError,
        "The object's sealed data key does not open: the stored key was changed",
    )
}
