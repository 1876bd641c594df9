//! Sample values of every stored kind, command and error variant, for the golden-bytes tests
//! (`super::tests`): one place that builds each, so a sample's bytes are pinned once.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use coffer_proto::iam::{GroupRecord, KeyRecord, PolicyOwner, UserRecord};
use coffer_proto::meta::{
    BlobRecord, BucketConfigKind, CompletePart, MetaCommand, WritePrecondition,
};
use coffer_proto::sse::{Encryption, Keeper};
use coffer_proto::types::{
    BlobRef, BucketInfo, Checksum, ChecksumAlgorithm, ChecksumType, ContentHeaders, Layout,
    NodeInfo, ObjectData, ObjectVersion, PartInfo, PartSummary, ShardLoc, UploadInfo, Versioning,
};
use coffer_proto::ProtoError;
use openraft::{BasicNode, CommittedLeaderId, LogId, Membership};

use crate::raft::NodeId;

pub(super) fn log_id(index: u64) -> LogId<NodeId> {
    LogId::new(CommittedLeaderId::new(3, 1), index)
}

pub(super) fn blob() -> BlobRef {
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

pub(super) fn checksum() -> Checksum {
    Checksum {
        algorithm: ChecksumAlgorithm::Crc32c,
        value: "yZRlqg==".into(),
        kind: ChecksumType::FullObject,
    }
}

pub(super) fn content() -> ContentHeaders {
    ContentHeaders {
        content_type: Some("text/plain".into()),
        content_encoding: None,
        content_disposition: Some("attachment".into()),
        content_language: None,
        cache_control: Some("no-cache".into()),
        expires: None,
    }
}

pub(super) fn version(data: ObjectData) -> ObjectVersion {
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
        stamp: None,
        encryption: None,
        website_redirect: None,
    }
}

/// One encryption of each keeper.
pub(super) fn encryptions() -> Vec<(&'static str, Encryption)> {
    let e = |keeper| Encryption {
        scheme: 1,
        keeper,
        sealed_key: vec![0xa5; 60],
    };
    vec![
        ("s3", e(Keeper::S3 { generation: 2 })),
        (
            "kms",
            e(Keeper::Kms {
                key_id: "testkey-1".into(),
                generation: 0,
                context: "{\"aws:s3:arn\":\"arn:aws:s3:::b/k\"}".into(),
                bucket_key: true,
            }),
        ),
        (
            "customer",
            e(Keeper::Customer {
                check: vec![0x5a; 48],
            }),
        ),
    ]
}

pub(super) fn upload() -> UploadInfo {
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
        encryption: None,
        website_redirect: None,
    }
}

pub(super) fn part() -> PartInfo {
    PartInfo {
        number: 2,
        last_modified_ms: 9,
        size: 10,
        etag: "p".into(),
        checksum: None,
        blob: blob(),
    }
}

pub(super) fn node() -> NodeInfo {
    NodeInfo {
        id: 2,
        rpc_addr: "10.0.0.2:9100".into(),
        drives: 4,
        zone: Some("a".into()),
    }
}

pub(super) fn bucket() -> BucketInfo {
    BucketInfo {
        id: 42,
        name: "bucket".into(),
        created_ms: 1_700_000_000_002,
        owner: "AKIA".into(),
        location: "eu-west-1".into(),
        versioning: Versioning::Suspended,
    }
}

pub(super) fn key() -> KeyRecord {
    KeyRecord {
        access_key_id: "AKIAEXAMPLE".into(),
        user: "alice".into(),
        sealed_secret: vec![1, 2, 3],
        active: true,
        created_ms: 11,
    }
}

/// One sample of every command variant, in declaration order.
pub(super) fn commands() -> Vec<(&'static str, MetaCommand)> {
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
        (
            "DeleteVersion",
            MetaCommand::DeleteVersion {
                bucket_id: 1,
                key: "k".into(),
                version_id: "fffffffffffffff0fffffffe".into(),
                bypass_governance: true,
            },
        ),
        (
            "SetVersioning",
            MetaCommand::SetVersioning {
                bucket: "b".into(),
                state: Versioning::Suspended,
            },
        ),
        (
            "SetVersionAcl",
            MetaCommand::SetVersionAcl {
                bucket_id: 1,
                key: "k".into(),
                version_id: "null".into(),
                acl: "{}".into(),
            },
        ),
        (
            "SetVersionTags",
            MetaCommand::SetVersionTags {
                bucket_id: 1,
                key: "k".into(),
                version_id: "null".into(),
                tags: Some("[]".into()),
            },
        ),
        (
            "WithLock",
            MetaCommand::WithLock {
                lock: "{}".into(),
                cmd: Box::new(MetaCommand::DeleteBucket { name: "b".into() }),
            },
        ),
        (
            "SetRetention",
            MetaCommand::SetRetention {
                bucket_id: 1,
                key: "k".into(),
                version_id: Some("null".into()),
                retention: Some(coffer_proto::lock::Retention {
                    mode: coffer_proto::lock::LockMode::Compliance,
                    until_ms: 1_800_000_000_000,
                }),
                bypass_governance: false,
                now_ms: 1_700_000_000_000,
            },
        ),
        (
            "SetLegalHold",
            MetaCommand::SetLegalHold {
                bucket_id: 1,
                key: "k".into(),
                version_id: None,
                on: true,
            },
        ),
        (
            "DeleteVersionIf",
            MetaCommand::DeleteVersionIf {
                bucket_id: 1,
                key: "k".into(),
                version_id: "null".into(),
                bypass_governance: false,
                precondition: WritePrecondition::EtagMatches("e".into()),
            },
        ),
        (
            "SetBucketConfig/ObjectLock",
            MetaCommand::SetBucketConfig {
                bucket: "b".into(),
                kind: BucketConfigKind::ObjectLock,
                value: Some("{}".into()),
            },
        ),
        (
            "SetBucketConfig/Encryption",
            MetaCommand::SetBucketConfig {
                bucket: "b".into(),
                kind: BucketConfigKind::Encryption,
                value: Some("{}".into()),
            },
        ),
        (
            "SetBucketConfig/Website",
            MetaCommand::SetBucketConfig {
                bucket: "b".into(),
                kind: BucketConfigKind::Website,
                value: Some("{}".into()),
            },
        ),
        (
            "SetBucketConfig/Lifecycle",
            MetaCommand::SetBucketConfig {
                bucket: "b".into(),
                kind: BucketConfigKind::Lifecycle,
                value: Some("{}".into()),
            },
        ),
        (
            "SetBucketConfig/Logging",
            MetaCommand::SetBucketConfig {
                bucket: "b".into(),
                kind: BucketConfigKind::Logging,
                value: Some("{}".into()),
            },
        ),
        (
            "MovePlacement/version",
            MetaCommand::MovePlacement {
                record: BlobRecord::Version(b"raw".to_vec()),
                blob_id: [7; 16],
                from: vec![ShardLoc { node: 1, drive: 0 }],
                to: vec![ShardLoc { node: 2, drive: 1 }],
            },
        ),
        (
            "WithEncryption",
            MetaCommand::WithEncryption {
                encryption: encryptions().remove(1).1,
                cmd: Box::new(MetaCommand::PutObject {
                    bucket_id: 1,
                    version: version(ObjectData::Inline(Bytes::from_static(b"sealed"))),
                    precondition: WritePrecondition::None,
                }),
            },
        ),
        (
            "WithWebsiteRedirect",
            MetaCommand::WithWebsiteRedirect {
                location: "/moved.html".into(),
                cmd: Box::new(MetaCommand::PutObject {
                    bucket_id: 1,
                    version: version(ObjectData::Inline(Bytes::from_static(b"moved"))),
                    precondition: WritePrecondition::None,
                }),
            },
        ),
        (
            "CreateKmsKey",
            MetaCommand::CreateKmsKey {
                key: "{\"format\":1}".into(),
            },
        ),
        (
            "ReplaceKmsKey",
            MetaCommand::ReplaceKmsKey {
                previous: "{\"format\":1}".into(),
                key: "{\"format\":1,\"enabled\":false}".into(),
            },
        ),
        (
            "ReplaceClusterConfig/LifecycleWorker",
            MetaCommand::ReplaceClusterConfig {
                kind: BucketConfigKind::LifecycleWorker,
                previous: None,
                value: Some("{}".into()),
            },
        ),
        (
            "TransitionVersion",
            MetaCommand::TransitionVersion {
                bucket_id: 1,
                key: "k".into(),
                version_id: "null".into(),
                from: vec![blob()],
                to: vec![BlobRef {
                    placement: vec![ShardLoc { node: 9, drive: 0 }],
                    ..blob()
                }],
                storage_class: "GLACIER".into(),
            },
        ),
        (
            "ReplaceClusterConfig/Tiers",
            MetaCommand::ReplaceClusterConfig {
                kind: BucketConfigKind::Tiers,
                previous: None,
                value: Some("{}".into()),
            },
        ),
        (
            "ReplaceClusterConfig/NodeLabels",
            MetaCommand::ReplaceClusterConfig {
                kind: BucketConfigKind::NodeLabels,
                previous: None,
                value: Some("{}".into()),
            },
        ),
    ]
}

/// One sample of every error variant, in declaration order.
pub(super) fn errors() -> Vec<ProtoError> {
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
        ProtoError::NoSuchVersion,
        ProtoError::InvalidBucketState(t()),
        ProtoError::ObjectLocked,
        ProtoError::KmsKeyExists,
        ProtoError::KmsKeyChanged,
    ]
}

pub(super) fn membership() -> Membership<NodeId, BasicNode> {
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
