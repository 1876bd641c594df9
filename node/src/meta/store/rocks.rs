//! The RocksDB engine: the database's options (memory bounds, WAL size, the shared block
//! cache, Bloom filters) and the [`Engine`] traits over it. The only module of the node that
//! names a RocksDB type.

use std::path::Path;
use std::sync::Arc;

use rocksdb::{
    BlockBasedOptions, BoundColumnFamily, Cache, ColumnFamilyDescriptor,
    DBRawIteratorWithThreadMode, DBWithThreadMode, MultiThreaded, Options, SnapshotWithThreadMode,
    WriteBatch, WriteOptions,
};

use super::{all_cfs, Batch, Cursor, Engine, Op, Reader, StoreError, View, CF_RAFT_LOG};

/// The database type.
type Db = DBWithThreadMode<MultiThreaded>;

/// Bytes of the block cache shared by all column families.
const BLOCK_CACHE_BYTES: usize = 32 << 20;

impl From<rocksdb::Error> for StoreError {
    fn from(e: rocksdb::Error) -> Self {
        StoreError::Engine(e.to_string())
    }
}

/// The metadata database in RocksDB.
pub struct RocksEngine {
    db: Arc<Db>,
}

impl RocksEngine {
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
        let cfs = all_cfs().map(|name| {
            let mut o = Options::default();
            o.set_block_based_table_factory(&table);
            o.set_write_buffer_size(if name == CF_RAFT_LOG {
                16 << 20
            } else {
                8 << 20
            });
            ColumnFamilyDescriptor::new(name, o)
        });
        let db = Db::open_cf_descriptors(&opts, dir, cfs)?;
        Ok(RocksEngine { db: Arc::new(db) })
    }

    fn cf(&self, name: &'static str) -> Result<Arc<BoundColumnFamily<'_>>, StoreError> {
        self.db
            .cf_handle(name)
            .ok_or_else(|| StoreError::MissingCf(name.to_owned()))
    }
}

impl Reader for RocksEngine {
    fn get_raw(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .db
            .get_pinned_cf(&self.cf(cf)?, key)?
            .map(|v| v.to_vec()))
    }

    fn cursor(&self, cf: &'static str) -> Result<Box<dyn Cursor + '_>, StoreError> {
        Ok(Box::new(RocksCursor(
            self.db.raw_iterator_cf(&self.cf(cf)?),
        )))
    }
}

impl Engine for RocksEngine {
    fn write(&self, batch: Batch, sync: bool) -> Result<(), StoreError> {
        let mut b = WriteBatch::default();
        for op in batch.ops() {
            match op {
                Op::Put(cf, k, v) => b.put_cf(&self.cf(cf)?, k, v),
                Op::Delete(cf, k) => b.delete_cf(&self.cf(cf)?, k),
                Op::DeleteRange(cf, from, to) => b.delete_range_cf(&self.cf(cf)?, from, to),
            }
        }
        let mut wo = WriteOptions::default();
        wo.set_sync(sync);
        self.db.write_opt(b, &wo)?;
        Ok(())
    }

    fn view(&self) -> Box<dyn View + '_> {
        Box::new(RocksView {
            engine: self,
            snap: self.db.snapshot(),
        })
    }

    fn flush_wal(&self) -> Result<(), StoreError> {
        self.db.flush_wal(true)?;
        Ok(())
    }
}

/// A RocksDB snapshot.
struct RocksView<'a> {
    engine: &'a RocksEngine,
    snap: SnapshotWithThreadMode<'a, Db>,
}

impl Reader for RocksView<'_> {
    fn get_raw(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.snap.get_cf(&self.engine.cf(cf)?, key)?)
    }

    fn cursor(&self, cf: &'static str) -> Result<Box<dyn Cursor + '_>, StoreError> {
        Ok(Box::new(RocksCursor(
            self.snap.raw_iterator_cf(&self.engine.cf(cf)?),
        )))
    }
}

impl View for RocksView<'_> {}

/// A RocksDB raw iterator.
struct RocksCursor<'a>(DBRawIteratorWithThreadMode<'a, Db>);

impl Cursor for RocksCursor<'_> {
    fn seek(&mut self, key: &[u8]) {
        self.0.seek(key);
    }
    fn seek_to_first(&mut self) {
        self.0.seek_to_first();
    }
    fn seek_to_last(&mut self) {
        self.0.seek_to_last();
    }
    fn valid(&self) -> bool {
        self.0.valid()
    }
    fn key(&self) -> Option<&[u8]> {
        self.0.key()
    }
    fn value(&self) -> Option<&[u8]> {
        self.0.value()
    }
    fn next(&mut self) {
        self.0.next();
    }
    fn status(&self) -> Result<(), StoreError> {
        Ok(self.0.status()?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::meta::store::{CF_OBJECTS, CF_RAFT_STATE};

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
        let store = RocksEngine::open(dir.path()).unwrap();
        let mut b = Batch::default();
        for i in 0u32..1000 {
            b.put(CF_OBJECTS, i.to_be_bytes(), b"v".to_vec());
        }
        store.write(b, false).unwrap();
        let cf = store.cf(CF_OBJECTS).unwrap();
        store.db.flush_cf(&cf).unwrap();
        let props = store
            .db
            .property_value_cf(&cf, "rocksdb.aggregated-table-properties")
            .unwrap()
            .unwrap();
        assert!(props.contains("# entries for filter=1000;"), "{props}");
    }

    #[test]
    fn a_rarely_written_family_does_not_pin_old_wal_files() {
        let dir = tempfile::tempdir().unwrap();
        let store = RocksEngine::open(dir.path()).unwrap();
        let put = |cf: &'static str, key: Vec<u8>, value: &[u8]| {
            let mut b = Batch::default();
            b.put(cf, key, value.to_vec());
            store.write(b, false).unwrap();
        };
        // One small write where the Raft vote lives, then 200 MiB of log entries.
        put(CF_RAFT_STATE, b"vote".to_vec(), b"1");
        let entry = vec![7u8; 1 << 20];
        for i in 0u64..200 {
            put(CF_RAFT_LOG, i.to_be_bytes().to_vec(), &entry);
        }
        store.flush_wal().unwrap();
        let wal = wal_bytes(dir.path());
        assert!(wal < 120 << 20, "{} MiB of WAL kept", wal >> 20);
        assert_eq!(
            store.get_raw(CF_RAFT_STATE, b"vote").unwrap(),
            Some(b"1".to_vec())
        );
    }
}
