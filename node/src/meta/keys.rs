//! Key encoders for the metadata column families (see the layout in `meta/mod.rs`).

use coffer_proto::version_id::{Stamp, STAMP_LEN};

/// Prefix of every object key of a bucket.
pub fn bucket_prefix(bucket_id: u64) -> Vec<u8> {
    bucket_id.to_be_bytes().to_vec()
}

/// `objects` key.
pub fn object(bucket_id: u64, key: &str) -> Vec<u8> {
    let mut k = bucket_prefix(bucket_id);
    k.extend_from_slice(key.as_bytes());
    k
}

/// `versions` key prefix of one object key's older versions and delete markers.
pub fn versions_prefix(bucket_id: u64, key: &str) -> Vec<u8> {
    let mut k = object(bucket_id, key);
    k.push(0);
    k
}

/// `versions` key of a version committed at `stamp` (`None`: written before versioning,
/// which sorts after, i.e. older than, every stamped version of the key).
pub fn version(bucket_id: u64, key: &str, stamp: Option<Stamp>) -> Vec<u8> {
    let mut k = versions_prefix(bucket_id, key);
    k.extend_from_slice(&stamp.unwrap_or(UNSTAMPED).newest_first());
    k
}

/// The stamp a version written before versioning sorts as: the oldest.
pub const UNSTAMPED: Stamp = Stamp { index: 0, pos: 0 };

/// The object key of a `versions` record key (None: not one).
pub fn key_of_version(raw: &[u8]) -> Option<&[u8]> {
    raw.len()
        .checked_sub(STAMP_LEN + 1)
        .filter(|&end| end >= 8)
        .and_then(|end| raw.get(8..end))
}

/// `uploads` key prefix for all uploads of one object key.
pub fn upload_key_prefix(bucket_id: u64, key: &str) -> Vec<u8> {
    let mut k = object(bucket_id, key);
    k.push(0);
    k
}

/// `uploads` key.
pub fn upload(bucket_id: u64, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = upload_key_prefix(bucket_id, key);
    k.extend_from_slice(upload_id.as_bytes());
    k
}

/// `parts` key prefix for one upload.
pub fn parts_prefix(bucket_id: u64, key: &str, upload_id: &str) -> Vec<u8> {
    let mut k = upload(bucket_id, key, upload_id);
    k.push(0);
    k
}

/// `parts` key.
pub fn part(bucket_id: u64, key: &str, upload_id: &str, number: u32) -> Vec<u8> {
    let mut k = parts_prefix(bucket_id, key, upload_id);
    k.extend_from_slice(&number.to_be_bytes());
    k
}

/// `nodes` key.
pub fn node(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

/// The smallest key greater than every key starting with `prefix` (None if there is none).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_ids_sort_numerically() {
        assert!(object(1, "zzz") < object(2, ""));
        assert!(object(255, "a") < object(256, "a"));
    }

    #[test]
    fn uploads_sort_by_key_then_id() {
        assert!(upload(1, "a", "z") < upload(1, "a/", "a"));
        assert!(part(1, "a", "u", 2) < part(1, "a", "u", 10));
    }

    #[test]
    fn versions_sort_by_key_then_newest_first() {
        let s = |index, pos| Some(Stamp { index, pos });
        assert!(version(1, "a", s(9, 0)) < version(1, "a", s(3, 1)));
        assert!(version(1, "a", s(3, 1)) < version(1, "a", s(3, 0)));
        assert!(version(1, "a", s(3, 0)) < version(1, "a", None));
        assert!(version(1, "a", None) < version(1, "a/", s(9, 0)));
        assert!(version(1, "a", None) < version(1, "ab", s(9, 0)));
        assert_eq!(
            key_of_version(&version(7, "a/b", s(1, 2))),
            Some(&b"a/b"[..])
        );
        assert_eq!(key_of_version(&version(7, "", None)), Some(&b""[..]));
        assert_eq!(key_of_version(b"short"), None);
    }

    #[test]
    fn prefix_end_is_the_next_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff]), None);
    }
}
