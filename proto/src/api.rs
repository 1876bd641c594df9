//! [`ClusterApi`]: what a gateway needs from the storage cluster. The node implements it
//! in-process (all-in-one) and [`crate::client::RemoteCluster`] implements it over TCP, so the
//! gateway's code path is the same in both deployments.

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use crate::error::ProtoError;
use crate::iam::{AuthzFacts, GroupRecord, KeyRecord, PolicyOwner, UserRecord};
use crate::meta::{BucketConfigKind, MetaAnswer, MetaCommand, MetaOk, MetaQuery, ObjectFacts};
use crate::types::{
    BlobRef, BucketInfo, ListQuery, ListResult, NodeInfo, ObjectVersion, PartListResult,
    UploadInfo, UploadListQuery, UploadListResult, VersionListQuery, VersionListResult,
};

/// A stream of body bytes.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, ProtoError>> + Send>>;

/// The storage cluster as seen by a gateway.
#[async_trait]
pub trait ClusterApi: Send + Sync + 'static {
    /// Apply a metadata command through Raft; returns once it is committed and applied.
    async fn meta_write(&self, cmd: MetaCommand) -> Result<MetaOk, ProtoError>;

    /// Answer a metadata query with linearizable (read-after-write) consistency.
    async fn meta_read(&self, query: MetaQuery) -> Result<MetaAnswer, ProtoError>;

    /// Store a body as an erasure-coded blob with the erasure profile of `storage_class`;
    /// returns once enough shards are durable. Nothing references the blob until a metadata
    /// command does.
    async fn put_blob(&self, storage_class: &str, body: ByteStream) -> Result<BlobRef, ProtoError>;

    /// As [`ClusterApi::put_blob`], under id `id`, which the caller chose at random: an
    /// encrypted blob's key is derived from its id, so the id is known before the first byte
    /// is sealed.
    async fn put_blob_as(
        &self,
        storage_class: &str,
        id: [u8; 16],
        body: ByteStream,
    ) -> Result<BlobRef, ProtoError>;

    /// Read bytes `start..end` of a blob.
    async fn get_blob(&self, blob: BlobRef, start: u64, end: u64)
        -> Result<ByteStream, ProtoError>;

    /// Delete a blob's shards (blobs never referenced by committed metadata).
    async fn delete_blob(&self, blob: BlobRef) -> Result<(), ProtoError>;

    /// Copy a blob to where storage class `storage_class` keeps its data, under the same id
    /// (the blob as it is when it is already there); nothing references the copy until a
    /// `MetaCommand::TransitionVersion` does.
    async fn transition_blob(
        &self,
        blob: BlobRef,
        storage_class: &str,
    ) -> Result<BlobRef, ProtoError>;
}

/// Declares [`ClusterApiExt`]: one method per [`MetaQuery`], answering the type of its answer.
/// Each method names the one [`MetaAnswer`] variant its query is answered with; another
/// variant is a protocol error, decided here once rather than in every caller.
macro_rules! typed_queries {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty {
            $query:expr
        } => $variant:ident($v:ident) => $conv:expr;
    )*) => {
        /// Typed queries over [`ClusterApi::meta_read`]: the answer of each query has a type of
        /// its own.
        #[async_trait]
        pub trait ClusterApiExt: ClusterApi {
            $(
                $(#[$doc])*
                async fn $name(&self, $($arg: $ty),*) -> Result<$out, ProtoError> {
                    match self.meta_read($query).await? {
                        MetaAnswer::$variant($v) => Ok($conv),
                        other => Err(unexpected(&other)),
                    }
                }
            )*
        }
    };
}

typed_queries! {
    /// A bucket by name.
    fn bucket(name: &str) -> Option<BucketInfo> {
        MetaQuery::GetBucket(name.to_owned())
    } => Bucket(b) => b;

    /// Every bucket, by name.
    fn buckets() -> Vec<BucketInfo> {
        MetaQuery::ListBuckets
    } => Buckets(b) => b;

    /// The current version of a key, with its tag count.
    fn object(bucket_id: u64, key: &str) -> Option<ObjectVersion> {
        MetaQuery::GetCountedObject { bucket_id, key: key.to_owned() }
    } => CountedObject(o) => o.map(|(v, n)| ObjectVersion { tag_count: Some(n), ..*v });

    /// One version of a key by id (`None`: the latest, which may be a delete marker), with its
    /// tag count.
    fn version(bucket_id: u64, key: &str, version_id: Option<&str>) -> Option<ObjectVersion> {
        MetaQuery::GetVersion {
            bucket_id,
            key: key.to_owned(),
            version_id: version_id.map(str::to_owned),
        }
    } => CountedObject(o) => o.map(|(v, n)| ObjectVersion { tag_count: Some(n), ..*v });

    /// The owner, ACL and tags of version `version_id` of a key (None: no such version, or a
    /// delete marker).
    fn version_facts(bucket_id: u64, key: &str, version_id: &str) -> Option<ObjectFacts> {
        MetaQuery::VersionFacts {
            bucket_id,
            key: key.to_owned(),
            version_id: version_id.to_owned(),
        }
    } => ObjectFacts(f) => f;

    /// One version of a key by id (`None`: the latest, which may be a delete marker), with
    /// its tag count and its Object Lock (None: never locked).
    fn locked_version(bucket_id: u64, key: &str, version_id: Option<&str>)
        -> Option<(ObjectVersion, Option<crate::lock::VersionLock>)> {
        MetaQuery::GetLockedVersion {
            bucket_id,
            key: key.to_owned(),
            version_id: version_id.map(str::to_owned),
        }
    } => LockedVersion(l) => l.map(|l| (
        ObjectVersion { tag_count: Some(l.tag_count), ..*l.version },
        l.lock.and_then(|d| serde_json::from_str(&d).ok()),
    ));

    /// A page of ListObjectVersions.
    fn list_versions(bucket_id: u64, query: VersionListQuery) -> VersionListResult {
        MetaQuery::ListVersions { bucket_id, query }
    } => Versions(r) => r;

    /// A key of the key service (JSON of [`crate::sse::KmsKey`]; None: no such key).
    fn kms_key(id: &str) -> Option<String> {
        MetaQuery::GetKmsKey(id.to_owned())
    } => KmsKey(k) => k;

    /// Every key of the key service (JSON of [`crate::sse::KmsKey`] each, by id).
    fn kms_keys() -> Vec<String> {
        MetaQuery::ListKmsKeys
    } => KmsKeys(k) => k;

    /// What a completed upload wrote (its version without data), while it is remembered.
    fn completed_upload(bucket_id: u64, key: &str, upload_id: &str) -> Option<ObjectVersion> {
        MetaQuery::CompletedUpload {
            bucket_id,
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
        }
    } => Object(o) => o.map(|b| *b);

    /// The owner, ACL and tags of a key's current version (None: it has none, or it is a
    /// delete marker).
    fn object_facts(bucket_id: u64, key: &str) -> Option<ObjectFacts> {
        MetaQuery::ObjectFacts { bucket_id, key: key.to_owned() }
    } => ObjectFacts(f) => f;

    /// A page of current versions.
    fn list_objects(bucket_id: u64, query: ListQuery) -> ListResult {
        MetaQuery::ListObjects { bucket_id, query }
    } => Objects(r) => r;

    /// An upload (None: it does not exist).
    fn upload(bucket_id: u64, key: &str, upload_id: &str) -> Option<UploadInfo> {
        MetaQuery::GetUpload { bucket_id, key: key.to_owned(), upload_id: upload_id.to_owned() }
    } => Upload(u) => u.map(|u| *u);

    /// A page of an upload's parts: up to `max_parts` after number `marker`.
    fn parts(bucket_id: u64, key: &str, upload_id: &str, marker: u32, max_parts: u32) -> PartListResult {
        MetaQuery::ListParts {
            bucket_id,
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
            marker,
            max_parts,
        }
    } => Parts(p) => p;

    /// A page of a bucket's uploads.
    fn uploads(bucket_id: u64, query: UploadListQuery) -> UploadListResult {
        MetaQuery::ListUploads { bucket_id, query }
    } => Uploads(u) => u;

    /// Up to `max` blobs waiting in the delete queue.
    fn pending_gc(max: u32) -> Vec<BlobRef> {
        MetaQuery::PendingGc { max }
    } => Gc(b) => b;

    /// Every node of the cluster map.
    fn cluster_map() -> Vec<NodeInfo> {
        MetaQuery::ClusterMap
    } => Nodes(n) => n;

    /// The storage classes with an erasure profile of their own: (name, k, m).
    fn storage_classes() -> Vec<(String, u8, u8)> {
        MetaQuery::StorageClasses
    } => StorageClasses(c) => c;

    /// An IAM user by name.
    fn user(name: &str) -> Option<UserRecord> {
        MetaQuery::GetUser(name.to_owned())
    } => User(u) => u;

    /// Every IAM user, by name.
    fn users() -> Vec<UserRecord> {
        MetaQuery::ListUsers
    } => Users(u) => u;

    /// An access key by id.
    fn access_key(id: &str) -> Option<KeyRecord> {
        MetaQuery::GetAccessKey(id.to_owned())
    } => AccessKey(k) => k;

    /// A user's access keys.
    fn access_keys(user: &str) -> Vec<KeyRecord> {
        MetaQuery::ListAccessKeys { user: user.to_owned() }
    } => AccessKeys(k) => k;

    /// A bucket's `kind` document: None when the bucket does not exist, `Some(None)` when it
    /// has no such document.
    fn bucket_config(bucket: &str, kind: BucketConfigKind) -> Option<Option<String>> {
        MetaQuery::GetBucketConfig { bucket: bucket.to_owned(), kind }
    } => BucketConfig(c) => c;

    /// A cluster-wide document.
    fn cluster_config(kind: BucketConfigKind) -> Option<String> {
        MetaQuery::GetClusterConfig(kind)
    } => BucketConfig(c) => c.flatten();

    /// Every group, by name.
    fn groups() -> Vec<GroupRecord> {
        MetaQuery::ListGroups
    } => Groups(g) => g;

    /// A group and its members' names.
    fn group(name: &str) -> Option<(GroupRecord, Vec<String>)> {
        MetaQuery::GetGroup(name.to_owned())
    } => Group(g) => g;

    /// The groups a user belongs to.
    fn groups_of_user(name: &str) -> Vec<GroupRecord> {
        MetaQuery::GroupsOfUser(name.to_owned())
    } => Groups(g) => g;

    /// The inline policies of a user or group: (name, document).
    fn identity_policies(owner: PolicyOwner) -> Vec<(String, String)> {
        MetaQuery::ListIdentityPolicies(owner)
    } => IdentityPolicies(p) => p;

    /// What authorizing a request signed with `access_key` (None: root or anonymous) on
    /// `bucket` needs, in one read.
    fn authorization(access_key: Option<String>, bucket: Option<String>) -> AuthzFacts {
        MetaQuery::Authorization { access_key, bucket }
    } => Authorization(f) => *f;

    /// [`Self::authorization`], with the bucket's documents of `configs` beside it, in their
    /// order.
    fn authorization_with(
        access_key: Option<String>,
        bucket: Option<String>,
        configs: Vec<BucketConfigKind>
    ) -> (AuthzFacts, Vec<Option<String>>) {
        MetaQuery::AuthorizationWith { access_key, bucket, configs }
    } => AuthorizationWith(a) => *a;
}

impl<T: ClusterApi + ?Sized> ClusterApiExt for T {}

/// The error for an answer of the wrong kind.
pub fn unexpected(answer: &MetaAnswer) -> ProtoError {
    let kind = format!("{answer:?}");
    let kind = kind.split('(').next().unwrap_or_default().to_owned();
    ProtoError::UnexpectedAnswer(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster that answers every query with one answer.
    struct Answers(MetaAnswer);

    #[async_trait]
    impl ClusterApi for Answers {
        async fn meta_write(&self, _: MetaCommand) -> Result<MetaOk, ProtoError> {
            Err(ProtoError::Internal("not here".into()))
        }
        async fn meta_read(&self, _: MetaQuery) -> Result<MetaAnswer, ProtoError> {
            Ok(self.0.clone())
        }
        async fn put_blob(&self, _: &str, _: ByteStream) -> Result<BlobRef, ProtoError> {
            Err(ProtoError::Internal("not here".into()))
        }
        async fn put_blob_as(
            &self,
            _: &str,
            _: [u8; 16],
            _: ByteStream,
        ) -> Result<BlobRef, ProtoError> {
            Err(ProtoError::Internal("not here".into()))
        }
        async fn get_blob(&self, _: BlobRef, _: u64, _: u64) -> Result<ByteStream, ProtoError> {
            Err(ProtoError::Internal("not here".into()))
        }
        async fn delete_blob(&self, _: BlobRef) -> Result<(), ProtoError> {
            Err(ProtoError::Internal("not here".into()))
        }
        async fn transition_blob(&self, _: BlobRef, _: &str) -> Result<BlobRef, ProtoError> {
            unreachable!()
        }
    }

    #[tokio::test]
    async fn each_query_takes_only_its_own_answer() {
        let c = Answers(MetaAnswer::Users(Vec::new()));
        assert_eq!(c.users().await, Ok(Vec::new()));
        // The wrong kind of answer is a protocol error, never a guess (no user, no bucket).
        match c.user("alice").await {
            Err(ProtoError::UnexpectedAnswer(m)) => assert_eq!(m, "Users"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            c.bucket("b").await,
            Err(ProtoError::UnexpectedAnswer(_))
        ));
        let c = Answers(MetaAnswer::BucketConfig(Some(None)));
        assert_eq!(
            c.bucket_config("b", BucketConfigKind::Cors).await,
            Ok(Some(None))
        );
        assert_eq!(c.cluster_config(BucketConfigKind::Cors).await, Ok(None));
        let c = Answers(MetaAnswer::Groups(Vec::new()));
        assert_eq!(c.groups_of_user("u").await, Ok(Vec::new()));
        assert_eq!(c.groups().await, Ok(Vec::new()));
    }
}
