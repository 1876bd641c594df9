//! Metadata replication through openraft: the type configuration, the RocksDB log store, the
//! RocksDB state machine (data and last-applied index in one write batch), and the network
//! that carries Raft messages over the internal RPC.

// openraft's trait signatures fix the error type (`StorageError`, 224 bytes); our helpers
// return it too rather than converting at every call.
#![allow(clippy::result_large_err)]

pub mod batch;
pub mod log_store;
pub mod network;
pub mod read_index;
pub mod schedule;
pub mod state_machine;

use coffer_proto::meta::{MetaCommand, MetaOk};
use coffer_proto::ProtoError;
use openraft::error::{ClientWriteError, RaftError};

/// Node ids are small integers.
pub type NodeId = u64;

/// What applying one command returns.
pub type MetaResult = Result<MetaOk, ProtoError>;

/// What applying one Raft log entry returns: one result per command it carries (one for a
/// plain command, a blank or a membership entry; one per command of a
/// [`MetaCommand::Batch`], in order).
pub type EntryResults = Vec<MetaResult>;

openraft::declare_raft_types!(
    /// Coffer's Raft type configuration.
    pub TypeConfig:
        D = MetaCommand,
        R = EntryResults,
        NodeId = NodeId,
        Node = openraft::BasicNode,
        SnapshotData = tokio::fs::File,
);

/// The Raft handle.
pub type Raft = openraft::Raft<TypeConfig>;

pub(crate) fn io_err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

/// A failed client write (a proposal or a membership change) as the RPC answers it.
pub(crate) fn write_err(
    e: RaftError<NodeId, ClientWriteError<NodeId, openraft::BasicNode>>,
) -> ProtoError {
    match e {
        RaftError::APIError(ClientWriteError::ForwardToLeader(f)) => {
            ProtoError::NotLeader(f.leader_node.map(|n| n.addr))
        }
        RaftError::APIError(ClientWriteError::ChangeMembershipError(c)) => {
            ProtoError::Internal(c.to_string())
        }
        RaftError::Fatal(f) => ProtoError::RaftStopped(f.to_string()),
    }
}

#[cfg(test)]
mod batch_story;

#[cfg(test)]
mod suite {
    #![allow(clippy::unwrap_used)]
    use openraft::testing::{StoreBuilder, Suite};
    use openraft::StorageError;

    use super::log_store::LogStore;
    use super::state_machine::StateMachine;
    use super::{NodeId, TypeConfig};
    use crate::meta::MetaStore;

    struct Rocks;

    impl StoreBuilder<TypeConfig, LogStore, StateMachine, tempfile::TempDir> for Rocks {
        async fn build(
            &self,
        ) -> Result<(tempfile::TempDir, LogStore, StateMachine), StorageError<NodeId>> {
            let dir = tempfile::tempdir()
                .map_err(|e| StorageError::from(openraft::StorageIOError::write(&e)))?;
            let store = MetaStore::open(dir.path()).map_err(|e| {
                StorageError::from(openraft::StorageIOError::write(&super::io_err(e)))
            })?;
            let sm = StateMachine::new(store.clone(), dir.path().join("snapshots"))
                .map_err(|e| StorageError::from(openraft::StorageIOError::write(&e)))?;
            let log = LogStore::new(store, Default::default())
                .map_err(|e| StorageError::from(openraft::StorageIOError::write(&e)))?;
            Ok((dir, log, sm))
        }
    }

    /// openraft's own conformance suite for log stores and state machines.
    #[test]
    fn openraft_storage_suite() {
        Suite::test_all(Rocks).unwrap();
    }
}

#[cfg(test)]
mod snapshot_story {
    #![allow(clippy::unwrap_used)]
    use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaQuery, WritePrecondition};
    use coffer_proto::types::ObjectData;
    use openraft::storage::RaftStateMachine;
    use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId, RaftSnapshotBuilder};

    use super::state_machine::StateMachine;
    use super::TypeConfig;
    use crate::meta::{query, MetaStore};

    fn entry(index: u64, cmd: MetaCommand) -> Entry<TypeConfig> {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 1), index),
            payload: EntryPayload::Normal(cmd),
        }
    }

    #[tokio::test]
    async fn a_snapshot_file_rebuilds_the_state_elsewhere() {
        let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let a = MetaStore::open(&da.path().join("m")).unwrap();
        let mut sm_a = StateMachine::new(a.clone(), da.path().join("s")).unwrap();
        let mut entries = vec![entry(
            1,
            MetaCommand::CreateBucket {
                name: "b".into(),
                owner: "o".into(),
                location: String::new(),
                now_ms: 1,
            },
        )];
        for i in 0..500u64 {
            let version = crate::meta::tests::version(
                &format!("k{i:04}"),
                ObjectData::Inline(bytes::Bytes::from(vec![7u8; 3000])),
            );
            entries.push(entry(
                i + 2,
                MetaCommand::PutObject {
                    bucket_id: 1,
                    version,
                    precondition: WritePrecondition::None,
                },
            ));
        }
        sm_a.apply(entries).await.unwrap();
        let snap = sm_a.build_snapshot().await.unwrap();
        assert_eq!(snap.meta.last_log_id.map(|l| l.index), Some(501));

        let b = MetaStore::open(&db.path().join("m")).unwrap();
        let mut sm_b = StateMachine::new(b.clone(), db.path().join("s")).unwrap();
        sm_b.install_snapshot(&snap.meta, snap.snapshot)
            .await
            .unwrap();
        let (applied, _) = sm_b.applied_state().await.unwrap();
        assert_eq!(applied.map(|l| l.index), Some(501));
        let q = MetaQuery::GetObject {
            bucket_id: 1,
            key: "k0499".into(),
        };
        match query::answer(&b, &q).unwrap() {
            MetaAnswer::Object(Some(v)) => assert_eq!(v.key, "k0499"),
            other => panic!("{other:?}"),
        }
        // The installed snapshot is also B's current one, readable after a restart.
        let cur = sm_b.get_current_snapshot().await.unwrap().unwrap();
        assert_eq!(cur.meta.snapshot_id, snap.meta.snapshot_id);
        drop(sm_b);
        let again = StateMachine::new(b, db.path().join("s")).unwrap();
        let mut again = again;
        assert!(again.get_current_snapshot().await.unwrap().is_some());
    }
}
