//! A lifecycle transition's copy, on a node: a blob is re-encoded onto the pool of the storage
//! class it moves to (`blob::pools`), with that pool's erasure profile, under the same id (an
//! encrypted blob's key is derived from its id, so its stored bytes move as they are, SSE-C
//! ones too), on none of the nodes of the placement it moves from: its old and new shards
//! never share a node, so deleting the old ones (the delete queue, once the transition is
//! committed) cannot touch the new. A blob already on the target pool stays where it is: only
//! the version's class changes. A class mapped to a remote tier gets the blob's stored bytes
//! as one object there (`remote_tier`), checked by the MD5 its ETag answers.

use coffer_proto::tier::TierKind;
use coffer_proto::types::BlobRef;
use coffer_proto::{ClusterApi, ProtoError};
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tracing::info;

use crate::cluster::Node;
use crate::remote_tier;

impl Node {
    /// Write a blob of `storage_class` under `id`: on its pool, or for a class mapped to a
    /// remote tier, on the default pool first (a body's size is known only at its end, and
    /// an S3 PUT needs it first) and then sent to the tier, the local shards deleted either
    /// way. A write that fails leaves nothing referenced.
    pub async fn put_to_class(
        &self,
        storage_class: &str,
        id: [u8; 16],
        body: coffer_proto::ByteStream,
    ) -> Result<BlobRef, ProtoError> {
        let local = self.blobs().put_as(storage_class, id, body).await?;
        let tiers = self.peers().tiers();
        let Some(t) = tiers.of_class(storage_class) else {
            return Ok(local);
        };
        if !matches!(t.kind, TierKind::Remote(_)) {
            return Ok(local);
        }
        let sent = match remote_tier::Remote::from_tier(self, t) {
            Ok(remote) => match self.blobs().get(local.clone(), 0, local.size) {
                Ok(body) => remote.put(&local, body).await,
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        self.blobs().delete(local.clone()).await;
        sent?;
        Ok(remote_tier::placed_on(&local, t.id))
    }

    /// Copy `blob` to the pool of `storage_class` (see the module).
    pub async fn copy_to_class(
        &self,
        blob: BlobRef,
        storage_class: &str,
    ) -> Result<BlobRef, ProtoError> {
        let blobs = self.blobs();
        let pools = blobs.pools();
        if let Some(t) = pools.tiers.of_class(storage_class) {
            if let TierKind::Remote(_) = t.kind {
                if remote_tier::tier_of(&blob) == Some(t.id) {
                    return Ok(blob);
                }
                let remote = remote_tier::Remote::from_tier(self, t)?;
                let body = ClusterApi::get_blob(self, blob.clone(), 0, blob.size).await?;
                remote.put(&blob, body).await?;
                info!(blob = %blob.id_hex(), tier = %t.name, bytes = blob.size, "blob copied to a remote tier");
                return Ok(remote_tier::placed_on(&blob, t.id));
            }
        }
        let (pool, _) = pools.for_class(storage_class);
        let remote = remote_tier::tier_of(&blob).is_some();
        if !remote && pools.of_blob(&blob.placement) == pool {
            return Ok(blob);
        }
        let avoid: Vec<u64> = blob.placement.iter().map(|l| l.node).collect();
        // What is read is hashed on its way, and the copy read back must hash the same.
        let source = ClusterApi::get_blob(self, blob.clone(), 0, blob.size).await?;
        let (hashed, read) = hashing(source);
        let moved = blobs
            .put_avoiding(storage_class, blob.id, &avoid, hashed)
            .await?;
        let want = read
            .await
            .map_err(|_| ProtoError::Internal("the read ended early".into()))?;
        if moved.size != blob.size {
            blobs.delete(moved.clone()).await;
            return Err(ProtoError::Internal(format!(
                "the copy holds {} bytes of {}",
                moved.size, blob.size
            )));
        }
        let (check, got) = hashing(blobs.get(moved.clone(), 0, moved.size)?);
        check.for_each(|_| async {}).await;
        let got = got
            .await
            .map_err(|_| ProtoError::Internal("the check ended early".into()))?;
        if got != want {
            blobs.delete(moved.clone()).await;
            return Err(ProtoError::Internal(
                "the copy does not read back as the original".into(),
            ));
        }
        info!(blob = %blob.id_hex(), storage_class, bytes = blob.size, "blob copied for a transition");
        Ok(moved)
    }
}

/// `body`, and the SHA-256 of what went through it once it ended without error.
fn hashing(
    body: coffer_proto::ByteStream,
) -> (
    coffer_proto::ByteStream,
    tokio::sync::oneshot::Receiver<[u8; 32]>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let state = (body, Some(Sha256::new()), Some(tx));
    let stream = futures::stream::unfold(state, |(mut body, mut h, mut tx)| async move {
        match body.next().await {
            Some(Ok(b)) => {
                if let Some(h) = h.as_mut() {
                    h.update(&b);
                }
                Some((Ok(b), (body, h, tx)))
            }
            Some(Err(e)) => Some((Err(e), (body, None, None))),
            None => {
                if let (Some(h), Some(tx)) = (h.take(), tx.take()) {
                    let _ = tx.send(h.finalize().into());
                }
                None
            }
        }
    });
    (Box::pin(stream), rx)
}
