//! Golden bytes: every record kind, every command variant and every error variant, encoded
//! in its current version (and the older versions still read), must equal the bytes in
//! `golden_v1.txt` (named for the first version; it holds every version's samples). Reordering a variant or a
//! field, or changing a type inside a frozen layout, fails here instead of silently misreading
//! stored data. `COFFER_BLESS=1` writes the file anew: only ever for samples that are new,
//! never to make an existing line agree with changed code.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use coffer_proto::iam::{GroupRecord, KeyRecord, PolicyOwner, UserRecord};
use coffer_proto::meta::{
    BlobRecord, BucketConfigKind, CompletePart, MetaCommand, MetaOk, WritePrecondition,
};
use coffer_proto::types::{
    BlobRef, BucketInfo, Checksum, ChecksumAlgorithm, ChecksumType, ContentHeaders, Layout,
    NodeInfo, ObjectData, ObjectVersion, PartInfo, PartSummary, ShardLoc, UploadInfo, Versioning,
};
use coffer_proto::ProtoError;
use openraft::{BasicNode, CommittedLeaderId, Entry, EntryPayload, LogId, Membership};

use super::*;
use crate::meta::once::Answer;

const GOLDEN: &str = include_str!("golden_v1.txt");

fn log_id(index: u64) -> LogId<NodeId> {
    LogId::new(CommittedLeaderId::new(3, 1), index)
}

fn blob() -> BlobRef {
    BlobRef {
        id: [7; 16],
        size: 300_000,
        layout: Layout {
            k: 2,
            m: 1,
            stripe_size: 1 << 20,
        },
        placement: vec![
            ShardLoc { node: 1, drive: 0 },
            ShardLoc { node: 2, drive: 1 },
            ShardLoc { node: 3, drive: 0 },
        ],
    }
}

fn checksum() -> Checksum {
    Checksum {
        algorithm: ChecksumAlgorithm::Crc32c,
        value: "yZRlqg==".into(),
        kind: ChecksumType::FullObject,
    }
}

fn content() -> ContentHeaders {
    ContentHeaders {
        content_type: Some("text/plain".into()),
        content_encoding: None,
        content_disposition: Some("attachment".into()),
        content_language: None,
        cache_control: Some("no-cache".into()),
        expires: None,
    }
}

fn version(data: ObjectData) -> ObjectVersion {
    ObjectVersion {
        key: "a/b.txt".into(),
        version_id: "null".into(),
        last_modified_ms: 1_700_000_000_000,
        size: 5,
        etag: "5d41402abc4b2a76b9719d911017c592".into(),
        content: content(),
        user_meta: vec![("color".into(), "blue".into())],
        checksum: Some(checksum()),
        parts: vec![PartSummary {
            number: 1,
            size: 5,
            etag: "e1".into(),
            checksum: Some(Checksum {
                algorithm: ChecksumAlgorithm::Sha256,
                value: "x".into(),
                kind: ChecksumType::Composite,
            }),
        }],
        storage_class: "STANDARD".into(),
        delete_marker: false,
        owner: "owner".into(),
        data,
        tag_count: None,
    }
}

fn upload() -> UploadInfo {
    UploadInfo {
        key: "k".into(),
        upload_id: "u1".into(),
        initiated_ms: 1_700_000_000_001,
        content: ContentHeaders::default(),
        user_meta: vec![],
        checksum_algorithm: Some(ChecksumAlgorithm::Crc64Nvme),
        checksum_type: Some(ChecksumType::Composite),
        storage_class: "GLACIER".into(),
        owner: "o".into(),
    }
}

fn part() -> PartInfo {
    PartInfo {
        number: 2,
        last_modified_ms: 9,
        size: 10,
        etag: "p".into(),
        checksum: None,
        blob: blob(),
    }
}

fn node() -> NodeInfo {
    NodeInfo {
        id: 2,
        rpc_addr: "10.0.0.2:9100".into(),
        drives: 4,
        zone: Some("a".into()),
    }
}

fn bucket() -> BucketInfo {
    BucketInfo {
        id: 42,
        name: "bucket".into(),
        created_ms: 1_700_000_000_002,
        owner: "AKIA".into(),
        location: "eu-west-1".into(),
        versioning: Versioning::Suspended,
    }
}

fn key() -> KeyRecord {
    KeyRecord {
        access_key_id: "AKIAEXAMPLE".into(),
        user: "alice".into(),
        sealed_secret: vec![1, 2, 3],
        active: true,
        created_ms: 11,
    }
}

/// One sample of every command variant, in declaration order.
fn commands() -> Vec<(&'static str, MetaCommand)> {
    let put = MetaCommand::PutObject {
        bucket_id: 42,
        version: version(ObjectData::Inline(Bytes::from_static(b"hello"))),
        precondition: WritePrecondition::EtagMatches("e".into()),
    };
    vec![
        (
            "CreateBucket",
            MetaCommand::CreateBucket {
                name: "b".into(),
                owner: "o".into(),
                location: "".into(),
                now_ms: 5,
            },
        ),
        (
            "DeleteBucket",
            MetaCommand::DeleteBucket { name: "b".into() },
        ),
        ("PutObject", put.clone()),
        (
            "DeleteObjects",
            MetaCommand::DeleteObjects {
                bucket_id: 1,
                keys: vec!["x".into(), "y".into()],
            },
        ),
        (
            "CreateUpload",
            MetaCommand::CreateUpload {
                bucket_id: 1,
                upload: upload(),
            },
        ),
        (
            "PutPart",
            MetaCommand::PutPart {
                bucket_id: 1,
                key: "k".into(),
                upload_id: "u".into(),
                part: part(),
            },
        ),
        (
            "CompleteUpload",
            MetaCommand::CompleteUpload {
                bucket_id: 1,
                upload_id: "u".into(),
                parts: vec![CompletePart {
                    number: 1,
                    blob_id: [9; 16],
                }],
                version: version(ObjectData::Blobs(vec![blob()])),
                precondition: WritePrecondition::MustNotExist,
            },
        ),
        (
            "AbortUpload",
            MetaCommand::AbortUpload {
                bucket_id: 1,
                key: "k".into(),
                upload_id: "u".into(),
            },
        ),
        (
            "GcDone",
            MetaCommand::GcDone {
                blob_ids: vec![[1; 16]],
            },
        ),
        ("RegisterNode", MetaCommand::RegisterNode(node())),
        ("DrainNode", MetaCommand::DrainNode { id: 3 }),
        ("RemoveNode", MetaCommand::RemoveNode { id: 3 }),
        (
            "MovePlacement",
            MetaCommand::MovePlacement {
                record: BlobRecord::Part(b"raw".to_vec()),
                blob_id: [2; 16],
                from: vec![ShardLoc { node: 1, drive: 0 }],
                to: vec![ShardLoc { node: 4, drive: 2 }],
            },
        ),
        (
            "SetStorageClass",
            MetaCommand::SetStorageClass {
                name: "GLACIER".into(),
                profile: Some((4, 2)),
            },
        ),
        (
            "CreateUser",
            MetaCommand::CreateUser(UserRecord {
                name: "alice".into(),
                user_id: "AIDA".into(),
                created_ms: 1,
            }),
        ),
        (
            "DeleteUser",
            MetaCommand::DeleteUser {
                name: "alice".into(),
            },
        ),
        ("CreateAccessKey", MetaCommand::CreateAccessKey(key())),
        (
            "UpdateAccessKey",
            MetaCommand::UpdateAccessKey {
                access_key_id: "AKIA".into(),
                active: false,
            },
        ),
        (
            "DeleteAccessKey",
            MetaCommand::DeleteAccessKey {
                access_key_id: "AKIA".into(),
            },
        ),
        (
            "Once",
            MetaCommand::Once {
                id: [5; 16],
                at_ms: 77,
                cmd: Box::new(MetaCommand::DeleteBucket { name: "b".into() }),
            },
        ),
        (
            "SetBucketConfig",
            MetaCommand::SetBucketConfig {
                bucket: "b".into(),
                kind: BucketConfigKind::Cors,
                value: Some("[]".into()),
            },
        ),
        (
            "CreateGroup",
            MetaCommand::CreateGroup(GroupRecord {
                name: "g".into(),
                group_id: "AGPA".into(),
                created_ms: 2,
            }),
        ),
        ("DeleteGroup", MetaCommand::DeleteGroup { name: "g".into() }),
        (
            "SetGroupMember",
            MetaCommand::SetGroupMember {
                group: "g".into(),
                user: "alice".into(),
                member: true,
            },
        ),
        (
            "SetIdentityPolicy",
            MetaCommand::SetIdentityPolicy {
                owner: PolicyOwner::Group("g".into()),
                name: "p".into(),
                document: Some("{}".into()),
            },
        ),
        (
            "SetClusterConfig",
            MetaCommand::SetClusterConfig {
                kind: BucketConfigKind::PublicAccessBlock,
                value: None,
            },
        ),
        (
            "WithAcl",
            MetaCommand::WithAcl {
                acl: "{}".into(),
                cmd: Box::new(put.clone()),
            },
        ),
        (
            "SetObjectAcl",
            MetaCommand::SetObjectAcl {
                bucket_id: 1,
                key: "k".into(),
                acl: "{}".into(),
            },
        ),
        (
            "WithBucketConfig",
            MetaCommand::WithBucketConfig {
                configs: vec![(BucketConfigKind::OwnershipControls, "ObjectWriter".into())],
                cmd: Box::new(MetaCommand::DeleteBucket { name: "b".into() }),
            },
        ),
        (
            "WithTags",
            MetaCommand::WithTags {
                tags: "[]".into(),
                cmd: Box::new(put.clone()),
            },
        ),
        (
            "SetObjectTags",
            MetaCommand::SetObjectTags {
                bucket_id: 1,
                key: "k".into(),
                tags: None,
            },
        ),
        (
            "Batch",
            MetaCommand::Batch(vec![put, MetaCommand::RemoveNode { id: 1 }]),
        ),
        (
            "DeleteObjectIf",
            MetaCommand::DeleteObjectIf {
                bucket_id: 1,
                key: "k".into(),
                precondition: WritePrecondition::None,
            },
        ),
        (
            "DeleteObjectIf/conditions",
            MetaCommand::DeleteObjectIf {
                bucket_id: 1,
                key: "k".into(),
                precondition: WritePrecondition::All(vec![
                    WritePrecondition::EtagDiffers("e".into()),
                    WritePrecondition::ModifiedAt(1_700_000_000),
                    WritePrecondition::SizeIs(5),
                ]),
            },
        ),
        (
            "DeleteBucketAndUploads",
            MetaCommand::DeleteBucketAndUploads { name: "b".into() },
        ),
        (
            "RememberCompletion",
            MetaCommand::RememberCompletion {
                cmd: Box::new(MetaCommand::AbortUpload {
                    bucket_id: 1,
                    key: "k".into(),
                    upload_id: "u".into(),
                }),
            },
        ),
    ]
}

/// One sample of every error variant, in declaration order.
fn errors() -> Vec<ProtoError> {
    let t = || "text".to_owned();
    vec![
        ProtoError::NoSuchBucket,
        ProtoError::BucketAlreadyExists,
        ProtoError::BucketAlreadyOwnedByYou,
        ProtoError::BucketNotEmpty,
        ProtoError::NoSuchKey,
        ProtoError::NoSuchUpload,
        ProtoError::InvalidPart(3),
        ProtoError::PreconditionFailed,
        ProtoError::ConditionalRequestConflict,
        ProtoError::NotLeader(Some("n".into())),
        ProtoError::QuorumNotReached(t()),
        ProtoError::Timeout,
        ProtoError::Unreachable(t()),
        ProtoError::Cancelled,
        ProtoError::Corrupt(t()),
        ProtoError::Io(t()),
        ProtoError::Body(t()),
        ProtoError::Protocol(t()),
        ProtoError::Unauthorized,
        ProtoError::Internal(t()),
        ProtoError::NoSuchEntity(t()),
        ProtoError::EntityAlreadyExists(t()),
        ProtoError::LimitExceeded(t()),
        ProtoError::DeleteConflict(t()),
        ProtoError::ValidationError(t()),
        ProtoError::ConnectionClosed,
        ProtoError::UnexpectedMessage(t()),
        ProtoError::FrameTooLarge(7),
        ProtoError::Malformed(t()),
        ProtoError::UnexpectedAnswer(t()),
        ProtoError::RaftStopped(t()),
        ProtoError::ShardNotHere(2),
        ProtoError::ShardDeleted(2),
        ProtoError::NoSuchNode(9),
        ProtoError::NoSuchStorageClass(t()),
        ProtoError::InvalidErasureProfile(t()),
        ProtoError::MisplacedCommand(t()),
        ProtoError::Snapshot(t()),
    ]
}

fn membership() -> Membership<NodeId, BasicNode> {
    Membership::new(
        vec![BTreeSet::from([1, 2, 3])],
        BTreeMap::from([
            (1, BasicNode::new("a:1")),
            (2, BasicNode::new("b:2")),
            (3, BasicNode::new("c:3")),
            (4, BasicNode::new("d:4")),
        ]),
    )
}

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
    for (name, count, v) in [
        ("object-version/v2-inline", Some(3), inline),
        ("object-version/v2-blobs", Some(0), blobs.clone()),
        ("object-version/v2-uncounted", None, blobs),
    ] {
        out.push(one(
            name,
            &ObjectVersion {
                tag_count: count,
                ..v
            },
        ));
    }
    out.push(one("upload", &upload()));
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
    // An object version stored in format version 2 still crosses the wire as version 1 did
    // (its tag count goes beside it).
    let v = ObjectVersion {
        tag_count: Some(4),
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
    assert!(check_value(store::CF_OBJECTS, b"k", &[3]).is_err());
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
        recorded.contains(&("object-version".into(), 2)),
        "{recorded:?}"
    );
    write(vec![("object-version".into(), 3)]);
    let err = check_and_record(&store).unwrap_err().to_string();
    assert!(
        err.contains("object-version value is in format version 3")
            && err.contains("written by a newer Coffer"),
        "{err}"
    );
    write(vec![("bucket".into(), 1), ("lifecycle-rule".into(), 1)]);
    let err = check_and_record(&store).unwrap_err().to_string();
    assert!(err.contains("\"lifecycle-rule\""), "{err}");
}
