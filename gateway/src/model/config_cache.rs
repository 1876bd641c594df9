//! Bucket configuration documents a gateway read, kept for a few seconds by bucket name: what
//! every request of a bucket may consult (its lifecycle rules for `x-amz-expiration`, its
//! logging status for the access log) costs a metadata read per bucket and period, not per
//! request. A configuration changed through this gateway is read again at once
//! ([`ConfigCache::forget`]); one changed through another gateway is seen within [`FRESH`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::ClusterApi;

use super::lifecycle::{self, Lifecycle};
use super::logging::{self, LoggingStatus};

/// How long a gateway answers from a document it read.
pub const FRESH: Duration = Duration::from_secs(5);

/// Most buckets remembered at once.
const MAX_ENTRIES: usize = 4096;

/// When a bucket's document was read, and what it was.
type Read<T> = (Instant, Option<Arc<T>>);

/// One kind of document as this gateway last read it, by bucket name.
#[derive(Debug)]
pub struct ConfigCache<T> {
    kind: BucketConfigKind,
    decode: fn(&str) -> Option<T>,
    map: Mutex<HashMap<String, Read<T>>>,
}

impl<T> ConfigCache<T> {
    /// A cache of the `kind` documents, read with `decode`.
    pub fn new(kind: BucketConfigKind, decode: fn(&str) -> Option<T>) -> Self {
        ConfigCache {
            kind,
            decode,
            map: Mutex::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Read<T>>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forget what was read of `bucket` (its configuration changed through this gateway).
    pub fn forget(&self, bucket: &str) {
        self.lock().remove(bucket);
    }

    /// The document of `bucket`, from memory while fresh. A read that fails answers none
    /// (and is not remembered): what asks (a response header, a log line) is left out rather
    /// than the request failed. A bucket that does not exist has none.
    pub async fn get(&self, cluster: &Arc<dyn ClusterApi>, bucket: &str) -> Option<Arc<T>> {
        if let Some((at, doc)) = self.lock().get(bucket) {
            if at.elapsed() < FRESH {
                return doc.clone();
            }
        }
        let doc = match cluster.bucket_config(bucket, self.kind).await {
            Ok(doc) => doc.flatten().and_then(|d| (self.decode)(&d)).map(Arc::new),
            Err(e) => {
                tracing::debug!(kind = ?self.kind, "bucket configuration unread: {e:?}");
                return None;
            }
        };
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(bucket.to_owned(), (Instant::now(), doc.clone()));
        doc
    }
}

/// The documents a gateway keeps: every request shares them.
#[derive(Debug)]
pub struct Caches {
    /// Lifecycle rules (for `x-amz-expiration`).
    pub lifecycle: ConfigCache<Lifecycle>,
    /// Logging status (for the server access log, [`crate::access_log`]).
    pub logging: ConfigCache<LoggingStatus>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            lifecycle: ConfigCache::new(BucketConfigKind::Lifecycle, lifecycle::decode),
            logging: ConfigCache::new(BucketConfigKind::Logging, logging::decode),
        }
    }
}
