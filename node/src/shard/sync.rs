//! Group fsync for one drive. Writers hand over the shard files they finished and wait; one
//! thread per drive makes everything queued since its last round durable at once, then wakes
//! each writer with the round's outcome.
//!
//! A round with one request syncs that request's files and directories (`fdatasync` and a
//! directory `fsync`), which touches nothing else. A round with several requests makes the
//! whole filesystem durable with one `syncfs(2)`: one journal commit for every file and
//! directory entry of the round instead of two per file. `syncfs` reports writeback errors
//! since Linux 5.8.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use crate::group_commit::GroupWorker;

/// What one writer asks to make durable.
struct Job {
    files: Vec<File>,
    dirs: Vec<PathBuf>,
    done: tokio::sync::oneshot::Sender<Result<(), String>>,
}

/// The group-fsync queue of one drive. Dropping it finishes the queued rounds and joins the
/// thread.
pub struct SyncQueue {
    worker: GroupWorker<Job>,
}

impl SyncQueue {
    /// Start the queue for the drive rooted at `root`.
    pub fn start(root: &Path) -> io::Result<Self> {
        let root_dir = File::open(root)?;
        let worker = GroupWorker::spawn("shard-sync", move |round: Vec<Job>| {
            let res = match round.as_slice() {
                [one] => sync_one(one),
                _ => rustix::fs::syncfs(&root_dir).map_err(io::Error::from),
            }
            .map_err(|e| e.to_string());
            for job in round {
                let _ = job.done.send(res.clone());
            }
        })?;
        Ok(SyncQueue { worker })
    }

    /// Make `files` (data) and `dirs` (entries) durable; returns when the round holding them
    /// is done.
    pub async fn sync(&self, files: Vec<File>, dirs: Vec<PathBuf>) -> io::Result<()> {
        let (done, wait) = tokio::sync::oneshot::channel();
        if self.worker.submit(Job { files, dirs, done }).is_err() {
            return Err(io::Error::other("shard sync queue stopped"));
        }
        match wait.await {
            Ok(res) => res.map_err(io::Error::other),
            Err(_) => Err(io::Error::other("shard sync queue stopped")),
        }
    }
}

fn sync_one(job: &Job) -> io::Result<()> {
    for f in &job.files {
        f.sync_data()?;
    }
    for d in &job.dirs {
        File::open(d)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::io::Write;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_share_rounds_and_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let q = std::sync::Arc::new(SyncQueue::start(dir.path()).unwrap());
        let mut tasks = Vec::new();
        for i in 0..32 {
            let (q, root) = (q.clone(), dir.path().to_path_buf());
            tasks.push(tokio::spawn(async move {
                let path = root.join(format!("f{i}"));
                let mut f = File::create(&path).unwrap();
                f.write_all(&[i as u8; 4096]).unwrap();
                q.sync(vec![f], vec![root]).await
            }));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        drop(q);
        for i in 0..32 {
            assert_eq!(
                std::fs::read(dir.path().join(format!("f{i}"))).unwrap(),
                vec![i as u8; 4096]
            );
        }
    }

    #[tokio::test]
    async fn a_missing_directory_fails_its_round() {
        let dir = tempfile::tempdir().unwrap();
        let q = SyncQueue::start(dir.path()).unwrap();
        let err = q
            .sync(Vec::new(), vec![dir.path().join("gone")])
            .await
            .unwrap_err();
        assert!(err.to_string().contains("No such file"), "{err}");
    }
}
