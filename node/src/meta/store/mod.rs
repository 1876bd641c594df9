//! [`MetaStore`]: the database holding the Raft log, the Raft state and the metadata state
//! machine, one column family each (their names are constants here).
//!
//! The rest of the node sees the database only through this module: writes are staged in a
//! [`Batch`] and committed atomically, reads are point reads and [`Cursor`]s, and consistent
//! views are [`View`]s. Behind [`MetaStore`] is an [`Engine`]: RocksDB ([`rocks`], the only
//! module that names a RocksDB type) or memory ([`memory`], for unit tests of the apply
//! logic), as TiKV's engine traits put its storage behind a seam.

pub mod memory;
pub mod rocks;

use std::path::Path;
use std::sync::Arc;

use super::format::{self, Stored};

/// Raft log entries, keyed by index.
pub const CF_RAFT_LOG: &str = "raft_log";
/// Raft vote, committed id, last purged id.
pub const CF_RAFT_STATE: &str = "raft_state";
/// State machine bookkeeping: last applied, membership, snapshot.
pub const CF_SM_STATE: &str = "sm_state";
/// Buckets by name.
pub const CF_BUCKETS: &str = "buckets";
/// Bucket names by id.
pub const CF_BUCKET_IDS: &str = "bucket_ids";
/// Current object versions.
pub const CF_OBJECTS: &str = "objects";
/// Multipart uploads.
pub const CF_UPLOADS: &str = "uploads";
/// Uploaded parts.
pub const CF_PARTS: &str = "parts";
/// Delete queue of blobs.
pub const CF_GC: &str = "gc";
/// The cluster map: storage nodes by id.
pub const CF_NODES: &str = "nodes";
/// Nodes being drained, by id.
pub const CF_DRAINING: &str = "draining";
/// Answers of exactly-once commands, by id and by age.
pub const CF_ONCE: &str = "once";
/// Erasure profiles of storage classes, by name.
pub const CF_CLASSES: &str = "classes";
/// IAM users, by name.
pub const CF_USERS: &str = "users";
/// Access keys, by id; and `user 0x00 id` in the same family as each user's index.
pub const CF_KEYS: &str = "keys";

/// Bucket configuration documents (policy, ...), by bucket id and kind.
pub const CF_BUCKET_CONF: &str = "bucket_conf";
/// IAM groups, their members, and each user's groups.
pub const CF_GROUPS: &str = "groups";
/// Inline identity policies of users and groups.
pub const CF_POLICIES: &str = "policies";
/// Access control lists of object versions and uploads.
pub const CF_ACLS: &str = "acls";
/// Tag sets of object versions and uploads.
pub const CF_TAGS: &str = "tags";
/// Completed multipart uploads, kept a day so that a retried completion answers again: `r`
/// upload key → the version written (without its data); `t` ms upload key → nothing, the
/// expiry index.
pub const CF_COMPLETED: &str = "completed";
/// Object versions other than the current ones: older versions and delete markers, each key's
/// newest first.
pub const CF_VERSIONS: &str = "versions";
/// Object Lock documents (retention, legal hold) of object versions and uploads, keyed as
/// `acls`.
pub const CF_LOCKS: &str = "locks";
/// The key service's keys (SSE-S3's and SSE-KMS keys): key id → JSON of
/// `coffer_proto::sse::KmsKey`, whose material is sealed under the key-encryption key.
pub const CF_KMS: &str = "kms";

/// Column families that make up the state machine (what a snapshot carries, by position: new
/// ones go at the end).
pub const SM_DATA_CFS: [&str; 21] = [
    CF_BUCKETS,
    CF_BUCKET_IDS,
    CF_OBJECTS,
    CF_UPLOADS,
    CF_PARTS,
    CF_GC,
    CF_NODES,
    CF_DRAINING,
    CF_ONCE,
    CF_CLASSES,
    CF_USERS,
    CF_KEYS,
    CF_BUCKET_CONF,
    CF_GROUPS,
    CF_POLICIES,
    CF_ACLS,
    CF_TAGS,
    CF_COMPLETED,
    CF_VERSIONS,
    CF_LOCKS,
    CF_KMS,
];

/// Every column family: the Raft log and state, then the state machine's.
pub fn all_cfs() -> impl Iterator<Item = &'static str> {
    [CF_RAFT_LOG, CF_RAFT_STATE, CF_SM_STATE]
        .into_iter()
        .chain(SM_DATA_CFS)
}

/// Error from the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The engine failed (RocksDB's error, as text).
    #[error("rocksdb: {0}")]
    Engine(String),
    /// A stored value did not decode, or is in a format this build does not read.
    #[error("{0}")]
    Format(#[from] format::FormatError),
    /// A column family is missing (the database was opened with another layout).
    #[error("missing column family {0}")]
    MissingCf(String),
}

impl From<StoreError> for coffer_proto::ProtoError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Format(c) => coffer_proto::ProtoError::Corrupt(c.to_string()),
            other => coffer_proto::ProtoError::Io(other.to_string()),
        }
    }
}

/// One staged write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Set `key` in a column family.
    Put(&'static str, Vec<u8>, Vec<u8>),
    /// Remove `key` from a column family.
    Delete(&'static str, Vec<u8>),
    /// Remove every key from `from` (inclusive) to `to` (exclusive) in a column family.
    DeleteRange(&'static str, Vec<u8>, Vec<u8>),
}

/// Writes staged for one atomic commit ([`MetaStore::write`]), applied in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    ops: Vec<Op>,
}

impl Batch {
    /// Set `key` to `value` in `cf`.
    pub fn put(&mut self, cf: &'static str, key: impl AsRef<[u8]>, value: impl Into<Vec<u8>>) {
        self.ops
            .push(Op::Put(cf, key.as_ref().to_vec(), value.into()));
    }

    /// Remove `key` from `cf`.
    pub fn delete(&mut self, cf: &'static str, key: impl AsRef<[u8]>) {
        self.ops.push(Op::Delete(cf, key.as_ref().to_vec()));
    }

    /// Remove the keys `from..to` from `cf`.
    pub fn delete_range(&mut self, cf: &'static str, from: impl AsRef<[u8]>, to: impl AsRef<[u8]>) {
        self.ops.push(Op::DeleteRange(
            cf,
            from.as_ref().to_vec(),
            to.as_ref().to_vec(),
        ));
    }

    /// The staged writes, in order.
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// Whether nothing is staged.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// A position in one column family, in key order (RocksDB's raw iterator, as a trait).
pub trait Cursor {
    /// Go to the first key at or after `key`.
    fn seek(&mut self, key: &[u8]);
    /// Go to the first key.
    fn seek_to_first(&mut self);
    /// Go to the last key.
    fn seek_to_last(&mut self);
    /// Whether it is on a key.
    fn valid(&self) -> bool;
    /// The key it is on.
    fn key(&self) -> Option<&[u8]>;
    /// The value it is on.
    fn value(&self) -> Option<&[u8]>;
    /// Go to the next key.
    fn next(&mut self);
    /// Whether reading failed on the way.
    fn status(&self) -> Result<(), StoreError>;
}

/// Reads: of the live database, or of a [`View`] of it at one moment.
pub trait Reader {
    /// The raw value of `key` in `cf`.
    fn get_raw(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// A cursor over `cf`.
    fn cursor(&self, cf: &'static str) -> Result<Box<dyn Cursor + '_>, StoreError>;
}

/// A consistent view of the database at one moment.
pub trait View: Reader {}

/// A storage engine: what [`MetaStore`] is over.
pub trait Engine: Reader + Send + Sync {
    /// Commit `batch` atomically; `sync` makes it durable first.
    fn write(&self, batch: Batch, sync: bool) -> Result<(), StoreError>;
    /// A consistent view of everything written so far.
    fn view(&self) -> Box<dyn View + '_>;
    /// Make every write so far durable (RocksDB: its WAL).
    fn flush_wal(&self) -> Result<(), StoreError>;
}

/// The metadata database, shared by the log store, the state machine and readers.
#[derive(Clone)]
pub struct MetaStore {
    engine: Arc<dyn Engine>,
}

impl MetaStore {
    /// Open (or create) the RocksDB database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Ok(MetaStore {
            engine: Arc::new(rocks::RocksEngine::open(dir)?),
        })
    }

    /// An empty store in memory (unit tests of the logic over it).
    pub fn memory() -> Self {
        MetaStore {
            engine: Arc::new(memory::MemEngine::default()),
        }
    }

    /// Read and decode one value.
    pub fn get<T: Stored>(&self, cf: &'static str, key: &[u8]) -> Result<Option<T>, StoreError> {
        decode_opt(self.engine.get_raw(cf, key)?)
    }

    /// Commit a batch; `sync` makes it durable (fsync of the WAL) before returning.
    pub fn write(&self, batch: Batch, sync: bool) -> Result<(), StoreError> {
        self.engine.write(batch, sync)
    }

    /// A cursor over a column family.
    pub fn raw_iter(&self, cf: &'static str) -> Result<Box<dyn Cursor + '_>, StoreError> {
        self.engine.cursor(cf)
    }

    /// A consistent view of everything written so far.
    pub fn view(&self) -> Box<dyn View + '_> {
        self.engine.view()
    }

    /// Make every write so far durable.
    pub fn flush_wal(&self) -> Result<(), StoreError> {
        self.engine.flush_wal()
    }

    /// Whether any key in `cf` starts with `prefix`.
    pub fn any_with_prefix(&self, cf: &'static str, prefix: &[u8]) -> Result<bool, StoreError> {
        let mut it = self.raw_iter(cf)?;
        it.seek(prefix);
        let found = it.valid() && it.key().is_some_and(|k| k.starts_with(prefix));
        it.status()?;
        Ok(found)
    }

    /// All (key, decoded value) pairs with a prefix, in key order, at most `max`.
    pub fn scan_prefix<T: Stored>(
        &self,
        cf: &'static str,
        prefix: &[u8],
        max: usize,
    ) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
        let mut out = Vec::new();
        let mut it = self.raw_iter(cf)?;
        it.seek(prefix);
        while out.len() < max {
            let (Some(k), Some(v)) = (it.key(), it.value()) else {
                break;
            };
            if !k.starts_with(prefix) {
                break;
            }
            out.push((k.to_vec(), format::decode(v)?));
            it.next();
        }
        it.status()?;
        Ok(out)
    }
}

/// Decode a raw value, if there is one.
pub fn decode_opt<T: Stored>(raw: Option<Vec<u8>>) -> Result<Option<T>, StoreError> {
    Ok(raw.map(|v| format::decode(&v)).transpose()?)
}

#[cfg(test)]
mod tests;
