//! One step of a lifecycle pass: from a cursor, the buckets in name order, each bucket's
//! incomplete uploads (when it enters the bucket) and its keys' versions a page at a time,
//! with what the rules make due done at once (`model::lifecycle::due`).
//!
//! Every action is conditional, so that a pass working from what it read a moment ago never
//! removes what changed since: an expiration names the ETag and time of the version it saw (a
//! newer write makes it fail, and the next pass looks again); removing a version or a delete
//! marker names its id; Object Lock refuses what a retention or legal hold protects; a
//! transition swaps the version's blobs only if it still holds those that were copied.

use std::sync::Arc;

use futures::StreamExt as _;

use coffer_proto::api::ClusterApiExt as _;
use coffer_proto::meta::{MetaCommand, WritePrecondition};
use coffer_proto::types::{BlobRef, BucketInfo, UploadListQuery, VersionEntry, VersionListQuery};
use coffer_proto::{ClusterApi, ProtoError};

use super::doc::{Cursor, Totals};
use crate::model::lifecycle::due::{abort_at, key_actions, Action};
use crate::model::lifecycle::{self, Lifecycle, Seen};

/// Versions read per metadata page.
const PAGE: u32 = 1000;

/// Keys of a page whose due actions run at once.
const KEYS_AT_ONCE: usize = 4;

/// What a step did, and where the pass goes on (None: the pass is complete).
pub struct Step {
    /// Object versions read.
    pub scanned: u64,
    /// The cursor after it.
    pub next: Option<Cursor>,
}

/// The clock a pass runs on.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// Now, seconds since the epoch.
    pub now: i64,
    /// Seconds in a day.
    pub day: i64,
}

/// Do one step from `at`: buckets without rules are passed over; in a bucket with rules, its
/// uploads if it is entered, then one page of versions. Counts what it did in `done`.
pub async fn step(
    cluster: &Arc<dyn ClusterApi>,
    at: &Cursor,
    clock: Clock,
    done: &mut Totals,
) -> Result<Step, ProtoError> {
    let mut buckets = cluster.buckets().await?;
    buckets.sort_by(|a, b| a.name.cmp(&b.name));
    let mut cursor = at.clone();
    for b in buckets.iter().filter(|b| b.name >= at.bucket) {
        if b.name != cursor.bucket {
            cursor = Cursor {
                bucket: b.name.clone(),
                key: None,
            };
        }
        let rules = cluster
            .bucket_config(&b.name, coffer_proto::meta::BucketConfigKind::Lifecycle)
            .await?
            .flatten()
            .and_then(|d: String| lifecycle::decode(&d));
        let Some(rules) = rules else { continue };
        if cursor.key.is_none() && rules.aborts_uploads() {
            abort_uploads(cluster, b, &rules, clock, done).await?;
        }
        if !rules.acts_on_versions() {
            continue;
        }
        let (scanned, last) =
            versions_page(cluster, b, &rules, cursor.key.clone(), clock, done).await?;
        done.scanned += scanned;
        if let Some(key) = last {
            return Ok(Step {
                scanned,
                next: Some(Cursor {
                    bucket: b.name.clone(),
                    key: Some(key),
                }),
            });
        }
        // The bucket is done: the next step starts after it.
        let next = buckets.iter().find(|n| n.name > b.name).map(|n| Cursor {
            bucket: n.name.clone(),
            key: None,
        });
        return Ok(Step { scanned, next });
    }
    Ok(Step {
        scanned: 0,
        next: None,
    })
}

/// Abort the bucket's uploads that are due.
async fn abort_uploads(
    cluster: &Arc<dyn ClusterApi>,
    b: &BucketInfo,
    rules: &Lifecycle,
    clock: Clock,
    done: &mut Totals,
) -> Result<(), ProtoError> {
    let mut query = UploadListQuery {
        max_uploads: PAGE,
        ..Default::default()
    };
    loop {
        let page = cluster.uploads(b.id, query.clone()).await?;
        for u in &page.uploads {
            let due = abort_at(rules, &u.key, u.initiated_ms.div_euclid(1000), clock.day);
            if due.is_none_or(|(at, _)| at > clock.now) {
                continue;
            }
            let cmd = MetaCommand::AbortUpload {
                bucket_id: b.id,
                key: u.key.clone(),
                upload_id: u.upload_id.clone(),
            };
            match cluster.meta_write(cmd).await {
                Ok(_) => done.uploads_aborted += 1,
                Err(ProtoError::NoSuchUpload) => {}
                Err(e) => {
                    tracing::warn!(bucket = %b.name, key = %u.key, "lifecycle: abort failed: {e}");
                    done.failed += 1;
                }
            }
        }
        if !page.truncated {
            return Ok(());
        }
        query.key_marker = page.next_key_marker;
        query.upload_id_marker = page.next_upload_id_marker;
    }
}

/// Read one page of the bucket's versions after key `after` and do what is due for each key
/// whose versions it holds whole; returns how many versions it read and the last key done
/// (None: the bucket's end was reached).
async fn versions_page(
    cluster: &Arc<dyn ClusterApi>,
    b: &BucketInfo,
    rules: &Lifecycle,
    after: Option<String>,
    clock: Clock,
    done: &mut Totals,
) -> Result<(u64, Option<String>), ProtoError> {
    let mut query = VersionListQuery {
        key_marker: after,
        max_keys: PAGE,
        ..Default::default()
    };
    let mut entries: Vec<VersionEntry> = Vec::new();
    // A page that ends inside a key is completed with that key's other versions, so that
    // every key is seen whole (its noncurrent versions are counted and dated from their
    // successors).
    let truncated = loop {
        let page = cluster.list_versions(b.id, query.clone()).await?;
        entries.extend(page.versions);
        if !page.truncated {
            break false;
        }
        let first = entries.first().map(|e| e.version.key.clone());
        let last = entries.last().map(|e| e.version.key.clone());
        if first != last {
            break true;
        }
        query.key_marker = page.next_key_marker;
        query.version_id_marker = page.next_version_id_marker;
    };
    let last_key = entries.last().map(|e| e.version.key.clone());
    if truncated {
        // The last key may go on in the next page: it is done by the next step.
        while entries.last().map(|e| &e.version.key) == last_key.as_ref() {
            entries.pop();
        }
    }
    let scanned = entries.len() as u64;
    // Keys are independent: up to KEYS_AT_ONCE are worked on at once (a transition copies
    // one blob at a time, so this is what lets transitions run at the target's rate).
    // (Boxed, so that the spawned worker's future is Send for any lifetime of the page.)
    let jobs: Vec<futures::future::BoxFuture<'_, Totals>> = entries
        .chunk_by(|a, b| a.version.key == b.version.key)
        .map(|versions| {
            Box::pin(async move {
                let mut did = Totals::default();
                key_due(cluster, b, rules, versions, clock, &mut did).await;
                did
            }) as futures::future::BoxFuture<'_, Totals>
        })
        .collect();
    let mut work = futures::stream::iter(jobs).buffer_unordered(KEYS_AT_ONCE);
    while let Some(did) = work.next().await {
        done.add(&did);
    }
    let next = if truncated {
        entries.last().map(|e| e.version.key.clone())
    } else {
        None
    };
    Ok((scanned, next))
}

/// Do what is due for one key's versions (newest first).
async fn key_due(
    cluster: &Arc<dyn ClusterApi>,
    b: &BucketInfo,
    rules: &Lifecycle,
    versions: &[VersionEntry],
    clock: Clock,
    done: &mut Totals,
) {
    let Some(first) = versions.first() else {
        return;
    };
    let key = first.version.key.as_str();
    let mut tags: Vec<Vec<(String, String)>> = Vec::with_capacity(versions.len());
    for v in versions {
        let read = rules.reads_tags() && !v.version.delete_marker && v.version.tag_count != Some(0);
        tags.push(if read {
            match cluster
                .version_facts(b.id, key, &v.version.version_id)
                .await
            {
                Ok(Some(f)) => crate::model::tags::decode(f.tags.as_deref()),
                Ok(None) => Vec::new(),
                Err(e) => {
                    tracing::warn!(bucket = %b.name, key, "lifecycle: tags unread: {e}");
                    done.failed += 1;
                    return;
                }
            }
        } else {
            Vec::new()
        });
    }
    let seen: Vec<Seen<'_>> = versions
        .iter()
        .zip(&tags)
        .map(|(v, t)| Seen {
            version_id: &v.version.version_id,
            delete_marker: v.version.delete_marker,
            created: v.version.last_modified_ms.div_euclid(1000),
            size: v.version.size,
            tags: t,
            class: &v.version.storage_class,
        })
        .collect();
    for (action, rule) in key_actions(rules, key, &seen, clock.now, clock.day) {
        let (cmd, count): (_, fn(&mut Totals)) = match &action {
            Action::Transition(id, class) => {
                transition(cluster, b, key, id, class, rule, done).await;
                continue;
            }
            Action::Expire(_) => (
                MetaCommand::DeleteObjectIf {
                    bucket_id: b.id,
                    key: key.to_owned(),
                    precondition: WritePrecondition::All(vec![
                        WritePrecondition::EtagMatches(first.version.etag.clone()),
                        WritePrecondition::ModifiedAt(
                            first.version.last_modified_ms.div_euclid(1000),
                        ),
                    ]),
                },
                |d| d.expired += 1,
            ),
            Action::RemoveMarker(id) => (remove(b, key, id), |d| d.markers_removed += 1),
            Action::RemoveNoncurrent(id) => (remove(b, key, id), |d| d.noncurrent_removed += 1),
        };
        match cluster.meta_write(cmd).await {
            Ok(_) => {
                tracing::debug!(bucket = %b.name, key, rule, ?action, "lifecycle action done");
                count(done);
            }
            // Written or removed meanwhile: the next pass sees what is there now.
            Err(ProtoError::PreconditionFailed | ProtoError::NoSuchKey) => {}
            Err(ProtoError::ObjectLocked) => done.locked += 1,
            Err(e) => {
                tracing::warn!(bucket = %b.name, key, rule, "lifecycle action failed: {e}");
                done.failed += 1;
            }
        }
    }
}

/// Remove version `id` of `key` for good.
fn remove(b: &BucketInfo, key: &str, id: &str) -> MetaCommand {
    MetaCommand::DeleteVersion {
        bucket_id: b.id,
        key: key.to_owned(),
        version_id: id.to_owned(),
        bypass_governance: false,
    }
}

/// Move version `version_id` of `key` to storage class `class`: each of its blobs is copied
/// where the class keeps its data (`ClusterApi::transition_blob`), then one
/// `TransitionVersion` swaps them in if the version still holds what was copied. A copy whose
/// swap was refused is deleted; one whose swap's answer was lost is left to the orphan sweep.
async fn transition(
    cluster: &Arc<dyn ClusterApi>,
    b: &BucketInfo,
    key: &str,
    version_id: &str,
    class: &str,
    rule: &str,
    done: &mut Totals,
) {
    let failed = |done: &mut Totals, e: &ProtoError| {
        tracing::warn!(bucket = %b.name, key, rule, class, "lifecycle transition failed: {e}");
        done.failed += 1;
    };
    let v = match cluster.version(b.id, key, Some(version_id)).await {
        Ok(Some(v)) if !v.delete_marker => v,
        Ok(_) => return,
        Err(e) => return failed(done, &e),
    };
    let from = v.data.blobs().to_vec();
    let mut to = Vec::with_capacity(from.len());
    let mut moved = 0;
    for blob in &from {
        match cluster.transition_blob(blob.clone(), class).await {
            Ok(copy) => {
                if copy.placement != blob.placement {
                    moved += copy.size;
                }
                to.push(copy);
            }
            Err(e) => {
                discard(cluster, &from, &to).await;
                return failed(done, &e);
            }
        }
    }
    let cmd = MetaCommand::TransitionVersion {
        bucket_id: b.id,
        key: key.to_owned(),
        version_id: version_id.to_owned(),
        from: from.clone(),
        to: to.clone(),
        storage_class: class.to_owned(),
    };
    match cluster.meta_write(cmd).await {
        Ok(_) => {
            tracing::debug!(bucket = %b.name, key, rule, class, "lifecycle transition done");
            done.transitioned += 1;
            done.bytes_transitioned += moved;
        }
        // Overwritten or removed meanwhile: nothing references the copies.
        Err(ProtoError::PreconditionFailed | ProtoError::NoSuchKey) => {
            discard(cluster, &from, &to).await;
        }
        Err(e) => failed(done, &e),
    }
}

/// Delete the copies in `to` that are not where the blobs of `from` are.
async fn discard(cluster: &Arc<dyn ClusterApi>, from: &[BlobRef], to: &[BlobRef]) {
    for (old, copy) in from.iter().zip(to) {
        if old.placement != copy.placement {
            let _ = cluster.delete_blob(copy.clone()).await;
        }
    }
}
