//! An [`Engine`] in memory: one ordered map per column family. Unit tests of the state
//! machine's logic run on it, so they test the logic, not RocksDB; a test of the two engines
//! side by side keeps them answering alike.

use std::collections::BTreeMap;
use std::sync::{PoisonError, RwLock};

use super::{Batch, Cursor, Engine, Op, Reader, StoreError, View};

/// Every column family's keys and values.
type Tables = BTreeMap<&'static str, BTreeMap<Vec<u8>, Vec<u8>>>;

/// The metadata database in memory.
#[derive(Default)]
pub struct MemEngine {
    tables: RwLock<Tables>,
}

impl MemEngine {
    fn read<R>(&self, f: impl FnOnce(&Tables) -> R) -> R {
        f(&self.tables.read().unwrap_or_else(PoisonError::into_inner))
    }
}

/// A cursor over a copy of one column family.
struct MemCursor {
    entries: Vec<(Vec<u8>, Vec<u8>)>,
    at: usize,
}

impl MemCursor {
    fn of(tables: &Tables, cf: &'static str) -> MemCursor {
        let entries = tables
            .get(cf)
            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default();
        MemCursor {
            entries,
            at: usize::MAX,
        }
    }
}

impl Cursor for MemCursor {
    fn seek(&mut self, key: &[u8]) {
        self.at = self.entries.partition_point(|(k, _)| k.as_slice() < key);
    }
    fn seek_to_first(&mut self) {
        self.at = 0;
    }
    fn seek_to_last(&mut self) {
        self.at = self.entries.len().checked_sub(1).unwrap_or(usize::MAX);
    }
    fn valid(&self) -> bool {
        self.at < self.entries.len()
    }
    fn key(&self) -> Option<&[u8]> {
        self.entries.get(self.at).map(|(k, _)| k.as_slice())
    }
    fn value(&self) -> Option<&[u8]> {
        self.entries.get(self.at).map(|(_, v)| v.as_slice())
    }
    fn next(&mut self) {
        if self.valid() {
            self.at += 1;
        }
    }
    fn status(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

fn get(tables: &Tables, cf: &'static str, key: &[u8]) -> Option<Vec<u8>> {
    tables.get(cf).and_then(|t| t.get(key)).cloned()
}

impl Reader for MemEngine {
    fn get_raw(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.read(|t| get(t, cf, key)))
    }

    fn cursor(&self, cf: &'static str) -> Result<Box<dyn Cursor + '_>, StoreError> {
        Ok(Box::new(self.read(|t| MemCursor::of(t, cf))))
    }
}

impl Engine for MemEngine {
    fn write(&self, batch: Batch, _sync: bool) -> Result<(), StoreError> {
        let mut tables = self.tables.write().unwrap_or_else(PoisonError::into_inner);
        for op in batch.ops() {
            match op {
                Op::Put(cf, k, v) => {
                    tables.entry(cf).or_default().insert(k.clone(), v.clone());
                }
                Op::Delete(cf, k) => {
                    tables.entry(cf).or_default().remove(k);
                }
                Op::DeleteRange(cf, from, to) => {
                    let t = tables.entry(cf).or_default();
                    let doomed: Vec<Vec<u8>> = t
                        .range(from.clone()..to.clone())
                        .map(|(k, _)| k.clone())
                        .collect();
                    for k in doomed {
                        t.remove(&k);
                    }
                }
            }
        }
        Ok(())
    }

    fn view(&self) -> Box<dyn View + '_> {
        Box::new(MemView(self.read(Clone::clone)))
    }

    fn flush_wal(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

/// A copy of the tables.
struct MemView(Tables);

impl Reader for MemView {
    fn get_raw(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(get(&self.0, cf, key))
    }

    fn cursor(&self, cf: &'static str) -> Result<Box<dyn Cursor + '_>, StoreError> {
        Ok(Box::new(MemCursor::of(&self.0, cf)))
    }
}

impl View for MemView {}
