//! The two engines answer alike: the same writes, then the same reads, cursors and views.
#![allow(clippy::unwrap_used)]

use super::*;

/// Every key and value of `cf`, walked with a cursor from `from` (all: None).
fn walk(r: &dyn Reader, cf: &'static str, from: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut it = r.cursor(cf).unwrap();
    match from {
        Some(k) => it.seek(k),
        None => it.seek_to_first(),
    }
    let mut out = Vec::new();
    while let (Some(k), Some(v)) = (it.key(), it.value()) {
        out.push((k.to_vec(), v.to_vec()));
        it.next();
    }
    it.status().unwrap();
    out
}

/// What one engine answers after a fixed run of writes.
fn story(e: &dyn Engine) -> Vec<String> {
    let mut out = Vec::new();
    let mut b = Batch::default();
    for i in 0u8..10 {
        b.put(CF_OBJECTS, [b'k', i], vec![i]);
    }
    b.put(CF_BUCKETS, b"b", b"one".to_vec());
    b.delete(CF_OBJECTS, [b'k', 3]);
    e.write(b, true).unwrap();
    let view = e.view();
    let mut b = Batch::default();
    b.delete_range(CF_OBJECTS, vec![b'k', 5], vec![b'k', 8]);
    b.put(CF_BUCKETS, b"b", b"two".to_vec());
    // Staged in order: the later put wins.
    b.put(CF_BUCKETS, b"c", b"x".to_vec());
    b.delete(CF_BUCKETS, b"c");
    e.write(b, false).unwrap();
    out.push(format!("{:?}", walk(e, CF_OBJECTS, None)));
    out.push(format!("{:?}", walk(e, CF_OBJECTS, Some(&[b'k', 4]))));
    out.push(format!("{:?}", walk(e, CF_OBJECTS, Some(b"z"))));
    out.push(format!("{:?}", e.get_raw(CF_BUCKETS, b"b").unwrap()));
    out.push(format!("{:?}", e.get_raw(CF_BUCKETS, b"c").unwrap()));
    out.push(format!("{:?}", e.get_raw(CF_GC, b"none").unwrap()));
    // The view is of the moment it was taken.
    out.push(format!("{:?}", walk(&*view, CF_OBJECTS, None)));
    out.push(format!("{:?}", view.get_raw(CF_BUCKETS, b"b").unwrap()));
    let mut it = e.cursor(CF_OBJECTS).unwrap();
    it.seek_to_last();
    out.push(format!("{:?}", it.key()));
    drop(it);
    let mut it = e.cursor(CF_GC).unwrap();
    it.seek_to_first();
    out.push(format!("{:?} {}", it.key(), it.valid()));
    out
}

#[test]
fn memory_and_rocksdb_answer_alike() {
    let dir = tempfile::tempdir().unwrap();
    let rocks = rocks::RocksEngine::open(dir.path()).unwrap();
    let mem = memory::MemEngine::default();
    let got = story(&mem);
    assert_eq!(got, story(&rocks));
    // And what they answer is what the writes said.
    let key = |i: u8| (vec![b'k', i], vec![i]);
    let left: Vec<_> = [0, 1, 2, 4, 8, 9].into_iter().map(key).collect();
    assert_eq!(got[0], format!("{left:?}"));
    assert_eq!(got[3], format!("{:?}", Some(b"two".to_vec())));
    assert_eq!(got[4], "None");
    let before: Vec<_> = [0, 1, 2, 4, 5, 6, 7, 8, 9].into_iter().map(key).collect();
    assert_eq!(got[6], format!("{before:?}"));
    assert_eq!(got[7], format!("{:?}", Some(b"one".to_vec())));
}

#[test]
fn typed_reads_decode_through_the_format() {
    let store = MetaStore::memory();
    let mut b = Batch::default();
    b.put(
        CF_BUCKET_IDS,
        7u64.to_be_bytes(),
        format::encode(&"b".to_owned()),
    );
    b.put(
        CF_BUCKET_IDS,
        9u64.to_be_bytes(),
        format::encode(&"c".to_owned()),
    );
    store.write(b, false).unwrap();
    let got: Option<String> = store.get(CF_BUCKET_IDS, &7u64.to_be_bytes()).unwrap();
    assert_eq!(got.as_deref(), Some("b"));
    assert!(store.any_with_prefix(CF_BUCKET_IDS, &[0]).unwrap());
    assert!(!store.any_with_prefix(CF_BUCKET_IDS, &[1]).unwrap());
    let all: Vec<(Vec<u8>, String)> = store.scan_prefix(CF_BUCKET_IDS, &[], 10).unwrap();
    assert_eq!(all.len(), 2);
    // A value this build cannot read is an error, not a guess.
    let mut b = Batch::default();
    b.put(CF_BUCKET_IDS, 8u64.to_be_bytes(), vec![99, 1, 2]);
    store.write(b, false).unwrap();
    assert!(matches!(
        store.get::<String>(CF_BUCKET_IDS, &8u64.to_be_bytes()),
        Err(StoreError::Format(_))
    ));
}

#[test]
fn rocksdb_is_named_only_in_the_store() {
    fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let store = src.join("meta").join("store");
    let mut files = Vec::new();
    walk(&src, &mut files);
    assert!(files.len() > 50, "read only {} files", files.len());
    let naming: Vec<_> = files
        .iter()
        .filter(|f| !f.starts_with(&store))
        .filter(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.contains("rocksdb::") || text.contains("use rocksdb")
        })
        .collect();
    assert!(
        naming.is_empty(),
        "RocksDB named outside the store: {naming:?}"
    );
}

#[test]
fn every_column_family_once() {
    let all: Vec<&str> = all_cfs().collect();
    let distinct: std::collections::BTreeSet<&str> = all.iter().copied().collect();
    assert_eq!(all.len(), distinct.len());
    assert_eq!(all.len(), 3 + SM_DATA_CFS.len());
    assert!(all.contains(&CF_RAFT_LOG) && all.contains(&CF_TAGS));
}
