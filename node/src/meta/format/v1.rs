//! Format version 1 of every stored record kind, frozen: the layouts Coffer wrote from its
//! first release until each kind's version 2. Never change a type here. A record kind that
//! needs a new layout gets it in a `v2` module, and its `Stored` implementation decodes
//! version 1 through these types and converts (see `super` for the rules).
//!
//! Every value is bincode (fixed-width little-endian integers, u64 lengths, enum variants as
//! u32 indices in declaration order), so field and variant order is the encoding: the
//! golden-bytes tests in `super::tests` pin both.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::conv::{frozen_enum, frozen_struct, Conv};
use crate::raft::{NodeId, TypeConfig};

frozen_enum! {
    /// A bucket's versioning state.
    Versioning = coffer_proto::types::Versioning {
        Unversioned {},
        Enabled {},
        Suspended {},
    }
}

frozen_struct! {
    /// `buckets`: a bucket by name.
    BucketInfo = coffer_proto::types::BucketInfo {
        id: u64,
        name: String,
        created_ms: i64,
        owner: String,
        location: String,
        versioning: Versioning,
    }
}

frozen_struct! {
    /// Where one shard lives.
    ShardLoc = coffer_proto::types::ShardLoc {
        node: u64,
        drive: u32,
    }
}

frozen_struct! {
    /// `nodes`: a member of the cluster map.
    NodeInfo = coffer_proto::types::NodeInfo {
        id: u64,
        rpc_addr: String,
        drives: u32,
        zone: Option<String>,
    }
}

frozen_struct! {
    /// A blob's erasure layout.
    Layout = coffer_proto::types::Layout {
        k: u8,
        m: u8,
        stripe_size: u32,
    }
}

frozen_struct! {
    /// `gc`, and inside object and part records: a blob.
    BlobRef = coffer_proto::types::BlobRef {
        id: [u8; 16],
        size: u64,
        layout: Layout,
        placement: Vec<ShardLoc>,
    }
}

frozen_enum! {
    /// An object's bytes.
    ObjectData = coffer_proto::types::ObjectData {
        Inline { 0 => bytes: Bytes },
        Blobs { 0 => blobs: Vec<BlobRef> },
    }
}

frozen_enum! {
    /// A checksum algorithm.
    ChecksumAlgorithm = coffer_proto::types::ChecksumAlgorithm {
        Crc32 {},
        Crc32c {},
        Crc64Nvme {},
        Sha1 {},
        Sha256 {},
    }
}

frozen_enum! {
    /// Full-object or composite checksum.
    ChecksumType = coffer_proto::types::ChecksumType {
        FullObject {},
        Composite {},
    }
}

frozen_struct! {
    /// A stored checksum.
    Checksum = coffer_proto::types::Checksum {
        algorithm: ChecksumAlgorithm,
        value: String,
        kind: ChecksumType,
    }
}

frozen_struct! {
    /// Content headers of an object or upload.
    ContentHeaders = coffer_proto::types::ContentHeaders {
        content_type: Option<String>,
        content_encoding: Option<String>,
        content_disposition: Option<String>,
        content_language: Option<String>,
        cache_control: Option<String>,
        expires: Option<String>,
    }
}

frozen_struct! {
    /// One part of a completed multipart object.
    PartSummary = coffer_proto::types::PartSummary {
        number: u32,
        size: u64,
        etag: String,
        checksum: Option<Checksum>,
    }
}

frozen_struct! {
    /// `objects` until version 2; in commands and exactly-once answers, a version as a write
    /// carries it.
    ObjectVersion = coffer_proto::types::ObjectVersion {
        key: String,
        version_id: String,
        last_modified_ms: i64,
        size: u64,
        etag: String,
        content: ContentHeaders,
        user_meta: Vec<(String, String)>,
        checksum: Option<Checksum>,
        parts: Vec<PartSummary>,
        storage_class: String,
        delete_marker: bool,
        owner: String,
        data: ObjectData,
    } later {
        // Counted from the tag set when read (`crate::meta::acls::tag_count`).
        tag_count: None,
        // Written before versioning: older than every stamped version.
        stamp: None,
        // Written before encryption (in commands: sent in a WithEncryption).
        encryption: None,
        // Written before website redirects (in commands: sent in a WithWebsiteRedirect).
        website_redirect: None,
    }
}

frozen_struct! {
    /// `uploads` until version 2; in commands, an upload as CreateUpload carries it.
    UploadInfo = coffer_proto::types::UploadInfo {
        key: String,
        upload_id: String,
        initiated_ms: i64,
        content: ContentHeaders,
        user_meta: Vec<(String, String)>,
        checksum_algorithm: Option<ChecksumAlgorithm>,
        checksum_type: Option<ChecksumType>,
        storage_class: String,
        owner: String,
    } later {
        // Written before encryption (in commands: sent in a WithEncryption).
        encryption: None,
        // Written before website redirects (in commands: sent in a WithWebsiteRedirect).
        website_redirect: None,
    }
}

frozen_struct! {
    /// `parts`: an uploaded part.
    PartInfo = coffer_proto::types::PartInfo {
        number: u32,
        last_modified_ms: i64,
        size: u64,
        etag: String,
        checksum: Option<Checksum>,
        blob: BlobRef,
    }
}

frozen_struct! {
    /// `users`: an IAM user.
    UserRecord = coffer_proto::iam::UserRecord {
        name: String,
        user_id: String,
        created_ms: u64,
    }
}

frozen_struct! {
    /// `keys`: an access key. `sealed_secret` is sealed secret format 1: a 12-byte random
    /// nonce, then AES-256-GCM ciphertext and tag of the secret under the cluster master key
    /// (HKDF-SHA256 of the cluster secret, salt "coffer", info "coffer master key v1"), with
    /// the access key id as associated data (`coffer_proto::seal`).
    KeyRecord = coffer_proto::iam::KeyRecord {
        access_key_id: String,
        user: String,
        sealed_secret: Vec<u8>,
        active: bool,
        created_ms: u64,
    }
}

frozen_struct! {
    /// `groups`: an IAM group.
    GroupRecord = coffer_proto::iam::GroupRecord {
        name: String,
        group_id: String,
        created_ms: u64,
    }
}

frozen_enum! {
    /// Who an identity policy is attached to.
    PolicyOwner = coffer_proto::iam::PolicyOwner {
        User { 0 => name: String },
        Group { 0 => name: String },
    }
}

frozen_enum! {
    /// A write's condition on the current version.
    WritePrecondition = coffer_proto::meta::WritePrecondition {
        None {},
        MustNotExist {},
        EtagMatches { 0 => etag: String },
        EtagDiffers { 0 => etag: String },
        ModifiedAt { 0 => secs: i64 },
        SizeIs { 0 => size: u64 },
        All { 0 => all: Vec<WritePrecondition> },
    }
}

frozen_struct! {
    /// A part named by CompleteMultipartUpload.
    CompletePart = coffer_proto::meta::CompletePart {
        number: u32,
        blob_id: [u8; 16],
    }
}

frozen_enum! {
    /// Which configuration document.
    BucketConfigKind = coffer_proto::meta::BucketConfigKind {
        Policy {},
        Cors {},
        PublicAccessBlock {},
        Acl {},
        OwnershipControls {},
        ObjectLock {},
        Encryption {},
        Website {},
        Lifecycle {},
        LifecycleWorker {},
        Logging {},
        Tiers {},
        NodeLabels {},
    }
}

frozen_enum! {
    /// Where a blob is referenced.
    BlobRecord = coffer_proto::meta::BlobRecord {
        Object { 0 => key: Vec<u8> },
        Part { 0 => key: Vec<u8> },
        Version { 0 => key: Vec<u8> },
    }
}

frozen_enum! {
    /// An Object Lock retention mode.
    LockMode = coffer_proto::lock::LockMode {
        Governance {},
        Compliance {},
    }
}

frozen_struct! {
    /// An Object Lock retention.
    Retention = coffer_proto::lock::Retention {
        mode: LockMode,
        until_ms: i64,
    }
}

frozen_enum! {
    /// A metadata command: what a Raft log entry carries.
    MetaCommand = coffer_proto::meta::MetaCommand {
        CreateBucket { name => name: String, owner => owner: String, location => location: String, now_ms => now_ms: i64 },
        DeleteBucket { name => name: String },
        PutObject { bucket_id => bucket_id: u64, version => version: ObjectVersion, precondition => precondition: WritePrecondition },
        DeleteObjects { bucket_id => bucket_id: u64, keys => keys: Vec<String> },
        CreateUpload { bucket_id => bucket_id: u64, upload => upload: UploadInfo },
        PutPart { bucket_id => bucket_id: u64, key => key: String, upload_id => upload_id: String, part => part: PartInfo },
        CompleteUpload {
            bucket_id => bucket_id: u64,
            upload_id => upload_id: String,
            parts => parts: Vec<CompletePart>,
            version => version: ObjectVersion,
            precondition => precondition: WritePrecondition,
        },
        AbortUpload { bucket_id => bucket_id: u64, key => key: String, upload_id => upload_id: String },
        GcDone { blob_ids => blob_ids: Vec<[u8; 16]> },
        RegisterNode { 0 => node: NodeInfo },
        DrainNode { id => id: u64 },
        RemoveNode { id => id: u64 },
        MovePlacement { record => record: BlobRecord, blob_id => blob_id: [u8; 16], from => from: Vec<ShardLoc>, to => to: Vec<ShardLoc> },
        SetStorageClass { name => name: String, profile => profile: Option<(u8, u8)> },
        CreateUser { 0 => user: UserRecord },
        DeleteUser { name => name: String },
        CreateAccessKey { 0 => key: KeyRecord },
        UpdateAccessKey { access_key_id => access_key_id: String, active => active: bool },
        DeleteAccessKey { access_key_id => access_key_id: String },
        Once { id => id: [u8; 16], at_ms => at_ms: u64, cmd => cmd: Box<MetaCommand> },
        SetBucketConfig { bucket => bucket: String, kind => kind: BucketConfigKind, value => value: Option<String> },
        CreateGroup { 0 => group: GroupRecord },
        DeleteGroup { name => name: String },
        SetGroupMember { group => group: String, user => user: String, member => member: bool },
        SetIdentityPolicy { owner => owner: PolicyOwner, name => name: String, document => document: Option<String> },
        SetClusterConfig { kind => kind: BucketConfigKind, value => value: Option<String> },
        WithAcl { acl => acl: String, cmd => cmd: Box<MetaCommand> },
        SetObjectAcl { bucket_id => bucket_id: u64, key => key: String, acl => acl: String },
        WithBucketConfig { configs => configs: Vec<(BucketConfigKind, String)>, cmd => cmd: Box<MetaCommand> },
        WithTags { tags => tags: String, cmd => cmd: Box<MetaCommand> },
        SetObjectTags { bucket_id => bucket_id: u64, key => key: String, tags => tags: Option<String> },
        Batch { 0 => cmds: Vec<MetaCommand> },
        DeleteObjectIf { bucket_id => bucket_id: u64, key => key: String, precondition => precondition: WritePrecondition },
        DeleteBucketAndUploads { name => name: String },
        RememberCompletion { cmd => cmd: Box<MetaCommand> },
        DeleteVersion { bucket_id => bucket_id: u64, key => key: String, version_id => version_id: String, bypass_governance => bypass_governance: bool },
        SetVersioning { bucket => bucket: String, state => state: Versioning },
        SetVersionAcl { bucket_id => bucket_id: u64, key => key: String, version_id => version_id: String, acl => acl: String },
        SetVersionTags { bucket_id => bucket_id: u64, key => key: String, version_id => version_id: String, tags => tags: Option<String> },
        WithLock { lock => lock: String, cmd => cmd: Box<MetaCommand> },
        SetRetention {
            bucket_id => bucket_id: u64,
            key => key: String,
            version_id => version_id: Option<String>,
            retention => retention: Option<Retention>,
            bypass_governance => bypass_governance: bool,
            now_ms => now_ms: i64,
        },
        SetLegalHold { bucket_id => bucket_id: u64, key => key: String, version_id => version_id: Option<String>, on => on: bool },
        DeleteVersionIf {
            bucket_id => bucket_id: u64,
            key => key: String,
            version_id => version_id: String,
            bypass_governance => bypass_governance: bool,
            precondition => precondition: WritePrecondition,
        },
        WithEncryption { encryption => encryption: Encryption, cmd => cmd: Box<MetaCommand> },
        CreateKmsKey { key => key: String },
        ReplaceKmsKey { previous => previous: String, key => key: String },
        WithWebsiteRedirect { location => location: String, cmd => cmd: Box<MetaCommand> },
        ReplaceClusterConfig { kind => kind: BucketConfigKind, previous => previous: Option<String>, value => value: Option<String> },
        TransitionVersion {
            bucket_id => bucket_id: u64,
            key => key: String,
            version_id => version_id: String,
            from => from: Vec<BlobRef>,
            to => to: Vec<BlobRef>,
            storage_class => storage_class: String,
        },
    }
}

frozen_enum! {
    /// Who keeps the key a data key is sealed under (commands since encryption, and object
    /// versions and uploads from their formats 4 and 2).
    Keeper = coffer_proto::sse::Keeper {
        S3 { generation => generation: u32 },
        Kms {
            key_id => key_id: String,
            generation => generation: u32,
            context => context: String,
            bucket_key => bucket_key: bool,
        },
        Customer { check => check: Vec<u8> },
    }
}

frozen_struct! {
    /// How a version's or an upload's bytes are encrypted. `sealed_key` is seal format 1
    /// (`coffer_proto::seal`): a 12-byte nonce, then the AES-256-GCM ciphertext and tag of the
    /// 32-byte data key under the keeper's key, with `coffer_proto::sse::data_key_aad` as the
    /// associated data.
    Encryption = coffer_proto::sse::Encryption {
        scheme: u8,
        keeper: Keeper,
        sealed_key: Vec<u8>,
    }
}

frozen_enum! {
    /// What a command answered.
    MetaOk = coffer_proto::meta::MetaOk {
        Done {},
        Bucket { 0 => bucket: BucketInfo },
        Object { 0 => version: Box<ObjectVersion> },
        Written { version_id => version_id: String },
        Deleted { version_id => version_id: String, delete_marker => delete_marker: bool },
    }
}

frozen_enum! {
    /// Why a command failed (kept in exactly-once answers).
    ProtoError = coffer_proto::ProtoError {
        NoSuchBucket {},
        BucketAlreadyExists {},
        BucketAlreadyOwnedByYou {},
        BucketNotEmpty {},
        NoSuchKey {},
        NoSuchUpload {},
        InvalidPart { 0 => part: u32 },
        PreconditionFailed {},
        ConditionalRequestConflict {},
        NotLeader { 0 => leader: Option<String> },
        QuorumNotReached { 0 => text: String },
        Timeout {},
        Unreachable { 0 => text: String },
        Cancelled {},
        Corrupt { 0 => text: String },
        Io { 0 => text: String },
        Body { 0 => text: String },
        Protocol { 0 => text: String },
        Unauthorized {},
        Internal { 0 => text: String },
        NoSuchEntity { 0 => text: String },
        EntityAlreadyExists { 0 => text: String },
        LimitExceeded { 0 => text: String },
        DeleteConflict { 0 => text: String },
        ValidationError { 0 => text: String },
        ConnectionClosed {},
        UnexpectedMessage { 0 => text: String },
        FrameTooLarge { 0 => len: u64 },
        Malformed { 0 => text: String },
        UnexpectedAnswer { 0 => text: String },
        RaftStopped { 0 => text: String },
        ShardNotHere { 0 => shard: u8 },
        ShardDeleted { 0 => shard: u8 },
        NoSuchNode { 0 => id: u64 },
        NoSuchStorageClass { 0 => name: String },
        InvalidErasureProfile { 0 => text: String },
        MisplacedCommand { 0 => text: String },
        Snapshot { 0 => text: String },
        NoSuchVersion {},
        InvalidBucketState { 0 => text: String },
        ObjectLocked {},
        KmsKeyExists {},
        KmsKeyChanged {},
    }
}

frozen_struct! {
    /// `once`, key `a` id: the first answer of an exactly-once command.
    OnceAnswer = crate::meta::once::Answer {
        at_ms: u64,
        result: Result<MetaOk, ProtoError>,
    }
}

// Raft's own records. openraft's types are serialized by openraft's serde derives, which
// could change with an openraft release: these frozen copies keep the bytes Coffer wrote.

/// A Raft log id: the leader's term and node id, then the index.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogId {
    /// Term of the leader that proposed it.
    pub term: u64,
    /// That leader's node id.
    pub node_id: u64,
    /// Index in the log.
    pub index: u64,
}

impl Conv<openraft::LogId<NodeId>> for LogId {
    fn conv(self) -> openraft::LogId<NodeId> {
        openraft::LogId::new(
            openraft::CommittedLeaderId::new(self.term, self.node_id),
            self.index,
        )
    }
}

impl Conv<LogId> for openraft::LogId<NodeId> {
    fn conv(self) -> LogId {
        LogId {
            term: self.leader_id.term,
            node_id: self.leader_id.node_id,
            index: self.index,
        }
    }
}

/// `raft_state`, key `vote`: the vote (term, candidate, whether a quorum granted it).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Vote {
    /// Term.
    pub term: u64,
    /// The node voted for.
    pub node_id: u64,
    /// Granted by a quorum.
    pub committed: bool,
}

impl Conv<openraft::Vote<NodeId>> for Vote {
    fn conv(self) -> openraft::Vote<NodeId> {
        let mut v = openraft::Vote::new(self.term, self.node_id);
        v.committed = self.committed;
        v
    }
}

impl Conv<Vote> for openraft::Vote<NodeId> {
    fn conv(self) -> Vote {
        Vote {
            term: self.leader_id.term,
            node_id: self.leader_id.node_id,
            committed: self.committed,
        }
    }
}

frozen_struct! {
    /// A member's address.
    BasicNode = openraft::BasicNode {
        addr: String,
    }
}

/// A Raft membership: the voter sets (two while a joint change is under way) and every
/// member's address (learners are members outside the voter sets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Membership {
    /// Voter sets.
    pub configs: Vec<BTreeSet<u64>>,
    /// Members.
    pub nodes: BTreeMap<u64, BasicNode>,
}

impl Conv<openraft::Membership<NodeId, openraft::BasicNode>> for Membership {
    fn conv(self) -> openraft::Membership<NodeId, openraft::BasicNode> {
        openraft::Membership::new(self.configs, self.nodes.conv())
    }
}

impl Conv<Membership> for openraft::Membership<NodeId, openraft::BasicNode> {
    fn conv(self) -> Membership {
        Membership {
            configs: self.get_joint_config().clone(),
            nodes: self
                .nodes()
                .map(|(id, n)| (*id, n.clone().conv()))
                .collect(),
        }
    }
}

/// `sm_state`, key `membership`: the last applied membership and the entry it came in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMembership {
    /// The entry.
    pub log_id: Option<LogId>,
    /// The membership.
    pub membership: Membership,
}

type LiveStoredMembership = openraft::StoredMembership<NodeId, openraft::BasicNode>;

impl Conv<LiveStoredMembership> for StoredMembership {
    fn conv(self) -> LiveStoredMembership {
        openraft::StoredMembership::new(self.log_id.conv(), self.membership.conv())
    }
}

impl Conv<StoredMembership> for LiveStoredMembership {
    fn conv(self) -> StoredMembership {
        StoredMembership {
            log_id: (*self.log_id()).conv(),
            membership: self.membership().clone().conv(),
        }
    }
}

/// A snapshot's header: what it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    /// The last entry it includes.
    pub last_log_id: Option<LogId>,
    /// The membership as of that entry.
    pub last_membership: StoredMembership,
    /// Its id.
    pub snapshot_id: String,
}

type LiveSnapshotMeta = openraft::SnapshotMeta<NodeId, openraft::BasicNode>;

impl Conv<LiveSnapshotMeta> for SnapshotMeta {
    fn conv(self) -> LiveSnapshotMeta {
        openraft::SnapshotMeta {
            last_log_id: self.last_log_id.conv(),
            last_membership: self.last_membership.conv(),
            snapshot_id: self.snapshot_id,
        }
    }
}

impl Conv<SnapshotMeta> for LiveSnapshotMeta {
    fn conv(self) -> SnapshotMeta {
        SnapshotMeta {
            last_log_id: self.last_log_id.conv(),
            last_membership: self.last_membership.conv(),
            snapshot_id: self.snapshot_id,
        }
    }
}

/// What a log entry carries.
// Decoded once per entry and moved into openraft's own `EntryPayload` (which has the same
// shape) at once: boxing the command would cost an allocation for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EntryPayload {
    /// A new leader's first entry.
    Blank,
    /// A metadata command.
    Normal(MetaCommand),
    /// A membership change.
    Membership(Membership),
}

/// `raft_log`: one entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Its id.
    pub log_id: LogId,
    /// Its payload.
    pub payload: EntryPayload,
}

impl Conv<openraft::Entry<TypeConfig>> for Entry {
    fn conv(self) -> openraft::Entry<TypeConfig> {
        openraft::Entry {
            log_id: self.log_id.conv(),
            payload: match self.payload {
                EntryPayload::Blank => openraft::EntryPayload::Blank,
                EntryPayload::Normal(c) => openraft::EntryPayload::Normal(c.conv()),
                EntryPayload::Membership(m) => openraft::EntryPayload::Membership(m.conv()),
            },
        }
    }
}

impl Conv<Entry> for openraft::Entry<TypeConfig> {
    fn conv(self) -> Entry {
        Entry {
            log_id: self.log_id.conv(),
            payload: match self.payload {
                openraft::EntryPayload::Blank => EntryPayload::Blank,
                openraft::EntryPayload::Normal(c) => EntryPayload::Normal(c.conv()),
                openraft::EntryPayload::Membership(m) => EntryPayload::Membership(m.conv()),
            },
        }
    }
}
