//! Coalesced linearizable reads on the leader. Each read needs a read index: a heartbeat round
//! confirming to a quorum that this node still leads, then the state machine applied up to the
//! commit index it saw. Reads that arrive while a round is in flight wait for the next round
//! and share it, so a burst of N reads costs two rounds instead of N. A round starts only after
//! every read it answers has arrived, so each still sees every write acknowledged before it.
//!
//! A leader that is the only voter needs no round once one has succeeded in its term: no other
//! node can be elected while every configuration it knows (joint ones included) is just itself,
//! it answers each write only after applying it, and that first round waited for every entry
//! of earlier terms to be applied. Its reads then come straight from the state machine.

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
    /// One more than the last term in which a round succeeded while this node led alone; 0 for
    /// none.
    confirmed_alone: AtomicU64,
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
        RaftError::Fatal(f) => ProtoError::RaftStopped(f.to_string()),
    }
}

impl ReadIndex {
    /// Return once this node is confirmed leader by a round that started after the call, and
    /// its state machine has applied everything committed when that round started; at once
    /// when it leads alone in a term a round has already confirmed.
    pub async fn wait(self: &Arc<Self>, raft: &Raft) -> Result<(), ProtoError> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        if let Some(term) = leads_alone(raft) {
            if self.confirmed_alone.load(Ordering::Acquire) == term.saturating_add(1) {
                return Ok(());
            }
        }
        let (tx, rx) = oneshot::channel();
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
            .map_err(|_| ProtoError::RaftStopped("a read-index round was dropped".into()))?
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
            let alone_before = leads_alone(&raft);
            let r = raft
                .ensure_linearizable()
                .await
                .map(|_| ())
                .map_err(proto_err);
            if let (Ok(()), Some(term)) = (&r, alone_before) {
                // Only if the node led alone throughout: same term before and after the round.
                if leads_alone(&raft) == Some(term) {
                    self.confirmed_alone
                        .store(term.saturating_add(1), Ordering::Release);
                }
            }
            for tx in batch {
                let _ = tx.send(r.clone());
            }
        }
    }
}

/// The current term when this node leads and is the only voter of every configuration it
/// knows, else `None` (a plain read of Raft's metrics, no message to its core). The metrics
/// trail the core by moments; a voter being added still needs this node's vote until its
/// joint configuration is committed and an election timeout has passed.
fn leads_alone(raft: &Raft) -> Option<u64> {
    let m = raft.metrics();
    let m = m.borrow();
    let me = m.id;
    let leads = m.current_leader == Some(me) && m.state == openraft::ServerState::Leader;
    let mut voters = m.membership_config.membership().voter_ids();
    let alone = voters.next() == Some(me) && voters.next().is_none();
    (leads && alone).then_some(m.current_term)
}
