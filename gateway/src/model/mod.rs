//! The models that the authorizer and several handlers share: owners, ACLs, tag sets, CORS
//! rules and default encryption, with their documents. No model imports a handler, [`crate::authz`] or the dispatch.

pub mod acl;
pub mod config_cache;
pub mod cors;
pub mod encryption;
pub mod lifecycle;
pub mod logging;
pub mod owner;
pub mod tags;
pub mod website;
