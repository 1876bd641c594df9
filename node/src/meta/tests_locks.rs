//! Stories for Object Lock in the state machine: a bucket created with it is versioned for
//! good, retention and legal holds keep versions from being removed (governance gives way to
//! a bypass, compliance to nobody), retention changes follow the modes' rules, and a
//! version's lock stays with it when newer versions arrive.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use coffer_proto::lock::{LockMode, Retention, VersionLock};
use coffer_proto::meta::WritePrecondition;
use coffer_proto::meta::{BucketConfigKind, MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use coffer_proto::types::*;
use coffer_proto::ProtoError;

use super::tests::{inline, version, Sm};
use super::tests_versions::{versioning, written};

/// A bucket `b` created with Object Lock.
fn locked_bucket(sm: &mut Sm) -> u64 {
    let r = sm.run(MetaCommand::WithBucketConfig {
        configs: vec![(BucketConfigKind::ObjectLock, "{}".into())],
        cmd: Box::new(MetaCommand::CreateBucket {
            name: "b".into(),
            owner: "me".into(),
            location: String::new(),
            now_ms: 1,
        }),
    });
    match r.unwrap() {
        MetaOk::Bucket(b) => {
            assert_eq!(b.versioning, Versioning::Enabled);
            b.id
        }
        other => panic!("{other:?}"),
    }
}

fn put_locked(sm: &mut Sm, id: u64, lock: &VersionLock) -> String {
    written(sm.run(MetaCommand::WithLock {
        lock: serde_json::to_string(lock).unwrap(),
        cmd: Box::new(MetaCommand::PutObject {
            bucket_id: id,
            version: version("k", inline()),
            precondition: WritePrecondition::None,
        }),
    }))
}

fn delete(sm: &mut Sm, id: u64, vid: &str, bypass: bool) -> Result<MetaOk, ProtoError> {
    sm.run(MetaCommand::DeleteVersion {
        bucket_id: id,
        key: "k".into(),
        version_id: vid.into(),
        bypass_governance: bypass,
    })
}

fn retention(mode: LockMode) -> VersionLock {
    VersionLock {
        retention: Some(Retention {
            mode,
            until_ms: i64::MAX,
        }),
        legal_hold: false,
    }
}

fn lock_of(sm: &Sm, id: u64, vid: &str) -> VersionLock {
    match sm.ask(MetaQuery::VersionLock {
        bucket_id: id,
        key: "k".into(),
        version_id: Some(vid.into()),
    }) {
        MetaAnswer::Lock(Some(doc)) => doc
            .map(|d| serde_json::from_str(&d).unwrap())
            .unwrap_or_default(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_locked_bucket_stays_versioned() {
    let mut sm = Sm::new();
    locked_bucket(&mut sm);
    let suspend = MetaCommand::SetVersioning {
        bucket: "b".into(),
        state: Versioning::Suspended,
    };
    assert!(matches!(
        sm.run(suspend),
        Err(ProtoError::InvalidBucketState(_))
    ));
    // Object Lock on an existing bucket needs versioning Enabled first.
    sm.bucket("plain");
    let lock = |sm: &mut Sm| {
        sm.run(MetaCommand::SetBucketConfig {
            bucket: "plain".into(),
            kind: BucketConfigKind::ObjectLock,
            value: Some("{}".into()),
        })
    };
    assert!(matches!(
        lock(&mut sm),
        Err(ProtoError::InvalidBucketState(_))
    ));
    sm.run(MetaCommand::SetVersioning {
        bucket: "plain".into(),
        state: Versioning::Enabled,
    })
    .unwrap();
    assert_eq!(lock(&mut sm), Ok(MetaOk::Done));
}

#[test]
fn retention_and_legal_holds_keep_versions() {
    let mut sm = Sm::new();
    let id = locked_bucket(&mut sm);
    let gov = put_locked(&mut sm, id, &retention(LockMode::Governance));
    let comp = put_locked(&mut sm, id, &retention(LockMode::Compliance));
    let held = put_locked(
        &mut sm,
        id,
        &VersionLock {
            legal_hold: true,
            ..Default::default()
        },
    );
    let free = written(sm.put(id, "k", inline()));
    // The older locked versions kept their locks when newer ones arrived.
    assert_eq!(lock_of(&sm, id, &gov), retention(LockMode::Governance));
    for vid in [&gov, &comp, &held] {
        assert_eq!(
            delete(&mut sm, id, vid, false),
            Err(ProtoError::ObjectLocked)
        );
    }
    assert_eq!(
        delete(&mut sm, id, &comp, true),
        Err(ProtoError::ObjectLocked)
    );
    assert_eq!(
        delete(&mut sm, id, &held, true),
        Err(ProtoError::ObjectLocked)
    );
    assert!(
        delete(&mut sm, id, &gov, true).is_ok(),
        "governance gives way"
    );
    assert!(delete(&mut sm, id, &free, false).is_ok());
    // A delete marker can still be placed on a locked key.
    let marker = sm.run(MetaCommand::DeleteObjects {
        bucket_id: id,
        keys: vec!["k".into()],
    });
    assert!(matches!(
        marker,
        Ok(MetaOk::Deleted {
            delete_marker: true,
            ..
        })
    ));
    // The hold released, the version goes.
    let release = MetaCommand::SetLegalHold {
        bucket_id: id,
        key: "k".into(),
        version_id: Some(held.clone()),
        on: false,
    };
    assert_eq!(sm.run(release), Ok(MetaOk::Done));
    assert!(delete(&mut sm, id, &held, false).is_ok());
}

#[test]
fn retention_changes_follow_the_modes() {
    let mut sm = Sm::new();
    let id = locked_bucket(&mut sm);
    versioning(&mut sm, Versioning::Enabled);
    let until = |ms| Retention {
        mode: LockMode::Compliance,
        until_ms: ms,
    };
    let v = put_locked(
        &mut sm,
        id,
        &VersionLock {
            retention: Some(until(5_000)),
            legal_hold: false,
        },
    );
    let set = |sm: &mut Sm, r: Option<Retention>, bypass: bool| {
        sm.run(MetaCommand::SetRetention {
            bucket_id: id,
            key: "k".into(),
            version_id: Some(v.clone()),
            retention: r,
            bypass_governance: bypass,
            now_ms: 1_000,
        })
    };
    assert_eq!(
        set(&mut sm, Some(until(4_000)), true),
        Err(ProtoError::ObjectLocked)
    );
    assert_eq!(set(&mut sm, None, true), Err(ProtoError::ObjectLocked));
    assert_eq!(set(&mut sm, Some(until(9_000)), false), Ok(MetaOk::Done));
    assert_eq!(lock_of(&sm, id, &v).retention, Some(until(9_000)));
    // Expired (judged at a later time), anything goes.
    let late = MetaCommand::SetRetention {
        bucket_id: id,
        key: "k".into(),
        version_id: None,
        retention: None,
        bypass_governance: false,
        now_ms: 10_000,
    };
    assert_eq!(sm.run(late), Ok(MetaOk::Done));
    let missing = MetaCommand::SetLegalHold {
        bucket_id: id,
        key: "nope".into(),
        version_id: None,
        on: true,
    };
    assert_eq!(sm.run(missing), Err(ProtoError::NoSuchKey));
}
