//! Golden bytes: every record kind, every command variant and every error variant, encoded
//! in its current version (and the older versions still read), must equal the bytes in
//! `golden_v1.txt` (named for the first version; it holds every version's samples; the samples
//! are built in `super::samples`). Reordering a variant or a
//! field, or changing a type inside a frozen layout, fails here instead of silently misreading
//! stored data. `COFFER_BLESS=1` writes the file anew: only ever for samples that are new,
//! never to make an existing line agree with changed code.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use coffer_proto::iam::{GroupRecord, UserRecord};
use coffer_proto::meta::MetaOk;
use coffer_proto::types::{BucketInfo, ObjectData, ObjectVersion};
use openraft::{Entry, EntryPayload};

use super::samples::*;
use super::*;
use crate::meta::once::Answer;

const GOLDEN: &str = include_str!("golden_v1.txt");

/// (name, encoded bytes, whether it decodes back to the same value).
fn samples() -> Vec<(String, Vec<u8>, bool)> {
    fn one<T: Stored + PartialEq + std::fmt::Debug>(name: &str, v: &T) -> (String, Vec<u8>, bool) {
        let bytes = encode(v);
        let back: T = decode(&bytes).unwrap();
        (name.to_owned(), bytes, back == *v)
    }
    let mut out = Vec::new();
    for (name, cmd) in commands() {
        let e = Entry::<TypeConfig> {
            log_id: log_id(10),
            payload: EntryPayload::Normal(cmd),
        };
        out.push(one(&format!("raft-entry/{name}"), &e));
    }
    let blank = Entry::<TypeConfig> {
        log_id: log_id(1),
        payload: EntryPayload::Blank,
    };
    out.push(one("raft-entry/Blank", &blank));
    let m = Entry::<TypeConfig> {
        log_id: log_id(2),
        payload: EntryPayload::Membership(membership()),
    };
    out.push(one("raft-entry/Membership", &m));
    for (i, e) in errors().into_iter().enumerate() {
        let a = Answer {
            at_ms: 5,
            result: Err(e),
        };
        out.push(one(&format!("once-answer/err{i:02}"), &a));
    }
    for (name, ok) in [
        ("Done", MetaOk::Done),
        ("Bucket", MetaOk::Bucket(bucket())),
        (
            "Object",
            MetaOk::Object(Box::new(version(ObjectData::Blobs(vec![])))),
        ),
        (
            "Written",
            MetaOk::Written {
                version_id: "fffffffffffffff0fffffffe".into(),
            },
        ),
        (
            "Deleted",
            MetaOk::Deleted {
                version_id: "null".into(),
                delete_marker: true,
            },
        ),
    ] {
        let a = Answer {
            at_ms: 6,
            result: Ok(ok),
        };
        out.push(one(&format!("once-answer/{name}"), &a));
    }
    let mut vote = openraft::Vote::new(4, 2);
    out.push(one("raft-vote", &vote));
    vote.commit();
    out.push(one("raft-vote/committed", &vote));
    out.push(one("raft-committed", &Some(log_id(9)) as &Committed));
    out.push(one("raft-committed/none", &None as &Committed));
    out.push(one("log-id", &log_id(12)));
    let sm = openraft::StoredMembership::new(Some(log_id(2)), membership());
    out.push(one("membership", &sm));
    out.push(one("apply-progress", &(log_id(13), 4u64)));
    let meta = openraft::SnapshotMeta {
        last_log_id: Some(log_id(14)),
        last_membership: sm,
        snapshot_id: "3-14-0000abcd".into(),
    };
    out.push(one("snapshot-meta", &meta));
    out.push(one("bucket", &bucket()));
    let inline = version(ObjectData::Inline(Bytes::from_static(b"hello")));
    let blobs = version(ObjectData::Blobs(vec![blob()]));
    // Version 1, as earlier builds wrote it: still read, with no tag count.
    for (name, v) in [
        ("object-version/inline", &inline),
        ("object-version/blobs", &blobs),
    ] {
        let mut bytes = vec![1];
        put::<v1::ObjectVersion>(&mut bytes, &v.clone().conv());
        let back: ObjectVersion = decode(&bytes).unwrap();
        out.push((name.to_owned(), bytes, back == *v));
    }
    // Version 2, as the builds before versioning wrote it: still read, with no stamp.
    for (name, count, v) in [
        ("object-version/v2-inline", Some(3), inline.clone()),
        ("object-version/v2-blobs", Some(0), blobs.clone()),
        ("object-version/v2-uncounted", None, blobs.clone()),
    ] {
        let v = ObjectVersion {
            tag_count: count,
            ..v
        };
        let mut bytes = vec![2];
        put::<v2::ObjectVersion>(&mut bytes, &v.clone().conv());
        let back: ObjectVersion = decode(&bytes).unwrap();
        out.push((name.to_owned(), bytes, back == v));
    }
    let stamp = |index, pos| Some(coffer_proto::version_id::Stamp { index, pos });
    for (name, v) in [
        (
            "object-version/v3-stamped",
            ObjectVersion {
                tag_count: Some(2),
                stamp: stamp(0x0102_0304_0506, 7),
                version_id: "fffffefdfcfbfaf9fffffff8".into(),
                ..blobs.clone()
            },
        ),
        (
            "object-version/v3-null",
            ObjectVersion {
                tag_count: Some(0),
                stamp: stamp(9, 0),
                ..inline
            },
        ),
        (
            "object-version/v3-marker",
            ObjectVersion {
                delete_marker: true,
                tag_count: Some(0),
                stamp: stamp(10, 1),
                ..version(ObjectData::Inline(Bytes::new()))
            },
        ),
    ] {
        // Version 3, as the builds before encryption wrote it: still read, not encrypted.
        let mut bytes = vec![3];
        put::<v3::ObjectVersion>(&mut bytes, &v.clone().conv());
        let back: ObjectVersion = decode(&bytes).unwrap();
        out.push((name.to_owned(), bytes, back == v));
    }
    // Version 4 of object versions and 2 of uploads, as the builds before website redirects
    // wrote them: still read, without a redirect.
    let v4 = |name: String, v: ObjectVersion| {
        let mut bytes = vec![4];
        put::<v4::ObjectVersion>(&mut bytes, &v.clone().conv());
        let back: ObjectVersion = decode(&bytes).unwrap();
        (name, bytes, back == v)
    };
    let upload_v2 = |name: String, u: UploadInfo| {
        let mut bytes = vec![2];
        put::<v2::UploadInfo>(&mut bytes, &u.clone().conv());
        let back: UploadInfo = decode(&bytes).unwrap();
        (name, bytes, back == u)
    };
    for (name, encryption) in encryptions() {
        let v = ObjectVersion {
            tag_count: Some(1),
            stamp: stamp(11, 2),
            encryption: Some(Box::new(encryption.clone())),
            ..version(ObjectData::Blobs(vec![blob()]))
        };
        out.push(v4(format!("object-version/v4-{name}"), v.clone()));
        let u = UploadInfo {
            encryption: Some(Box::new(encryption)),
            ..upload()
        };
        out.push(upload_v2(format!("upload/v2-{name}"), u.clone()));
        // Version 5 and 3: with a website redirect.
        let redirect = Some("/elsewhere/index.html".to_owned());
        out.push(one(
            &format!("object-version/v5-{name}"),
            &ObjectVersion {
                website_redirect: redirect.clone(),
                ..v
            },
        ));
        out.push(one(
            &format!("upload/v3-{name}"),
            &UploadInfo {
                website_redirect: redirect,
                ..u
            },
        ));
    }
    let plain = ObjectVersion {
        tag_count: Some(0),
        stamp: stamp(12, 0),
        ..version(ObjectData::Inline(Bytes::from_static(b"hello")))
    };
    out.push(v4("object-version/v4-plain".into(), plain.clone()));
    out.push(upload_v2("upload/v2-plain".into(), upload()));
    out.push(one("object-version/v5-plain", &plain));
    out.push(one(
        "object-version/v5-redirect",
        &ObjectVersion {
            website_redirect: Some("https://example.test/moved".into()),
            ..plain
        },
    ));
    out.push(one("upload/v3-plain", &upload()));
    // Version 1 of an upload, as the builds before encryption wrote it.
    let mut bytes = vec![1];
    put::<v1::UploadInfo>(&mut bytes, &upload().conv());
    let back: UploadInfo = decode(&bytes).unwrap();
    out.push(("upload".to_owned(), bytes, back == upload()));
    out.push(one("part", &part()));
    out.push(one("blob", &blob()));
    out.push(one("node", &node()));
    out.push(one(
        "user",
        &UserRecord {
            name: "alice".into(),
            user_id: "AIDA".into(),
            created_ms: 1,
        },
    ));
    out.push(one("access-key", &key()));
    out.push(one(
        "group",
        &GroupRecord {
            name: "g".into(),
            group_id: "AGPA".into(),
            created_ms: 2,
        },
    ));
    out.push(one("erasure-profile", &(4u8, 2u8)));
    out.push(one("text", &"{\"a\":1}".to_owned()));
    out.push(one("marker", &()));
    out.push(one(
        "formats",
        &vec![("object-version".to_owned(), 1u8)] as &FormatRecord,
    ));
    out
}

#[test]
fn every_kind_encodes_as_its_golden_bytes() {
    let samples = samples();
    let lines: Vec<String> = samples
        .iter()
        .map(|(name, bytes, _)| format!("{name} {}", hex::encode(bytes)))
        .collect();
    if std::env::var_os("COFFER_BLESS").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/meta/format/golden_v1.txt");
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
        return;
    }
    let golden: BTreeMap<&str, &str> = GOLDEN.lines().filter_map(|l| l.split_once(' ')).collect();
    for ((name, bytes, round_trips), line) in samples.iter().zip(&lines) {
        assert!(round_trips, "{name} does not decode back to itself");
        let want = golden
            .get(name.as_str())
            .unwrap_or_else(|| panic!("{name} has no golden bytes: add it (COFFER_BLESS=1)"));
        assert_eq!(
            *want,
            &line[name.len() + 1..],
            "{name}: the stored encoding changed ({} bytes now)",
            bytes.len()
        );
    }
    assert_eq!(golden.len(), samples.len(), "golden lines without a sample");
}

#[test]
fn the_frozen_layouts_are_the_bytes_the_live_types_wrote() {
    // Until a kind gets version 2 its live type is serialized the way all of Coffer's
    // releases before format versioning wrote it (bincode of the live type): the frozen v1
    // copies must give the same bytes. A kind that moves to version 2 leaves this list. The
    // internal protocol sends the live types as bincode too, so this also pins that builds
    // before a field was added still decode what this one sends.
    for (name, cmd) in commands() {
        let live = bincode::serialize(&cmd).unwrap();
        let frozen: v1::MetaCommand = cmd.conv();
        assert_eq!(live, bincode::serialize(&frozen).unwrap(), "{name}");
    }
    for e in errors() {
        let live = bincode::serialize(&e).unwrap();
        let frozen: v1::ProtoError = e.clone().conv();
        assert_eq!(live, bincode::serialize(&frozen).unwrap(), "{e:?}");
    }
    let e = Entry::<TypeConfig> {
        log_id: log_id(2),
        payload: EntryPayload::Membership(membership()),
    };
    let frozen: v1::Entry = e.clone().conv();
    assert_eq!(
        bincode::serialize(&e).unwrap(),
        bincode::serialize(&frozen).unwrap()
    );
    // An object version stored in format version 3 still crosses the wire as version 1 did
    // (its tag count goes beside it; its stamp is named by its id).
    let v = ObjectVersion {
        tag_count: Some(4),
        stamp: Some(coffer_proto::version_id::Stamp { index: 3, pos: 1 }),
        ..version(ObjectData::Blobs(vec![blob()]))
    };
    let frozen: v1::ObjectVersion = v.clone().conv();
    assert_eq!(
        bincode::serialize(&v).unwrap(),
        bincode::serialize(&frozen).unwrap()
    );
}

#[test]
fn unknown_versions_and_kinds_are_refused_by_name() {
    let mut bytes = encode(&bucket());
    bytes[0] = 2;
    let err = decode::<BucketInfo>(&bytes).unwrap_err();
    assert_eq!(
        err,
        FormatError::UnknownVersion {
            kind: Kind::Bucket,
            version: 2
        }
    );
    assert!(
        err.to_string()
            .contains("bucket value is in format version 2"),
        "{err}"
    );
    bytes[0] = 0;
    assert!(matches!(
        decode::<BucketInfo>(&bytes),
        Err(FormatError::UnknownVersion { version: 0, .. })
    ));
    assert_eq!(
        decode::<BucketInfo>(&[]).unwrap_err(),
        FormatError::Empty(Kind::Bucket)
    );
    assert!(matches!(
        decode::<BucketInfo>(&[1, 0xff]),
        Err(FormatError::Corrupt {
            kind: Kind::Bucket,
            version: 1,
            ..
        })
    ));
    assert!(check_value(store::CF_OBJECTS, b"k", &[6]).is_err());
    assert!(check_value(store::CF_VERSIONS, b"k", &[6]).is_err());
    assert!(check_value(store::CF_UPLOADS, b"k", &[4]).is_err());
    assert!(check_value(store::CF_UPLOADS, b"k", &[2]).is_ok());
    assert!(check_value(store::CF_UPLOADS, b"k", &[3]).is_ok());
    assert!(
        check_value(store::CF_OBJECTS, b"k", &[1]).is_ok(),
        "version 1 is still read"
    );
    assert!(check_value(
        store::CF_OBJECTS,
        b"k",
        &encode(&version(ObjectData::Blobs(vec![])))
    )
    .is_ok());
    assert_eq!(kind_of(store::CF_KEYS, b"kAKIA"), Some(Kind::AccessKey));
    assert_eq!(kind_of(store::CF_KEYS, b"ualice\0AKIA"), Some(Kind::Marker));
    // The exactly-once expiry index is an empty value in version 1.
    assert!(check_value(store::CF_ONCE, b"t\0\0", &[]).is_ok());
    assert!(check_value(store::CF_ONCE, b"t\0\0", &[2]).is_err());
    assert!(check_value(store::CF_ONCE, b"a\0\0", &[]).is_err());
}

#[test]
fn kind_names_are_unique_and_every_state_family_has_kinds() {
    let names: BTreeSet<_> = Kind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(names.len(), Kind::ALL.len());
    for k in Kind::ALL {
        assert_eq!(Kind::from_name(k.name()), Some(k));
    }
    for cf in store::SM_DATA_CFS {
        assert!(kind_of(cf, b"k").is_some(), "{cf} has no kind");
    }
}

#[test]
fn a_database_written_by_a_newer_build_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetaStore::open(dir.path()).unwrap();
    // A database from before the format record: every kind at 1.
    check_and_record(&store).unwrap();
    let recorded: FormatRecord = store.get(store::CF_SM_STATE, KEY_FORMATS).unwrap().unwrap();
    assert_eq!(recorded.len(), Kind::ALL.len());
    // Started again by the same build: fine.
    check_and_record(&store).unwrap();
    let write = |record: FormatRecord| {
        let mut b = Batch::default();
        b.put(store::CF_SM_STATE, KEY_FORMATS, encode(&record));
        store.write(b, true).unwrap();
    };
    // The record says versions this build wrote.
    let recorded: FormatRecord = store.get(store::CF_SM_STATE, KEY_FORMATS).unwrap().unwrap();
    assert!(
        recorded.contains(&("object-version".into(), 5))
            && recorded.contains(&("upload".into(), 3)),
        "{recorded:?}"
    );
    write(vec![("object-version".into(), 6)]);
    let err = check_and_record(&store).unwrap_err().to_string();
    assert!(
        err.contains("object-version value is in format version 6")
            && err.contains("written by a newer Coffer"),
        "{err}"
    );
    write(vec![("bucket".into(), 1), ("lifecycle-rule".into(), 1)]);
    let err = check_and_record(&store).unwrap_err().to_string();
    assert!(err.contains("\"lifecycle-rule\""), "{err}");
}
