//! Stories for encryption in the state machine: a write's encryption stays with the version
//! (and an upload's goes to the object it completes into), a wrapper around anything else is
//! refused, and the key service's keys are created once.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use coffer_proto::meta::{
    CompletePart, MetaAnswer, MetaCommand, MetaOk, MetaQuery, WritePrecondition,
};
use coffer_proto::seal::MasterKey;
use coffer_proto::sse::{Encryption, Keeper, KmsKey};
use coffer_proto::types::ObjectData;
use coffer_proto::ProtoError;

use super::tests::{inline, part, upload_info, version, Sm};

fn encryption(generation: u32) -> Encryption {
    Encryption {
        scheme: 1,
        keeper: Keeper::S3 { generation },
        sealed_key: vec![9; 60],
    }
}

fn object(sm: &Sm, bucket_id: u64, key: &str) -> coffer_proto::types::ObjectVersion {
    match sm.ask(MetaQuery::GetObject {
        bucket_id,
        key: key.into(),
    }) {
        MetaAnswer::Object(Some(v)) => *v,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_version_keeps_the_encryption_it_was_written_with() {
    let mut sm = Sm::new();
    let id = sm.bucket("b");
    sm.run(MetaCommand::WithEncryption {
        encryption: encryption(0),
        cmd: Box::new(MetaCommand::PutObject {
            bucket_id: id,
            version: version("sealed", inline()),
            precondition: WritePrecondition::None,
        }),
    })
    .unwrap();
    sm.put(id, "plain", inline()).unwrap();
    assert_eq!(
        object(&sm, id, "sealed").encryption,
        Some(Box::new(encryption(0)))
    );
    assert_eq!(object(&sm, id, "plain").encryption, None);
    // A plain write over an encrypted object replaces its encryption too.
    sm.put(id, "sealed", inline()).unwrap();
    assert_eq!(object(&sm, id, "sealed").encryption, None);

    // An upload's encryption becomes its object's, whatever the completion carries.
    sm.run(MetaCommand::WithEncryption {
        encryption: encryption(3),
        cmd: Box::new(MetaCommand::CreateUpload {
            bucket_id: id,
            upload: upload_info("multi", "u1"),
        }),
    })
    .unwrap();
    match sm.ask(MetaQuery::GetUpload {
        bucket_id: id,
        key: "multi".into(),
        upload_id: "u1".into(),
    }) {
        MetaAnswer::Upload(Some(u)) => assert_eq!(u.encryption, Some(Box::new(encryption(3)))),
        other => panic!("{other:?}"),
    }
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
        object(&sm, id, "multi").encryption,
        Some(Box::new(encryption(3)))
    );

    // Around anything but a PutObject or a CreateUpload, the wrapper is refused.
    let misplaced = sm.run(MetaCommand::WithEncryption {
        encryption: encryption(0),
        cmd: Box::new(MetaCommand::DeleteObjects {
            bucket_id: id,
            keys: vec!["plain".into()],
        }),
    });
    assert!(matches!(misplaced, Err(ProtoError::MisplacedCommand(_))));
    assert_eq!(object(&sm, id, "plain").key, "plain");
}

#[test]
fn a_key_is_created_once() {
    let mut sm = Sm::new();
    let kek = MasterKey::derive_for(b"secret", "coffer key-encryption key v1");
    let first = KmsKey::generate("coffer/sse-s3", "SSE-S3", 1, &kek);
    let second = KmsKey::generate("coffer/sse-s3", "SSE-S3", 2, &kek);
    assert_eq!(
        sm.run(MetaCommand::CreateKmsKey {
            key: first.encode()
        }),
        Ok(MetaOk::Done)
    );
    assert_eq!(
        sm.run(MetaCommand::CreateKmsKey {
            key: second.encode()
        }),
        Err(ProtoError::KmsKeyExists)
    );
    let stored = match sm.ask(MetaQuery::GetKmsKey("coffer/sse-s3".into())) {
        MetaAnswer::KmsKey(Some(doc)) => KmsKey::decode(&doc).unwrap(),
        other => panic!("{other:?}"),
    };
    assert_eq!(stored, first, "the first proposal is the key");
    assert_eq!(
        sm.ask(MetaQuery::GetKmsKey("testkey-1".into())),
        MetaAnswer::KmsKey(None)
    );
    assert!(matches!(
        sm.run(MetaCommand::CreateKmsKey {
            key: "not a key".into()
        }),
        Err(ProtoError::ValidationError(_))
    ));
}

#[test]
fn a_key_is_replaced_only_from_the_document_it_was_changed_from() {
    let mut sm = Sm::new();
    let kek = MasterKey::derive_for(b"secret", "coffer key-encryption key v1");
    let key = KmsKey::generate("testkey-1", "", 1, &kek);
    let replace = |previous: &KmsKey, key: &KmsKey| MetaCommand::ReplaceKmsKey {
        previous: previous.encode(),
        key: key.encode(),
    };
    let disabled = KmsKey {
        enabled: false,
        ..key.clone()
    };
    // No such key yet.
    assert!(matches!(
        sm.run(replace(&key, &disabled)),
        Err(ProtoError::NoSuchEntity(_))
    ));
    sm.run(MetaCommand::CreateKmsKey { key: key.encode() })
        .unwrap();
    assert_eq!(sm.run(replace(&key, &disabled)), Ok(MetaOk::Done));
    // A rotation made from the document before the disable lost the race: refused.
    let rotated = key.rotated(2, &kek);
    assert_eq!(
        sm.run(replace(&key, &rotated)),
        Err(ProtoError::KmsKeyChanged)
    );
    // Another id is not a replacement.
    let other = KmsKey::generate("testkey-2", "", 1, &kek);
    assert!(matches!(
        sm.run(replace(&disabled, &other)),
        Err(ProtoError::ValidationError(_))
    ));
    let rotated = disabled.rotated(3, &kek);
    assert_eq!(sm.run(replace(&disabled, &rotated)), Ok(MetaOk::Done));
    sm.run(MetaCommand::CreateKmsKey {
        key: other.encode(),
    })
    .unwrap();
    let listed = match sm.ask(MetaQuery::ListKmsKeys) {
        MetaAnswer::KmsKeys(docs) => docs
            .iter()
            .map(|d| KmsKey::decode(d).unwrap())
            .collect::<Vec<_>>(),
        other => panic!("{other:?}"),
    };
    assert_eq!(listed, [rotated, other]);
}
