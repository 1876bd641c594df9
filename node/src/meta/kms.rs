//! The key service's keys in the state machine: SSE-S3's key and the SSE-KMS keys, one JSON
//! document per key id (`coffer_proto::sse::KmsKey`) in the `kms` records. Their material
//! arrives sealed under the key-encryption key, which the state machine never holds.

use coffer_proto::meta::MetaOk;
use coffer_proto::sse::KmsKey;
use coffer_proto::ProtoError;

use super::store::{Batch, MetaStore, StoreError, CF_KMS};

type CmdResult = Result<Result<MetaOk, ProtoError>, StoreError>;

/// CreateKmsKey: add `doc` under its id, unless the id is taken.
pub fn create(store: &MetaStore, batch: &mut Batch, doc: &str) -> CmdResult {
    let Some(key) = KmsKey::decode(doc) else {
        return Ok(Err(ProtoError::ValidationError(
            "the key document does not decode".into(),
        )));
    };
    if get(store, &key.id)?.is_some() {
        return Ok(Err(ProtoError::KmsKeyExists));
    }
    batch.put(
        CF_KMS,
        key.id.as_bytes(),
        super::format::encode(&doc.to_owned()),
    );
    Ok(Ok(MetaOk::Done))
}

/// The document of key `id`, if there is one.
pub fn get(store: &MetaStore, id: &str) -> Result<Option<String>, StoreError> {
    store.get::<String>(CF_KMS, id.as_bytes())
}

/// ReplaceKmsKey: put `doc` in place of the key's document if that is still `previous`.
pub fn replace(store: &MetaStore, batch: &mut Batch, previous: &str, doc: &str) -> CmdResult {
    let (Some(old), Some(new)) = (KmsKey::decode(previous), KmsKey::decode(doc)) else {
        return Ok(Err(ProtoError::ValidationError(
            "the key document does not decode".into(),
        )));
    };
    if old.id != new.id {
        return Ok(Err(ProtoError::ValidationError(
            "a key's replacement must keep its id".into(),
        )));
    }
    match get(store, &new.id)? {
        None => Ok(Err(ProtoError::NoSuchEntity(format!(
            "Key '{}' does not exist",
            new.id
        )))),
        Some(stored) if stored != previous => Ok(Err(ProtoError::KmsKeyChanged)),
        Some(_) => {
            batch.put(
                CF_KMS,
                new.id.as_bytes(),
                super::format::encode(&doc.to_owned()),
            );
            Ok(Ok(MetaOk::Done))
        }
    }
}

/// Every key's document, by id.
pub fn list(store: &MetaStore) -> Result<Vec<String>, StoreError> {
    Ok(store
        .scan_prefix::<String>(CF_KMS, b"", usize::MAX)?
        .into_iter()
        .map(|(_, doc)| doc)
        .collect())
}
