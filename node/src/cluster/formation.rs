//! How a node enters the cluster on its first start: bootstrapping a new one, joining through
//! the nodes it was given (`--join`), or waiting to be admitted. Every node of a cluster can
//! be given the same list, as a Kubernetes StatefulSet gives each pod the same arguments:
//!
//! - a node that may bootstrap (the first of the list) does so only when no node behind the
//!   list answers as a member for [`BOOTSTRAP_PROBE`]; if one does, it joins instead, so a
//!   first node whose volume was lost rejoins the cluster rather than starting a second one;
//! - every other node joins through whichever node behind the list answers as a member, and
//!   keeps trying until one takes it in;
//! - a node with Raft state (a restart) does neither: its membership is in its own log.
//!
//! A name in the list may stand for several addresses (a headless Service's name resolves to
//! every pod behind it): each is asked.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use coffer_proto::meta::MetaCommand;
use coffer_proto::ClusterApi as _;
use openraft::BasicNode;
use tracing::{debug, info, warn};

use super::{raft_err, Node, StartError};

/// How long a node that may bootstrap looks for a member behind its list before it does.
pub const BOOTSTRAP_PROBE: Duration = Duration::from_secs(5);

/// Time between two rounds of asking the nodes behind the list.
const ROUND: Duration = Duration::from_millis(500);

/// How often a node that cannot join yet says so.
const JOIN_NAG: Duration = Duration::from_secs(30);

/// Every distinct address behind `seeds` (`host:port` each; a name may resolve to several).
pub async fn seed_addresses(seeds: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for seed in seeds {
        match tokio::net::lookup_host(seed.as_str()).await {
            Ok(addrs) => {
                for a in addrs.map(|a| a.to_string()) {
                    if !out.contains(&a) {
                        out.push(a);
                    }
                }
            }
            Err(e) => debug!(%seed, "does not resolve (yet): {e}"),
        }
    }
    out
}

impl Node {
    /// Become a working member: on a first start, bootstrap, join or wait for admission as
    /// the module documentation says; then make sure the cluster map has this node's current
    /// address and drives. A node that cannot reach a leader within `wait` keeps registering
    /// in the background; one that cannot join yet keeps trying without limit.
    pub async fn enter_cluster(self: &Arc<Self>, wait: Duration) -> Result<(), StartError> {
        // Whether it started without Raft state is known from `Node::start`, not from Raft
        // now: a member that lost its volume may already have received entries from the
        // leader through the RPC listener, and must still ask to join (and not vote) until
        // its log has caught up.
        if !self.may_vote() {
            let bootstrapped = self.config.may_bootstrap
                && !self.config.join.is_empty()
                && self.bootstrap_unless_member().await?;
            if !bootstrapped {
                if self.config.join.is_empty() {
                    self.await_admission().await?;
                } else {
                    self.join().await;
                }
            }
        }
        self.voting.store(true, Ordering::Release);
        if self.check_removed().await {
            return Ok(());
        }
        let me = self.clone();
        let announce = async move {
            loop {
                let known = me.peers.nodes().into_iter().find(|n| n.id == me.config.id);
                if me.removed() {
                    return;
                }
                let registered = known.as_ref() == Some(&me.info()) || {
                    match me.meta_write(MetaCommand::RegisterNode(me.info())).await {
                        Ok(_) => {
                            info!(node = me.config.id, "registered in the cluster map");
                            true
                        }
                        Err(e) => {
                            debug!("cluster map registration postponed: {e}");
                            false
                        }
                    }
                };
                if registered {
                    match crate::tier::publish_labels(&me).await {
                        Ok(()) => return,
                        Err(e) => debug!("publishing the node's labels postponed: {e}"),
                    }
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        };
        let task = tokio::spawn(announce);
        match tokio::time::timeout(wait, task).await {
            Ok(_) => info!(node = self.config.id, "node ready"),
            Err(_) => warn!(
                node = self.config.id,
                "no leader yet; registering in the background"
            ),
        }
        self.clone().watch_removal();
        Ok(())
    }

    /// Bootstrap a one-voter cluster unless a node behind the list answers as a member within
    /// [`BOOTSTRAP_PROBE`] (then return false, to join through it).
    async fn bootstrap_unless_member(&self) -> Result<bool, StartError> {
        let deadline = tokio::time::Instant::now() + BOOTSTRAP_PROBE;
        loop {
            if let Some(member) = self.find_member().await {
                info!(node = self.config.id, %member, "a cluster exists: joining it");
                return Ok(false);
            }
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(ROUND).await;
        }
        info!(
            node = self.config.id,
            "no member answered for {BOOTSTRAP_PROBE:?}: bootstrapping a new cluster"
        );
        let members = BTreeMap::from([(
            self.config.id,
            BasicNode::new(self.config.advertise_rpc.clone()),
        )]);
        self.raft.initialize(members).await.map_err(raft_err)?;
        Ok(true)
    }

    /// The address of a node behind the list (not this one) that is a member of a cluster:
    /// its Raft membership has voters.
    async fn find_member(&self) -> Option<String> {
        for addr in seed_addresses(&self.config.join).await {
            match self.peers.client(&addr).node_status().await {
                Ok(s) if s.id != self.config.id && !s.raft.voters.is_empty() => return Some(addr),
                Ok(_) => {}
                Err(e) => debug!(%addr, "no answer: {e}"),
            }
        }
        None
    }

    /// Wait, without limit, until a member takes this node in (`coffer admin node add`): the
    /// leader's first log entries initialize its Raft state.
    async fn await_admission(&self) -> Result<(), StartError> {
        warn!(
            node = self.config.id,
            rpc = %self.config.advertise_rpc,
            "waiting to be admitted: run `coffer admin node add {}` against a member",
            self.config.advertise_rpc
        );
        let mut metrics = self.raft.metrics();
        loop {
            if self.raft.is_initialized().await.map_err(raft_err)? {
                info!(node = self.config.id, "admitted to the cluster");
                return Ok(());
            }
            if metrics.changed().await.is_err() {
                return Err(StartError::Raft("raft stopped".into()));
            }
        }
    }

    /// Ask members behind the list to take this node in until one has: the answer comes once
    /// the leader has added it and its log has caught up.
    async fn join(&self) {
        let mut nag = tokio::time::Instant::now() + JOIN_NAG;
        loop {
            if let Some(member) = self.find_member().await {
                match self.peers.client(&member).join(self.info()).await {
                    Ok(()) => {
                        info!(node = self.config.id, through = %member, "joined the cluster");
                        return;
                    }
                    Err(e) => debug!(%member, "join failed: {e}"),
                }
            }
            if tokio::time::Instant::now() >= nag {
                warn!(
                    node = self.config.id,
                    "still no member behind {} has taken this node in; trying again",
                    self.config.join.join(", ")
                );
                nag += JOIN_NAG;
            }
            tokio::time::sleep(ROUND).await;
        }
    }
}
