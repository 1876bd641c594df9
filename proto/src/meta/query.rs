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
    /// A key of the key service by id (JSON of [`crate::sse::KmsKey`]), answered as
    /// [`MetaAnswer::KmsKey`].
    GetKmsKey(String),
    /// Every key of the key service (JSON of [`crate::sse::KmsKey`] each, by id), answered as
    /// [`MetaAnswer::KmsKeys`].
    ListKmsKeys,
    /// [`MetaQuery::Authorization`], with the addressed bucket's documents of `configs`
    /// beside it (answered as [`MetaAnswer::AuthorizationWith`]): what the request needs of
    /// its bucket (a write, its default encryption) comes in the same read.
    AuthorizationWith {
        /// The access key the request is signed with (None: root or anonymous).
        access_key: Option<String>,
        /// The bucket it addresses.
        bucket: Option<String>,
        /// The bucket documents wanted.
        configs: Vec<BucketConfigKind>,
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
    Upload(Option<Box<UploadInfo>>),
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
    /// GetKmsKey.
    KmsKey(Option<String>),
    /// ListKmsKeys.
    KmsKeys(Vec<String>),
    /// AuthorizationWith: the facts, and the documents asked for, in their order (None: the
    /// bucket has none of that kind, or does not exist).
    AuthorizationWith(Box<(crate::iam::AuthzFacts, Vec<Option<String>>)>),
    /// An answer whose version or upload is encrypted, as it crosses the wire (the
    /// encryption is not part of their encoding): see [`MetaAnswer::sealed`].
    Encrypted {
        /// The answer.
        answer: Box<MetaAnswer>,
        /// Its version's or upload's encryption.
        encryption: Box<crate::sse::Encryption>,
    },
    /// An answer whose version or upload has a website redirect, as it crosses the wire (the
    /// redirect is not part of their encoding): see [`MetaAnswer::sealed`].
    WebsiteRedirect {
        /// The answer (possibly [`MetaAnswer::Encrypted`]).
        answer: Box<MetaAnswer>,
        /// Its version's or upload's `x-amz-website-redirect-location`.
        location: String,
    },
}

impl MetaAnswer {
    /// The one version or upload this answer holds: its encryption and its website redirect.
    fn slots(
        &mut self,
    ) -> Option<(
        &mut Option<Box<crate::sse::Encryption>>,
        &mut Option<String>,
    )> {
        match self {
            MetaAnswer::Object(Some(v)) => Some((&mut v.encryption, &mut v.website_redirect)),
            MetaAnswer::CountedObject(Some((v, _))) => {
                Some((&mut v.encryption, &mut v.website_redirect))
            }
            MetaAnswer::LockedVersion(Some(l)) => {
                Some((&mut l.version.encryption, &mut l.version.website_redirect))
            }
            MetaAnswer::Upload(Some(u)) => Some((&mut u.encryption, &mut u.website_redirect)),
            _ => None,
        }
    }

    /// This answer as it goes on the wire: wrapped in [`MetaAnswer::Encrypted`] when the
    /// version or upload it holds is encrypted, and that in [`MetaAnswer::WebsiteRedirect`]
    /// when it has a website redirect. A peer of a build before either cannot decode the
    /// variant and fails the request, rather than serve ciphertext as an object or an object
    /// without its redirect; answers without them are as they always were.
    pub fn sealed(mut self) -> MetaAnswer {
        let (encryption, location) = match self.slots() {
            Some((e, r)) => (e.take(), r.take()),
            None => (None, None),
        };
        let answer = match encryption {
            Some(encryption) => MetaAnswer::Encrypted {
                answer: Box::new(self),
                encryption,
            },
            None => self,
        };
        match location {
            Some(location) => MetaAnswer::WebsiteRedirect {
                answer: Box::new(answer),
                location,
            },
            None => answer,
        }
    }

    /// An answer from the wire with its encryption and redirect put back in place (the
    /// inverse of [`MetaAnswer::sealed`]).
    pub fn opened(self) -> MetaAnswer {
        match self {
            MetaAnswer::WebsiteRedirect { answer, location } => {
                let mut answer = answer.opened();
                if let Some((_, slot)) = answer.slots() {
                    *slot = Some(location);
                }
                answer
            }
            MetaAnswer::Encrypted {
                mut answer,
                encryption,
            } => {
                if let Some((slot, _)) = answer.slots() {
                    *slot = Some(encryption);
                }
                *answer
            }
            a => a,
        }
    }
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::sse::{Encryption, Keeper};
    use crate::types::{ContentHeaders, ObjectData, UploadInfo};

    fn version(encryption: Option<Encryption>) -> ObjectVersion {
        let encryption = encryption.map(Box::new);
        ObjectVersion {
            key: "k".into(),
            version_id: "null".into(),
            last_modified_ms: 1,
            size: 3,
            etag: "e".into(),
            content: ContentHeaders::default(),
            user_meta: vec![],
            checksum: None,
            parts: vec![],
            storage_class: "STANDARD".into(),
            delete_marker: false,
            owner: "o".into(),
            data: ObjectData::Inline(bytes::Bytes::from_static(b"abc")),
            tag_count: None,
            stamp: None,
            encryption,
            website_redirect: None,
        }
    }

    fn upload_of(encryption: Option<Encryption>) -> UploadInfo {
        UploadInfo {
            key: "k".into(),
            upload_id: "u".into(),
            initiated_ms: 1,
            content: ContentHeaders::default(),
            user_meta: vec![],
            checksum_algorithm: None,
            checksum_type: None,
            storage_class: "STANDARD".into(),
            owner: "o".into(),
            encryption: encryption.map(Box::new),
            website_redirect: None,
        }
    }

    fn wire(a: &MetaAnswer) -> MetaAnswer {
        bincode::deserialize(&bincode::serialize(a).unwrap()).unwrap()
    }

    #[test]
    fn an_encrypted_version_crosses_the_wire_with_its_encryption() {
        let enc = Encryption {
            scheme: 1,
            keeper: Keeper::S3 { generation: 0 },
            sealed_key: vec![1; 60],
        };
        let upload = UploadInfo {
            key: "k".into(),
            upload_id: "u".into(),
            initiated_ms: 1,
            content: ContentHeaders::default(),
            user_meta: vec![],
            checksum_algorithm: None,
            checksum_type: None,
            storage_class: "STANDARD".into(),
            owner: "o".into(),
            encryption: Some(Box::new(enc.clone())),
            website_redirect: None,
        };
        for a in [
            MetaAnswer::Object(Some(Box::new(version(Some(enc.clone()))))),
            MetaAnswer::CountedObject(Some((Box::new(version(Some(enc.clone()))), 2))),
            MetaAnswer::LockedVersion(Some(LockedVersion {
                version: Box::new(version(Some(enc.clone()))),
                tag_count: 0,
                lock: None,
            })),
            MetaAnswer::Upload(Some(Box::new(upload))),
        ] {
            let sealed = a.clone().sealed();
            assert!(matches!(sealed, MetaAnswer::Encrypted { .. }), "{a:?}");
            // The version's own encoding leaves the encryption out: without the wrapper it
            // would be lost, and an older build cannot decode the wrapper at all.
            assert_ne!(wire(&a), a);
            assert_eq!(wire(&sealed).opened(), a);
        }
        // A website redirect crosses the same way, alone or with an encryption.
        for enc in [None, Some(enc.clone())] {
            let mut v = version(enc.clone());
            v.website_redirect = Some("/elsewhere.html".into());
            let mut up = upload_of(enc.clone());
            up.website_redirect = Some("https://example.test/".into());
            for a in [
                MetaAnswer::Object(Some(Box::new(v.clone()))),
                MetaAnswer::LockedVersion(Some(LockedVersion {
                    version: Box::new(v.clone()),
                    tag_count: 1,
                    lock: None,
                })),
                MetaAnswer::Upload(Some(Box::new(up))),
            ] {
                let sealed = a.clone().sealed();
                assert!(
                    matches!(sealed, MetaAnswer::WebsiteRedirect { .. }),
                    "{a:?}"
                );
                assert_ne!(wire(&a), a);
                assert_eq!(wire(&sealed).opened(), a);
            }
        }
        // A plain answer goes as it always went.
        let plain = MetaAnswer::Object(Some(Box::new(version(None))));
        assert_eq!(plain.clone().sealed(), plain);
        assert_eq!(wire(&plain).opened(), plain);
    }
}
