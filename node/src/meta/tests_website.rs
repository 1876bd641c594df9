//! Stories for website redirects in the state machine: a write's redirect stays with the
//! version, with or without an encryption around the same write, a version retired by a newer
//! one keeps its own, an upload's goes to the object it completes into, and a wrapper around
//! anything else is refused.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use coffer_proto::meta::{CompletePart, MetaAnswer, MetaCommand, MetaQuery, WritePrecondition};
use coffer_proto::sse::{Encryption, Keeper};
use coffer_proto::types::{ObjectData, Versioning};
use coffer_proto::ProtoError;

use super::tests::{inline, part, upload_info, version, Sm};

fn object(sm: &Sm, bucket_id: u64, key: &str) -> coffer_proto::types::ObjectVersion {
    match sm.ask(MetaQuery::GetObject {
        bucket_id,
        key: key.into(),
    }) {
        MetaAnswer::Object(Some(v)) => *v,
        other => panic!("{other:?}"),
    }
}

fn redirected(location: &str, cmd: MetaCommand) -> MetaCommand {
    MetaCommand::WithWebsiteRedirect {
        location: location.into(),
        cmd: Box::new(cmd),
    }
}

fn put(bucket_id: u64, key: &str) -> MetaCommand {
    MetaCommand::PutObject {
        bucket_id,
        version: version(key, inline()),
        precondition: WritePrecondition::None,
    }
}

#[test]
fn a_version_keeps_its_website_redirect() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    sm.run(redirected("/new.html", put(id, "old.html")))
        .unwrap();
    assert_eq!(
        object(&sm, id, "old.html").website_redirect.as_deref(),
        Some("/new.html")
    );
    // With an encryption around the same write: both stay.
    let enc = Encryption {
        scheme: 1,
        keeper: Keeper::S3 { generation: 0 },
        sealed_key: vec![9; 60],
    };
    sm.run(redirected(
        "https://example.test/",
        MetaCommand::WithEncryption {
            encryption: enc.clone(),
            cmd: Box::new(put(id, "both")),
        },
    ))
    .unwrap();
    let v = object(&sm, id, "both");
    assert_eq!(v.website_redirect.as_deref(), Some("https://example.test/"));
    assert_eq!(v.encryption, Some(Box::new(enc)));
    // A plain write replaces the version, redirect and all.
    sm.put(id, "old.html", inline()).unwrap();
    assert_eq!(object(&sm, id, "old.html").website_redirect, None);

    // Versioned: the older version keeps its redirect.
    sm.run(MetaCommand::SetVersioning {
        bucket: "b".into(),
        state: Versioning::Enabled,
    })
    .unwrap();
    let first = super::tests_versions::written(sm.run(redirected("/v1.html", put(id, "page"))));
    sm.put(id, "page", inline()).unwrap();
    let older = match sm.ask(MetaQuery::GetVersion {
        bucket_id: id,
        key: "page".into(),
        version_id: Some(first),
    }) {
        MetaAnswer::CountedObject(Some((v, _))) => *v,
        other => panic!("{other:?}"),
    };
    assert_eq!(older.website_redirect.as_deref(), Some("/v1.html"));
    assert_eq!(object(&sm, id, "page").website_redirect, None);

    // An upload's redirect becomes its object's.
    sm.run(redirected(
        "/multi.html",
        MetaCommand::CreateUpload {
            bucket_id: id,
            upload: upload_info("multi", "u1"),
        },
    ))
    .unwrap();
    sm.run(MetaCommand::PutPart {
        bucket_id: id,
        key: "multi".into(),
        upload_id: "u1".into(),
        part: part(1),
    })
    .unwrap();
    sm.run(MetaCommand::CompleteUpload {
        bucket_id: id,
        upload_id: "u1".into(),
        parts: vec![CompletePart {
            number: 1,
            blob_id: [1; 16],
        }],
        version: version("multi", ObjectData::Blobs(vec![])),
        precondition: WritePrecondition::None,
    })
    .unwrap();
    assert_eq!(
        object(&sm, id, "multi").website_redirect.as_deref(),
        Some("/multi.html")
    );

    // Around anything but a PutObject or a CreateUpload, the wrapper is refused.
    let misplaced = sm.run(redirected(
        "/x",
        MetaCommand::DeleteObjects {
            bucket_id: id,
            keys: vec!["both".into()],
        },
    ));
    assert!(matches!(misplaced, Err(ProtoError::MisplacedCommand(_))));
    assert_eq!(object(&sm, id, "both").key, "both");
}
