//! Batch entries in the state machine: their commands apply in order, each seeing the ones
//! before it, and an entry cut short by a crash resumes where it stopped instead of applying
//! its first commands twice.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery, WritePrecondition};
use coffer_proto::types::ObjectData;
use coffer_proto::ProtoError;
use openraft::storage::RaftStateMachine;
use openraft::{CommittedLeaderId, Entry, EntryPayload, LogId};

use super::state_machine::StateMachine;
use super::TypeConfig;
use crate::meta::tests::{blob, version};
use crate::meta::{query, MetaStore};

fn log_id(index: u64) -> LogId<u64> {
    LogId::new(CommittedLeaderId::new(1, 1), index)
}

fn entry(index: u64, cmd: MetaCommand) -> Entry<TypeConfig> {
    Entry {
        log_id: log_id(index),
        payload: EntryPayload::Normal(cmd),
    }
}

/// PUT `key` whose data is blob `n`.
fn put(key: &str, n: u8, precondition: WritePrecondition) -> MetaCommand {
    MetaCommand::PutObject {
        bucket_id: 1,
        version: version(key, ObjectData::Blobs(vec![blob(n)])),
        precondition,
    }
}

/// The first byte of each blob id queued for deletion, sorted.
fn queued(store: &MetaStore) -> Vec<u8> {
    match query::answer(store, &MetaQuery::PendingGc { max: 100 }).unwrap() {
        MetaAnswer::Gc(blobs) => {
            let mut ids: Vec<u8> = blobs.iter().map(|b| b.id[0]).collect();
            ids.sort_unstable();
            ids
        }
        other => panic!("{other:?}"),
    }
}

/// The blob id (first byte) of `key`'s data.
fn data_of(store: &MetaStore, key: &str) -> u8 {
    let q = MetaQuery::GetObject {
        bucket_id: 1,
        key: key.into(),
    };
    match query::answer(store, &q).unwrap() {
        MetaAnswer::Object(Some(v)) => v.data.blobs()[0].id[0],
        other => panic!("{key}: {other:?}"),
    }
}

async fn applied(sm: &mut StateMachine) -> Option<u64> {
    sm.applied_state().await.unwrap().0.map(|l| l.index)
}

#[tokio::test]
async fn a_batch_applies_in_order_and_resumes_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetaStore::open(&dir.path().join("m")).unwrap();
    let mut sm = StateMachine::new(store.clone(), dir.path().join("s")).unwrap();
    let create = MetaCommand::CreateBucket {
        name: "b".into(),
        owner: "o".into(),
        location: String::new(),
        now_ms: 1,
    };
    sm.apply([entry(1, create)]).await.unwrap();

    // The second PUT sees the first: "a" exists, so If-None-Match: * is refused, and the
    // refused PUT's blob is queued for deletion.
    let cmds = vec![
        put("a", 1, WritePrecondition::None),
        put("a", 2, WritePrecondition::MustNotExist),
        put("b", 3, WritePrecondition::None),
    ];
    let results = sm
        .apply([entry(2, MetaCommand::Batch(cmds))])
        .await
        .unwrap();
    assert_eq!(results.len(), 1);
    let r = &results[0];
    assert_eq!(r.len(), 3, "{r:?}");
    assert_eq!(r[0], Ok(MetaOk::Done), "{r:?}");
    assert_eq!(r[1], Err(ProtoError::PreconditionFailed));
    assert_eq!(r[2], Ok(MetaOk::Done), "{r:?}");
    assert_eq!((data_of(&store, "a"), data_of(&store, "b")), (1, 3));
    assert_eq!(queued(&store), vec![2]);
    assert_eq!(applied(&mut sm).await, Some(2));

    // A crash after the first two commands of entry 3 were written: last-applied is still 2,
    // so the whole entry is applied again after the restart.
    let cmds = vec![
        put("c", 4, WritePrecondition::None),
        put("a", 5, WritePrecondition::None),
        put("d", 6, WritePrecondition::None),
    ];
    sm.apply_command(log_id(3), 0, 3, &cmds[0])
        .unwrap()
        .unwrap();
    sm.apply_command(log_id(3), 1, 3, &cmds[1])
        .unwrap()
        .unwrap();
    assert_eq!(applied(&mut sm).await, Some(2));
    drop(sm);
    let mut sm = StateMachine::new(store.clone(), dir.path().join("s")).unwrap();
    sm.apply([entry(3, MetaCommand::Batch(cmds))])
        .await
        .unwrap();
    assert_eq!(applied(&mut sm).await, Some(3));
    // Applied again, "c" and "a" would each have replaced themselves and queued their own
    // blobs (4 and 5) for deletion. Only blob 1, which "a" replaced once, is queued.
    assert_eq!(queued(&store), vec![1, 2]);
    assert_eq!(
        (
            data_of(&store, "a"),
            data_of(&store, "c"),
            data_of(&store, "d")
        ),
        (5, 4, 6)
    );

    // The next batch entry starts from its first command.
    let cmds = vec![
        put("e", 7, WritePrecondition::None),
        put("f", 8, WritePrecondition::None),
    ];
    let results = sm
        .apply([entry(4, MetaCommand::Batch(cmds))])
        .await
        .unwrap();
    assert!(results[0].iter().all(Result::is_ok), "{results:?}");
    assert_eq!((data_of(&store, "e"), data_of(&store, "f")), (7, 8));
}

#[tokio::test]
async fn batches_do_not_nest() {
    let dir = tempfile::tempdir().unwrap();
    let store = MetaStore::open(&dir.path().join("m")).unwrap();
    let mut sm = StateMachine::new(store, dir.path().join("s")).unwrap();
    let inner = MetaCommand::Batch(vec![put("a", 1, WritePrecondition::None)]);
    let results = sm
        .apply([entry(1, MetaCommand::Batch(vec![inner]))])
        .await
        .unwrap();
    assert!(
        matches!(results[0][..], [Err(ProtoError::MisplacedCommand(_))]),
        "{results:?}"
    );
}

#[test]
fn only_object_writes_are_batched() {
    use crate::meta::apply::batchable;
    let create = MetaCommand::CreateBucket {
        name: "b".into(),
        owner: "o".into(),
        location: String::new(),
        now_ms: 1,
    };
    // CreateBucket takes its entry's index as the bucket id: two in one entry would collide.
    assert!(!batchable(&create.clone().once()));
    assert!(!batchable(&MetaCommand::WithBucketConfig {
        configs: vec![],
        cmd: Box::new(create),
    }));
    let put = put("a", 1, WritePrecondition::None);
    assert!(batchable(&put.clone().once()));
    let with_acl = MetaCommand::WithAcl {
        acl: "{}".into(),
        cmd: Box::new(put),
    };
    assert!(batchable(&with_acl.once()));
    assert!(!batchable(&MetaCommand::Batch(vec![]).once()));
}
