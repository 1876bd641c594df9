//! Stories for the metadata state: commands applied in order, then queried, as the state
//! machine would; listing with delimiters, markers and limits; preconditions; the delete queue.
//! They run on the in-memory engine (`MetaStore::memory`): they test the logic, and
//! `store::tests` keeps the two engines answering alike.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bytes::Bytes;
use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery, WritePrecondition};
use coffer_proto::types::*;
use coffer_proto::ProtoError;

use super::{apply, query, MetaStore};

pub(super) struct Sm {
    pub(super) store: MetaStore,
    index: u64,
}

impl Sm {
    pub(super) fn new() -> Self {
        Sm {
            store: MetaStore::memory(),
            index: 0,
        }
    }

    pub(super) fn run(&mut self, cmd: MetaCommand) -> Result<MetaOk, ProtoError> {
        self.index += 1;
        let stamp = coffer_proto::version_id::Stamp {
            index: self.index,
            pos: 0,
        };
        let a = apply::apply(&self.store, stamp, &cmd).unwrap();
        self.store.write(a.batch, false).unwrap();
        a.result
    }

    pub(super) fn ask(&self, q: MetaQuery) -> MetaAnswer {
        query::answer(&self.store, &q).unwrap()
    }

    pub(super) fn bucket(&mut self, name: &str) -> u64 {
        let r = self.run(MetaCommand::CreateBucket {
            name: name.into(),
            owner: "me".into(),
            location: String::new(),
            now_ms: 1,
        });
        match r.unwrap() {
            MetaOk::Bucket(b) => b.id,
            other => panic!("{other:?}"),
        }
    }

    pub(super) fn put(
        &mut self,
        bucket_id: u64,
        key: &str,
        data: ObjectData,
    ) -> Result<MetaOk, ProtoError> {
        self.run(MetaCommand::PutObject {
            bucket_id,
            version: version(key, data),
            precondition: WritePrecondition::None,
        })
    }

    pub(super) fn list(
        &self,
        bucket_id: u64,
        prefix: &str,
        delimiter: Option<&str>,
        start_after: Option<&str>,
        max: u32,
    ) -> ListResult {
        let q = ListQuery {
            prefix: prefix.into(),
            delimiter: delimiter.map(Into::into),
            start_after: start_after.map(Into::into),
            max_keys: max,
        };
        match self.ask(MetaQuery::ListObjects {
            bucket_id,
            query: q,
        }) {
            MetaAnswer::Objects(r) => r,
            other => panic!("{other:?}"),
        }
    }

    pub(super) fn gc(&self) -> Vec<BlobRef> {
        match self.ask(MetaQuery::PendingGc { max: 100 }) {
            MetaAnswer::Gc(g) => g,
            other => panic!("{other:?}"),
        }
    }
}

/// An upload of `key` with id `upload_id`.
pub(crate) fn upload_info(key: &str, upload_id: &str) -> UploadInfo {
    UploadInfo {
        key: key.into(),
        upload_id: upload_id.into(),
        initiated_ms: 1,
        content: ContentHeaders::default(),
        user_meta: vec![],
        checksum_algorithm: None,
        checksum_type: None,
        storage_class: "STANDARD".into(),
        owner: "me".into(),
        encryption: None,
        website_redirect: None,
    }
}

/// A plain object version (shared by other modules' tests).
pub(crate) fn version(key: &str, data: ObjectData) -> ObjectVersion {
    ObjectVersion {
        key: key.into(),
        version_id: NULL_VERSION.into(),
        last_modified_ms: 5,
        size: 1,
        etag: "e".into(),
        content: ContentHeaders::default(),
        user_meta: vec![],
        checksum: None,
        parts: vec![],
        storage_class: "STANDARD".into(),
        delete_marker: false,
        owner: "me".into(),
        data,
        tag_count: None,
        stamp: None,
        encryption: None,
        website_redirect: None,
    }
}

pub(super) fn inline() -> ObjectData {
    ObjectData::Inline(Bytes::from_static(b"x"))
}

/// Part `n` of an upload, whose blob is [`blob`]`(n)`.
pub(crate) fn part(n: u8) -> PartInfo {
    PartInfo {
        number: u32::from(n),
        last_modified_ms: 1,
        size: 1,
        etag: "e".into(),
        checksum: None,
        blob: blob(n),
    }
}

pub(crate) fn blob(n: u8) -> BlobRef {
    BlobRef {
        id: [n; 16],
        size: 1,
        layout: Layout {
            k: 1,
            m: 0,
            stripe_size: 1 << 20,
        },
        placement: vec![ShardLoc { node: 1, drive: 0 }],
    }
}

#[test]
fn buckets_are_unique_and_must_be_empty_to_delete() {
    let mut sm = Sm::new();
    let id = sm.bucket("a");
    assert_eq!(
        sm.run(MetaCommand::CreateBucket {
            name: "a".into(),
            owner: "me".into(),
            location: String::new(),
            now_ms: 2
        }),
        Err(ProtoError::BucketAlreadyOwnedByYou)
    );
    assert_eq!(
        sm.run(MetaCommand::CreateBucket {
            name: "a".into(),
            owner: "you".into(),
            location: String::new(),
            now_ms: 2
        }),
        Err(ProtoError::BucketAlreadyExists)
    );
    sm.put(id, "k", inline()).unwrap();
    assert_eq!(
        sm.run(MetaCommand::DeleteBucket { name: "a".into() }),
        Err(ProtoError::BucketNotEmpty)
    );
    sm.run(MetaCommand::DeleteObjects {
        bucket_id: id,
        keys: vec!["k".into()],
    })
    .unwrap();
    sm.run(MetaCommand::DeleteBucket { name: "a".into() })
        .unwrap();
    assert_eq!(sm.put(id, "k", inline()), Err(ProtoError::NoSuchBucket));
}

#[test]
fn listing_folds_prefixes_and_pages() {
    let mut sm = Sm::new();
    let other = sm.bucket("other");
    let id = sm.bucket("b");
    for k in ["a", "b/1", "b/2", "b/3/x", "c", "c/d", "d"] {
        sm.put(id, k, inline()).unwrap();
    }
    sm.put(other, "a-in-other", inline()).unwrap();
    let keys = |r: &ListResult| r.entries.iter().map(|e| e.key.clone()).collect::<Vec<_>>();

    let r = sm.list(id, "", Some("/"), None, 1000);
    assert_eq!(keys(&r), ["a", "c", "d"]);
    assert_eq!(r.common_prefixes, ["b/", "c/"]);
    assert!(!r.truncated);

    let r = sm.list(id, "b/", Some("/"), None, 1000);
    assert_eq!(keys(&r), ["b/1", "b/2"]);
    assert_eq!(r.common_prefixes, ["b/3/"]);

    // Pages of two, resuming after the marker each time, visit everything exactly once.
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let r = sm.list(id, "", Some("/"), after.as_deref(), 2);
        seen.extend(keys(&r));
        seen.extend(r.common_prefixes.clone());
        if !r.truncated {
            break;
        }
        after = r.next_marker.clone();
    }
    assert_eq!(seen, ["a", "b/", "c", "c/", "d"]);

    let r = sm.list(id, "", None, Some("b/2"), 1000);
    assert_eq!(keys(&r), ["b/3/x", "c", "c/d", "d"]);
    assert_eq!(sm.list(id, "zzz", None, None, 1000).entries.len(), 0);
}

#[test]
fn preconditions_and_the_delete_queue() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    sm.put(id, "k", ObjectData::Blobs(vec![blob(1)])).unwrap();
    // A refused conditional write queues the blob it brought; the old one stays live.
    let r = sm.run(MetaCommand::PutObject {
        bucket_id: id,
        version: version("k", ObjectData::Blobs(vec![blob(2)])),
        precondition: WritePrecondition::MustNotExist,
    });
    assert_eq!(r, Err(ProtoError::PreconditionFailed));
    assert_eq!(sm.gc().iter().map(|b| b.id[0]).collect::<Vec<_>>(), [2]);
    // If-Match on the right ETag replaces it and queues the replaced blob.
    sm.run(MetaCommand::PutObject {
        bucket_id: id,
        version: version("k", ObjectData::Blobs(vec![blob(3)])),
        precondition: WritePrecondition::EtagMatches("\"e\"".into()),
    })
    .unwrap();
    assert_eq!(sm.gc().iter().map(|b| b.id[0]).collect::<Vec<_>>(), [1, 2]);
    sm.run(MetaCommand::GcDone {
        blob_ids: vec![[1; 16], [2; 16]],
    })
    .unwrap();
    assert!(sm.gc().is_empty());
    let r = sm.run(MetaCommand::PutObject {
        bucket_id: id,
        version: version("nope", inline()),
        precondition: WritePrecondition::EtagMatches("e".into()),
    });
    assert_eq!(r, Err(ProtoError::NoSuchKey));
}

#[test]
fn a_conditional_delete_removes_only_the_version_it_names() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    sm.put(id, "k", ObjectData::Blobs(vec![blob(1)])).unwrap();
    let delete = |key: &str, etag: &str| MetaCommand::DeleteObjectIf {
        bucket_id: id,
        key: key.into(),
        precondition: WritePrecondition::EtagMatches(etag.into()),
    };
    // Another ETag: refused, and the object and its data stay.
    assert_eq!(
        sm.run(delete("k", "\"other\"")),
        Err(ProtoError::PreconditionFailed)
    );
    assert!(sm.gc().is_empty());
    assert!(sm.list(id, "", None, None, 10).entries.len() == 1);
    // No such key, whatever the ETag (`*` included).
    assert_eq!(sm.run(delete("nope", "*")), Err(ProtoError::NoSuchKey));
    // Its ETag: removed, its blob queued for deletion.
    sm.run(delete("k", "\"e\"")).unwrap();
    assert!(sm.list(id, "", None, None, 10).entries.is_empty());
    assert_eq!(sm.gc().iter().map(|b| b.id[0]).collect::<Vec<_>>(), [1]);
    // `*` removes whatever version is current.
    sm.put(id, "k", inline()).unwrap();
    sm.run(delete("k", "*")).unwrap();
    assert_eq!(sm.run(delete("k", "*")), Err(ProtoError::NoSuchKey));
    assert_eq!(
        sm.run(MetaCommand::DeleteObjectIf {
            bucket_id: 999,
            key: "k".into(),
            precondition: WritePrecondition::EtagMatches("*".into()),
        }),
        Err(ProtoError::NoSuchBucket)
    );
}

#[test]
fn multipart_complete_keeps_chosen_parts_and_drops_the_rest() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    let up = upload_info("k", "u");
    sm.run(MetaCommand::CreateUpload {
        bucket_id: id,
        upload: up,
    })
    .unwrap();
    for n in 1..=3u8 {
        let part = part(n);
        sm.run(MetaCommand::PutPart {
            bucket_id: id,
            key: "k".into(),
            upload_id: "u".into(),
            part,
        })
        .unwrap();
    }
    let parts = vec![
        coffer_proto::meta::CompletePart {
            number: 1,
            blob_id: [1; 16],
        },
        coffer_proto::meta::CompletePart {
            number: 3,
            blob_id: [3; 16],
        },
    ];
    let wrong = vec![coffer_proto::meta::CompletePart {
        number: 2,
        blob_id: [9; 16],
    }];
    let done = |parts| MetaCommand::CompleteUpload {
        bucket_id: id,
        upload_id: "u".into(),
        parts,
        version: version("k", ObjectData::Blobs(vec![])),
        precondition: WritePrecondition::None,
    };
    assert_eq!(sm.run(done(wrong)), Err(ProtoError::InvalidPart(2)));
    sm.run(done(parts.clone())).unwrap();
    match sm.ask(MetaQuery::GetObject {
        bucket_id: id,
        key: "k".into(),
    }) {
        MetaAnswer::Object(Some(v)) => assert_eq!(
            v.data.blobs().iter().map(|b| b.id[0]).collect::<Vec<_>>(),
            [1, 3]
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(sm.gc().iter().map(|b| b.id[0]).collect::<Vec<_>>(), [2]);
    assert_eq!(sm.run(done(parts)), Err(ProtoError::NoSuchUpload));
}

#[test]
fn listing_a_level_never_walks_the_bucket() {
    let mut sm = Sm::new();
    let id = sm.bucket("big");
    // 100 "directories" of 200 keys each: 20,000 keys, written in batches for speed.
    let mut batch = crate::meta::store::Batch::default();
    for d in 0..100 {
        for k in 0..200 {
            let key = format!("dir{d:03}/file{k:04}");
            batch.put(
                super::store::CF_OBJECTS,
                super::keys::object(id, &key),
                super::format::encode(&version(&key, inline())),
            );
        }
    }
    sm.store.write(batch, false).unwrap();
    let base = super::keys::bucket_prefix(id);
    let mut prefixes = 0;
    let stepped = super::list::scan(
        &sm.store,
        super::store::CF_OBJECTS,
        &base,
        "",
        Some("/"),
        None,
        |item| {
            if let super::list::Item::Prefix(_) = item {
                prefixes += 1;
            }
            Ok(true)
        },
    )
    .unwrap();
    assert_eq!(prefixes, 100);
    assert!(
        (100..=101).contains(&stepped),
        "folding 100 prefixes stepped on {stepped} keys"
    );
    // One directory: its 200 keys and the first key after it, nothing else.
    let stepped = super::list::scan(
        &sm.store,
        super::store::CF_OBJECTS,
        &base,
        "dir050/",
        None,
        None,
        |_| Ok(true),
    )
    .unwrap();
    assert!(
        (200..=201).contains(&stepped),
        "listing one prefix stepped on {stepped} keys"
    );
    // A page of 10 after a marker deep in the bucket.
    let r = sm.list(id, "", None, Some("dir099/file0100"), 10);
    assert_eq!(
        r.entries.first().map(|e| e.key.as_str()),
        Some("dir099/file0101")
    );
}

#[test]
fn moved_shards_and_unknown_blobs_are_unreferenced() {
    let mut sm = Sm::new();
    let b = sm.bucket("moves");
    let mut spread = blob(7);
    spread.placement = (1..=3).map(|node| ShardLoc { node, drive: 0 }).collect();
    sm.put(b, "k", ObjectData::Blobs(vec![spread.clone()]))
        .unwrap();
    let found =
        || std::collections::HashMap::from([([7u8; 16], vec![0, 1, 2]), ([9u8; 16], vec![0])]);
    // Node 2 holds shard 1: shards 0 and 2 there are strays, and blob 9 is unknown.
    let mut c = found();
    query::retain_unreferenced(&sm.store, 2, &mut c).unwrap();
    assert_eq!(c[&[7u8; 16]], vec![0, 2]);
    assert_eq!(c[&[9u8; 16]], vec![0]);

    // Shard 1 moves from node 2 to node 4, only from the placement the move started from.
    let mut to = spread.placement.clone();
    to[1] = ShardLoc { node: 4, drive: 0 };
    let key = match query::blob_records_page(&sm.store, None, 10)
        .unwrap()
        .0
        .pop()
    {
        Some((record, _)) => record,
        None => panic!("no blob record"),
    };
    let stale = sm.run(MetaCommand::MovePlacement {
        record: key.clone(),
        blob_id: [7; 16],
        from: to.clone(),
        to: spread.placement.clone(),
    });
    assert_eq!(stale, Err(ProtoError::PreconditionFailed));
    sm.run(MetaCommand::MovePlacement {
        record: key,
        blob_id: [7; 16],
        from: spread.placement.clone(),
        to,
    })
    .unwrap();
    let mut c = found();
    query::retain_unreferenced(&sm.store, 2, &mut c).unwrap();
    assert_eq!(
        c[&[7u8; 16]],
        vec![0, 1, 2],
        "node 2 holds nothing of blob 7 now"
    );
    let mut c = found();
    query::retain_unreferenced(&sm.store, 4, &mut c).unwrap();
    assert_eq!(c[&[7u8; 16]], vec![0, 2]);
}

#[test]
fn a_put_applied_twice_keeps_its_data() {
    // A forwarded write whose answer was lost may be sent again and committed twice.
    let mut sm = Sm::new();
    let b = sm.bucket("twice");
    let put = MetaCommand::PutObject {
        bucket_id: b,
        version: version("k", ObjectData::Blobs(vec![blob(5)])),
        precondition: WritePrecondition::None,
    };
    sm.run(put.clone()).unwrap();
    sm.run(put).unwrap();
    assert!(sm.gc().is_empty(), "{:?}", sm.gc());
    // Refused the second time (If-None-Match: *): its blob is still the current one.
    let once = MetaCommand::PutObject {
        bucket_id: b,
        version: version("n", ObjectData::Blobs(vec![blob(6)])),
        precondition: WritePrecondition::MustNotExist,
    };
    sm.run(once.clone()).unwrap();
    assert_eq!(sm.run(once), Err(ProtoError::PreconditionFailed));
    assert!(sm.gc().is_empty(), "{:?}", sm.gc());
}

#[test]
fn storage_class_profiles_are_set_listed_and_reset() {
    let mut sm = Sm::new();
    let set = |name: &str, profile| MetaCommand::SetStorageClass {
        name: name.into(),
        profile,
    };
    sm.run(set("STANDARD_IA", Some((3, 1)))).unwrap();
    sm.run(set("REDUCED_REDUNDANCY", Some((2, 1)))).unwrap();
    assert!(sm.run(set("NOT_A_CLASS", Some((2, 1)))).is_err());
    assert!(sm.run(set("STANDARD", Some((0, 2)))).is_err());
    assert!(sm.run(set("STANDARD", Some((200, 100)))).is_err());
    assert_eq!(
        sm.ask(MetaQuery::StorageClasses),
        MetaAnswer::StorageClasses(vec![
            ("REDUCED_REDUNDANCY".into(), 2, 1),
            ("STANDARD_IA".into(), 3, 1)
        ])
    );
    assert_eq!(
        query::storage_class(&sm.store, "STANDARD_IA").unwrap(),
        Some((3, 1))
    );
    sm.run(set("STANDARD_IA", None)).unwrap();
    assert_eq!(
        query::storage_class(&sm.store, "STANDARD_IA").unwrap(),
        None
    );
    assert_eq!(
        sm.ask(MetaQuery::StorageClasses),
        MetaAnswer::StorageClasses(vec![("REDUCED_REDUNDANCY".into(), 2, 1)])
    );
}

#[test]
fn iam_users_and_access_keys() {
    use coffer_proto::iam::{KeyRecord, UserRecord};
    let mut sm = Sm::new();
    let user = |name: &str| {
        MetaCommand::CreateUser(UserRecord {
            name: name.into(),
            user_id: format!("AIDA{name}"),
            created_ms: 1,
        })
    };
    let key = |user: &str, id: &str| {
        MetaCommand::CreateAccessKey(KeyRecord {
            access_key_id: id.into(),
            user: user.into(),
            sealed_secret: vec![1, 2, 3],
            active: true,
            created_ms: 1,
        })
    };
    let err = |r: Result<MetaOk, ProtoError>| format!("{:?}", r.unwrap_err());
    sm.run(user("alice")).unwrap();
    assert!(err(sm.run(user("alice"))).starts_with("EntityAlreadyExists"));
    assert!(err(sm.run(user("bad name"))).starts_with("ValidationError"));
    assert!(err(sm.run(key("bob", "AKIA1"))).starts_with("NoSuchEntity"));
    sm.run(key("alice", "AKIA1")).unwrap();
    assert!(err(sm.run(key("alice", "AKIA1"))).starts_with("EntityAlreadyExists"));
    sm.run(key("alice", "AKIA2")).unwrap();
    assert!(err(sm.run(key("alice", "AKIA3"))).starts_with("LimitExceeded"));
    assert!(err(sm.run(MetaCommand::DeleteUser {
        name: "alice".into()
    }))
    .starts_with("DeleteConflict"));

    sm.run(MetaCommand::UpdateAccessKey {
        access_key_id: "AKIA1".into(),
        active: false,
    })
    .unwrap();
    match sm.ask(MetaQuery::GetAccessKey("AKIA1".into())) {
        MetaAnswer::AccessKey(Some(k)) => assert!(!k.active && k.user == "alice"),
        other => panic!("{other:?}"),
    }
    match sm.ask(MetaQuery::ListAccessKeys {
        user: "alice".into(),
    }) {
        MetaAnswer::AccessKeys(k) => assert_eq!(
            k.iter()
                .map(|k| k.access_key_id.as_str())
                .collect::<Vec<_>>(),
            ["AKIA1", "AKIA2"]
        ),
        other => panic!("{other:?}"),
    }
    for id in ["AKIA1", "AKIA2"] {
        sm.run(MetaCommand::DeleteAccessKey {
            access_key_id: id.into(),
        })
        .unwrap();
    }
    assert!(err(sm.run(MetaCommand::DeleteAccessKey {
        access_key_id: "AKIA1".into()
    }))
    .starts_with("NoSuchEntity"));
    assert_eq!(
        sm.ask(MetaQuery::GetAccessKey("AKIA1".into())),
        MetaAnswer::AccessKey(None)
    );
    sm.run(MetaCommand::DeleteUser {
        name: "alice".into(),
    })
    .unwrap();
    assert_eq!(sm.ask(MetaQuery::ListUsers), MetaAnswer::Users(vec![]));
}
