//! The metadata state machine over the metadata store. Each log entry is applied as one
//! atomic write (`store::Batch`) carrying both its data changes and the new last-applied log
//! id, so a crash can never leave the two out of step. Snapshots stream a consistent view of
//! the data column families into a file, so building one needs memory for one record at a
//! time.
//!
//! A [`MetaCommand::Batch`] entry is applied one command at a time, since each must see the
//! ones before it: each command's write also records how many of the entry's commands
//! are applied (`partial`), and the last one advances last-applied instead. Replayed after a
//! crash, the entry skips the commands already applied. Snapshots are taken between entries,
//! never inside a batch.
//!
//! # Snapshot file format (`<snapshot dir>/current.snap`, replaced by atomic rename)
//! ```text
//! "CFSN" | version u8 = 1 | meta_len u32 LE | SnapshotMeta (versioned codec)
//! records: cf index u8 | key_len u32 LE | key | value_len u32 LE | value
//! ```

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use crate::meta::store::Batch;
use coffer_proto::meta::{MetaCommand, MetaOk};
use coffer_proto::ProtoError;
use openraft::storage::{RaftStateMachine, Snapshot};
use openraft::{
    BasicNode, Entry, EntryPayload, LogId, OptionalSend, RaftSnapshotBuilder, SnapshotMeta,
    StorageError, StorageIOError, StoredMembership,
};

use super::{io_err, EntryResults, MetaResult, NodeId, TypeConfig};
use crate::meta::apply;
use crate::meta::format::{self, decode, encode};
use crate::meta::store::{MetaStore, StoreError, CF_SM_STATE, SM_DATA_CFS};

const KEY_APPLIED: &[u8] = b"last_applied";
const KEY_MEMBERSHIP: &[u8] = b"membership";
/// While a batch entry is being applied: its log id and how many of its commands are done.
const KEY_PARTIAL: &[u8] = b"partial";
const SNAP_MAGIC: &[u8; 4] = b"CFSN";
const SNAP_VERSION: u8 = 1;
const CURRENT: &str = "current.snap";

type SResult<T> = Result<T, StorageError<NodeId>>;
type Membership = StoredMembership<NodeId, BasicNode>;
type Meta = SnapshotMeta<NodeId, BasicNode>;
type Partial = (LogId<NodeId>, u64);

fn sm_read(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::read_state_machine(&io_err(e)).into()
}
fn sm_write(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::write_state_machine(&io_err(e)).into()
}
fn snap_err(e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::write_snapshot(None, &io_err(e)).into()
}

/// The state machine (cheap to clone).
#[derive(Clone)]
pub struct StateMachine {
    store: MetaStore,
    snap_dir: PathBuf,
    /// Held while an entry is applied, and while a snapshot picks its point in time, so that
    /// a snapshot never holds part of a batch.
    entry_gate: std::sync::Arc<std::sync::Mutex<()>>,
}

/// Bytes of snapshot written between two syncs of its file.
const SNAP_SYNC_EVERY: usize = 4 << 20;

fn write_u32(w: &mut impl Write, n: usize) -> std::io::Result<()> {
    let n = u32::try_from(n).map_err(std::io::Error::other)?;
    w.write_all(&n.to_le_bytes())
}

fn read_u32(r: &mut impl Read) -> std::io::Result<usize> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b) as usize)
}

fn read_exact_vec(r: &mut impl Read, n: usize) -> std::io::Result<Vec<u8>> {
    let mut v = vec![0u8; n];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// Read a snapshot file's header; the reader is left at the first record.
fn read_header(r: &mut impl Read) -> std::io::Result<Meta> {
    let mut magic = [0u8; 5];
    r.read_exact(&mut magic)?;
    if &magic[..4] != SNAP_MAGIC || magic[4] != SNAP_VERSION {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a coffer snapshot",
        ));
    }
    let len = read_u32(r)?;
    let meta = read_exact_vec(r, len)?;
    decode(&meta).map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

impl StateMachine {
    /// A state machine over `store`, keeping snapshot files in `snap_dir`.
    pub fn new(store: MetaStore, snap_dir: PathBuf) -> std::io::Result<Self> {
        std::fs::create_dir_all(&snap_dir)?;
        // Leftovers of interrupted builds or transfers.
        for e in std::fs::read_dir(&snap_dir)?.flatten() {
            if e.path().extension().is_some_and(|x| x == "tmp") {
                let _ = std::fs::remove_file(e.path());
            }
        }
        Ok(StateMachine {
            store,
            snap_dir,
            entry_gate: Default::default(),
        })
    }

    /// The file holding the current snapshot (absent until the first one).
    pub fn current_file(&self) -> PathBuf {
        self.snap_dir.join(CURRENT)
    }

    fn applied(&self) -> SResult<(Option<LogId<NodeId>>, Membership)> {
        let applied = self
            .store
            .get::<LogId<NodeId>>(CF_SM_STATE, KEY_APPLIED)
            .map_err(sm_read)?;
        let membership = self
            .store
            .get::<Membership>(CF_SM_STATE, KEY_MEMBERSHIP)
            .map_err(sm_read)?
            .unwrap_or_default();
        Ok((applied, membership))
    }

    fn gate(&self) -> std::sync::MutexGuard<'_, ()> {
        // The gate guards no data: a panic while it was held leaves nothing to repair.
        self.entry_gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn apply_one(&self, entry: &Entry<TypeConfig>) -> SResult<EntryResults> {
        let _gate = self.gate();
        match &entry.payload {
            EntryPayload::Normal(MetaCommand::Batch(cmds)) if !cmds.is_empty() => {
                return self.apply_batch(entry.log_id, cmds);
            }
            EntryPayload::Normal(cmd) => {
                return Ok(vec![self.apply_command(entry.log_id, 0, 1, cmd)?]);
            }
            EntryPayload::Blank | EntryPayload::Membership(_) => {}
        }
        let mut batch = Batch::default();
        if let EntryPayload::Membership(m) = &entry.payload {
            batch.put(
                CF_SM_STATE,
                KEY_MEMBERSHIP,
                encode(&Membership::new(Some(entry.log_id), m.clone())),
            );
        }
        batch.put(CF_SM_STATE, KEY_APPLIED, encode(&entry.log_id));
        self.store.write(batch, false).map_err(sm_write)?;
        Ok(vec![Ok(MetaOk::Done)])
    }

    /// Apply a batch entry's commands in order, each in its own write that also records the
    /// progress; after a crash the entry resumes after the last command written.
    fn apply_batch(&self, log_id: LogId<NodeId>, cmds: &[MetaCommand]) -> SResult<EntryResults> {
        let done = match self
            .store
            .get::<Partial>(CF_SM_STATE, KEY_PARTIAL)
            .map_err(sm_read)?
        {
            Some((l, n)) if l == log_id => usize::try_from(n).unwrap_or(usize::MAX),
            _ => 0,
        };
        let mut results = Vec::with_capacity(cmds.len());
        for (i, cmd) in cmds.iter().enumerate() {
            results.push(if i < done {
                // Applied before the restart; nobody is waiting for its answer any more.
                Err(ProtoError::Internal(
                    "applied before the node restarted".into(),
                ))
            } else {
                self.apply_command(log_id, i, cmds.len(), cmd)?
            });
        }
        Ok(results)
    }

    /// Apply command `i` of the `n` that entry `log_id` carries (a plain entry carries one):
    /// its writes and the entry's progress in one write batch, the last command advancing
    /// last-applied instead.
    pub(super) fn apply_command(
        &self,
        log_id: LogId<NodeId>,
        i: usize,
        n: usize,
        cmd: &MetaCommand,
    ) -> SResult<MetaResult> {
        let stamp = coffer_proto::version_id::Stamp {
            index: log_id.index,
            pos: u32::try_from(i).unwrap_or(u32::MAX),
        };
        let a = apply::apply(&self.store, stamp, cmd).map_err(|e| apply_err(log_id, e))?;
        let mut batch = a.batch;
        if i + 1 >= n {
            batch.put(CF_SM_STATE, KEY_APPLIED, encode(&log_id));
            if n > 1 {
                batch.delete(CF_SM_STATE, KEY_PARTIAL);
            }
        } else {
            batch.put(CF_SM_STATE, KEY_PARTIAL, encode(&(log_id, i as u64 + 1)));
        }
        // Not synced: the Raft log is, and entries after last_applied are replayed on restart.
        self.store.write(batch, false).map_err(sm_write)?;
        Ok(a.result)
    }

    /// Stream a consistent snapshot into `current.snap` (blocking).
    fn build(&self) -> SResult<Meta> {
        // Everything applied so far must be on disk before logs it covers may be purged.
        self.store.flush_wal().map_err(sm_read)?;
        let snap = {
            let _gate = self.gate();
            self.store.view()
        };
        let applied: Option<LogId<NodeId>> = snap
            .get_raw(CF_SM_STATE, KEY_APPLIED)
            .map_err(sm_read)?
            .map(|v| decode(&v))
            .transpose()
            .map_err(sm_read)?;
        let membership: Membership = snap
            .get_raw(CF_SM_STATE, KEY_MEMBERSHIP)
            .map_err(sm_read)?
            .map(|v| decode(&v))
            .transpose()
            .map_err(sm_read)?
            .unwrap_or_default();
        let id = match applied {
            Some(l) => format!(
                "{}-{}-{:08x}",
                l.leader_id.term,
                l.index,
                rand::random::<u32>()
            ),
            None => format!("empty-{:08x}", rand::random::<u32>()),
        };
        let meta = Meta {
            last_log_id: applied,
            last_membership: membership,
            snapshot_id: id,
        };
        let tmp = self
            .snap_dir
            .join(format!("build-{:08x}.tmp", rand::random::<u32>()));
        let file = File::create(&tmp).map_err(snap_err)?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        let header = encode(&meta);
        (|| -> std::io::Result<()> {
            w.write_all(SNAP_MAGIC)?;
            w.write_all(&[SNAP_VERSION])?;
            write_u32(&mut w, header.len())?;
            w.write_all(&header)
        })()
        .map_err(snap_err)?;
        let mut unsynced = 0usize;
        for (i, name) in SM_DATA_CFS.iter().enumerate() {
            let mut it = snap.cursor(name).map_err(sm_read)?;
            it.seek_to_first();
            while let (Some(k), Some(v)) = (it.key(), it.value()) {
                (|| -> std::io::Result<()> {
                    w.write_all(&[i as u8])?;
                    write_u32(&mut w, k.len())?;
                    w.write_all(k)?;
                    write_u32(&mut w, v.len())?;
                    w.write_all(v)
                })()
                .map_err(snap_err)?;
                unsynced += 9 + k.len() + v.len();
                if unsynced >= SNAP_SYNC_EVERY {
                    // Written back as it goes: one sync of the whole file at the end would
                    // queue it all at once, and every WAL fsync behind it (the journal
                    // commits in order) would wait for it.
                    w.flush().map_err(snap_err)?;
                    w.get_ref().sync_data().map_err(snap_err)?;
                    unsynced = 0;
                }
                it.next();
            }
            it.status().map_err(sm_read)?;
        }
        let file = w.into_inner().map_err(|e| snap_err(e.error()))?;
        file.sync_all().map_err(snap_err)?;
        std::fs::rename(&tmp, self.snap_dir.join(CURRENT)).map_err(snap_err)?;
        sync_dir(&self.snap_dir).map_err(snap_err)?;
        Ok(meta)
    }

    fn open_current(&self) -> SResult<Option<(Meta, File)>> {
        let path = self.snap_dir.join(CURRENT);
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(sm_read(e)),
        };
        let meta = read_header(&mut BufReader::new(&mut f)).map_err(sm_read)?;
        let f = File::open(&path).map_err(sm_read)?;
        Ok(Some((meta, f)))
    }

    /// Replace the state with a snapshot's (blocking). The whole install is one write batch,
    /// so a crash leaves either the old state or the new one.
    fn install(&self, meta: &Meta, data: Vec<u8>) -> SResult<()> {
        let mut r = &data[..];
        read_header(&mut r).map_err(snap_err)?;
        let mut b = Batch::default();
        for cf in SM_DATA_CFS {
            // Wipe the whole column family (keys are at most a few KiB; 0xff.. bounds them).
            b.delete_range(cf, Vec::<u8>::new(), vec![0xffu8; 4096]);
        }
        while !r.is_empty() {
            let rec = (|| -> std::io::Result<(u8, Vec<u8>, Vec<u8>)> {
                let mut i = [0u8; 1];
                r.read_exact(&mut i)?;
                let kl = read_u32(&mut r)?;
                let k = read_exact_vec(&mut r, kl)?;
                let vl = read_u32(&mut r)?;
                let v = read_exact_vec(&mut r, vl)?;
                Ok((i[0], k, v))
            })()
            .map_err(snap_err)?;
            let name = SM_DATA_CFS
                .get(rec.0 as usize)
                .ok_or_else(|| snap_err("bad snapshot column family"))?;
            // Installed as they are: a record this build cannot read is refused now.
            format::check_value(name, &rec.1, &rec.2).map_err(snap_err)?;
            b.put(name, rec.1, rec.2);
        }
        match &meta.last_log_id {
            Some(l) => b.put(CF_SM_STATE, KEY_APPLIED, encode(l)),
            None => b.delete(CF_SM_STATE, KEY_APPLIED),
        }
        b.put(CF_SM_STATE, KEY_MEMBERSHIP, encode(&meta.last_membership));
        b.delete(CF_SM_STATE, KEY_PARTIAL);
        self.store.write(b, true).map_err(sm_write)?;
        // Keep it as the current snapshot.
        let tmp = self
            .snap_dir
            .join(format!("install-{:08x}.tmp", rand::random::<u32>()));
        std::fs::write(&tmp, &data).map_err(snap_err)?;
        File::open(&tmp)
            .and_then(|f| f.sync_all())
            .map_err(snap_err)?;
        std::fs::rename(&tmp, self.snap_dir.join(CURRENT)).map_err(snap_err)?;
        sync_dir(&self.snap_dir).map_err(snap_err)
    }
}

fn apply_err(log_id: LogId<NodeId>, e: impl std::fmt::Display) -> StorageError<NodeId> {
    StorageIOError::apply(log_id, &io_err(e)).into()
}

fn join_err(e: tokio::task::JoinError) -> StorageError<NodeId> {
    sm_read(e)
}

impl RaftSnapshotBuilder<TypeConfig> for StateMachine {
    async fn build_snapshot(&mut self) -> SResult<Snapshot<TypeConfig>> {
        let sm = self.clone();
        tokio::task::spawn_blocking(move || {
            sm.build()?;
            sm.open_current()
        })
        .await
        .map_err(join_err)??
        .map(|(meta, f)| Snapshot {
            meta,
            snapshot: Box::new(tokio::fs::File::from_std(f)),
        })
        .ok_or_else(|| snap_err("snapshot vanished after it was built"))
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = Self;

    async fn applied_state(&mut self) -> SResult<(Option<LogId<NodeId>>, Membership)> {
        self.applied()
    }

    async fn apply<I>(&mut self, entries: I) -> SResult<Vec<EntryResults>>
    where
        I: IntoIterator<Item = Entry<TypeConfig>> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        entries.into_iter().map(|e| self.apply_one(&e)).collect()
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn begin_receiving_snapshot(&mut self) -> SResult<Box<tokio::fs::File>> {
        let path = self
            .snap_dir
            .join(format!("recv-{:08x}.tmp", rand::random::<u32>()));
        let f = tokio::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .await
            .map_err(snap_err)?;
        Ok(Box::new(f))
    }

    async fn install_snapshot(
        &mut self,
        meta: &Meta,
        snapshot: Box<tokio::fs::File>,
    ) -> SResult<()> {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut f = *snapshot;
        f.seek(std::io::SeekFrom::Start(0))
            .await
            .map_err(snap_err)?;
        let mut data = Vec::new();
        f.read_to_end(&mut data).await.map_err(snap_err)?;
        let (sm, meta) = (self.clone(), meta.clone());
        tokio::task::spawn_blocking(move || sm.install(&meta, data))
            .await
            .map_err(join_err)?
    }

    async fn get_current_snapshot(&mut self) -> SResult<Option<Snapshot<TypeConfig>>> {
        let sm = self.clone();
        let cur = tokio::task::spawn_blocking(move || sm.open_current())
            .await
            .map_err(join_err)??;
        Ok(cur.map(|(meta, f)| Snapshot {
            meta,
            snapshot: Box::new(tokio::fs::File::from_std(f)),
        }))
    }
}

/// The last applied index and a SHA-256 of the whole state machine (every data column family's
/// keys and values, in order), read from one consistent view: nodes that applied the same log
/// have the same digest, which the tests compare across a cluster after faults.
pub fn state_digest(store: &MetaStore) -> Result<(Option<u64>, String), StoreError> {
    use sha2::Digest as _;
    let view = store.view();
    let applied = match view.get_raw(CF_SM_STATE, KEY_APPLIED)? {
        Some(v) => Some(decode::<LogId<NodeId>>(&v)?.index),
        None => None,
    };
    let mut h = sha2::Sha256::new();
    for cf in SM_DATA_CFS {
        h.update(cf.as_bytes());
        let mut it = view.cursor(cf)?;
        it.seek_to_first();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            h.update((k.len() as u64).to_be_bytes());
            h.update(k);
            h.update((v.len() as u64).to_be_bytes());
            h.update(v);
            it.next();
        }
        it.status()?;
    }
    Ok((applied, hex::encode(h.finalize())))
}
