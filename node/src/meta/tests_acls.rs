//! Stories for object and upload ACL records: written with their object in one command,
//! replaced by a new version, dropped with the key, handed from an upload to its object; and
//! a new bucket's first configuration documents.

#![allow(clippy::unwrap_used)]

use coffer_proto::meta::{
    BucketConfigKind, CompletePart, MetaAnswer, MetaCommand, MetaQuery, ObjectFacts,
    WritePrecondition,
};
use coffer_proto::types::ObjectData;
use coffer_proto::ProtoError;

use super::tests::{part, upload_info, version, Sm};

fn facts(sm: &Sm, bucket_id: u64, key: &str) -> Option<ObjectFacts> {
    match sm.ask(MetaQuery::ObjectFacts {
        bucket_id,
        key: key.into(),
    }) {
        MetaAnswer::ObjectFacts(f) => f,
        other => panic!("{other:?}"),
    }
}

fn acl_of(sm: &Sm, bucket_id: u64, key: &str) -> Option<(String, Option<String>)> {
    facts(sm, bucket_id, key).map(|f| (f.owner, f.acl))
}

fn tags_of(sm: &Sm, bucket_id: u64, key: &str) -> Option<String> {
    facts(sm, bucket_id, key).and_then(|f| f.tags)
}

fn put(bucket_id: u64, key: &str, pre: WritePrecondition) -> MetaCommand {
    MetaCommand::PutObject {
        bucket_id,
        version: version(key, ObjectData::Inline(bytes::Bytes::from_static(b"x"))),
        precondition: pre,
    }
}

fn with_acl(acl: &str, cmd: MetaCommand) -> MetaCommand {
    MetaCommand::WithAcl {
        acl: acl.into(),
        cmd: Box::new(cmd),
    }
}

#[test]
fn object_acls_follow_their_version() {
    let mut sm = Sm::new();
    let b = sm.bucket("b");
    assert_eq!(acl_of(&sm, b, "k"), None);
    sm.run(with_acl("public", put(b, "k", WritePrecondition::None)))
        .unwrap();
    assert_eq!(
        acl_of(&sm, b, "k"),
        Some(("me".into(), Some("public".into())))
    );
    // A refused write leaves the ACL it carried nowhere.
    let refused = sm.run(with_acl(
        "other",
        put(b, "k", WritePrecondition::MustNotExist),
    ));
    assert_eq!(refused.unwrap_err(), ProtoError::PreconditionFailed);
    assert_eq!(acl_of(&sm, b, "k").unwrap().1.as_deref(), Some("public"));
    // A new version without an ACL has the default.
    sm.run(put(b, "k", WritePrecondition::None)).unwrap();
    assert_eq!(acl_of(&sm, b, "k"), Some(("me".into(), None)));
    // SetObjectAcl needs the key, and replaces the record.
    let set = |key: &str, acl: &str| MetaCommand::SetObjectAcl {
        bucket_id: b,
        key: key.into(),
        acl: acl.into(),
    };
    assert_eq!(sm.run(set("nope", "x")).unwrap_err(), ProtoError::NoSuchKey);
    sm.run(set("k", "x")).unwrap();
    assert_eq!(acl_of(&sm, b, "k").unwrap().1.as_deref(), Some("x"));
    // Deleting the key drops it: a later object of the same key starts afresh.
    sm.run(MetaCommand::DeleteObjects {
        bucket_id: b,
        keys: vec!["k".into()],
    })
    .unwrap();
    assert_eq!(acl_of(&sm, b, "k"), None);
    sm.run(put(b, "k", WritePrecondition::None)).unwrap();
    assert_eq!(acl_of(&sm, b, "k"), Some(("me".into(), None)));
    // Only object and upload writes carry an ACL.
    let bad = sm.run(with_acl(
        "x",
        MetaCommand::DeleteBucket { name: "b".into() },
    ));
    assert!(
        matches!(bad, Err(ProtoError::MisplacedCommand(_))),
        "{bad:?}"
    );
}

#[test]
fn an_uploads_acl_becomes_its_objects() {
    let mut sm = Sm::new();
    let b = sm.bucket("b");
    let create = |id: &str| MetaCommand::CreateUpload {
        bucket_id: b,
        upload: upload_info("k", id),
    };
    let tagged = MetaCommand::WithTags {
        tags: "upload-tags".into(),
        cmd: Box::new(with_acl("from-upload", create("u1"))),
    };
    sm.run(tagged).unwrap();
    sm.run(MetaCommand::PutPart {
        bucket_id: b,
        key: "k".into(),
        upload_id: "u1".into(),
        part: part(1),
    })
    .unwrap();
    sm.run(MetaCommand::CompleteUpload {
        bucket_id: b,
        upload_id: "u1".into(),
        parts: vec![CompletePart {
            number: 1,
            blob_id: [1; 16],
        }],
        version: version("k", ObjectData::Blobs(vec![])),
        precondition: WritePrecondition::None,
    })
    .unwrap();
    assert_eq!(
        acl_of(&sm, b, "k").unwrap().1.as_deref(),
        Some("from-upload")
    );
    assert_eq!(tags_of(&sm, b, "k").as_deref(), Some("upload-tags"));
    // An aborted upload's record goes with it.
    sm.run(with_acl("aborted", create("u2"))).unwrap();
    sm.run(MetaCommand::AbortUpload {
        bucket_id: b,
        key: "k".into(),
        upload_id: "u2".into(),
    })
    .unwrap();
    let record = super::acls::upload_key(b, "k", "u2");
    let cf = super::store::CF_ACLS;
    assert_eq!(super::acls::get(&sm.store, cf, &record).unwrap(), None);
}

#[test]
fn tags_go_with_acls() {
    let mut sm = Sm::new();
    let b = sm.bucket("b");
    let with_tags = |tags: &str, cmd| MetaCommand::WithTags {
        tags: tags.into(),
        cmd: Box::new(cmd),
    };
    // Both documents in one write, either wrapper outside.
    let cmd = with_tags("t1", with_acl("a1", put(b, "k", WritePrecondition::None)));
    sm.run(cmd).unwrap();
    assert_eq!(tags_of(&sm, b, "k").as_deref(), Some("t1"));
    assert_eq!(acl_of(&sm, b, "k").unwrap().1.as_deref(), Some("a1"));
    let set = |tags: Option<&str>| MetaCommand::SetObjectTags {
        bucket_id: b,
        key: "k".into(),
        tags: tags.map(str::to_owned),
    };
    sm.run(set(Some("t2"))).unwrap();
    assert_eq!(tags_of(&sm, b, "k").as_deref(), Some("t2"));
    sm.run(set(None)).unwrap();
    assert_eq!(tags_of(&sm, b, "k"), None);
    assert_eq!(acl_of(&sm, b, "k").unwrap().1.as_deref(), Some("a1"));
    // A new version starts without either.
    sm.run(with_tags("t3", put(b, "k", WritePrecondition::None)))
        .unwrap();
    sm.run(put(b, "k", WritePrecondition::None)).unwrap();
    assert_eq!(facts(&sm, b, "k").unwrap().tags, None);
    assert_eq!(facts(&sm, b, "k").unwrap().acl, None);
    assert_eq!(
        sm.run(MetaCommand::SetObjectTags {
            bucket_id: b,
            key: "nope".into(),
            tags: Some("t".into()),
        })
        .unwrap_err(),
        ProtoError::NoSuchKey
    );
}

#[test]
fn a_bucket_is_created_with_its_first_documents() {
    let mut sm = Sm::new();
    let create = |name: &str| MetaCommand::WithBucketConfig {
        configs: vec![
            (BucketConfigKind::OwnershipControls, "ObjectWriter".into()),
            (BucketConfigKind::Acl, "acl".into()),
        ],
        cmd: Box::new(MetaCommand::CreateBucket {
            name: name.into(),
            owner: "me".into(),
            location: String::new(),
            now_ms: 1,
        }),
    };
    sm.run(create("b")).unwrap();
    let facts = match sm.ask(MetaQuery::Authorization {
        access_key: None,
        bucket: Some("b".into()),
    }) {
        MetaAnswer::Authorization(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(facts.bucket_ownership.as_deref(), Some("ObjectWriter"));
    assert_eq!(facts.bucket_acl.as_deref(), Some("acl"));
    // Creating it again fails and changes nothing.
    assert_eq!(
        sm.run(create("b")).unwrap_err(),
        ProtoError::BucketAlreadyOwnedByYou
    );
    // Deleting the bucket drops its documents.
    sm.run(MetaCommand::DeleteBucket { name: "b".into() })
        .unwrap();
    sm.bucket("b");
    let facts = match sm.ask(MetaQuery::Authorization {
        access_key: None,
        bucket: Some("b".into()),
    }) {
        MetaAnswer::Authorization(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(facts.bucket_acl, None);
    assert_eq!(facts.bucket_ownership, None);
}

/// The tag count the store answers with `key`'s version.
fn count_of(sm: &Sm, bucket_id: u64, key: &str) -> Option<u16> {
    match sm.ask(MetaQuery::GetCountedObject {
        bucket_id,
        key: key.into(),
    }) {
        MetaAnswer::CountedObject(v) => v.map(|(_, n)| n),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tag_counts_follow_the_tag_set() {
    use coffer_proto::types::encode_tags;
    let doc = |n: usize| encode_tags(&(0..n).map(|i| (format!("k{i}"), "v".into())).collect());
    let mut sm = Sm::new();
    let b = sm.bucket("b");
    // The count a write carries is not the store's: the tag set written with it is.
    let mut claimed = put(b, "k", WritePrecondition::None);
    if let MetaCommand::PutObject { version, .. } = &mut claimed {
        version.tag_count = Some(9);
    }
    sm.run(MetaCommand::WithTags {
        tags: doc(2),
        cmd: Box::new(claimed.clone()),
    })
    .unwrap();
    assert_eq!(count_of(&sm, b, "k"), Some(2));
    let set = |tags: Option<String>| MetaCommand::SetObjectTags {
        bucket_id: b,
        key: "k".into(),
        tags,
    };
    sm.run(set(Some(doc(1)))).unwrap();
    assert_eq!(count_of(&sm, b, "k"), Some(1));
    sm.run(set(None)).unwrap();
    assert_eq!(count_of(&sm, b, "k"), Some(0));
    sm.run(claimed).unwrap();
    assert_eq!(count_of(&sm, b, "k"), Some(0), "a version without tags");

    // An upload's tags are counted on the object it becomes.
    sm.run(MetaCommand::WithTags {
        tags: doc(3),
        cmd: Box::new(MetaCommand::CreateUpload {
            bucket_id: b,
            upload: upload_info("mp", "u"),
        }),
    })
    .unwrap();
    sm.run(MetaCommand::PutPart {
        bucket_id: b,
        key: "mp".into(),
        upload_id: "u".into(),
        part: part(1),
    })
    .unwrap();
    sm.run(MetaCommand::CompleteUpload {
        bucket_id: b,
        upload_id: "u".into(),
        parts: vec![CompletePart {
            number: 1,
            blob_id: [1; 16],
        }],
        version: version("mp", ObjectData::Blobs(vec![])),
        precondition: WritePrecondition::None,
    })
    .unwrap();
    assert_eq!(count_of(&sm, b, "mp"), Some(3));

    // A record of format version 1 (no count) is counted from its tag set when read.
    let old = version("old", ObjectData::Blobs(vec![]));
    let mut bytes = vec![1];
    let frozen: super::format::v1::ObjectVersion = super::format::conv::Conv::conv(old);
    bytes.extend(bincode::serialize(&frozen).unwrap());
    let mut batch = super::store::Batch::default();
    batch.put(
        super::store::CF_OBJECTS,
        super::keys::object(b, "old"),
        bytes,
    );
    super::acls::put(
        &mut batch,
        super::store::CF_TAGS,
        &super::acls::object_key(b, "old"),
        &doc(4),
    );
    sm.store.write(batch, true).unwrap();
    assert_eq!(count_of(&sm, b, "old"), Some(4));
}
