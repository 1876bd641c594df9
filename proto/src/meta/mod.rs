//! Metadata commands (replicated through Raft, applied deterministically by every node's state
//! machine) and read queries ([`query`], answered after a linearizable read barrier).
//!
//! Commands carry their own preconditions and every input the state machine needs (times, ids),
//! so applying the same log on any node gives the same state, and a retried command whose first
//! attempt was applied fails its precondition instead of applying twice.

use serde::{Deserialize, Serialize};

mod query;
pub use query::{LockedVersion, MetaAnswer, MetaQuery};

use crate::types::{BucketInfo, ObjectVersion, PartInfo, UploadInfo};

/// A condition on the current version of a key, checked atomically with a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum WritePrecondition {
    /// No condition.
    #[default]
    None,
    /// `If-None-Match: *`: the key must not exist.
    MustNotExist,
    /// `If-Match: etag`: the key must exist with this ETag.
    EtagMatches(String),
    // New conditions go below: the Raft log stores variants by position.
    /// `If-None-Match: etag`: the key must not exist with this ETag (it may be missing).
    EtagDiffers(String),
    /// `x-amz-if-match-last-modified-time`: the key must exist, last modified in this second
    /// (seconds since the epoch: HTTP dates have no finer grain).
    ModifiedAt(i64),
    /// `x-amz-if-match-size`: the key must exist with this size in bytes.
    SizeIs(u64),
    /// Several conditions together (`If-Match` with `If-None-Match`, ...): each must hold;
    /// the first that does not answers.
    All(Vec<WritePrecondition>),
}

impl WritePrecondition {
    /// `conditions` as one: none, the one, or all of them.
    pub fn all(mut conditions: Vec<WritePrecondition>) -> WritePrecondition {
        match conditions.len() {
            0 => WritePrecondition::None,
            1 => conditions.remove(0),
            _ => WritePrecondition::All(conditions),
        }
    }
}

/// A part named by CompleteMultipartUpload, as validated by the gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletePart {
    /// Part number.
    pub number: u32,
    /// The blob id the gateway saw for it: the part must not have been re-uploaded since.
    pub blob_id: [u8; 16],
}

/// A write to the metadata state machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetaCommand {
    /// Create a bucket (fails with BucketAlreadyOwnedByYou / BucketAlreadyExists).
    CreateBucket {
        /// Name.
        name: String,
        /// Owner access key id.
        owner: String,
        /// LocationConstraint.
        location: String,
        /// Creation time, ms.
        now_ms: i64,
    },
    /// Delete an empty bucket (fails with NoSuchBucket / BucketNotEmpty).
    DeleteBucket {
        /// Name.
        name: String,
    },
    /// Install an object version as the key's current version; the replaced version's data is
    /// queued for deletion.
    PutObject {
        /// Bucket id.
        bucket_id: u64,
        /// The new version.
        version: ObjectVersion,
        /// Checked against the current version.
        precondition: WritePrecondition,
    },
    /// Remove keys' current versions (their data is queued for deletion). Missing keys are not
    /// an error (S3 semantics).
    DeleteObjects {
        /// Bucket id.
        bucket_id: u64,
        /// Keys.
        keys: Vec<String>,
    },
    /// Start a multipart upload.
    CreateUpload {
        /// Bucket id.
        bucket_id: u64,
        /// The upload.
        upload: UploadInfo,
    },
    /// Record an uploaded part (replacing a previous upload of the same number).
    PutPart {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Upload id.
        upload_id: String,
        /// The part.
        part: PartInfo,
    },
    /// Complete an upload: the listed parts become the object, the others are deleted.
    CompleteUpload {
        /// Bucket id.
        bucket_id: u64,
        /// Upload id.
        upload_id: String,
        /// The parts, in order, with the blob ids the gateway validated.
        parts: Vec<CompletePart>,
        /// The resulting object version (data is filled in from the parts).
        version: ObjectVersion,
        /// Checked against the key's current version.
        precondition: WritePrecondition,
    },
    /// Abort an upload and delete its parts.
    AbortUpload {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Upload id.
        upload_id: String,
    },
    /// The listed blobs' shards were deleted: drop them from the delete queue.
    GcDone {
        /// Blob ids.
        blob_ids: Vec<[u8; 16]>,
    },
    /// Add a node to the cluster map, or update its address, drives or zone.
    RegisterNode(crate::types::NodeInfo),
    /// Start draining a node: nothing new is placed on it and rebalancing moves its shards
    /// elsewhere.
    DrainNode {
        /// Node id.
        id: u64,
    },
    /// Take a (drained) node out of the cluster map.
    RemoveNode {
        /// Node id.
        id: u64,
    },
    /// Record that a blob's shards moved: if the blob in `record` still has placement `from`,
    /// it becomes `to` (else PreconditionFailed).
    MovePlacement {
        /// The metadata record referencing the blob.
        record: BlobRecord,
        /// The blob.
        blob_id: [u8; 16],
        /// Placement the move started from.
        from: Vec<crate::types::ShardLoc>,
        /// Placement after the move.
        to: Vec<crate::types::ShardLoc>,
    },
    /// Give a storage class its own erasure profile (k data, m parity shards), or with
    /// `None` return it to the cluster default. Applies to blobs written from then on.
    SetStorageClass {
        /// One of [`crate::types::STORAGE_CLASSES`].
        name: String,
        /// (k, m).
        profile: Option<(u8, u8)>,
    },
    /// Create an IAM user (EntityAlreadyExists if the name is taken).
    CreateUser(crate::iam::UserRecord),
    /// Delete an IAM user (NoSuchEntity; DeleteConflict while it has access keys).
    DeleteUser {
        /// User name.
        name: String,
    },
    /// Add an access key to a user (NoSuchEntity; LimitExceeded past two keys).
    CreateAccessKey(crate::iam::KeyRecord),
    /// Make an access key Active or Inactive (NoSuchEntity).
    UpdateAccessKey {
        /// Access key id.
        access_key_id: String,
        /// Active (true) or Inactive.
        active: bool,
    },
    /// Delete an access key (NoSuchEntity).
    DeleteAccessKey {
        /// Access key id.
        access_key_id: String,
    },
    /// `cmd`, exactly once: a command whose `id` the state machine has applied within the
    /// last hour answers as it did the first time and changes nothing. Every write is sent in
    /// this form ([`MetaCommand::once`]), so one retried after its answer was lost (a dropped
    /// connection, a leader change) is harmless.
    Once {
        /// Random, the same on every retry.
        id: [u8; 16],
        /// The proposer's clock, ms since the epoch; answers are kept an hour past it.
        at_ms: u64,
        /// The command.
        cmd: Box<MetaCommand>,
    },
    // New commands go below: the Raft log stores variants by position.
    /// Set (`Some`) or remove (`None`) one configuration document of a bucket (NoSuchBucket).
    SetBucketConfig {
        /// Bucket name.
        bucket: String,
        /// Which document.
        kind: BucketConfigKind,
        /// The document.
        value: Option<String>,
    },
    /// Create an IAM group (EntityAlreadyExists).
    CreateGroup(crate::iam::GroupRecord),
    /// Delete a group (NoSuchEntity; DeleteConflict while it has members or policies).
    DeleteGroup {
        /// Group name.
        name: String,
    },
    /// Add a user to a group, or (`member: false`) remove it (NoSuchEntity).
    SetGroupMember {
        /// Group name.
        group: String,
        /// User name.
        user: String,
        /// In or out.
        member: bool,
    },
    /// Put (`Some`) or delete (`None`) an inline policy of a user or group (NoSuchEntity).
    SetIdentityPolicy {
        /// User or group.
        owner: crate::iam::PolicyOwner,
        /// Policy name.
        name: String,
        /// The document (validated by the sender).
        document: Option<String>,
    },
    /// Set (`Some`) or remove (`None`) a cluster-wide document (the account's, on AWS): the
    /// same kinds as buckets have, such as Block Public Access.
    SetClusterConfig {
        /// Which document.
        kind: BucketConfigKind,
        /// The document.
        value: Option<String>,
    },
    /// `cmd` (a PutObject, CompleteUpload or CreateUpload) and, if it succeeds, `acl` as the
    /// access control list of the object version or upload it writes, in one write.
    WithAcl {
        /// The ACL document (JSON of the gateway's model).
        acl: String,
        /// The write.
        cmd: Box<MetaCommand>,
    },
    /// Replace the ACL of a key's current version (NoSuchBucket, NoSuchKey).
    SetObjectAcl {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// The ACL document.
        acl: String,
    },
    /// `cmd` (a CreateBucket) and, if it succeeds, the new bucket's first configuration
    /// documents (its Object Ownership, its ACL), in one write.
    WithBucketConfig {
        /// The documents.
        configs: Vec<(BucketConfigKind, String)>,
        /// The CreateBucket.
        cmd: Box<MetaCommand>,
    },
    /// `cmd` (as for [`MetaCommand::WithAcl`], which it may wrap) and, if it succeeds, `tags`
    /// as the tag set of what it writes, in one write.
    WithTags {
        /// The tag set (JSON of the gateway's model).
        tags: String,
        /// The write.
        cmd: Box<MetaCommand>,
    },
    /// Replace (`Some`) or remove (`None`) the tag set of a key's current version
    /// (NoSuchBucket, NoSuchKey).
    SetObjectTags {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// The tag set.
        tags: Option<String>,
    },
    /// Several independent writes proposed together in one Raft log entry, applied in order,
    /// each exactly as it would be alone; one result per command. Only the leader's proposer
    /// builds batches, from object writes (see the node's `raft::batch`); they never nest.
    Batch(Vec<MetaCommand>),
    /// Remove a key's current version if `precondition` holds (a conditional delete:
    /// `If-Match` on DeleteObject, `<ETag>` in DeleteObjects); NoSuchKey when the key has no
    /// current version, PreconditionFailed when its ETag differs. Last, so that the variants
    /// before it keep their numbers in stored logs.
    DeleteObjectIf {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Checked against the current version.
        precondition: WritePrecondition,
    },
    /// Delete a bucket that holds no objects (NoSuchBucket / BucketNotEmpty), aborting its
    /// incomplete multipart uploads (their parts' blobs are queued for deletion), as S3 does.
    /// [`MetaCommand::DeleteBucket`] keeps its meaning for the logs that hold it.
    DeleteBucketAndUploads {
        /// Name.
        name: String,
    },
    /// `cmd` (a CompleteUpload, with the ACL and tags that go with it) and, if it succeeds, a
    /// record of the completion: the version it wrote without its data, kept under the upload's
    /// id for [`COMPLETION_KEPT_MS`] after the version's time, so that the same completion sent
    /// again (a client's retry after a lost answer) answers the same success.
    RememberCompletion {
        /// The completion.
        cmd: Box<MetaCommand>,
    },
    /// Remove one version of a key for good (its data is queued for deletion): the current
    /// one, an older one or a delete marker, named by its id (`null` for the null version).
    /// Removing the latest makes the next one latest. A version that does not exist is not an
    /// error (S3 semantics): answered [`MetaOk::Deleted`] all the same.
    DeleteVersion {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id as the client named it (validated by the sender).
        version_id: String,
        /// Whether a governance retention is bypassed (the caller asked and may).
        bypass_governance: bool,
    },
    /// Turn a bucket's versioning on (`Enabled`) or pause it (`Suspended`); `Unversioned` is
    /// refused (InvalidArgument): a bucket never goes back (NoSuchBucket).
    SetVersioning {
        /// Bucket name.
        bucket: String,
        /// The new state.
        state: crate::types::Versioning,
    },
    /// Replace the ACL of one version of a key, named by id (NoSuchBucket, NoSuchVersion).
    SetVersionAcl {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id (validated by the sender).
        version_id: String,
        /// The ACL document.
        acl: String,
    },
    /// Replace (`Some`) or remove (`None`) the tag set of one version of a key, named by id
    /// (NoSuchBucket, NoSuchVersion).
    SetVersionTags {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id (validated by the sender).
        version_id: String,
        /// The tag set.
        tags: Option<String>,
    },
    /// `cmd` (as for [`MetaCommand::WithAcl`], which it may wrap) and, if it succeeds, `lock`
    /// (JSON of [`crate::lock::VersionLock`]) as the Object Lock of what it writes.
    WithLock {
        /// The lock document.
        lock: String,
        /// The write.
        cmd: Box<MetaCommand>,
    },
    /// Set or remove the retention of a version (`version_id` None: the current one), as the
    /// lock it has allows (AccessDenied, as [`crate::lock::VersionLock::may_become`] says).
    SetRetention {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id, or the current version.
        version_id: Option<String>,
        /// The new retention.
        retention: Option<crate::lock::Retention>,
        /// Whether a governance retention is bypassed.
        bypass_governance: bool,
        /// The time the change is judged at (the proposer's clock), ms.
        now_ms: i64,
    },
    /// Turn the legal hold of a version on or off (`version_id` None: the current one).
    SetLegalHold {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id, or the current version.
        version_id: Option<String>,
        /// On or off.
        on: bool,
    },
    /// [`MetaCommand::DeleteVersion`] if `precondition` holds of the key's current version: a
    /// conditional delete (`If-Match`, `<ETag>`) that names a version. S3 evaluates a delete's
    /// condition on the current version only. NoSuchKey when the key has no current version,
    /// PreconditionFailed when its ETag differs.
    DeleteVersionIf {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id as the client named it (validated by the sender).
        version_id: String,
        /// Whether a governance retention is bypassed (the caller asked and may).
        bypass_governance: bool,
        /// Checked against the current version.
        precondition: WritePrecondition,
    },
    /// `cmd` (a PutObject or CreateUpload, possibly wrapped as for [`MetaCommand::WithAcl`])
    /// writing bytes encrypted as `encryption` says: the version (or upload) records it. A
    /// CompleteUpload takes its upload's.
    WithEncryption {
        /// How the bytes are encrypted.
        encryption: crate::sse::Encryption,
        /// The write.
        cmd: Box<MetaCommand>,
    },
    /// Add a key to the key service (KmsKeyExists if its id is taken).
    CreateKmsKey {
        /// The key (JSON of [`crate::sse::KmsKey`]).
        key: String,
    },
    /// Replace a key of the key service (enabled, disabled, rotated) if its document is still
    /// `previous`: NoSuchEntity when there is no such key, KmsKeyChanged when another change
    /// came first (the sender reads it again and retries).
    ReplaceKmsKey {
        /// The document the change was made to.
        previous: String,
        /// The new document, of the same id.
        key: String,
    },
    /// `cmd` (a PutObject or CreateUpload, possibly wrapped as for [`MetaCommand::WithAcl`])
    /// whose version (or upload) the website endpoint redirects to `location`. A
    /// CompleteUpload takes its upload's.
    WithWebsiteRedirect {
        /// `x-amz-website-redirect-location`.
        location: String,
        /// The write.
        cmd: Box<MetaCommand>,
    },
    /// Replace a cluster-wide document if it is still `previous` (`None`: there is none), with
    /// `value` (`None`: remove it); PreconditionFailed when another change came first. A lease
    /// is taken and renewed with it (the lifecycle worker's).
    ReplaceClusterConfig {
        /// Which document.
        kind: BucketConfigKind,
        /// The document the change was made to.
        previous: Option<String>,
        /// The new document.
        value: Option<String>,
    },
    /// A lifecycle transition: if version `version_id` of `key` still holds exactly the
    /// blobs `from`, they become `to` (the same ids, in order; a moved blob with its new
    /// layout and placement) and its storage class `storage_class`; each blob whose placement
    /// changed is queued for deletion at its old one. Else PreconditionFailed (NoSuchKey when
    /// the version is gone).
    TransitionVersion {
        /// Bucket.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id (`null` for the null version).
        version_id: String,
        /// Its blobs as the move read them.
        from: Vec<crate::types::BlobRef>,
        /// Its blobs after the move.
        to: Vec<crate::types::BlobRef>,
        /// Its new storage class.
        storage_class: String,
    },
}

/// How long a completed multipart upload stays answerable: a day after it completed.
pub const COMPLETION_KEPT_MS: i64 = 24 * 3_600_000;

/// What authorizing a request on one object may need of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectFacts {
    /// Its version id.
    pub version_id: String,
    /// Its owner id.
    pub owner: String,
    /// Its ACL document (`None`: the default, owner full control).
    pub acl: Option<String>,
    /// Its tag set (`None`: no tags).
    pub tags: Option<String>,
}

impl MetaCommand {
    /// This command in its exactly-once form, with a fresh id (already wrapped: unchanged).
    pub fn once(self) -> MetaCommand {
        if matches!(self, MetaCommand::Once { .. }) {
            return self;
        }
        let at_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        MetaCommand::Once {
            id: rand::random(),
            at_ms,
            cmd: Box::new(self),
        }
    }

    /// The command itself, without its exactly-once wrapper.
    pub fn inner(&self) -> &MetaCommand {
        match self {
            MetaCommand::Once { cmd, .. } => cmd.inner(),
            cmd => cmd,
        }
    }
}

/// A bucket's configuration documents, each stored whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BucketConfigKind {
    /// The bucket policy (JSON as the owner sent it).
    Policy,
    /// The CORS rules (JSON of the gateway's rule list).
    Cors,
    /// Block Public Access settings (JSON of [`crate::types::PublicAccessBlock`]).
    PublicAccessBlock,
    /// The bucket's access control list (JSON of the gateway's model).
    Acl,
    /// Object Ownership: `BucketOwnerEnforced`, `BucketOwnerPreferred` or `ObjectWriter`.
    OwnershipControls,
    /// The Object Lock configuration (JSON of [`crate::lock::LockConfig`]): there only when
    /// Object Lock is enabled, which needs versioning Enabled and keeps it so.
    ObjectLock,
    /// Default encryption: how writes that ask for none are encrypted (JSON of the gateway's
    /// model).
    Encryption,
    /// Static website hosting (JSON of the gateway's model).
    Website,
    /// Lifecycle rules (JSON of the gateway's model).
    Lifecycle,
    /// The lifecycle worker's lease and progress (cluster-wide; JSON of the gateway's model).
    LifecycleWorker,
    /// Server access logging: where the bucket's access log is delivered (JSON of the
    /// gateway's model).
    Logging,
    /// The tiers and which storage class writes to which (cluster-wide; JSON of
    /// [`crate::tier::Tiers`]).
    Tiers,
    /// Every node's labels, as each published its own (cluster-wide; JSON of
    /// [`crate::tier::NodeLabels`]).
    NodeLabels,
}

/// Where a blob is referenced in the metadata: an object version or an uploaded part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum BlobRecord {
    /// The current version record of an object (its raw key).
    Object(Vec<u8>),
    /// An uploaded part record (its raw key).
    Part(Vec<u8>),
    /// A noncurrent version or delete marker record (its raw key in `versions`).
    Version(Vec<u8>),
}

/// The successful result of a [`MetaCommand`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetaOk {
    /// Nothing to return.
    Done,
    /// A created bucket.
    Bucket(BucketInfo),
    /// An installed object version. No write answers this since PutObject and
    /// CompleteUpload answer [`MetaOk::Done`]: the gateway knows the version it sent, and an
    /// answer is kept for an hour (exactly-once), where an inline object's bytes made it as
    /// large as the object. Kept so that answers stored by earlier builds still decode.
    Object(Box<ObjectVersion>),
    /// A write to a bucket with versioning on (Enabled or Suspended) installed a version with
    /// this id (`null` in a suspended bucket); an unversioned bucket's writes answer
    /// [`MetaOk::Done`] as before.
    Written {
        /// The new version's id.
        version_id: String,
    },
    /// A delete in a bucket with versioning on, or of a named version: what it removed or
    /// added.
    Deleted {
        /// The id of the version removed (DeleteVersion) or of the delete marker added.
        version_id: String,
        /// Whether that version is a delete marker.
        delete_marker: bool,
    },
}
