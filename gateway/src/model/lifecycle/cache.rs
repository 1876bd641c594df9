//! The lifecycle documents a gateway read, kept for a few seconds by bucket name: what answers
//! `x-amz-expiration` ([`crate::s3::expiration`]) costs a metadata read per bucket and period,
//! not per request. A configuration changed through this gateway is read again at once
//! ([`LifecycleCache::forget`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::ClusterApi;

use super::Lifecycle;

/// How long a gateway answers from a lifecycle document it read.
const FRESH: Duration = Duration::from_secs(5);

/// Most buckets remembered at once.
const MAX_ENTRIES: usize = 4096;

/// When a bucket's rules were read, and what they were.
type Read = (Instant, Option<Arc<Lifecycle>>);

/// Lifecycle documents as this gateway last read them, by bucket name.
#[derive(Debug, Default)]
pub struct LifecycleCache {
    map: Mutex<HashMap<String, Read>>,
}

impl LifecycleCache {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Read>> {
        self.map
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forget what was read of `bucket` (its configuration changed through this gateway).
    pub fn forget(&self, bucket: &str) {
        self.lock().remove(bucket);
    }

    /// The rules of `bucket`, from memory while fresh. A read that fails answers none: what
    /// asks (a response header) is left out rather than the request failed.
    pub async fn get(&self, cluster: &Arc<dyn ClusterApi>, bucket: &str) -> Option<Arc<Lifecycle>> {
        if let Some((at, l)) = self.lock().get(bucket) {
            if at.elapsed() < FRESH {
                return l.clone();
            }
        }
        let read = cluster
            .bucket_config(bucket, BucketConfigKind::Lifecycle)
            .await;
        let rules = match read {
            Ok(doc) => doc.flatten().and_then(|d| super::decode(&d)).map(Arc::new),
            Err(e) => {
                tracing::debug!("lifecycle rules unread for x-amz-expiration: {e:?}");
                return None;
            }
        };
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(bucket.to_owned(), (Instant::now(), rules.clone()));
        rules
    }
}
