//! Stories for exactly-once writes: a write retried after its answer was lost answers as the
//! first time and changes nothing; answers are small and pruned an hour after their proposer's
//! clock.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use bytes::Bytes;
use coffer_proto::meta::{MetaAnswer, MetaCommand, MetaOk, MetaQuery, WritePrecondition};
use coffer_proto::types::ObjectData;
use coffer_proto::ProtoError;

use super::tests::{blob, part, upload_info, version, Sm};

#[test]
fn a_write_retried_after_its_answer_was_lost_applies_once() {
    let mut sm = Sm::new();
    let once = |id: u8, at_ms: u64, cmd: MetaCommand| MetaCommand::Once {
        id: [id; 16],
        at_ms,
        cmd: Box::new(cmd),
    };
    let create = MetaCommand::CreateBucket {
        name: "b".into(),
        owner: "me".into(),
        location: String::new(),
        now_ms: 1,
    };
    let first = sm.run(once(1, 1000, create.clone()));
    let Ok(MetaOk::Bucket(b)) = first.clone() else {
        panic!("{first:?}")
    };
    // The same request again answers as the first time; a new one is refused as S3 says.
    assert_eq!(sm.run(once(1, 1000, create.clone())), first);
    assert_eq!(
        sm.run(once(2, 1000, create.clone())),
        Err(ProtoError::BucketAlreadyOwnedByYou)
    );

    // CompleteMultipartUpload retried: the same object, not NoSuchUpload; no blob queued.
    let up = upload_info("k", "u");
    sm.run(once(
        3,
        1000,
        MetaCommand::CreateUpload {
            bucket_id: b.id,
            upload: up,
        },
    ))
    .unwrap();
    let part = MetaCommand::PutPart {
        bucket_id: b.id,
        key: "k".into(),
        upload_id: "u".into(),
        part: part(1),
    };
    sm.run(once(4, 1000, part.clone())).unwrap();
    sm.run(once(4, 1000, part)).unwrap();
    let complete = once(
        5,
        1000,
        MetaCommand::CompleteUpload {
            bucket_id: b.id,
            upload_id: "u".into(),
            parts: vec![coffer_proto::meta::CompletePart {
                number: 1,
                blob_id: [1; 16],
            }],
            version: version("k", ObjectData::Blobs(vec![])),
            precondition: WritePrecondition::None,
        },
    );
    let done = sm.run(complete.clone());
    assert_eq!(done, Ok(MetaOk::Done));
    assert_eq!(sm.run(complete), done);
    assert!(sm.gc().is_empty(), "{:?}", sm.gc());

    // A delete retried after a newer PUT of the key leaves the newer object alone.
    let delete = once(
        6,
        1000,
        MetaCommand::DeleteObjects {
            bucket_id: b.id,
            keys: vec!["k".into()],
        },
    );
    sm.run(delete.clone()).unwrap();
    sm.run(once(
        7,
        1000,
        MetaCommand::PutObject {
            bucket_id: b.id,
            version: version("k", ObjectData::Blobs(vec![blob(2)])),
            precondition: WritePrecondition::None,
        },
    ))
    .unwrap();
    sm.run(delete).unwrap();
    match sm.ask(MetaQuery::GetObject {
        bucket_id: b.id,
        key: "k".into(),
    }) {
        MetaAnswer::Object(Some(v)) => assert_eq!(v.data.blobs()[0].id, [2; 16]),
        other => panic!("{other:?}"),
    }

    // Answers are kept an hour past their proposer's clock, then pruned by later commands.
    let count = |sm: &Sm| {
        let mut it = sm.store.raw_iter(super::store::CF_ONCE).unwrap();
        it.seek_to_first();
        let mut n = 0;
        while it.valid() {
            n += 1;
            it.next();
        }
        n
    };
    assert_eq!(count(&sm), 2 * 7);
    sm.run(once(
        8,
        1000 + 3_600_000,
        MetaCommand::GcDone { blob_ids: vec![] },
    ))
    .unwrap();
    assert_eq!(count(&sm), 2 * 8, "nothing is an hour old yet");
    sm.run(once(
        9,
        1001 + 3_600_000,
        MetaCommand::GcDone { blob_ids: vec![] },
    ))
    .unwrap();
    assert_eq!(count(&sm), 2 * 2, "the seven answers of t=1000 are gone");
    assert_eq!(
        sm.run(once(1, 1000, create)),
        Err(ProtoError::BucketAlreadyOwnedByYou)
    );
}

#[test]
fn a_kept_answer_does_not_hold_the_object() {
    // Every write's answer is kept for an hour: an inline object's bytes must not be in it.
    let mut sm = Sm::new();
    let b = sm.bucket("answers");
    let data = ObjectData::Inline(Bytes::from(vec![7u8; 60_000]));
    let put = MetaCommand::PutObject {
        bucket_id: b,
        version: version("k", data),
        precondition: WritePrecondition::None,
    };
    // (Not printed when it fails: it would be the 60,000 bytes.)
    assert!(
        matches!(sm.run(put.once()), Ok(MetaOk::Done)),
        "a PUT answers Done"
    );
    let mut it = sm.store.raw_iter(super::store::CF_ONCE).unwrap();
    it.seek_to_first();
    let (mut n, mut bytes) = (0, 0);
    while let (Some(k), Some(v)) = (it.key(), it.value()) {
        (n, bytes) = (n + 1, bytes + k.len() + v.len());
        it.next();
    }
    assert_eq!(n, 2, "the answer and its expiry entry");
    assert!(bytes < 200, "{bytes} bytes kept for one PUT");
}
