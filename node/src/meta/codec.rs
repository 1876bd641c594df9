//! Versioned value encoding: one format-version byte, then bincode. Every stored value goes
//! through here so that a later format can read (and migrate) what an older one wrote.

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The format version written today.
pub const FORMAT_V1: u8 = 1;

/// Error decoding a stored value.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// Empty value.
    #[error("empty value")]
    Empty,
    /// A format version this build cannot read.
    #[error("unknown format version {0}")]
    UnknownVersion(u8),
    /// The bytes do not decode.
    #[error("corrupt value: {0}")]
    Corrupt(String),
}

/// Encode a value in the current format.
pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = vec![FORMAT_V1];
    // Serializing our own plain structs into a Vec cannot fail (no maps with non-string keys,
    // no I/O); an error here would be a bug in a type definition.
    if let Err(e) = bincode::serialize_into(&mut out, value) {
        unreachable!("bincode cannot fail on in-memory plain data: {e}");
    }
    out
}

/// Decode a value written by any known format version.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    match bytes.split_first() {
        None => Err(CodecError::Empty),
        Some((&FORMAT_V1, rest)) => {
            bincode::deserialize(rest).map_err(|e| CodecError::Corrupt(e.to_string()))
        }
        Some((&v, _)) => Err(CodecError::UnknownVersion(v)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use coffer_proto::types::{BucketInfo, Versioning};

    #[test]
    fn round_trip_and_refuse_unknown_versions() {
        let b = BucketInfo {
            id: 7,
            name: "b".into(),
            created_ms: 1,
            owner: "o".into(),
            location: String::new(),
            versioning: Versioning::Unversioned,
        };
        let bytes = encode(&b);
        assert_eq!(bytes[0], FORMAT_V1);
        assert_eq!(decode::<BucketInfo>(&bytes).unwrap(), b);
        let mut future = bytes.clone();
        future[0] = 9;
        assert!(matches!(
            decode::<BucketInfo>(&future),
            Err(CodecError::UnknownVersion(9))
        ));
        assert!(matches!(decode::<BucketInfo>(&[]), Err(CodecError::Empty)));
    }
}
