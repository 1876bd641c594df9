//! Stories for versioning: what writes and deletes do to a key's versions in each bucket
//! state, version ids from commits, delete markers, removing versions for good, the documents
//! of a version, ListObjectVersions and its paging, and the data every version keeps alive.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery, WritePrecondition};
use coffer_proto::types::*;
use coffer_proto::ProtoError;

use super::tests::{blob, inline, version, Sm};
use super::{query, store::CF_VERSIONS};

pub(super) fn versioning(sm: &mut Sm, state: Versioning) {
    assert_eq!(
        sm.run(MetaCommand::SetVersioning {
            bucket: "b".into(),
            state
        }),
        Ok(MetaOk::Done)
    );
}

/// The id a write answered.
pub(super) fn written(r: Result<MetaOk, ProtoError>) -> String {
    match r.unwrap() {
        MetaOk::Written { version_id } => version_id,
        other => panic!("{other:?}"),
    }
}

fn blobs(n: u8) -> ObjectData {
    ObjectData::Blobs(vec![blob(n)])
}

fn delete(sm: &mut Sm, id: u64, key: &str) -> Result<MetaOk, ProtoError> {
    sm.run(MetaCommand::DeleteObjects {
        bucket_id: id,
        keys: vec![key.into()],
    })
}

fn delete_version(sm: &mut Sm, id: u64, key: &str, vid: &str) -> Result<MetaOk, ProtoError> {
    sm.run(MetaCommand::DeleteVersion {
        bucket_id: id,
        key: key.into(),
        version_id: vid.into(),
        bypass_governance: false,
    })
}

fn get(sm: &Sm, id: u64, key: &str, vid: Option<&str>) -> Option<ObjectVersion> {
    match sm.ask(MetaQuery::GetVersion {
        bucket_id: id,
        key: key.into(),
        version_id: vid.map(Into::into),
    }) {
        MetaAnswer::CountedObject(o) => o.map(|(v, _)| *v),
        other => panic!("{other:?}"),
    }
}

fn current(sm: &Sm, id: u64, key: &str) -> Option<ObjectVersion> {
    match sm.ask(MetaQuery::GetCountedObject {
        bucket_id: id,
        key: key.into(),
    }) {
        MetaAnswer::CountedObject(o) => o.map(|(v, _)| *v),
        other => panic!("{other:?}"),
    }
}

fn list(sm: &Sm, id: u64, q: VersionListQuery) -> VersionListResult {
    match sm.ask(MetaQuery::ListVersions {
        bucket_id: id,
        query: q,
    }) {
        MetaAnswer::Versions(r) => r,
        other => panic!("{other:?}"),
    }
}

fn all(max: u32) -> VersionListQuery {
    VersionListQuery {
        max_keys: max,
        ..Default::default()
    }
}

/// (key, version id, is latest, is a marker) of a listing.
fn rows(r: &VersionListResult) -> Vec<(String, String, bool, bool)> {
    r.versions
        .iter()
        .map(|e| {
            let v = &e.version;
            (
                v.key.clone(),
                v.version_id.clone(),
                e.is_latest,
                v.delete_marker,
            )
        })
        .collect()
}

fn gc_ids(sm: &Sm) -> Vec<u8> {
    let mut ids: Vec<u8> = sm.gc().iter().map(|b| b.id[0]).collect();
    ids.sort();
    ids
}

#[test]
fn enabled_writes_keep_every_version_newest_first() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    let v1 = written(sm.put(id, "k", blobs(1)));
    let v2 = written(sm.put(id, "k", blobs(2)));
    let v3 = written(sm.put(id, "k", inline()));
    assert!(v1 != v2 && v2 != v3 && v3 != v1);
    // Ids sort newest first, as S3's listings and ours do.
    assert!(v3 < v2 && v2 < v1, "{v1} {v2} {v3}");
    assert_eq!(current(&sm, id, "k").unwrap().version_id, v3);
    for (vid, size_of) in [(&v1, 1u8), (&v2, 2)] {
        let v = get(&sm, id, "k", Some(vid)).unwrap();
        assert_eq!(v.data, blobs(size_of).clone());
    }
    assert!(sm.gc().is_empty(), "no version's data is garbage");
    let r = list(&sm, id, all(100));
    assert_eq!(
        rows(&r),
        vec![
            ("k".into(), v3.clone(), true, false),
            ("k".into(), v2.clone(), false, false),
            ("k".into(), v1.clone(), false, false),
        ]
    );
    assert!(!r.truncated);
    // ListObjects sees one key.
    assert_eq!(sm.list(id, "", None, None, 10).entries.len(), 1);
}

#[test]
fn delete_markers_hide_a_key_until_removed() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    let v1 = written(sm.put(id, "k", blobs(1)));
    let MetaOk::Deleted {
        version_id: m1,
        delete_marker: true,
    } = delete(&mut sm, id, "k").unwrap()
    else {
        panic!()
    };
    // A marker on top of a marker, and on a key that never existed.
    let MetaOk::Deleted { version_id: m2, .. } = delete(&mut sm, id, "k").unwrap() else {
        panic!()
    };
    let Ok(MetaOk::Deleted {
        version_id: m3,
        delete_marker: true,
    }) = delete(&mut sm, id, "never")
    else {
        panic!()
    };
    assert!(current(&sm, id, "k").is_none());
    assert!(get(&sm, id, "k", None).unwrap().delete_marker);
    assert_eq!(get(&sm, id, "k", None).unwrap().version_id, m2);
    assert!(sm.list(id, "", None, None, 10).entries.is_empty());
    assert!(sm.gc().is_empty());
    assert_eq!(
        rows(&list(&sm, id, all(100))),
        vec![
            ("k".into(), m2.clone(), true, true),
            ("k".into(), m1.clone(), false, true),
            ("k".into(), v1.clone(), false, false),
            ("never".into(), m3, true, true),
        ]
    );
    // Removing the newest marker leaves the other one latest; removing that brings v1 back.
    assert_eq!(
        delete_version(&mut sm, id, "k", &m2),
        Ok(MetaOk::Deleted {
            version_id: m2,
            delete_marker: true
        })
    );
    assert!(current(&sm, id, "k").is_none());
    delete_version(&mut sm, id, "k", &m1).unwrap();
    assert_eq!(current(&sm, id, "k").unwrap().version_id, v1);
    assert_eq!(sm.list(id, "", None, None, 10).entries.len(), 1);
    assert!(sm.gc().is_empty());
}

#[test]
fn deleting_versions_frees_their_data_and_promotes_the_next() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    let v1 = written(sm.put(id, "k", blobs(1)));
    let v2 = written(sm.put(id, "k", blobs(2)));
    let v3 = written(sm.put(id, "k", blobs(3)));
    // A middle version: the current one stays.
    delete_version(&mut sm, id, "k", &v2).unwrap();
    assert_eq!(gc_ids(&sm), vec![2]);
    assert_eq!(current(&sm, id, "k").unwrap().version_id, v3);
    // The current one: the next becomes current.
    delete_version(&mut sm, id, "k", &v3).unwrap();
    assert_eq!(gc_ids(&sm), vec![2, 3]);
    assert_eq!(current(&sm, id, "k").unwrap().version_id, v1);
    assert_eq!(
        rows(&list(&sm, id, all(10))),
        vec![("k".into(), v1.clone(), true, false)]
    );
    // Again: nothing left to remove, and that is no error (S3's DELETE is idempotent).
    assert_eq!(
        delete_version(&mut sm, id, "k", &v3),
        Ok(MetaOk::Deleted {
            version_id: v3,
            delete_marker: false
        })
    );
    delete_version(&mut sm, id, "k", &v1).unwrap();
    assert!(get(&sm, id, "k", None).is_none());
    assert_eq!(gc_ids(&sm), vec![1, 2, 3]);
    assert!(sm
        .store
        .scan_prefix::<ObjectVersion>(CF_VERSIONS, b"", 10)
        .unwrap()
        .is_empty());
}

#[test]
fn a_conditional_version_delete_checks_the_current_version() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    let v1 = written(sm.put(id, "k", blobs(1)));
    let v2 = written(sm.put(id, "k", blobs(2)));
    let delete_if = |sm: &mut Sm, vid: &str, etag: &str| {
        sm.run(MetaCommand::DeleteVersionIf {
            bucket_id: id,
            key: "k".into(),
            version_id: vid.into(),
            bypass_governance: false,
            precondition: WritePrecondition::EtagMatches(etag.into()),
        })
    };
    // The current version's ETag is "e": another one refuses, and nothing goes.
    assert_eq!(
        delete_if(&mut sm, &v1, "other"),
        Err(ProtoError::PreconditionFailed)
    );
    assert!(get(&sm, id, "k", Some(&v1)).is_some());
    assert!(sm.gc().is_empty());
    // A match removes the version named, which need not be the current one.
    assert_eq!(
        delete_if(&mut sm, &v1, "\"e\""),
        Ok(MetaOk::Deleted {
            version_id: v1.clone(),
            delete_marker: false
        })
    );
    assert!(get(&sm, id, "k", Some(&v1)).is_none());
    assert_eq!(current(&sm, id, "k").unwrap().version_id, v2);
    assert_eq!(gc_ids(&sm), vec![1]);
    // Under a delete marker the key has no current version: NoSuchKey, whatever is named.
    delete(&mut sm, id, "k").unwrap();
    assert_eq!(delete_if(&mut sm, &v2, "*"), Err(ProtoError::NoSuchKey));
    assert!(get(&sm, id, "k", Some(&v2)).is_some());
}

#[test]
fn suspended_writes_replace_only_the_null_version() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    // Written unversioned: the null version, kept through the state changes.
    assert_eq!(sm.put(id, "k", blobs(1)), Ok(MetaOk::Done));
    versioning(&mut sm, Versioning::Enabled);
    let v2 = written(sm.put(id, "k", blobs(2)));
    versioning(&mut sm, Versioning::Suspended);
    assert_eq!(written(sm.put(id, "k", blobs(3))), NULL_VERSION);
    // The old null version's data goes; the enabled-time version stays.
    assert_eq!(gc_ids(&sm), vec![1]);
    assert_eq!(written(sm.put(id, "k", blobs(4))), NULL_VERSION);
    assert_eq!(gc_ids(&sm), vec![1, 3]);
    assert_eq!(
        rows(&list(&sm, id, all(10))),
        vec![
            ("k".into(), NULL_VERSION.into(), true, false),
            ("k".into(), v2.clone(), false, false),
        ]
    );
    // A delete puts a null marker in the null version's place.
    assert_eq!(
        delete(&mut sm, id, "k"),
        Ok(MetaOk::Deleted {
            version_id: NULL_VERSION.into(),
            delete_marker: true
        })
    );
    assert_eq!(gc_ids(&sm), vec![1, 3, 4]);
    assert_eq!(
        rows(&list(&sm, id, all(10))),
        vec![
            ("k".into(), NULL_VERSION.into(), true, true),
            ("k".into(), v2.clone(), false, false),
        ]
    );
    // Writing again replaces the null marker.
    written(sm.put(id, "k", blobs(5)));
    assert_eq!(rows(&list(&sm, id, all(10))).len(), 2);
    assert_eq!(
        get(&sm, id, "k", Some(NULL_VERSION)).unwrap().data,
        blobs(5)
    );
    // Never back to unversioned.
    assert!(sm
        .run(MetaCommand::SetVersioning {
            bucket: "b".into(),
            state: Versioning::Unversioned
        })
        .is_err());
}

#[test]
fn a_version_written_before_versioning_is_the_oldest_null_one() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    sm.put(id, "k", blobs(1)).unwrap();
    // As an earlier build stored it: no stamp.
    let mut old = current(&sm, id, "k").unwrap();
    old.stamp = None;
    let mut b = super::store::Batch::default();
    b.put(
        super::store::CF_OBJECTS,
        super::keys::object(id, "k"),
        super::format::encode(&old),
    );
    sm.store.write(b, false).unwrap();
    versioning(&mut sm, Versioning::Enabled);
    let v2 = written(sm.put(id, "k", blobs(2)));
    let v3 = written(sm.put(id, "k", blobs(3)));
    assert_eq!(
        rows(&list(&sm, id, all(10))),
        vec![
            ("k".into(), v3, true, false),
            ("k".into(), v2, false, false),
            ("k".into(), NULL_VERSION.into(), false, false),
        ]
    );
    assert_eq!(
        get(&sm, id, "k", Some(NULL_VERSION)).unwrap().data,
        blobs(1)
    );
}

#[test]
fn a_write_applied_twice_is_one_version() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    let cmd = MetaCommand::PutObject {
        bucket_id: id,
        version: version("k", blobs(1)),
        precondition: WritePrecondition::None,
    };
    let first = written(sm.run(cmd.clone()));
    assert_eq!(written(sm.run(cmd)), first);
    assert_eq!(rows(&list(&sm, id, all(10))).len(), 1);
    assert!(sm.gc().is_empty());
}

#[test]
fn a_bucket_with_old_versions_or_markers_is_not_empty() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    sm.put(id, "k", inline()).unwrap();
    delete(&mut sm, id, "k").unwrap();
    let del = || MetaCommand::DeleteBucketAndUploads { name: "b".into() };
    assert_eq!(sm.run(del()), Err(ProtoError::BucketNotEmpty));
    for row in rows(&list(&sm, id, all(10))) {
        delete_version(&mut sm, id, "k", &row.1).unwrap();
    }
    assert_eq!(sm.run(del()), Ok(MetaOk::Done));
}

#[test]
fn each_version_keeps_its_own_tags_and_acl() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    let tagged = MetaCommand::WithTags {
        tags: r#"[["a","1"]]"#.into(),
        cmd: Box::new(MetaCommand::PutObject {
            bucket_id: id,
            version: version("k", inline()),
            precondition: WritePrecondition::None,
        }),
    };
    let v1 = written(sm.run(tagged));
    let v2 = written(sm.put(id, "k", inline()));
    let facts = |sm: &Sm, vid: &str| match sm.ask(MetaQuery::VersionFacts {
        bucket_id: id,
        key: "k".into(),
        version_id: vid.into(),
    }) {
        MetaAnswer::ObjectFacts(f) => f.unwrap(),
        other => panic!("{other:?}"),
    };
    assert!(
        facts(&sm, &v1).tags.is_some(),
        "the old version keeps its tags"
    );
    assert!(facts(&sm, &v2).tags.is_none());
    assert_eq!(get(&sm, id, "k", Some(&v1)).unwrap().tag_count, Some(1));
    // Tags and an ACL set on the old version stay with it.
    sm.run(MetaCommand::SetVersionTags {
        bucket_id: id,
        key: "k".into(),
        version_id: v1.clone(),
        tags: None,
    })
    .unwrap();
    sm.run(MetaCommand::SetVersionAcl {
        bucket_id: id,
        key: "k".into(),
        version_id: v1.clone(),
        acl: "acl-1".into(),
    })
    .unwrap();
    assert!(facts(&sm, &v1).tags.is_none());
    assert_eq!(get(&sm, id, "k", Some(&v1)).unwrap().tag_count, Some(0));
    assert_eq!(facts(&sm, &v1).acl.as_deref(), Some("acl-1"));
    assert_eq!(facts(&sm, &v2).acl, None);
    // Promoted back to current (v2 removed), its documents come along.
    delete_version(&mut sm, id, "k", &v2).unwrap();
    assert_eq!(facts(&sm, &v1).acl.as_deref(), Some("acl-1"));
    let unknown = "000000000000000000000000";
    let set_unknown = MetaCommand::SetVersionAcl {
        bucket_id: id,
        key: "k".into(),
        version_id: unknown.into(),
        acl: "x".into(),
    };
    assert_eq!(sm.run(set_unknown), Err(ProtoError::NoSuchVersion));
}

#[test]
fn listing_versions_pages_inside_a_key_and_folds_prefixes() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    for key in ["a", "b", "d/x", "d/y", "e"] {
        for _ in 0..3 {
            written(sm.put(id, key, inline()));
        }
    }
    delete(&mut sm, id, "e").unwrap();
    let everything = rows(&list(&sm, id, all(1000)));
    assert_eq!(everything.len(), 16);
    assert_eq!(
        everything.iter().filter(|r| r.2).count(),
        5,
        "one latest per key"
    );
    // Pages of every size resume exactly where they stopped.
    for max in [1, 2, 3, 4, 7] {
        let mut got = Vec::new();
        let mut q = all(max);
        loop {
            let r = list(&sm, id, q.clone());
            assert!(r.versions.len() <= max as usize);
            got.extend(rows(&r));
            if !r.truncated {
                break;
            }
            q.key_marker = r.next_key_marker.clone();
            q.version_id_marker = r.next_version_id_marker.clone();
        }
        assert_eq!(got, everything, "pages of {max}");
    }
    // A key marker alone starts after the whole key.
    let mut q = all(100);
    q.key_marker = Some("b".into());
    assert_eq!(rows(&list(&sm, id, q))[0].0, "d/x");
    // Delimiter: d/ is one prefix, listed once, counted once.
    let q = VersionListQuery {
        delimiter: Some("/".into()),
        max_keys: 7,
        ..Default::default()
    };
    let r = list(&sm, id, q.clone());
    assert_eq!(r.common_prefixes, vec!["d/".to_owned()]);
    assert_eq!(r.versions.len(), 6);
    assert!(r.truncated);
    assert_eq!(r.next_key_marker.as_deref(), Some("d/"));
    let r = list(
        &sm,
        id,
        VersionListQuery {
            key_marker: Some("d/".into()),
            ..q
        },
    );
    assert!(r.common_prefixes.is_empty());
    assert_eq!(r.versions[0].version.key, "e");
    // Prefix.
    let q = VersionListQuery {
        prefix: "d/".into(),
        max_keys: 100,
        ..Default::default()
    };
    assert_eq!(list(&sm, id, q).versions.len(), 6);
}

#[test]
fn the_data_of_every_version_is_referenced() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    versioning(&mut sm, Versioning::Enabled);
    sm.put(id, "k", blobs(1)).unwrap();
    sm.put(id, "k", blobs(2)).unwrap();
    delete(&mut sm, id, "k").unwrap();
    let (walked, _) = query::blob_records_page(&sm.store, None, 10).unwrap();
    let mut ids: Vec<u8> = walked.iter().map(|(_, b)| b.id[0]).collect();
    ids.sort();
    assert_eq!(ids, vec![1, 2]);
    let mut candidates = std::collections::HashMap::new();
    candidates.insert([1u8; 16], vec![0usize]);
    candidates.insert([2u8; 16], vec![0usize]);
    candidates.insert([9u8; 16], vec![0usize]);
    query::retain_unreferenced(&sm.store, 1, &mut candidates).unwrap();
    assert_eq!(candidates.keys().map(|k| k[0]).collect::<Vec<_>>(), vec![9]);
}
