//! Read queries of the metadata, answered after a linearizable read barrier, and their
//! answers. Variants are appended, never reordered (they cross the wire as bincode).

use serde::{Deserialize, Serialize};

use super::{BucketConfigKind, ObjectFacts};
use crate::types::{
    BucketInfo, ListQuery, ListResult, ObjectVersion, PartListResult, UploadInfo, UploadListQuery,
    UploadListResult,
};

/// A read of the metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetaQuery {
    /// One bucket by name.
    GetBucket(String),
    /// All buckets, by name.
    ListBuckets,
    /// The current version of a key.
    GetObject {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
    },
    /// List current versions.
    ListObjects {
        /// Bucket id.
        bucket_id: u64,
        /// Query.
        query: ListQuery,
    },
    /// One upload.
    GetUpload {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Upload id.
        upload_id: String,
    },
    /// List parts of an upload.
    ListParts {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Upload id.
        upload_id: String,
        /// Parts after this number.
        marker: u32,
        /// Maximum parts.
        max_parts: u32,
    },
    /// List uploads of a bucket.
    ListUploads {
        /// Bucket id.
        bucket_id: u64,
        /// Query.
        query: UploadListQuery,
    },
    /// Blobs waiting in the delete queue (for the GC worker).
    PendingGc {
        /// Maximum entries.
        max: u32,
    },
    /// Every node of the cluster map, by id.
    ClusterMap,
    /// The storage classes given their own erasure profile, by name.
    StorageClasses,
    /// One IAM user by name.
    GetUser(String),
    /// Every IAM user, by name.
    ListUsers,
    /// One access key by id.
    GetAccessKey(String),
    /// A user's access keys.
    ListAccessKeys {
        /// User name.
        user: String,
    },
    /// One configuration document of a bucket.
    GetBucketConfig {
        /// Bucket name.
        bucket: String,
        /// Which document.
        kind: BucketConfigKind,
    },
    /// Every group, by name.
    ListGroups,
    /// One group and its members' names.
    GetGroup(String),
    /// The groups a user belongs to.
    GroupsOfUser(String),
    /// The inline policies of a user or group: (name, document).
    ListIdentityPolicies(crate::iam::PolicyOwner),
    /// A cluster-wide document.
    GetClusterConfig(BucketConfigKind),
    /// What authorizing a request needs, in one read.
    Authorization {
        /// The access key the request is signed with (None: root or anonymous).
        access_key: Option<String>,
        /// The bucket it addresses.
        bucket: Option<String>,
    },
    /// The owner, ACL and tags of a key's current version.
    ObjectFacts {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
    },
    /// The record of a completed upload, while it is kept ([`MetaCommand::RememberCompletion`]):
    /// answered as [`MetaAnswer::Object`], the version without its data.
    CompletedUpload {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Upload id.
        upload_id: String,
    },
    /// The current version of a key and its tag count, answered as
    /// [`MetaAnswer::CountedObject`] (a build before it answered only [`MetaQuery::GetObject`]).
    GetCountedObject {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
    },
    /// One version of a key by id (`None`: the latest, which may be a delete marker), and its
    /// tag count, answered as [`MetaAnswer::CountedObject`].
    GetVersion {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id (validated by the sender), or the latest.
        version_id: Option<String>,
    },
    /// The owner, ACL and tags of one version of a key, by id (answered as
    /// [`MetaAnswer::ObjectFacts`]; `None` for a delete marker or a missing version).
    VersionFacts {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id.
        version_id: String,
    },
    /// The Object Lock of a version (`version_id` None: the current one), answered as
    /// [`MetaAnswer::Lock`]. Gateways now ask [`MetaQuery::GetLockedVersion`]; nodes still
    /// answer this for gateways of the build before it.
    VersionLock {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id, or the current version.
        version_id: Option<String>,
    },
    /// ListObjectVersions.
    ListVersions {
        /// Bucket id.
        bucket_id: u64,
        /// Query.
        query: crate::types::VersionListQuery,
    },
    /// One version of a key by id (`None`: the latest, which may be a delete marker) with its
    /// tag count and its Object Lock, in one read, answered as [`MetaAnswer::LockedVersion`]:
    /// what GET and HEAD of a key in a bucket that may hold locks need.
    GetLockedVersion {
        /// Bucket id.
        bucket_id: u64,
        /// Key.
        key: String,
        /// Version id (validated by the sender), or the latest.
        version_id: Option<String>,
    },
}

/// The result of a [`MetaQuery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetaAnswer {
    /// GetBucket.
    Bucket(Option<BucketInfo>),
    /// ListBuckets.
    Buckets(Vec<BucketInfo>),
    /// GetObject.
    Object(Option<Box<ObjectVersion>>),
    /// ListObjects.
    Objects(ListResult),
    /// GetUpload.
    Upload(Option<UploadInfo>),
    /// ListParts.
    Parts(PartListResult),
    /// ListUploads.
    Uploads(UploadListResult),
    /// PendingGc.
    Gc(Vec<crate::types::BlobRef>),
    /// ClusterMap.
    Nodes(Vec<crate::types::NodeInfo>),
    /// StorageClasses: (name, k, m).
    StorageClasses(Vec<(String, u8, u8)>),
    /// GetUser.
    User(Option<crate::iam::UserRecord>),
    /// ListUsers.
    Users(Vec<crate::iam::UserRecord>),
    /// GetAccessKey.
    AccessKey(Option<crate::iam::KeyRecord>),
    /// ListAccessKeys.
    AccessKeys(Vec<crate::iam::KeyRecord>),
    /// GetBucketConfig: `None` when the bucket does not exist, `Some(None)` when it has no
    /// such document.
    BucketConfig(Option<Option<String>>),
    /// ListGroups, GroupsOfUser.
    Groups(Vec<crate::iam::GroupRecord>),
    /// GetGroup: the group and its members.
    Group(Option<(crate::iam::GroupRecord, Vec<String>)>),
    /// ListIdentityPolicies: (name, document).
    IdentityPolicies(Vec<(String, String)>),
    /// Authorization.
    Authorization(Box<crate::iam::AuthzFacts>),
    /// ObjectFacts: `None` when the key has no current version (or it is a delete marker).
    ObjectFacts(Option<ObjectFacts>),
    /// VersionLock: the lock of a version (JSON of [`crate::lock::VersionLock`]; outer None:
    /// no such version).
    Lock(Option<Option<String>>),
    /// GetCountedObject: the version and its tag count.
    CountedObject(Option<(Box<ObjectVersion>, u16)>),
    /// ListVersions.
    Versions(crate::types::VersionListResult),
    /// GetLockedVersion.
    LockedVersion(Option<LockedVersion>),
}

/// A version with what GET and HEAD show about it besides its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockedVersion {
    /// The version.
    pub version: Box<ObjectVersion>,
    /// Its tag count.
    pub tag_count: u16,
    /// Its Object Lock document (JSON of [`crate::lock::VersionLock`]; None: never locked).
    pub lock: Option<String>,
}
