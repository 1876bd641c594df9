//! The Raft log in RocksDB: entries keyed by big-endian index in `raft_log`; vote, committed
//! and last-purged ids in `raft_state`. Appends and votes are fsynced before they are
//! reported done.

use std::fmt::Debug;
use std::ops::{Bound, RangeBounds};

use crate::meta::store::Batch;
use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{Entry, LogId, OptionalSend, StorageError, StorageIOError, Vote};

use super::schedule::LogBytes;
use super::{io_err, NodeId, TypeConfig};
use crate::group_commit::GroupWorker;
use crate::meta::format::{decode, encode, Committed, Stored};
use crate::meta::store::{MetaStore, CF_RAFT_LOG, CF_RAFT_STATE};

const KEY_VOTE: &[u8] = b"vote";
const KEY_COMMITTED: &[u8] = b"committed";
const KEY_PURGED: &[u8] = b"last_purged";

/// The log store (cheap to clone: it shares the database and the flusher).
#[derive(Clone)]
pub struct LogStore {
    store: MetaStore,
    flusher: std::sync::Arc<GroupWorker<LogFlushed<TypeConfig>>>,
    /// Bytes appended, for the snapshot schedule.
    appended: LogBytes,
}

/// Group commit: appended entries are written at once (visible, not yet durable) and their
/// callbacks queued on the flusher; its thread syncs the WAL once for everything queued since
/// its last sync, then reports each batch durable, in order. Raft's core never waits on an
/// fsync.
fn start_flusher(store: MetaStore) -> std::io::Result<GroupWorker<LogFlushed<TypeConfig>>> {
    GroupWorker::spawn(
        "raft-log-sync",
        move |waiting: Vec<LogFlushed<TypeConfig>>| {
            let res = store.flush_wal().map_err(|e| e.to_string());
            for cb in waiting {
                cb.log_io_completed(res.clone().map_err(io_err));
            }
        },
    )
}

type SResult<T> = Result<T, StorageError<NodeId>>;

fn read_err(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::read_logs(&io_err(e)).into()
}
fn write_err(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::write_logs(&io_err(e)).into()
}

impl LogStore {
    /// A log store over `store` (starts its WAL sync thread), counting the bytes it appends
    /// in `appended`.
    pub fn new(store: MetaStore, appended: LogBytes) -> std::io::Result<Self> {
        let flusher = std::sync::Arc::new(start_flusher(store.clone())?);
        Ok(LogStore {
            store,
            flusher,
            appended,
        })
    }

    fn get_state<T: Stored>(&self, key: &[u8]) -> SResult<Option<T>> {
        self.store.get(CF_RAFT_STATE, key).map_err(read_err)
    }

    fn put_state<T: Stored>(&self, key: &[u8], value: &T, sync: bool) -> SResult<()> {
        let mut b = Batch::default();
        b.put(CF_RAFT_STATE, key, encode(value));
        self.store.write(b, sync).map_err(write_err)
    }

    fn last_log_id(&self) -> SResult<Option<LogId<NodeId>>> {
        let mut it = self.store.raw_iter(CF_RAFT_LOG).map_err(read_err)?;
        it.seek_to_last();
        let last = match it.value() {
            Some(v) => Some(decode::<Entry<TypeConfig>>(v).map_err(read_err)?.log_id),
            None => None,
        };
        it.status().map_err(read_err)?;
        Ok(last)
    }
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> SResult<Vec<Entry<TypeConfig>>> {
        let start = match range.start_bound() {
            Bound::Included(i) => *i,
            Bound::Excluded(i) => i.saturating_add(1),
            Bound::Unbounded => 0,
        };
        let mut it = self.store.raw_iter(CF_RAFT_LOG).map_err(read_err)?;
        it.seek(&start.to_be_bytes());
        let mut out = Vec::new();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            let idx = u64::from_be_bytes(k.try_into().map_err(read_err_bad_key)?);
            if !range.contains(&idx) {
                break;
            }
            out.push(decode(v).map_err(read_err)?);
            it.next();
        }
        it.status().map_err(read_err)?;
        Ok(out)
    }
}

fn read_err_bad_key(_: std::array::TryFromSliceError) -> StorageError<NodeId> {
    read_err("log key is not 8 bytes")
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> SResult<LogState<TypeConfig>> {
        let last_purged: Option<LogId<NodeId>> = self.get_state(KEY_PURGED)?;
        let last = self.last_log_id()?.or(last_purged);
        Ok(LogState {
            last_purged_log_id: last_purged,
            last_log_id: last,
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &Vote<NodeId>) -> SResult<()> {
        // The vote must be durable before we answer: a node must never vote twice in a term.
        self.put_state(KEY_VOTE, vote, true)
            .map_err(|_| StorageIOError::write_vote(&io_err("save vote")).into())
    }

    async fn read_vote(&mut self) -> SResult<Option<Vote<NodeId>>> {
        self.get_state(KEY_VOTE)
    }

    async fn save_committed(&mut self, committed: Option<LogId<NodeId>>) -> SResult<()> {
        // Not required for safety: saved without fsync to shorten replay after a restart.
        self.put_state(KEY_COMMITTED, &committed, false)
    }

    async fn read_committed(&mut self) -> SResult<Option<LogId<NodeId>>> {
        Ok(self.get_state::<Committed>(KEY_COMMITTED)?.flatten())
    }

    async fn append<I>(&mut self, entries: I, callback: LogFlushed<TypeConfig>) -> SResult<()>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut b = Batch::default();
        for e in entries {
            let value = encode(&e);
            self.appended.add(value.len());
            b.put(CF_RAFT_LOG, e.log_id.index.to_be_bytes(), value);
        }
        // Visible now; durable once the flusher has synced the WAL, which then reports it.
        if let Err(e) = self.store.write(b, false) {
            callback.log_io_completed(Err(io_err(&e)));
            return Err(write_err(e));
        }
        if let Err(callback) = self.flusher.submit(callback) {
            callback.log_io_completed(Err(io_err("log flusher stopped")));
            return Err(write_err("log flusher stopped"));
        }
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId<NodeId>) -> SResult<()> {
        let mut b = Batch::default();
        b.delete_range(
            CF_RAFT_LOG,
            log_id.index.to_be_bytes(),
            u64::MAX.to_be_bytes(),
        );
        b.delete(CF_RAFT_LOG, u64::MAX.to_be_bytes());
        self.store.write(b, true).map_err(write_err)
    }

    async fn purge(&mut self, log_id: LogId<NodeId>) -> SResult<()> {
        let mut b = Batch::default();
        b.put(CF_RAFT_STATE, KEY_PURGED, encode(&log_id));
        b.delete_range(
            CF_RAFT_LOG,
            0u64.to_be_bytes(),
            log_id.index.saturating_add(1).to_be_bytes(),
        );
        self.store.write(b, true).map_err(write_err)
    }
}
