//! Listing as a RocksDB range scan with delimiter folding done on the node: a common prefix is
//! emitted once and the iterator then seeks past every key under it, so listing one prefix (or
//! one level of a tree) never reads the rest of the bucket.

use coffer_proto::types::{ListEntry, ListQuery, ListResult, ObjectVersion};

use super::format;
use super::keys;
use super::store::{MetaStore, StoreError, CF_OBJECTS};

/// One item produced by [`scan`]: a key with its value, or a folded common prefix.
pub enum Item<'a> {
    /// A key (without the bucket prefix) and its raw value.
    Key(&'a str, &'a [u8]),
    /// A common prefix.
    Prefix(String),
}

/// Walk `cf` under `base` (the bucket prefix) in key order, starting strictly after
/// `start_after`, restricted to keys starting with `prefix`, folding on `delimiter`.
/// `visit` returns false to stop. Keys that are not valid UTF-8 are skipped. Returns how many
/// stored keys the iterator stepped on (seeks past folded prefixes are not steps).
pub fn scan(
    store: &MetaStore,
    cf: &'static str,
    base: &[u8],
    prefix: &str,
    delimiter: Option<&str>,
    start_after: Option<&str>,
    mut visit: impl FnMut(Item<'_>) -> Result<bool, StoreError>,
) -> Result<usize, StoreError> {
    let mut it = store.raw_iter(cf)?;
    let mut stepped = 0usize;
    let mut seek = base.to_vec();
    seek.extend_from_slice(prefix.as_bytes());
    let mut skip_exact: Option<Vec<u8>> = None;
    if let Some(sa) = start_after.filter(|sa| sa.as_bytes() >= prefix.as_bytes()) {
        seek = base.to_vec();
        seek.extend_from_slice(sa.as_bytes());
        skip_exact = Some(seek.clone());
    }
    it.seek(&seek);
    let delimiter = delimiter.filter(|d| !d.is_empty());
    while let (Some(k), Some(v)) = (it.key(), it.value()) {
        stepped += 1;
        let Some(rel) = k.strip_prefix(base) else {
            break;
        };
        if !rel.starts_with(prefix.as_bytes()) {
            break;
        }
        if skip_exact.as_deref() == Some(k) {
            it.next();
            continue;
        }
        let Ok(key) = std::str::from_utf8(rel) else {
            it.next();
            continue;
        };
        if let Some(d) = delimiter {
            if let Some(pos) = key[prefix.len()..].find(d) {
                let cp = &key[..prefix.len() + pos + d.len()];
                let already = start_after.is_some_and(|sa| sa.starts_with(cp));
                if !already && !visit(Item::Prefix(cp.to_owned()))? {
                    break;
                }
                let mut past = base.to_vec();
                past.extend_from_slice(cp.as_bytes());
                match keys::prefix_end(&past) {
                    Some(next) => it.seek(&next),
                    None => break,
                }
                continue;
            }
        }
        if !visit(Item::Key(key, v))? {
            break;
        }
        it.next();
    }
    it.status()?;
    Ok(stepped)
}

/// ListObjects (v1 and v2 share this; the gateway maps markers and tokens to `start_after`).
pub fn list_objects(
    store: &MetaStore,
    bucket_id: u64,
    q: &ListQuery,
) -> Result<ListResult, StoreError> {
    let mut out = ListResult::default();
    if q.max_keys == 0 {
        return Ok(out);
    }
    let max = q.max_keys as usize;
    let base = keys::bucket_prefix(bucket_id);
    let mut decode_err = None;
    scan(
        store,
        CF_OBJECTS,
        &base,
        &q.prefix,
        q.delimiter.as_deref(),
        q.start_after.as_deref(),
        |item| {
            if out.entries.len() + out.common_prefixes.len() >= max {
                out.truncated = true;
                return Ok(false);
            }
            match item {
                Item::Prefix(p) => {
                    out.next_marker = Some(p.clone());
                    out.common_prefixes.push(p);
                }
                Item::Key(key, raw) => {
                    let v: ObjectVersion = match format::decode(raw) {
                        Ok(v) => v,
                        Err(e) => {
                            decode_err = Some(e);
                            return Ok(false);
                        }
                    };
                    if v.delete_marker {
                        return Ok(true);
                    }
                    out.next_marker = Some(key.to_owned());
                    out.entries.push(ListEntry::from(&v));
                }
            }
            Ok(true)
        },
    )?;
    if let Some(e) = decode_err {
        return Err(e.into());
    }
    if !out.truncated {
        out.next_marker = None;
    }
    Ok(out)
}
