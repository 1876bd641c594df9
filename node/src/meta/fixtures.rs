//! The fixtures (`node/tests/fixtures/vN`: data folders written by earlier stored formats; v1
//! by the first ones, v2 by the last build before versioning, whose object versions are in
//! format 2, v3 by the last build before encryption, object versions in format 3 and uploads
//! in format 1) opened by today's code: every stored value decodes as its kind, the whole Raft
//! log replays into an empty state machine, and its snapshot installs and the log after it
//! replays, both giving exactly the state the old code left.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use coffer_proto::iam::{GroupRecord, KeyRecord, UserRecord};
use coffer_proto::types::{
    count_tags, BlobRef, BucketInfo, NodeInfo, ObjectVersion, PartInfo, UploadInfo,
};
use openraft::storage::{RaftLogReader, RaftLogStorage, RaftStateMachine};

use super::format::{self, Kind};
use super::store::{MetaStore, CF_OBJECTS, CF_TAGS, SM_DATA_CFS};
use crate::raft::log_store::LogStore;
use crate::raft::schedule::LogBytes;
use crate::raft::state_machine::StateMachine;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .join("data/meta")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Every (cf, key, value) of the state machine's families.
fn state(store: &MetaStore) -> BTreeMap<(&'static str, Vec<u8>), Vec<u8>> {
    let mut out = BTreeMap::new();
    for cf in SM_DATA_CFS {
        let mut it = store.raw_iter(cf).unwrap();
        it.seek_to_first();
        while let (Some(k), Some(v)) = (it.key(), it.value()) {
            out.insert((cf, k.to_vec()), v.to_vec());
            it.next();
        }
    }
    out
}

/// `state` with every object version in the current format, counted and unstamped: a record
/// of format version 1 has no tag count, which a read takes from the version's tag set (the
/// conversion [`crate::meta::acls::tag_count_of`] makes); the same is done here. It has no
/// stamp either, which only orders a key's versions (an unstamped one is its oldest, and a key
/// has only one version before versioning): today's code stamps what it applies. So a state
/// the old code left compares with one today's code writes.
fn counted(
    state: &BTreeMap<(&'static str, Vec<u8>), Vec<u8>>,
) -> BTreeMap<(&'static str, Vec<u8>), Vec<u8>> {
    let mut out = state.clone();
    for ((cf, key), value) in state {
        if format::kind_of(cf, key) == Some(Kind::Upload) {
            // In today's format: the same upload, not encrypted.
            let u: UploadInfo = format::decode(value).unwrap();
            out.insert((*cf, key.clone()), format::encode(&u));
        }
        if format::kind_of(cf, key) != Some(Kind::ObjectVersion) {
            continue;
        }
        let mut v: ObjectVersion = format::decode(value).unwrap();
        if *cf == CF_OBJECTS && v.tag_count.is_none() {
            let mut record = vec![b'o'];
            record.extend_from_slice(key);
            let doc = state.get(&(CF_TAGS, record));
            let doc: Option<String> = doc.map(|d| format::decode(d).unwrap());
            v.tag_count = Some(doc.map_or(0, |d| count_tags(&d)));
        }
        v.stamp = None;
        out.insert((*cf, key.clone()), format::encode(&v));
    }
    out
}

type State = BTreeMap<(&'static str, Vec<u8>), Vec<u8>>;

/// Assert that two states are the same, naming the records that differ.
fn same_state(got: &State, want: &State, what: &str) {
    let differ: Vec<_> = got
        .keys()
        .chain(want.keys())
        .filter(|k| got.get(*k) != want.get(*k))
        .map(|(cf, key)| format!("{cf} {:?}", String::from_utf8_lossy(key)))
        .collect();
    assert!(differ.is_empty(), "{what}: records differ: {differ:#?}");
}

/// Decode a value as its kind's live type.
fn decode_as(kind: Kind, v: &[u8]) -> Result<(), format::FormatError> {
    match kind {
        Kind::Bucket => format::decode::<BucketInfo>(v).map(drop),
        Kind::ObjectVersion => format::decode::<ObjectVersion>(v).map(drop),
        Kind::Upload => format::decode::<UploadInfo>(v).map(drop),
        Kind::Part => format::decode::<PartInfo>(v).map(drop),
        Kind::Blob => format::decode::<BlobRef>(v).map(drop),
        Kind::Node => format::decode::<NodeInfo>(v).map(drop),
        Kind::User => format::decode::<UserRecord>(v).map(drop),
        Kind::AccessKey => format::decode::<KeyRecord>(v).map(drop),
        Kind::Group => format::decode::<GroupRecord>(v).map(drop),
        Kind::OnceAnswer => format::decode::<super::once::Answer>(v).map(drop),
        Kind::ErasureProfile => format::decode::<(u8, u8)>(v).map(drop),
        Kind::Text => format::decode::<String>(v).map(drop),
        Kind::Marker => format::decode::<()>(v).map(drop),
        Kind::OnceIndex => format::check_value(super::store::CF_ONCE, b"t", v),
        other => panic!("{other:?} is not a state machine record"),
    }
}

#[tokio::test]
async fn the_v1_fixture_decodes_replays_and_installs() {
    decodes_replays_and_installs("v1", 1).await;
}

#[tokio::test]
async fn the_v2_fixture_decodes_replays_and_installs() {
    decodes_replays_and_installs("v2", 2).await;
}

#[tokio::test]
async fn the_v3_fixture_decodes_replays_and_installs() {
    decodes_replays_and_installs("v3", 3).await;
}

#[tokio::test]
async fn the_v4_fixture_decodes_replays_and_installs() {
    decodes_replays_and_installs("v4", 4).await;
}

/// Fixture `name`, whose object versions are all in format version `objects_format`.
async fn decodes_replays_and_installs(name: &str, objects_format: u8) {
    let dir = tempfile::tempdir().unwrap();
    let old_dir = dir.path().join("old");
    copy_dir(&fixture(name), &old_dir);
    let old = MetaStore::open(&old_dir).unwrap();
    let old_state = state(&old);
    let mut kinds = BTreeMap::new();
    for ((cf, key), value) in &old_state {
        let kind = format::kind_of(cf, key).unwrap();
        if kind == Kind::ObjectVersion {
            assert_eq!(value[0], objects_format, "{cf} {key:?}");
        }
        decode_as(kind, value).unwrap_or_else(|e| panic!("{cf} {key:?}: {e}"));
        *kinds.entry(kind).or_insert(0) += 1;
    }
    for kind in [
        Kind::Bucket,
        Kind::ObjectVersion,
        Kind::Upload,
        Kind::Part,
        Kind::Node,
        Kind::User,
        Kind::AccessKey,
        Kind::Group,
        Kind::OnceAnswer,
        Kind::ErasureProfile,
        Kind::Text,
        Kind::Marker,
        Kind::OnceIndex,
    ] {
        assert!(
            kinds.contains_key(&kind),
            "the fixture holds no {kind:?}: {kinds:?}"
        );
    }

    // The whole log, as the old code wrote it.
    let mut log = LogStore::new(old.clone(), LogBytes::default()).unwrap();
    let log_state = log.get_log_state().await.unwrap();
    assert_eq!(
        log_state.last_purged_log_id, None,
        "the fixture's whole log is kept"
    );
    let last = log_state.last_log_id.unwrap();
    // Index 0 is the bootstrap membership.
    let entries = log.try_get_log_entries(0..=last.index).await.unwrap();
    assert_eq!(entries.len() as u64, last.index + 1);
    assert!(log.read_vote().await.unwrap().is_some());
    let mut old_sm = StateMachine::new(old.clone(), old_dir.join("snapshots")).unwrap();
    let (applied, _) = old_sm.applied_state().await.unwrap();
    assert_eq!(applied, Some(last), "the old node applied its whole log");

    // Replayed into an empty state machine, it gives the same state.
    let replay_dir = dir.path().join("replay");
    let replay = MetaStore::open(&replay_dir).unwrap();
    let mut sm = StateMachine::new(replay.clone(), replay_dir.join("snapshots")).unwrap();
    sm.apply(entries.clone()).await.unwrap();
    let replayed = state(&replay);
    // Today's code writes object versions in format version 5, counted and stamped as it
    // applies.
    let mut tagged = 0;
    for ((cf, _), value) in &replayed {
        if *cf == CF_OBJECTS {
            assert_eq!(
                value[0], 5,
                "an object version replayed in format version 5"
            );
            let v: ObjectVersion = format::decode(value).unwrap();
            tagged += usize::from(v.tag_count.unwrap() > 0);
            assert!(v.stamp.is_some());
        }
    }
    assert!(tagged > 0, "the fixture has tagged objects");
    same_state(
        &counted(&replayed),
        &counted(&old_state),
        "replaying the log",
    );
    assert_eq!(sm.applied_state().await.unwrap().0, Some(last));

    // The snapshot installs, and the entries after it replay onto it.
    let snap = old_sm.get_current_snapshot().await.unwrap().unwrap();
    let at = snap.meta.last_log_id.unwrap();
    assert!(
        at.index < last.index,
        "the fixture has entries past its snapshot"
    );
    let fresh_dir = dir.path().join("fresh");
    let fresh = MetaStore::open(&fresh_dir).unwrap();
    let mut sm = StateMachine::new(fresh.clone(), fresh_dir.join("snapshots")).unwrap();
    sm.install_snapshot(&snap.meta, snap.snapshot)
        .await
        .unwrap();
    assert_eq!(sm.applied_state().await.unwrap().0, Some(at));
    let tail: Vec<_> = entries
        .into_iter()
        .filter(|e| e.log_id.index > at.index)
        .collect();
    sm.apply(tail).await.unwrap();
    same_state(
        &counted(&state(&fresh)),
        &counted(&old_state),
        "snapshot and the log after it",
    );
}
