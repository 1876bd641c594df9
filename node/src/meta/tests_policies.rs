//! Stories for groups, identity policies and bucket policies in the state machine, and the one
//! read that authorization makes.

#![allow(clippy::unwrap_used)]

use coffer_proto::iam::{GroupRecord, KeyRecord, PolicyOwner, UserRecord};
use coffer_proto::meta::{BucketConfigKind, MetaAnswer, MetaCommand, MetaOk, MetaQuery};
use coffer_proto::ProtoError;

use super::tests::Sm;

fn err(r: Result<MetaOk, ProtoError>) -> String {
    format!("{:?}", r.unwrap_err())
}

fn policy(owner: PolicyOwner, name: &str, doc: Option<&str>) -> MetaCommand {
    MetaCommand::SetIdentityPolicy {
        owner,
        name: name.into(),
        document: doc.map(str::to_owned),
    }
}

fn member(group: &str, user: &str, member: bool) -> MetaCommand {
    MetaCommand::SetGroupMember {
        group: group.into(),
        user: user.into(),
        member,
    }
}

#[test]
fn groups_policies_and_what_authorization_reads() {
    let mut sm = Sm::new();
    sm.run(MetaCommand::CreateUser(UserRecord {
        name: "alice".into(),
        user_id: "AIDAALICE".into(),
        created_ms: 1,
    }))
    .unwrap();
    sm.run(MetaCommand::CreateAccessKey(KeyRecord {
        access_key_id: "AKIAALICE".into(),
        user: "alice".into(),
        sealed_secret: vec![1],
        active: true,
        created_ms: 1,
    }))
    .unwrap();
    let group = MetaCommand::CreateGroup(GroupRecord {
        name: "readers".into(),
        group_id: "AGPAREADERS".into(),
        created_ms: 1,
    });
    sm.run(group.clone()).unwrap();
    assert!(err(sm.run(group)).starts_with("EntityAlreadyExists"));
    assert!(err(sm.run(member("nobody", "alice", true))).starts_with("NoSuchEntity"));
    assert!(err(sm.run(member("readers", "bob", true))).starts_with("NoSuchEntity"));
    sm.run(member("readers", "alice", true)).unwrap();
    let user = || PolicyOwner::User("alice".into());
    let readers = || PolicyOwner::Group("readers".into());
    sm.run(policy(user(), "own", Some("{\"u\":1}"))).unwrap();
    sm.run(policy(readers(), "read", Some("{\"g\":1}")))
        .unwrap();
    assert!(
        err(sm.run(policy(PolicyOwner::User("bob".into()), "x", Some("{}"))))
            .starts_with("NoSuchEntity")
    );
    assert!(err(sm.run(policy(user(), "missing", None))).starts_with("NoSuchEntity"));

    let b = sm.bucket("b");
    sm.run(MetaCommand::SetBucketConfig {
        bucket: "b".into(),
        kind: BucketConfigKind::Policy,
        value: Some("{\"b\":1}".into()),
    })
    .unwrap();
    assert_eq!(
        sm.run(MetaCommand::SetBucketConfig {
            bucket: "nope".into(),
            kind: BucketConfigKind::Policy,
            value: None,
        }),
        Err(ProtoError::NoSuchBucket)
    );
    let facts = match sm.ask(MetaQuery::Authorization {
        access_key: Some("AKIAALICE".into()),
        bucket: Some("b".into()),
    }) {
        MetaAnswer::Authorization(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(facts.user.unwrap().user_id, "AIDAALICE");
    assert_eq!(facts.key.unwrap().access_key_id, "AKIAALICE");
    assert_eq!(
        facts.identity_policies,
        vec![
            ("user/alice/own".to_owned(), "{\"u\":1}".to_owned()),
            ("group/readers/read".to_owned(), "{\"g\":1}".to_owned()),
        ]
    );
    assert_eq!(facts.bucket.unwrap().id, b);
    assert_eq!(facts.bucket_policy.as_deref(), Some("{\"b\":1}"));
    assert_eq!(facts.cluster_public_access_block, None);

    // Block Public Access, of the bucket and of the cluster, reaches the same read.
    for (kind, value) in [
        (BucketConfigKind::Cors, "[]"),
        (BucketConfigKind::PublicAccessBlock, "{\"bucket\":1}"),
    ] {
        sm.run(MetaCommand::SetBucketConfig {
            bucket: "b".into(),
            kind,
            value: Some(value.into()),
        })
        .unwrap();
    }
    sm.run(MetaCommand::SetClusterConfig {
        kind: BucketConfigKind::PublicAccessBlock,
        value: Some("{\"cluster\":1}".into()),
    })
    .unwrap();
    let facts = match sm.ask(MetaQuery::Authorization {
        access_key: None,
        bucket: Some("b".into()),
    }) {
        MetaAnswer::Authorization(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(facts.bucket_cors.as_deref(), Some("[]"));
    assert_eq!(
        facts.bucket_public_access_block.as_deref(),
        Some("{\"bucket\":1}")
    );
    assert_eq!(
        facts.cluster_public_access_block.as_deref(),
        Some("{\"cluster\":1}")
    );

    // Deletions wait for what depends on them.
    let delete_user = || MetaCommand::DeleteUser {
        name: "alice".into(),
    };
    sm.run(MetaCommand::DeleteAccessKey {
        access_key_id: "AKIAALICE".into(),
    })
    .unwrap();
    assert!(err(sm.run(delete_user())).starts_with("DeleteConflict"));
    assert!(err(sm.run(MetaCommand::DeleteGroup {
        name: "readers".into()
    }))
    .starts_with("DeleteConflict"));
    sm.run(policy(user(), "own", None)).unwrap();
    sm.run(member("readers", "alice", false)).unwrap();
    sm.run(delete_user()).unwrap();
    sm.run(policy(readers(), "read", None)).unwrap();
    sm.run(MetaCommand::DeleteGroup {
        name: "readers".into(),
    })
    .unwrap();
    assert_eq!(sm.ask(MetaQuery::ListGroups), MetaAnswer::Groups(vec![]));

    // A deleted bucket takes its policy with it: a new bucket of the name has none.
    sm.run(MetaCommand::DeleteBucket { name: "b".into() })
        .unwrap();
    sm.bucket("b");
    assert_eq!(
        sm.ask(MetaQuery::GetBucketConfig {
            bucket: "b".into(),
            kind: BucketConfigKind::Policy,
        }),
        MetaAnswer::BucketConfig(Some(None))
    );
}

#[test]
fn authorization_brings_the_bucket_documents_asked_for() {
    let mut sm = Sm::new();
    sm.bucket("b");
    sm.run(MetaCommand::SetBucketConfig {
        bucket: "b".into(),
        kind: BucketConfigKind::Encryption,
        value: Some("{\"algorithm\":\"AES256\"}".into()),
    })
    .unwrap();
    let ask = |bucket: &str| match sm.ask(MetaQuery::AuthorizationWith {
        access_key: None,
        bucket: Some(bucket.into()),
        configs: vec![BucketConfigKind::Encryption, BucketConfigKind::Cors],
    }) {
        MetaAnswer::AuthorizationWith(a) => *a,
        other => panic!("{other:?}"),
    };
    let (facts, docs) = ask("b");
    assert_eq!(facts.bucket.unwrap().name, "b");
    assert_eq!(docs, [Some("{\"algorithm\":\"AES256\"}".to_owned()), None]);
    // No such bucket: nothing, one answer per document asked for.
    let (facts, docs) = ask("nope");
    assert!(facts.bucket.is_none());
    assert_eq!(docs, [None, None]);
}

#[test]
fn a_cluster_document_is_replaced_only_from_what_it_was() {
    let mut sm = Sm::new();
    let kind = BucketConfigKind::LifecycleWorker;
    let replace = |previous: Option<&str>, value: Option<&str>| MetaCommand::ReplaceClusterConfig {
        kind,
        previous: previous.map(str::to_owned),
        value: value.map(str::to_owned),
    };
    let read = |sm: &Sm| sm.ask(MetaQuery::GetClusterConfig(kind));
    // Taken from nothing; a second taker from nothing is refused.
    assert_eq!(sm.run(replace(None, Some("a1"))), Ok(MetaOk::Done));
    assert_eq!(err(sm.run(replace(None, Some("b1")))), "PreconditionFailed");
    // Renewed from what it is; a change from a stale copy is refused and changes nothing.
    assert_eq!(sm.run(replace(Some("a1"), Some("a2"))), Ok(MetaOk::Done));
    assert_eq!(
        err(sm.run(replace(Some("a1"), Some("b2")))),
        "PreconditionFailed"
    );
    assert_eq!(read(&sm), MetaAnswer::BucketConfig(Some(Some("a2".into()))));
    // Given up; other documents are not touched.
    assert_eq!(sm.run(replace(Some("a2"), None)), Ok(MetaOk::Done));
    assert_eq!(read(&sm), MetaAnswer::BucketConfig(Some(None)));
    assert_eq!(
        sm.ask(MetaQuery::GetClusterConfig(
            BucketConfigKind::PublicAccessBlock
        )),
        MetaAnswer::BucketConfig(Some(None))
    );
}
