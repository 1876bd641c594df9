//! Reading versions: one version of a key by id, and ListObjectVersions. How versions are
//! kept is in [`super::apply`]'s `versions` module: a key's current version in `objects`, its
//! older versions and delete markers in `versions`, newest first. A listing walks both column
//! families in step, one range scan each, so it reads every key's versions in S3's order (keys
//! ascending, each key's current version first, then the rest newest first) without sorting.

use coffer_proto::types::{
    ObjectData, ObjectVersion, VersionEntry, VersionListQuery, VersionListResult, NULL_VERSION,
};
use coffer_proto::version_id::VersionId;

use super::acls;
use super::format;
use super::keys;
use super::store::{Cursor, MetaStore, StoreError, CF_OBJECTS, CF_VERSIONS};

/// A version found by [`find`].
pub struct Found {
    /// The version.
    pub version: ObjectVersion,
    /// Where its record is: `objects` (the current version) or `versions`.
    pub cf: &'static str,
    /// Its record key there.
    pub record: Vec<u8>,
    /// The record key of its ACL and tags.
    pub docs: Vec<u8>,
}

/// Version `version_id` of `key` (`None`: its latest, which may be a delete marker).
pub fn find(
    store: &MetaStore,
    bucket_id: u64,
    key: &str,
    version_id: Option<&str>,
) -> Result<Option<Found>, StoreError> {
    let record = keys::object(bucket_id, key);
    let current = store.get::<ObjectVersion>(CF_OBJECTS, &record)?;
    if let Some(v) = current.filter(|v| version_id.is_none_or(|id| id == v.version_id)) {
        return Ok(Some(Found {
            version: v,
            cf: CF_OBJECTS,
            record,
            docs: acls::object_key(bucket_id, key),
        }));
    }
    let older = |(record, v): (Vec<u8>, ObjectVersion)| Found {
        docs: acls::version_key(bucket_id, key, v.stamp),
        version: v,
        cf: CF_VERSIONS,
        record,
    };
    let prefix = keys::versions_prefix(bucket_id, key);
    match version_id.map(VersionId::parse) {
        // No current version: the newest older one (a delete marker) is the latest.
        None => Ok(store
            .scan_prefix::<ObjectVersion>(CF_VERSIONS, &prefix, 1)?
            .into_iter()
            .next()
            .map(older)),
        Some(Err(_)) => Ok(None),
        Some(Ok(VersionId::Stamped(stamp))) => {
            let record = keys::version(bucket_id, key, Some(stamp));
            Ok(store
                .get::<ObjectVersion>(CF_VERSIONS, &record)?
                .filter(|v| v.version_id != NULL_VERSION)
                .map(|v| older((record, v))))
        }
        Some(Ok(VersionId::Null)) => Ok(store
            .scan_prefix::<ObjectVersion>(CF_VERSIONS, &prefix, usize::MAX)?
            .into_iter()
            .find(|(_, v)| v.version_id == NULL_VERSION)
            .map(older)),
    }
}

/// A page of ListObjectVersions being filled.
struct Page {
    out: VersionListResult,
    max: usize,
    count: usize,
    /// Whether the last entry was a common prefix (else a version).
    last_was_prefix: bool,
}

impl Page {
    /// Whether the page is full (another entry is waiting: the listing is truncated).
    fn full(&mut self) -> bool {
        if self.count >= self.max {
            self.out.truncated = true;
        }
        self.out.truncated
    }

    fn version(&mut self, mut v: ObjectVersion, is_latest: bool) {
        self.count += 1;
        // Where the next page starts is set when this one ends (see [`Page::finish`]).
        self.last_was_prefix = false;
        v.data = ObjectData::Blobs(Vec::new());
        self.out.versions.push(VersionEntry {
            version: v,
            is_latest,
        });
    }

    fn prefix(&mut self, cp: String) {
        self.count += 1;
        self.last_was_prefix = true;
        self.out.common_prefixes.push(cp);
    }

    /// The page, with where the next one starts when it is truncated: after the last entry.
    fn finish(mut self) -> VersionListResult {
        if self.out.truncated {
            let last_version = self.out.versions.last().map(|e| &e.version);
            if self.last_was_prefix {
                self.out.next_key_marker = self.out.common_prefixes.last().cloned();
            } else if let Some(v) = last_version {
                self.out.next_key_marker = Some(v.key.clone());
                self.out.next_version_id_marker = Some(v.version_id.clone());
            }
        }
        self.out
    }
}

/// The object key (without the bucket) at a cursor of `objects` (`versions`: `of_version`).
fn key_at<'c>(c: &'c dyn Cursor, base: &[u8], of_version: bool) -> Option<&'c [u8]> {
    let k = c.key()?;
    if !k.starts_with(base) {
        return None;
    }
    if of_version {
        keys::key_of_version(k)
    } else {
        k.get(base.len()..)
    }
}

/// `base` ‖ `key` ‖ `tail`.
fn joined(base: &[u8], key: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut k = base.to_vec();
    k.extend_from_slice(key);
    k.extend_from_slice(tail);
    k
}

/// ListObjectVersions of bucket `bucket_id`.
pub fn list(
    store: &MetaStore,
    bucket_id: u64,
    q: &VersionListQuery,
) -> Result<VersionListResult, StoreError> {
    let mut page = Page {
        out: VersionListResult::default(),
        max: q.max_keys as usize,
        count: 0,
        last_was_prefix: false,
    };
    let base = keys::bucket_prefix(bucket_id);
    let prefix = q.prefix.as_bytes();
    let delimiter = q.delimiter.as_deref().filter(|d| !d.is_empty());
    let mut objs = store.raw_iter(CF_OBJECTS)?;
    let mut vers = store.raw_iter(CF_VERSIONS)?;
    let marker = q
        .key_marker
        .as_deref()
        .filter(|m| m.as_bytes() >= prefix)
        .map(str::as_bytes);
    match marker {
        Some(m) => {
            if let Some(vid) = q
                .version_id_marker
                .as_deref()
                .filter(|_| m.starts_with(prefix))
            {
                rest_of_key(store, &mut *vers, &mut page, bucket_id, m, vid)?;
            }
            // Past the marker's key: the next key in `objects`, the next key's versions.
            objs.seek(&joined(&base, m, &[0]));
            vers.seek(&joined(&base, m, &[1]));
        }
        None => {
            objs.seek(&joined(&base, prefix, &[]));
            vers.seek(&joined(&base, prefix, &[]));
        }
    }
    'keys: while !page.out.truncated {
        let next = match (key_at(&*objs, &base, false), key_at(&*vers, &base, true)) {
            (None, None) => break,
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => a.min(b),
        };
        if !next.starts_with(prefix) {
            break;
        }
        let raw_key = next.to_vec();
        let Ok(key) = std::str::from_utf8(&raw_key) else {
            objs.seek(&joined(&base, &raw_key, &[0]));
            vers.seek(&joined(&base, &raw_key, &[1]));
            continue;
        };
        if let Some(d) = delimiter {
            if let Some(pos) = key[prefix.len()..].find(d) {
                let cp = &key[..prefix.len() + pos + d.len()];
                if !marker.is_some_and(|m| m.starts_with(cp.as_bytes())) {
                    if page.full() {
                        break;
                    }
                    page.prefix(cp.to_owned());
                }
                match keys::prefix_end(&joined(&base, cp.as_bytes(), &[])) {
                    Some(past) => {
                        objs.seek(&past);
                        vers.seek(&past);
                    }
                    None => break,
                }
                continue;
            }
        }
        let mut latest = true;
        if key_at(&*objs, &base, false) == Some(raw_key.as_slice()) {
            if page.full() {
                break;
            }
            let v: ObjectVersion = format::decode(objs.value().unwrap_or_default())?;
            page.version(v, true);
            latest = false;
            objs.next();
        }
        while key_at(&*vers, &base, true) == Some(raw_key.as_slice()) {
            if page.full() {
                break 'keys;
            }
            let v: ObjectVersion = format::decode(vers.value().unwrap_or_default())?;
            page.version(v, latest);
            latest = false;
            vers.next();
        }
    }
    objs.status()?;
    vers.status()?;
    Ok(page.finish())
}

/// A page that resumes inside key `key` after its version `vid`: the versions of the key
/// older than that one.
fn rest_of_key(
    store: &MetaStore,
    vers: &mut dyn Cursor,
    page: &mut Page,
    bucket_id: u64,
    key: &[u8],
    vid: &str,
) -> Result<(), StoreError> {
    let Ok(key_str) = std::str::from_utf8(key) else {
        return Ok(());
    };
    let base = keys::bucket_prefix(bucket_id);
    let current = store.get::<ObjectVersion>(CF_OBJECTS, &keys::object(bucket_id, key_str))?;
    match (current, VersionId::parse(vid)) {
        (Some(c), _) if c.version_id == vid => {
            vers.seek(&keys::versions_prefix(bucket_id, key_str))
        }
        (_, Ok(VersionId::Stamped(s))) => {
            let at = keys::version(bucket_id, key_str, Some(s));
            vers.seek(&at);
            if vers.key() == Some(at.as_slice()) {
                vers.next();
            }
        }
        (_, Ok(VersionId::Null)) => {
            vers.seek(&keys::versions_prefix(bucket_id, key_str));
            while key_at(vers, &base, true) == Some(key) {
                let v: ObjectVersion = format::decode(vers.value().unwrap_or_default())?;
                vers.next();
                if v.version_id == NULL_VERSION {
                    break;
                }
            }
        }
        (_, Err(_)) => return Ok(()),
    }
    while key_at(vers, &base, true) == Some(key) {
        if page.full() {
            break;
        }
        let v: ObjectVersion = format::decode(vers.value().unwrap_or_default())?;
        page.version(v, false);
        vers.next();
    }
    vers.status()
}
