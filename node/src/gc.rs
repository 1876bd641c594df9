//! The delete-queue worker: removes the shards of blobs that metadata no longer references
//! (overwritten or deleted objects, aborted uploads, refused writes), then records that they
//! are gone. Metadata changes first, data follows, so a crash at any point only delays it.

use std::sync::Arc;

use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::meta::MetaCommand;
use coffer_proto::{ClusterApi, ProtoError};
use tracing::warn;

use crate::cluster::Node;

/// Drain the queue once; returns how many blobs were deleted.
pub async fn drain_once(node: &Node) -> Result<usize, ProtoError> {
    let blobs = node.pending_gc(1000).await?;
    if blobs.is_empty() {
        return Ok(0);
    }
    let mut done = Vec::with_capacity(blobs.len());
    for b in blobs {
        let id = b.id;
        node.delete_blob(b).await?;
        done.push(id);
    }
    let n = done.len();
    node.meta_write(MetaCommand::GcDone { blob_ids: done })
        .await?;
    Ok(n)
}

/// Run [`drain_once`] every `gc_interval` until the task is dropped.
pub async fn run(node: Arc<Node>) {
    let mut tick = tokio::time::interval(node.config.gc_interval);
    loop {
        tick.tick().await;
        // The leader drains the queue (any node could; one at a time avoids duplicate work).
        if !node.is_leader().await {
            continue;
        }
        loop {
            match drain_once(&node).await {
                Ok(1000..) => continue,
                Ok(_) => break,
                Err(ProtoError::NotLeader(_)) => break,
                Err(e) => {
                    warn!("failed to drain the delete queue: {e:#}");
                    break;
                }
            }
        }
    }
}
