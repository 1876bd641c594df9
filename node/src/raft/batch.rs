//! Group proposal: the leader's metadata writes that arrive while earlier ones are still in
//! Raft share the next log entry, as one [`MetaCommand::Batch`].
//!
//! openraft appends, syncs, commits and applies each client write as its own entry, one
//! message at a time through its core task. With one entry per PUT, small-object writes were
//! bound by that per-entry path, not by the disk or the CPU. Here at most [`IN_FLIGHT`]
//! entry of this proposer is in Raft at once; writes that arrive meanwhile wait in the
//! queue and go into the next entry together. A lone write still takes one round; a busy
//! leader pays one round per batch instead of one per write.

use std::sync::Arc;

use coffer_proto::meta::MetaCommand;
use coffer_proto::ProtoError;
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};

use super::{write_err, MetaResult, Raft};
use crate::meta::apply::batchable;

/// Entries of this proposer in Raft at once. One: everything that arrives while an entry is
/// in Raft forms the next one. More in flight made smaller batches and cost more CPU per
/// write (wrk 4 KiB PUT at 16 connections: 3,870-3,985/s with one, 3,497-3,511 with two,
/// 3,338 with four, 3,098 with eight).
const IN_FLIGHT: usize = 1;
/// At most this many commands in one entry...
const MAX_COMMANDS: usize = 256;
/// ...and about this many bytes of them (a larger command still goes, alone). Enough for
/// dozens of small PUTs; it keeps entries small for replication (`max_payload_entries`) and
/// for the log kept after a snapshot (`max_in_snapshot_log_to_keep`).
const MAX_BYTES: u64 = 256 << 10;
/// Writes waiting for an entry; more wait for room (each is a request in progress).
const QUEUE: usize = 4096;

struct Proposal {
    cmd: MetaCommand,
    size: u64,
    done: oneshot::Sender<MetaResult>,
}

/// Proposes this node's metadata writes to Raft, batching those that arrive together
/// (cheap to clone).
#[derive(Clone)]
pub struct Proposer {
    tx: mpsc::Sender<Proposal>,
}

impl Proposer {
    /// Start proposing to `raft` (spawns the batching task, which ends with the last clone).
    pub fn start(raft: Raft) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(raft, rx));
        Proposer { tx }
    }

    /// Commit `cmd` through Raft and return what applying it gave. This node should lead;
    /// if it does not, the answer is `NotLeader` with the leader's address.
    pub async fn write(&self, cmd: MetaCommand) -> MetaResult {
        let size = bincode::serialized_size(&cmd).unwrap_or(MAX_BYTES);
        let (done, answer) = oneshot::channel();
        self.tx
            .send(Proposal { cmd, size, done })
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

fn stopped() -> ProtoError {
    ProtoError::RaftStopped("the Raft proposer has stopped".into())
}

async fn run(raft: Raft, mut rx: mpsc::Receiver<Proposal>) {
    let slots = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = rx.recv().await {
        if !batchable(&first.cmd) {
            tokio::spawn(propose(raft.clone(), vec![first], None));
            continue;
        }
        // Wait for a slot before taking more: what queues meanwhile joins this entry.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let mut group = vec![first];
        let mut bytes = group[0].size;
        while group.len() < MAX_COMMANDS && bytes < MAX_BYTES {
            match rx.try_recv() {
                Ok(p) if batchable(&p.cmd) => {
                    bytes = bytes.saturating_add(p.size);
                    group.push(p);
                }
                Ok(p) => {
                    tokio::spawn(propose(raft.clone(), vec![p], None));
                }
                Err(_) => break,
            }
        }
        tokio::spawn(propose(raft.clone(), group, Some(slot)));
    }
}

/// Commit `group` as one entry (a plain command when it is one) and answer each proposal.
async fn propose(raft: Raft, group: Vec<Proposal>, _slot: Option<OwnedSemaphorePermit>) {
    let (mut cmds, dones): (Vec<_>, Vec<_>) = group.into_iter().map(|p| (p.cmd, p.done)).unzip();
    let entry = if cmds.len() == 1 {
        cmds.swap_remove(0)
    } else {
        MetaCommand::Batch(cmds)
    };
    let results = match raft.client_write(entry).await {
        Ok(r) => r.data,
        Err(e) => vec![Err(write_err(e)); dones.len()],
    };
    let mut results = results.into_iter();
    for done in dones {
        let r = results.next().unwrap_or_else(|| {
            Err(ProtoError::Internal(
                "the entry returned fewer results than it carried commands".into(),
            ))
        });
        // The requester may have gone (a dropped connection); the write stands.
        let _ = done.send(r);
    }
}
