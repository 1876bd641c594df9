//! The orphan sweep: removes shard files that no metadata record knows. They are left by
//! writes that died between writing their shards and committing their metadata (a crash or
//! kill of the process, a gateway that went away, a commit that never happened).
//!
//! A file is also an orphan when its blob is known but its placement puts that shard index
//! on another node: a shard rebalancing moved away, written back by a repair that worked from
//! the placement before the move.
//!
//! A shard file is only a candidate when it was last modified longer ago than the grace period
//! (`NodeConfig::orphan_grace`) and its blob is not being written by this node, so a write in
//! progress, or one whose metadata commit is on its way, is never touched. Candidates are then
//! checked against one snapshot of the metadata (objects, parts and the delete queue), in
//! batches of at most 50,000 blobs, so memory stays bounded on drives with millions of shards.
//!
//! The Raft leader also sweeps the remote tiers ([`sweep_remote_once`]): an object there that
//! no placement names, older than the same grace, was sent by a transition or a PUT that never
//! committed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use coffer_proto::tier::{TierKind, REMOTE_NODE};
use coffer_proto::ProtoError;
use tracing::{info, warn};

use crate::cluster::Node;
use crate::meta::query;
use crate::remote_tier::Remote;

/// What one sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Shard files looked at.
    pub files_checked: u64,
    /// Orphaned shard files removed.
    pub files_removed: u64,
    /// Their bytes.
    pub bytes_removed: u64,
}

/// How many candidate blobs one metadata check covers: bounds the sweep's memory whatever the
/// number of shard files (each check is one scan of the metadata).
const BATCH: usize = 50_000;

/// The first fan-out level of every drive's `shards/` folder (see `Drive::shard_path`).
fn fanout_dirs(roots: &[PathBuf]) -> Vec<PathBuf> {
    roots
        .iter()
        .flat_map(|r| entries(&r.join("shards")))
        .collect()
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

/// Add the shard files under one first-level fan-out folder that are older than `grace` to
/// `out`, by blob id.
fn candidates(
    dir: &Path,
    grace: Duration,
    report: &mut SweepReport,
    out: &mut HashMap<[u8; 16], Vec<(PathBuf, u64)>>,
) {
    let cutoff = SystemTime::now().checked_sub(grace);
    for sub in entries(dir) {
        for path in entries(&sub) {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if !meta.is_file() {
                continue;
            }
            report.files_checked += 1;
            let old = match (meta.modified(), cutoff) {
                (Ok(m), Some(c)) => m <= c,
                _ => false,
            };
            // A shard written aside that was never renamed into place: its write or rebuild
            // died (a live one keeps touching it).
            if old && path.extension().is_some_and(|e| e == "tmp") {
                if std::fs::remove_file(&path).is_ok() {
                    report.files_removed += 1;
                    report.bytes_removed += meta.len();
                }
                continue;
            }
            let Some(id) = blob_id_of(&path) else {
                continue;
            };
            if old {
                out.entry(id).or_default().push((path, meta.len()));
            }
        }
    }
}

/// The shard index in a shard file name.
fn shard_of(path: &Path) -> Option<usize> {
    path.file_name()?.to_str()?.split_once('.')?.1.parse().ok()
}

/// The blob id in a shard file name (`<32 hex digits>.<shard>`).
fn blob_id_of(path: &Path) -> Option<[u8; 16]> {
    let name = path.file_name()?.to_str()?;
    let (hex_id, shard) = name.split_once('.')?;
    shard.parse::<u16>().ok()?;
    let mut id = [0u8; 16];
    hex::decode_to_slice(hex_id, &mut id).ok()?;
    Some(id)
}

/// Sweep this node's drives once.
pub async fn sweep_once(node: Arc<Node>) -> Result<SweepReport, ProtoError> {
    let n = node.clone();
    tokio::task::spawn_blocking(move || {
        let mut report = SweepReport::default();
        let roots: Vec<PathBuf> = n
            .blobs()
            .drives()
            .drives
            .iter()
            .map(|d| d.root.clone())
            .collect();
        let mut files = HashMap::new();
        let dirs = fanout_dirs(&roots);
        let last = dirs.len().saturating_sub(1);
        for (i, dir) in dirs.iter().enumerate() {
            candidates(dir, n.config.orphan_grace, &mut report, &mut files);
            if files.len() >= BATCH || i == last {
                remove_unreferenced(&n, &mut files, &mut report)?;
            }
        }
        Ok(report)
    })
    .await
    .map_err(|e| ProtoError::Internal(e.to_string()))?
}

/// Remove the files of the blobs in `files` that nothing references (emptying `files`).
fn remove_unreferenced(
    n: &Node,
    files: &mut HashMap<[u8; 16], Vec<(PathBuf, u64)>>,
    report: &mut SweepReport,
) -> Result<(), ProtoError> {
    files.retain(|id, _| !n.blobs().is_writing(id));
    if files.is_empty() {
        return Ok(());
    }
    let mut shards: HashMap<[u8; 16], Vec<usize>> = files
        .iter()
        .map(|(id, f)| (*id, f.iter().filter_map(|(p, _)| shard_of(p)).collect()))
        .collect();
    query::retain_unreferenced(n.meta_store(), n.config.id, &mut shards)
        .map_err(ProtoError::from)?;
    for (id, idx) in shards {
        let found = files.remove(&id).unwrap_or_default();
        let orphans = found
            .into_iter()
            .filter(|(p, _)| shard_of(p).is_some_and(|i| idx.contains(&i)));
        for (path, len) in orphans {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    report.files_removed += 1;
                    report.bytes_removed += len;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => warn!(path = %path.display(), "failed to remove orphan: {e}"),
            }
        }
    }
    files.clear();
    Ok(())
}

/// Sweep the remote tiers once: delete the objects under each remote tier's prefix that are
/// older than the grace period and that no record refers to. They are left by transitions and
/// PUTs to a remote class that died between sending a blob and committing its placement. A
/// tier's bucket and prefix are the cluster's own: anything there named like a blob is taken
/// for one of its blobs (see the README).
pub async fn sweep_remote_once(node: &Node) -> SweepReport {
    let mut report = SweepReport::default();
    let tiers = node.peers().tiers();
    for t in &tiers.tiers {
        if !matches!(t.kind, TierKind::Remote(_)) {
            continue;
        }
        let swept = match Remote::from_tier(node, t) {
            Ok(remote) => sweep_tier(node, &remote, &mut report).await,
            Err(e) => Err(e),
        };
        if let Err(e) = swept {
            warn!(tier = %t.name, "remote tier sweep failed: {e}");
        }
    }
    report
}

async fn sweep_tier(
    node: &Node,
    remote: &Remote,
    report: &mut SweepReport,
) -> Result<(), ProtoError> {
    let cutoff = chrono::Utc::now()
        - chrono::Duration::from_std(node.config.orphan_grace).unwrap_or(chrono::Duration::MAX);
    let mut token: Option<String> = None;
    loop {
        let page = remote.list(token.as_deref()).await?;
        report.files_checked += page.blobs.len() as u64;
        let mut unreferenced: HashMap<[u8; 16], Vec<usize>> = page
            .blobs
            .iter()
            .filter(|(_, at)| *at < cutoff)
            .map(|(id, _)| (*id, vec![0]))
            .collect();
        if !unreferenced.is_empty() {
            let store = node.meta_store().clone();
            unreferenced = tokio::task::spawn_blocking(move || {
                query::retain_unreferenced(&store, REMOTE_NODE, &mut unreferenced)
                    .map(|()| unreferenced)
            })
            .await
            .map_err(|e| ProtoError::Internal(e.to_string()))?
            .map_err(ProtoError::from)?;
        }
        for id in unreferenced.keys() {
            remote.delete_id(id).await?;
            report.files_removed += 1;
        }
        match page.next {
            Some(t) => token = Some(t),
            None => return Ok(()),
        }
    }
}

/// Sweep at start and then every `orphan_grace` (at least 1 s, at most 1 h) until dropped;
/// the Raft leader sweeps the remote tiers too.
pub async fn run(node: Arc<Node>) {
    let every = node
        .config
        .orphan_grace
        .clamp(Duration::from_secs(1), Duration::from_secs(3600));
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match sweep_once(node.clone()).await {
            Ok(r) if r.files_removed > 0 => info!(
                removed = r.files_removed,
                bytes = r.bytes_removed,
                checked = r.files_checked,
                "removed orphaned shard files"
            ),
            Ok(_) => {}
            Err(e) => warn!("orphan sweep failed: {e:#}"),
        }
        if node.is_leader().await {
            let r = sweep_remote_once(&node).await;
            if r.files_removed > 0 {
                info!(
                    removed = r.files_removed,
                    checked = r.files_checked,
                    "removed orphaned objects from remote tiers"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_files_older_than_the_grace_are_candidates() {
        let dir = tempfile::tempdir().unwrap();
        let id = [0x11u8; 16];
        let p = dir.path().join("shards/11/11");
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join(format!("{}.0", hex::encode(id))), b"x").unwrap();
        std::fs::write(p.join("not-a-shard"), b"x").unwrap();
        let dirs = fanout_dirs(&[dir.path().to_path_buf()]);
        assert_eq!(dirs, vec![dir.path().join("shards/11")]);
        let mut r = SweepReport::default();
        let mut found = HashMap::new();
        candidates(&dirs[0], Duration::from_secs(3600), &mut r, &mut found);
        assert!(found.is_empty());
        assert_eq!(r.files_checked, 2);
        std::thread::sleep(Duration::from_millis(20));
        candidates(&dirs[0], Duration::from_millis(10), &mut r, &mut found);
        assert_eq!(found.keys().copied().collect::<Vec<_>>(), vec![id]);
    }

    #[test]
    fn blob_ids_come_from_shard_file_names() {
        let id = [0xabu8; 16];
        let name = format!("{}.3", hex::encode(id));
        assert_eq!(blob_id_of(Path::new(&name)), Some(id));
        assert_eq!(blob_id_of(Path::new("abab.3")), None);
        assert_eq!(blob_id_of(Path::new(&hex::encode(id))), None);
        assert_eq!(
            blob_id_of(Path::new(&format!("{}.x", hex::encode(id)))),
            None
        );
    }
}
