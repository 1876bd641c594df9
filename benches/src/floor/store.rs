//! What `s3-floor` keeps: buckets of objects and open multipart uploads, in memory, behind one
//! mutex. An object's bytes stay the request bodies' own buffers (a multipart object is its
//! parts side by side), so a PUT copies nothing and a GET sends slices of them.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use bytes::Bytes;

/// One object.
#[derive(Clone)]
pub struct Object {
    /// Its bytes, in pieces.
    pub pieces: Vec<Bytes>,
    pub size: u64,
    /// Quoted.
    pub etag: String,
    pub modified_ms: i64,
    pub content_type: Option<String>,
    /// `x-amz-meta-*` (names without the prefix).
    pub meta: Vec<(String, String)>,
}

impl Object {
    /// Bytes `start..end` as slices of at most `chunk` bytes.
    pub fn slices(&self, start: u64, end: u64, chunk: usize) -> Vec<Bytes> {
        let mut out = Vec::new();
        let mut at = 0u64;
        for p in &self.pieces {
            let (from, to) = (at, at + p.len() as u64);
            at = to;
            if to <= start || from >= end {
                continue;
            }
            let mut s = p.slice((start.max(from) - from) as usize..(end.min(to) - from) as usize);
            while s.len() > chunk {
                out.push(s.split_to(chunk));
            }
            out.push(s);
        }
        out
    }
}

/// A multipart upload being written.
pub struct Upload {
    pub bucket: String,
    pub key: String,
    pub content_type: Option<String>,
    pub meta: Vec<(String, String)>,
    /// Part number → (bytes, quoted ETag).
    pub parts: BTreeMap<u32, (Vec<Bytes>, String)>,
}

/// Everything the endpoint holds.
#[derive(Default)]
pub struct Store {
    state: Mutex<State>,
    next_id: AtomicU64,
}

/// The state behind the lock.
#[derive(Default)]
pub struct State {
    pub buckets: BTreeMap<String, BTreeMap<String, Object>>,
    pub uploads: HashMap<String, Upload>,
}

impl Store {
    /// The state, locked (a panic while it was held left nothing half-done that matters here).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A fresh id (upload ids, multipart ETags).
    pub fn id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// One page of a listing.
#[derive(Default)]
pub struct Page {
    pub objects: Vec<(String, Object)>,
    pub prefixes: Vec<String>,
    /// The last key or prefix returned, when more follow.
    pub next: Option<String>,
}

/// List `objects` after `after`, under `prefix`, folding at `delimiter`, at most `max` entries.
pub fn list(
    objects: &BTreeMap<String, Object>,
    prefix: &str,
    delimiter: Option<&str>,
    after: &str,
    max: usize,
) -> Page {
    let mut page = Page::default();
    let mut last = String::new();
    let lower = if !after.is_empty() && after >= prefix {
        Bound::Excluded(after)
    } else {
        Bound::Included(prefix)
    };
    for (k, o) in objects.range::<str, _>((lower, Bound::Unbounded)) {
        if !k.starts_with(prefix) {
            break;
        }
        let folded = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            k[prefix.len()..]
                .find(d)
                .map(|i| &k[..prefix.len() + i + d.len()])
        });
        if let Some(cp) = folded {
            if last == cp || cp <= after {
                continue;
            }
        }
        if page.objects.len() + page.prefixes.len() == max {
            page.next = Some(last);
            break;
        }
        match folded {
            Some(cp) => {
                page.prefixes.push(cp.to_owned());
                last = cp.to_owned();
            }
            None => {
                page.objects.push((k.clone(), o.clone()));
                last = k.clone();
            }
        }
    }
    page
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn obj(bytes: &[&'static [u8]]) -> Object {
        Object {
            pieces: bytes.iter().map(|b| Bytes::from_static(b)).collect(),
            size: bytes.iter().map(|b| b.len() as u64).sum(),
            etag: String::new(),
            modified_ms: 0,
            content_type: None,
            meta: Vec::new(),
        }
    }

    #[test]
    fn slices_cross_pieces_and_split_at_the_chunk_size() {
        let o = obj(&[b"abcde", b"fgh", b"ijklmno"]);
        let got: Vec<Bytes> = o.slices(3, 12, 3);
        let joined: Vec<u8> = got.iter().flat_map(|b| b.to_vec()).collect();
        assert_eq!(joined, b"defghijkl");
        assert!(got.iter().all(|b| b.len() <= 3));
    }

    #[test]
    fn listing_folds_prefixes_and_pages() {
        let mut m = BTreeMap::new();
        for k in ["a/1", "a/2", "b", "c/x/1", "c/y", "d"] {
            m.insert(k.to_owned(), obj(&[b"x"]));
        }
        let p = list(&m, "", Some("/"), "", 1000);
        let keys: Vec<&str> = p.objects.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["b", "d"]);
        assert_eq!(p.prefixes, ["a/", "c/"]);
        assert!(p.next.is_none());

        let p = list(&m, "", Some("/"), "", 2);
        assert_eq!(p.prefixes, ["a/"]);
        assert_eq!(p.next.as_deref(), Some("b"));
        let p = list(&m, "", Some("/"), "b", 2);
        assert_eq!(p.prefixes, ["c/"]);
        assert_eq!(p.objects[0].0, "d");

        let p = list(&m, "b", None, "", 1000);
        assert_eq!(p.objects[0].0, "b", "a key equal to the prefix is listed");
        let p = list(&m, "c/", None, "", 1000);
        let keys: Vec<&str> = p.objects.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["c/x/1", "c/y"]);
    }
}
