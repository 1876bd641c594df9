//! [`MetaStore`]: the RocksDB database holding the Raft log, the Raft state and the metadata
//! state machine, one column family each. Column family names are constants here.

use std::path::Path;
use std::sync::Arc;

use super::format::{self, Stored};
use rocksdb::{
    BlockBasedOptions, BoundColumnFamily, Cache, ColumnFamilyDescriptor,
    DBRawIteratorWithThreadMode, DBWithThreadMode, MultiThreaded, Options, WriteBatch,
    WriteOptions,
};

/// The database type.
pub type Db = DBWithThreadMode<MultiThreaded>;

/// Bytes of the block cache shared by all column families.
const BLOCK_CACHE_BYTES: usize = 32 << 20;

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

/// Column families that make up the state machine (what a snapshot carries, by position: new
/// ones go at the end).
pub const SM_DATA_CFS: [&str; 17] = [
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
];

const ALL_CFS: [&str; 20] = [
    CF_RAFT_LOG,
    CF_RAFT_STATE,
    CF_SM_STATE,
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
];

/// Error from the metadata store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// RocksDB failed.
    #[error("rocksdb: {0}")]
    Rocks(#[from] rocksdb::Error),
    /// A stored value did not decode, or is in a format this build does not read.
    #[error("{0}")]
    Format(#[from] format::FormatError),
    /// A column family is missing (the database was opened with another layout).
    #[error("missing column family {0}")]
    MissingCf(&'static str),
}

impl From<StoreError> for coffer_proto::ProtoError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Format(c) => coffer_proto::ProtoError::Corrupt(c.to_string()),
            other => coffer_proto::ProtoError::Io(other.to_string()),
        }
    }
}

/// The metadata database, shared by the log store, the state machine and readers.
#[derive(Clone)]
pub struct MetaStore {
    db: Arc<Db>,
}

impl MetaStore {
    /// Open (or create) the database in `dir`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let mut opts = Options::default();
        opts.create_if_missing(true);
        opts.create_missing_column_families(true);
        opts.set_max_background_jobs(2);
        opts.set_keep_log_file_num(4);
        // Bound memtable memory across all column families (RocksDB's default is 64 MiB per
        // memtable per CF, two memtables each): the server's RSS target is ~200 MiB.
        opts.set_db_write_buffer_size(48 << 20);
        // A WAL file is kept until every column family with data in it has flushed; rarely
        // written families (the Raft vote, last-applied) would otherwise pin every WAL since
        // their last flush: 900 MB of them after 20 s of 4 KiB PUTs, all replayed at restart.
        // Past this total, RocksDB flushes the families that hold the oldest WAL.
        opts.set_max_total_wal_size(64 << 20);
        // Flushes and compactions write tables of tens of MiB. Started on their way to disk
        // every MiB, they do not pile up dirty pages that the next WAL fsync (one per Raft
        // round) would wait behind: ext4 commits its journal in order.
        opts.set_bytes_per_sync(1 << 20);
        // One block cache for every column family: left unset, RocksDB gives each column
        // family's table factory its own 32 MiB cache (nine of them here).
        let cache = Cache::new_lru_cache(BLOCK_CACHE_BYTES);
        let mut table = BlockBasedOptions::default();
        table.set_block_cache(&cache);
        // Most point reads miss: a PUT of a new key looks up its current version, ACL, tags
        // and exactly-once answer. A Bloom filter per table (10 bits a key, about 1% false
        // positives) answers most misses without searching each level's index and data
        // blocks: RocksDB gets went from 11.4% to 7.5% of server CPU under 4 KiB PUTs.
        table.set_bloom_filter(10.0, false);
        let cfs = ALL_CFS.iter().map(|name| {
            let mut o = Options::default();
            o.set_block_based_table_factory(&table);
            o.set_write_buffer_size(if *name == CF_RAFT_LOG {
                16 << 20
            } else {
                8 << 20
            });
            ColumnFamilyDescriptor::new(*name, o)
        });
        let db = Db::open_cf_descriptors(&opts, dir, cfs)?;
        Ok(MetaStore { db: Arc::new(db) })
    }

    /// The raw database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// A column family handle.
    pub fn cf(&self, name: &'static str) -> Result<Arc<BoundColumnFamily<'_>>, StoreError> {
        self.db.cf_handle(name).ok_or(StoreError::MissingCf(name))
    }

    /// Read and decode one value.
    pub fn get<T: Stored>(&self, cf: &'static str, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.db.get_pinned_cf(&self.cf(cf)?, key)? {
            Some(v) => Ok(Some(format::decode(&v)?)),
            None => Ok(None),
        }
    }

    /// Write a batch; `sync` makes it durable (fsync of the WAL) before returning.
    pub fn write(&self, batch: WriteBatch, sync: bool) -> Result<(), StoreError> {
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(batch, &wo)?;
        Ok(())
    }

    /// A raw iterator over a column family.
    pub fn raw_iter(
        &self,
        cf: &'static str,
    ) -> Result<DBRawIteratorWithThreadMode<'_, Db>, StoreError> {
        Ok(self.db.raw_iterator_cf(&self.cf(cf)?))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn wal_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "log"))
            .map(|e| e.metadata().unwrap().len())
            .sum()
    }

    #[test]
    fn tables_carry_a_bloom_filter() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path()).unwrap();
        let cf = store.cf(CF_OBJECTS).unwrap();
        let mut b = WriteBatch::default();
        for i in 0u32..1000 {
            b.put_cf(&cf, i.to_be_bytes(), b"v");
        }
        store.write(b, false).unwrap();
        store.db().flush_cf(&cf).unwrap();
        let props = store
            .db()
            .property_value_cf(&cf, "rocksdb.aggregated-table-properties")
            .unwrap()
            .unwrap();
        assert!(props.contains("# entries for filter=1000;"), "{props}");
    }

    #[test]
    fn a_rarely_written_family_does_not_pin_old_wal_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::open(dir.path()).unwrap();
        let put = |cf: &'static str, key: Vec<u8>, value: &[u8]| {
            let mut b = WriteBatch::default();
            b.put_cf(&store.cf(cf).unwrap(), key, value);
            store.write(b, false).unwrap();
        };
        // One small write where the Raft vote lives, then 200 MiB of log entries.
        put(CF_RAFT_STATE, b"vote".to_vec(), b"1");
        let entry = vec![7u8; 1 << 20];
        for i in 0u64..200 {
            put(CF_RAFT_LOG, i.to_be_bytes().to_vec(), &entry);
        }
        store.db().flush_wal(true).unwrap();
        let wal = wal_bytes(dir.path());
        assert!(wal < 120 << 20, "{} MiB of WAL kept", wal >> 20);
        assert_eq!(
            store
                .db()
                .get_cf(&store.cf(CF_RAFT_STATE).unwrap(), b"vote")
                .unwrap(),
            Some(b"1".to_vec())
        );
    }
}
