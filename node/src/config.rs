//! [`NodeConfig`]: everything a node needs to start, filled in by the CLI from flags, the TOML
//! file and `COFFER_*` variables.

use std::path::PathBuf;
use std::time::Duration;

/// Node settings.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    /// Raft node id (1 for the first node).
    pub id: u64,
    /// Directory of the metadata database.
    pub meta_dir: PathBuf,
    /// Drive directories (shards are written under `<drive>/shards`).
    pub drives: Vec<PathBuf>,
    /// RPC address other cluster members reach this node at.
    pub advertise_rpc: String,
    /// Cluster secret authenticating internal RPC.
    pub secret: Vec<u8>,
    /// RPC addresses (`host:port`; a name may stand for several addresses, as a headless
    /// Service's does) of nodes to join through on first start. Ignored once the node is part
    /// of a cluster.
    pub join: Vec<String>,
    /// Whether this node may bootstrap a new cluster on its first start: at once when `join`
    /// is empty, else only when no node behind `join` answers as a member for a few seconds.
    /// A first start that may not bootstrap, with nothing to join, waits to be taken in by
    /// `coffer admin node add`.
    pub may_bootstrap: bool,
    /// Failure zone (placement spreads shards across zones).
    pub zone: Option<String>,
    /// Labels (`--label KEY=VALUE`): local tiers take the nodes whose labels match their pool.
    pub labels: coffer_proto::tier::Labels,
    /// Erasure profile (k data, m parity); default from the number of drives.
    pub erasure: Option<(u8, u8)>,
    /// Shards beyond k a write needs durable before it is acknowledged: 1 (the default) or 0.
    pub quorum_margin: u8,
    /// Time between scrub passes (one also runs at start).
    pub scrub_interval: Duration,
    /// Bytes per second a scrub pass reads at most (0: unlimited).
    pub scrub_rate: u64,
    /// Bytes of shards per second this node moves at most when rebalancing (0: unlimited).
    pub rebalance_rate: u64,
    /// Percent of the time the rebalancer spends moving shards at most (1 to 100).
    pub rebalance_duty: u8,
    /// Bytes of object data per stripe.
    pub stripe_size: u32,
    /// How often the delete queue is drained.
    pub gc_interval: Duration,
    /// Shard files no metadata knows are removed once unmodified for this long (and swept for
    /// this often, between 1 s and 1 h).
    pub orphan_grace: Duration,
    /// Key-encryption key of server-side encryption: seals the key service's material (None:
    /// this node cannot create or rotate keys).
    pub kek: Option<coffer_proto::seal::MasterKey>,
    /// Key service keys made at start when the cluster does not have them yet.
    pub kms_keys: Vec<String>,
}

impl NodeConfig {
    /// A single-drive config under `dir`, for tests.
    pub fn for_tests(dir: &std::path::Path) -> Self {
        NodeConfig {
            id: 1,
            meta_dir: dir.join("meta"),
            drives: vec![dir.to_path_buf()],
            advertise_rpc: "127.0.0.1:0".into(),
            secret: b"test-secret".to_vec(),
            join: Vec::new(),
            may_bootstrap: true,
            zone: None,
            labels: Default::default(),
            erasure: None,
            quorum_margin: 1,
            scrub_interval: Duration::from_secs(86_400),
            scrub_rate: 64 << 20,
            rebalance_rate: 0,
            rebalance_duty: 100,
            stripe_size: 1 << 20,
            gc_interval: Duration::from_millis(200),
            orphan_grace: Duration::from_secs(3600),
            kek: Some(coffer_proto::seal::MasterKey::derive_for(
                b"test-secret",
                "coffer key-encryption key v1",
            )),
            kms_keys: Vec::new(),
        }
    }
}
