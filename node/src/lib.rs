//! A Coffer storage node: owns drives (erasure-coded shard files with per-block checksums) and
//! runs the Raft metadata state machine (openraft over RocksDB). It serves the internal RPC
//! and implements [`coffer_proto::ClusterApi`] in-process for the all-in-one server.
//!
//! # Layout
//! - [`config`]: the node's settings ([`NodeConfig`]).
//! - [`meta`]: column families, key layout, command application, queries, listing.
//! - [`raft`]: openraft log store, state machine and network.
//! - [`erasure`] and [`shard`]: pure RS coding and placement; shard files on drives.
//! - [`blob`]: the stripe pipeline between byte streams and shards.
//! - [`cluster`]: [`Node`], the running node: joining a cluster, forwarding to the leader,
//!   and its `ClusterApi` implementation. [`peers`]: the cluster map and clients of other nodes.
//! - [`group_commit`]: the group-commit thread behind the Raft log's WAL sync and shard fsyncs.
//! - [`http`]: health, readiness, Prometheus metrics and the signed admin API (its users and
//!   access keys in `http::iam`, its groups and identity policies in `http::policy`).
//! - [`rpc`]: the internal RPC listener. [`gc`]: the delete-queue worker. [`sweep`]: removes
//!   shard files no metadata knows (writes that died before their commit). [`heal`]: rebuilds
//!   missing or corrupt shards (found by reads and by the scrubber).

pub mod blob;
pub mod cluster;
pub mod config;
pub mod erasure;
pub mod gc;
pub mod group_commit;
pub mod heal;
pub mod http;
pub mod kms;
pub mod meta;
pub mod pace;
pub mod peers;
pub mod raft;
pub mod rebalance;
pub mod remote_tier;
pub mod rpc;
pub mod shard;
pub mod sweep;
pub mod tier;
pub mod transition;

pub use cluster::Node;
pub use config::NodeConfig;
