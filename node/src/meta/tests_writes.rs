//! Stories for writes that S3 clients retry or condition: a bucket deleted with its
//! incomplete uploads, conditions on ETag, time and size alone and together, and completions
//! remembered for a day so that a retried completion can be answered.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery, WritePrecondition};
use coffer_proto::types::ObjectData;
use coffer_proto::ProtoError;

use super::tests::{inline, part, upload_info, version, Sm};

#[test]
fn deleting_a_bucket_aborts_its_uploads_and_frees_their_parts() {
    let mut sm = Sm::new();
    let id = sm.bucket("a");
    let other = sm.bucket("other");
    for (bucket, upload_id, n) in [(id, "u1", 1u8), (id, "u2", 2), (other, "u3", 3)] {
        sm.run(MetaCommand::CreateUpload {
            bucket_id: bucket,
            upload: upload_info("k", upload_id),
        })
        .unwrap();
        sm.run(MetaCommand::PutPart {
            bucket_id: bucket,
            key: "k".into(),
            upload_id: upload_id.into(),
            part: part(n),
        })
        .unwrap();
    }
    // DeleteBucket keeps the meaning the logs that hold it were applied with.
    assert_eq!(
        sm.run(MetaCommand::DeleteBucket { name: "a".into() }),
        Err(ProtoError::BucketNotEmpty)
    );
    sm.run(MetaCommand::DeleteBucketAndUploads { name: "a".into() })
        .unwrap();
    let mut freed: Vec<u8> = sm.gc().iter().map(|b| b.id[0]).collect();
    freed.sort_unstable();
    assert_eq!(freed, [1, 2], "the deleted bucket's parts, not the other's");
    let upload = |bucket_id, upload_id: &str| {
        sm.ask(MetaQuery::GetUpload {
            bucket_id,
            key: "k".into(),
            upload_id: upload_id.into(),
        })
    };
    assert_eq!(upload(id, "u1"), MetaAnswer::Upload(None));
    assert!(matches!(upload(other, "u3"), MetaAnswer::Upload(Some(_))));
}

#[test]
fn conditions_on_etag_time_and_size_together() {
    use WritePrecondition as P;
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    // version(): ETag "e", size 1, last modified at 5 ms (second 0).
    sm.put(id, "k", inline()).unwrap();
    let put = |pre| MetaCommand::PutObject {
        bucket_id: id,
        version: version("k", inline()),
        precondition: pre,
    };
    let cases = [
        (P::EtagDiffers("\"other\"".into()), Ok(())),
        (
            P::EtagDiffers("\"e\"".into()),
            Err(ProtoError::PreconditionFailed),
        ),
        (
            P::EtagDiffers("*".into()),
            Err(ProtoError::PreconditionFailed),
        ),
        (P::ModifiedAt(0), Ok(())),
        (P::ModifiedAt(1), Err(ProtoError::PreconditionFailed)),
        (P::SizeIs(1), Ok(())),
        (P::SizeIs(2), Err(ProtoError::PreconditionFailed)),
        (
            P::All(vec![P::EtagMatches("e".into()), P::EtagDiffers("x".into())]),
            Ok(()),
        ),
        (
            P::All(vec![P::EtagMatches("e".into()), P::SizeIs(9)]),
            Err(ProtoError::PreconditionFailed),
        ),
        (
            P::All(vec![P::MustNotExist, P::EtagMatches("e".into())]),
            Err(ProtoError::PreconditionFailed),
        ),
    ];
    for (pre, want) in cases {
        let got = sm.run(put(pre.clone())).map(drop);
        assert_eq!(got, want, "{pre:?}");
    }
    // A missing key: If-None-Match with an ETag holds; the others need the key.
    let missing = |pre| MetaCommand::PutObject {
        bucket_id: id,
        version: version("new", inline()),
        precondition: pre,
    };
    assert_eq!(
        sm.run(missing(P::ModifiedAt(0))),
        Err(ProtoError::NoSuchKey)
    );
    assert_eq!(sm.run(missing(P::SizeIs(1))), Err(ProtoError::NoSuchKey));
    sm.run(missing(P::EtagDiffers("e".into()))).unwrap();
    // A conditional delete on size and time.
    let delete = |pre| MetaCommand::DeleteObjectIf {
        bucket_id: id,
        key: "k".into(),
        precondition: pre,
    };
    assert_eq!(
        sm.run(delete(P::All(vec![P::SizeIs(1), P::ModifiedAt(7)]))),
        Err(ProtoError::PreconditionFailed)
    );
    sm.run(delete(P::All(vec![P::SizeIs(1), P::ModifiedAt(0)])))
        .unwrap();
    assert_eq!(sm.list(id, "", None, None, 10).entries.len(), 1);
}

#[test]
fn a_remembered_completion_is_kept_a_day_and_goes_with_its_bucket() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    let complete = |sm: &mut Sm, upload_id: &str, at_ms: i64| {
        sm.run(MetaCommand::CreateUpload {
            bucket_id: id,
            upload: upload_info("k", upload_id),
        })
        .unwrap();
        sm.run(MetaCommand::PutPart {
            bucket_id: id,
            key: "k".into(),
            upload_id: upload_id.into(),
            part: part(1),
        })
        .unwrap();
        let mut v = version("k", ObjectData::Blobs(vec![]));
        v.last_modified_ms = at_ms;
        sm.run(MetaCommand::RememberCompletion {
            cmd: Box::new(MetaCommand::CompleteUpload {
                bucket_id: id,
                upload_id: upload_id.into(),
                parts: vec![coffer_proto::meta::CompletePart {
                    number: 1,
                    blob_id: [1; 16],
                }],
                version: v,
                precondition: WritePrecondition::None,
            }),
        })
    };
    let record = |sm: &Sm, upload_id: &str| match sm.ask(MetaQuery::CompletedUpload {
        bucket_id: id,
        key: "k".into(),
        upload_id: upload_id.into(),
    }) {
        MetaAnswer::Object(o) => o,
        other => panic!("{other:?}"),
    };
    let day = coffer_proto::meta::COMPLETION_KEPT_MS;
    complete(&mut sm, "u1", 1_000).unwrap();
    let kept = record(&sm, "u1").expect("the completion is remembered");
    assert_eq!(kept.etag, "e");
    assert!(kept.data.blobs().is_empty(), "the record holds no data");
    // The object keeps its blob: the record is not a reference to it.
    assert!(sm.gc().is_empty());
    // Completed again: the upload is gone, and nothing changes.
    assert_eq!(
        complete_again(&mut sm, id, "u1"),
        Err(ProtoError::NoSuchUpload)
    );
    assert!(record(&sm, "u1").is_some());
    // A completion a day later prunes the first record.
    complete(&mut sm, "u2", 1_000 + day + 1).unwrap();
    assert!(record(&sm, "u1").is_none(), "expired");
    assert!(record(&sm, "u2").is_some());
    // Deleting the bucket forgets its records.
    sm.run(MetaCommand::DeleteObjects {
        bucket_id: id,
        keys: vec!["k".into()],
    })
    .unwrap();
    sm.run(MetaCommand::DeleteBucketAndUploads { name: "b".into() })
        .unwrap();
    assert!(record(&sm, "u2").is_none());
}

fn complete_again(sm: &mut Sm, bucket_id: u64, upload_id: &str) -> Result<MetaOk, ProtoError> {
    sm.run(MetaCommand::RememberCompletion {
        cmd: Box::new(MetaCommand::CompleteUpload {
            bucket_id,
            upload_id: upload_id.into(),
            parts: vec![],
            version: version("k", ObjectData::Blobs(vec![])),
            precondition: WritePrecondition::None,
        }),
    })
}
