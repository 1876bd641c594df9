//! [`ClusterApi`]: what a gateway needs from the storage cluster. The node implements it
//! in-process (all-in-one) and [`crate::client::RemoteCluster`] implements it over TCP, so the
//! gateway's code path is the same in both deployments.

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;

use crate::error::ProtoError;
use crate::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use crate::types::{BlobRef, BucketInfo, ObjectVersion};

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

    /// Read bytes `start..end` of a blob.
    async fn get_blob(&self, blob: BlobRef, start: u64, end: u64)
        -> Result<ByteStream, ProtoError>;

    /// Delete a blob's shards (blobs never referenced by committed metadata).
    async fn delete_blob(&self, blob: BlobRef) -> Result<(), ProtoError>;
}

/// Typed helpers over [`ClusterApi::meta_read`].
#[async_trait]
pub trait ClusterApiExt: ClusterApi {
    /// A bucket by name.
    async fn bucket(&self, name: &str) -> Result<Option<BucketInfo>, ProtoError> {
        match self
            .meta_read(MetaQuery::GetBucket(name.to_owned()))
            .await?
        {
            MetaAnswer::Bucket(b) => Ok(b),
            other => Err(unexpected(&other)),
        }
    }

    /// The current version of a key.
    async fn object(&self, bucket_id: u64, key: &str) -> Result<Option<ObjectVersion>, ProtoError> {
        match self
            .meta_read(MetaQuery::GetObject {
                bucket_id,
                key: key.to_owned(),
            })
            .await?
        {
            MetaAnswer::Object(o) => Ok(o.map(|b| *b)),
            other => Err(unexpected(&other)),
        }
    }
}

impl<T: ClusterApi + ?Sized> ClusterApiExt for T {}

/// The error for an answer of the wrong kind.
pub fn unexpected(answer: &MetaAnswer) -> ProtoError {
    let kind = format!("{answer:?}");
    let kind = kind.split('(').next().unwrap_or_default().to_owned();
    ProtoError::Protocol(format!("unexpected answer {kind}"))
}
