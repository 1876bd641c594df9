//! The metadata state: buckets, object versions, multipart uploads and the delete queue, kept in
//! RocksDB column families. Commands are applied here by the Raft state machine; queries read
//! here after a linearizable read barrier. Only this module and `raft/` touch RocksDB.
//!
//! # Key layout (all integers big-endian so keys sort numerically)
//! ```text
//! buckets     name                                  -> BucketInfo
//! bucket_ids  id:u64                                -> name
//! objects     bucket_id:u64 key                     -> ObjectVersion (current version)
//! versions    bucket_id:u64 key 0x00 stamp:[12]     -> ObjectVersion (older versions and
//!                                                      delete markers; stamp newest first)
//! uploads     bucket_id:u64 key 0x00 upload_id      -> UploadInfo
//! parts       bucket_id:u64 key 0x00 upload_id 0x00 part:u32 -> PartInfo
//! gc          blob_id:[16]                          -> BlobRef (data to delete)
//! nodes       node_id:u64                           -> NodeInfo (the cluster map)
//! draining    node_id:u64                           -> () (nodes being drained)
//! classes     name                                  -> (k, m) (storage class profiles)
//! users       name                                  -> UserRecord
//! keys        'k' access_key_id                     -> KeyRecord (secret sealed)
//!             'u' user 0x00 access_key_id           -> () (a user's keys)
//! bucket_conf bucket_id:u64 kind:u8                 -> String (policy, CORS, PAB, ACL, ownership)
//! groups      'g' name                              -> GroupRecord
//!             'm' group 0x00 user                   -> () (members)
//!             'u' user 0x00 group                   -> () (a user's groups)
//! policies    'u' user 0x00 name                    -> String (inline policy document)
//!             'g' group 0x00 name                   -> String
//! acls        'o' bucket_id:u64 key                 -> String (ACL of the current version)
//!             'v' bucket_id:u64 key 0x00 stamp:[12] -> String (ACL of an older version)
//!             'u' bucket_id:u64 key 0x00 upload_id  -> String (ACL of an upload)
//! tags        as acls                               -> String (tag set of a version, upload)
//! locks       as acls                               -> String (Object Lock of a version, upload)
//! once        'a' id:[16]                           -> answer of an exactly-once command
//!             't' at_ms:u64 id:[16]                 -> empty value (answers by age, for pruning)
//! ```

pub mod acls;
pub mod apply;
pub mod format;
pub mod iam;
pub mod keys;
pub mod kms;
pub mod list;
pub mod locks;
pub mod once;
pub mod policies;
pub mod query;
pub mod store;
pub mod versions;

#[cfg(test)]
mod fixtures;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_acls;
#[cfg(test)]
mod tests_locks;
#[cfg(test)]
mod tests_once;
#[cfg(test)]
mod tests_policies;
#[cfg(test)]
mod tests_sse;
#[cfg(test)]
mod tests_versions;
#[cfg(test)]
mod tests_website;
#[cfg(test)]
mod tests_writes;

pub use store::MetaStore;
