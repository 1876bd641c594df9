//! Coffer's internal protocol: every type that crosses between gateway and node or node and
//! node, the [`ClusterApi`] seam both roles speak, the framed codec and the typed TCP client.
//! Nothing outside this crate defines a wire format.
//!
//! # Layout
//! - [`types`]: buckets, object versions, blobs (erasure-coded data references), uploads, listings.
//! - [`meta`]: the metadata commands replicated through Raft and the read queries.
//! - [`error`]: [`ProtoError`], the one error type that crosses the wire.
//! - [`api`]: the [`ClusterApi`] trait (implemented in-process by the node and remotely by [`client`]).
//! - [`codec`]: length-prefixed frames, the authenticated handshake.
//! - [`client`]: [`client::RemoteCluster`], a pooled TCP client of one node implementing
//!   [`ClusterApi`], plus the node-to-node calls.
//! - [`admin`]: the admin API's status types and request signatures.
//! - [`cluster_client`]: [`cluster_client::ClusterClient`], a [`ClusterApi`] over every node
//!   of a cluster that fails over between them (the gateways' client).
//! - [`iam`]: users and access keys as the metadata stores them.
//! - [`policy`]: IAM policy documents: parsing with AWS's checks, and evaluation.
//! - [`seal`]: the cluster master key and the encryption of secrets at rest under it.
//! - [`sse`]: server-side encryption as the metadata records it, and the key service's keys.
//! - [`version_id`]: object version ids, named by the commit that wrote the version.
#![warn(missing_docs)]

pub mod admin;
pub mod api;
pub mod client;
pub mod cluster_client;
pub mod codec;
pub mod error;
pub mod iam;
pub mod lock;
pub mod meta;
pub mod policy;
pub mod seal;
pub mod sse;
pub mod tier;
pub mod types;
pub mod version_id;

pub use api::{ByteStream, ClusterApi};
pub use error::ProtoError;

/// Version of the internal protocol, exchanged in the handshake; peers with another version are
/// refused.
pub const PROTOCOL_VERSION: u32 = 2;
