//! S3 over HTTP. [`dispatch`] is the entry point, in stages (route → authenticate →
//! authorize → handle → respond); [`ops`] has one module per operation family; [`object`] is
//! the one pipeline that writes and reads objects; [`headers`] reads the request headers
//! operations share; [`router`], [`error`], [`xml`] and [`body`] are the protocol's pieces.

pub mod body;
pub mod crc_combine;
pub mod ctx;
pub mod dispatch;
pub mod error;
pub mod expiration;
pub mod grants;
pub mod headers;
pub mod names;
pub mod object;
pub mod object_lock;
pub mod ops;
pub mod post_object;
pub mod post_policy;
pub mod router;
pub mod sse;
pub mod website;
pub mod xml;

pub use dispatch::dispatch;
