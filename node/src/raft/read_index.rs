//! Coalesced linearizable reads on the leader. Each read needs a read index: a heartbeat round
//! confirming to a quorum that this node still leads, then the state machine applied up to the
//! commit index it saw. Reads that arrive while a round is in flight wait for the next round
//! and share it, so a burst of N reads costs two rounds instead of N. A round starts only after
//! every read it answers has arrived, so each still sees every write acknowledged before it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use coffer_proto::ProtoError;
use openraft::error::{CheckIsLeaderError, RaftError};
use tokio::sync::oneshot;

use super::{NodeId, Raft};

type Waiter = oneshot::Sender<Result<(), ProtoError>>;

/// Reads waiting for a read index.
#[derive(Default)]
pub struct ReadIndex {
    waiting: Mutex<Waiting>,
    reads: AtomicU64,
    rounds: AtomicU64,
}

#[derive(Default)]
struct Waiting {
    /// A round is in flight (its task takes `next` when it is done).
    running: bool,
    /// Reads that arrived since the round in flight started.
    next: Vec<Waiter>,
}

fn proto_err(e: RaftError<NodeId, CheckIsLeaderError<NodeId, openraft::BasicNode>>) -> ProtoError {
    match e {
        RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f)) => {
            ProtoError::NotLeader(f.leader_node.map(|n| n.addr))
        }
        RaftError::APIError(CheckIsLeaderError::QuorumNotEnough(q)) => {
            ProtoError::QuorumNotReached(q.to_string())
        }
        RaftError::Fatal(f) => ProtoError::Internal(format!("raft stopped: {f}")),
    }
}

impl ReadIndex {
    /// Return once this node is confirmed leader by a round that started after the call, and
    /// its state machine has applied everything committed when that round started.
    pub async fn wait(self: &Arc<Self>, raft: &Raft) -> Result<(), ProtoError> {
        let (tx, rx) = oneshot::channel();
        self.reads.fetch_add(1, Ordering::Relaxed);
        let start = {
            let mut w = self.lock();
            w.next.push(tx);
            !std::mem::replace(&mut w.running, true)
        };
        if start {
            // Rounds run on their own task: a read whose client goes away does not stall the
            // others waiting on the same round.
            let (me, raft) = (self.clone(), raft.clone());
            tokio::spawn(async move { me.rounds(raft).await });
        }
        rx.await
            .map_err(|_| ProtoError::Internal("read index round dropped".into()))?
    }

    /// Reads served, and the rounds they took.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.reads.load(Ordering::Relaxed),
            self.rounds.load(Ordering::Relaxed),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        // Nothing panics while holding it; a poisoned lock still holds consistent state.
        self.waiting
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Run rounds until no read waits.
    async fn rounds(&self, raft: Raft) {
        loop {
            let batch = {
                let mut w = self.lock();
                if w.next.is_empty() {
                    w.running = false;
                    return;
                }
                std::mem::take(&mut w.next)
            };
            self.rounds.fetch_add(1, Ordering::Relaxed);
            let r = raft
                .ensure_linearizable()
                .await
                .map(|_| ())
                .map_err(proto_err);
            for tx in batch {
                let _ = tx.send(r.clone());
            }
        }
    }
}
