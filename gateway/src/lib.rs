//! The Coffer S3 gateway: S3 semantics (authentication, routing, object and bucket operations,
//! XML, errors) over the [`coffer_proto::ClusterApi`] seam. Holds no durable state; it never
//! depends on the node crate and talks to storage only through the protocol.
//!
//! # Layout
//! - [`config`]: the gateway's settings ([`GatewayConfig`]).
//! - [`server`]: the actix-web server (one catch-all S3 service plus health); [`state`]: what
//!   every request shares.
//! - [`auth`]: SigV4 / SigV2 / presigned / aws-chunked verification.
//! - [`authz`]: authorization of each request by identity and bucket policies.
//! - [`iam`]: the IAM query API (`aws iam --endpoint-url`) on the S3 endpoint.
//! - [`lifecycle`]: the lifecycle worker, which applies buckets' lifecycle rules (one gateway
//!   of the cluster at a time, elected through a lease in the metadata).
//! - [`md5lanes`]: the MD5 of request bodies, several concurrent bodies at a time.
//! - [`model`]: what the authorizer and handlers share: owners, ACLs, tag sets, CORS rules,
//!   default encryption.
//! - [`s3`]: dispatch, router, errors, XML, the header readers (`s3::headers`), the object
//!   pipeline (`s3::object`) and one module per operation family under `s3::ops`.
//! - [`sse`]: server-side encryption: data keys, the key service's keys, the package cipher.
//! - [`tls`]: the listener's certificate (reloaded when it changes) and whether a request came
//!   over TLS.
//! - [`website`]: the website endpoint, which serves buckets as static sites.

pub mod access_log;
pub mod auth;
pub mod authz;
pub mod config;
pub mod iam;
pub mod lifecycle;
pub mod md5lanes;
pub mod model;
pub mod s3;
pub mod server;
pub mod sse;
pub mod state;
pub mod tls;
pub mod traffic;
pub mod website;

pub use config::GatewayConfig;
