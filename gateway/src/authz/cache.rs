//! Parsed policies by their document text: a request's policies are parsed once per gateway,
//! not once per request. Bounded: the map is emptied when it grows past [`MAX_ENTRIES`] (at
//! most 20 MiB of bucket policies).

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use coffer_proto::policy::{Policy, PolicyError, PolicyKind};

/// Policies kept at most.
pub const MAX_ENTRIES: usize = 1024;

type Parsed = Result<Arc<Policy>, PolicyError>;

/// The cache, keyed by a randomly keyed SipHash of (document, kind).
#[derive(Default)]
pub struct PolicyCache {
    hasher: RandomState,
    map: Mutex<HashMap<u64, Parsed>>,
}

impl PolicyCache {
    /// The policy `doc` of `kind`, parsed, or why it does not parse.
    pub fn get(&self, doc: &str, kind: &PolicyKind) -> Parsed {
        let key = self.hasher.hash_one((doc, kind));
        if let Some(p) = self.lock().get(&key) {
            return p.clone();
        }
        let parsed = Policy::parse(doc, kind).map(Arc::new);
        let mut map = self.lock();
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, parsed.clone());
        parsed
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Parsed>> {
        // Every change is a single insert or clear, so a poisoned map is still consistent.
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
