//! Server-side encryption as the metadata records it: how a version's (or an upload's) bytes
//! are encrypted and who keeps the key its data key is sealed under ([`Encryption`]), and the
//! keys of the built-in key service ([`KmsKey`]): SSE-S3's cluster key and the SSE-KMS keys,
//! whose material is stored only sealed under the key-encryption key the nodes and gateways
//! are given. The ciphers themselves run in the gateway (`coffer_gateway::sse`).

use serde::{Deserialize, Serialize};

use crate::seal::MasterKey;

/// Scheme 1: AES-256-GCM over packages of [`PACKAGE`] plaintext bytes, each sealed with the
/// key of its blob (HKDF-SHA256 of the data key and the blob id) under the nonce that is the
/// package's index, so that no nonce repeats under one key and a range read opens only the
/// packages it returns.
pub const SCHEME_GCM_PACKAGES: u8 = 1;

/// Plaintext bytes per package (the last package of a run may be shorter).
pub const PACKAGE: u64 = 64 << 10;

/// Bytes the authentication tag adds to each package.
pub const TAG: u64 = 16;

/// The bytes stored for `plain` plaintext bytes: each package with its tag.
pub fn sealed_len(plain: u64) -> u64 {
    plain + plain.div_ceil(PACKAGE) * TAG
}

/// The plaintext bytes of `sealed` stored bytes (the inverse of [`sealed_len`]; a length no
/// sealed run has, a last package shorter than its tag, counts as empty).
pub fn plain_len(sealed: u64) -> u64 {
    let whole = sealed / (PACKAGE + TAG);
    whole * PACKAGE + (sealed % (PACKAGE + TAG)).saturating_sub(TAG)
}

/// How a version's (or an upload's) bytes are encrypted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// The scheme ([`SCHEME_GCM_PACKAGES`]).
    pub scheme: u8,
    /// Who keeps the key the data key is sealed under.
    pub keeper: Keeper,
    /// The data key (32 random bytes, one per object or upload), sealed under the keeper's
    /// key in seal format 1 (`crate::seal`), with the associated data of [`data_key_aad`].
    pub sealed_key: Vec<u8>,
}

/// Who keeps the key a data key is sealed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Keeper {
    /// SSE-S3: the cluster's key ([`SSE_S3_KEY`]) in its generation `generation`.
    S3 {
        /// The key's generation (0 is the first).
        generation: u32,
    },
    /// SSE-KMS: a key of the built-in key service.
    Kms {
        /// The key's id.
        key_id: String,
        /// The key's generation.
        generation: u32,
        /// The encryption context (JSON, as the caller gave it or the default).
        context: String,
        /// Whether the writer asked for an S3 Bucket Key (accepted and shown; the data key is
        /// per object all the same).
        bucket_key: bool,
    },
    /// SSE-C: the customer's key, never stored: `check` is a 16-byte random salt and
    /// HMAC-SHA256 of it under the key, which tells a wrong key from the right one.
    Customer {
        /// Salt, then the keyed hash.
        check: Vec<u8>,
    },
}

impl Keeper {
    /// The value of `x-amz-server-side-encryption` (None for SSE-C, which has its own
    /// headers).
    pub fn header(&self) -> Option<&'static str> {
        match self {
            Keeper::S3 { .. } => Some("AES256"),
            Keeper::Kms { .. } => Some("aws:kms"),
            Keeper::Customer { .. } => None,
        }
    }
}

/// The associated data a data key is sealed with: binds it to its scheme, bucket and key, so
/// a sealed key copied into another record does not open.
pub fn data_key_aad(scheme: u8, bucket: &str, key: &str) -> Vec<u8> {
    let mut aad = format!("coffer-sse-data-key\0{scheme}\0{bucket}\0").into_bytes();
    aad.extend_from_slice(key.as_bytes());
    aad
}

/// The id of SSE-S3's key in the key service: made by the cluster on the first SSE-S3 write,
/// never listed or managed as a KMS key.
pub const SSE_S3_KEY: &str = "coffer/sse-s3";

/// The key SSE-KMS uses when a write names none (AWS's managed key for S3 is `aws/s3`).
pub const DEFAULT_KMS_KEY: &str = "aws/s3";

/// Whether `id` may name a key made through the admin API or the configuration: 1 to 250 of
/// `A-Za-z0-9_.-` (ids under `aws/` and `coffer/` are the service's own).
pub fn valid_key_id(id: &str) -> bool {
    (1..=250).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// The key id a request names in `x-amz-server-side-encryption-aws-kms-key-id` (or a bucket's
/// encryption configuration names): the id itself, an alias (`alias/ID`), or either as an ARN
/// (`arn:aws:kms:REGION:ACCOUNT:key/ID`, `...:alias/ID`).
pub fn key_id_of(named: &str) -> &str {
    let named = match named.strip_prefix("arn:") {
        // arn:PARTITION:kms:REGION:ACCOUNT:RESOURCE
        Some(rest) => rest.splitn(5, ':').nth(4).unwrap_or(named),
        None => named,
    };
    named
        .strip_prefix("key/")
        .or_else(|| named.strip_prefix("alias/"))
        .unwrap_or(named)
}

/// Format of the [`KmsKey`] document.
pub const KMS_KEY_FORMAT: u8 = 1;

/// A key of the built-in key service, as stored: a JSON document in the `kms` records, one
/// per key id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KmsKey {
    /// Format of this document ([`KMS_KEY_FORMAT`]).
    pub format: u8,
    /// The key id.
    pub id: String,
    /// A description.
    #[serde(default)]
    pub description: String,
    /// Created, ms since the epoch.
    pub created_ms: i64,
    /// Whether the key may be used: a disabled key neither seals nor opens data keys.
    pub enabled: bool,
    /// Its generations of material, oldest first; the newest seals new data keys.
    pub material: Vec<Material>,
}

/// One generation of a key's material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Material {
    /// 32 random bytes sealed under the key-encryption key with [`material_aad`], in hex.
    pub sealed: String,
    /// Made, ms since the epoch.
    pub created_ms: i64,
}

/// The associated data a key's material of `generation` is sealed with.
pub fn material_aad(id: &str, generation: u32) -> Vec<u8> {
    format!("coffer-kms-material\0{id}\0{generation}").into_bytes()
}

impl KmsKey {
    /// A new key `id` with one generation of fresh random material, sealed under `kek`.
    pub fn generate(id: &str, description: &str, now_ms: i64, kek: &MasterKey) -> KmsKey {
        KmsKey {
            format: KMS_KEY_FORMAT,
            id: id.to_owned(),
            description: description.to_owned(),
            created_ms: now_ms,
            enabled: true,
            material: vec![Material::generate(id, 0, now_ms, kek)],
        }
    }

    /// This key with one more generation of fresh material, which seals new data keys from
    /// now on; the older generations stay to open what they sealed.
    pub fn rotated(&self, now_ms: i64, kek: &MasterKey) -> KmsKey {
        let mut k = self.clone();
        let next = u32::try_from(k.material.len()).unwrap_or(u32::MAX);
        k.material
            .push(Material::generate(&k.id, next, now_ms, kek));
        k
    }

    /// The newest generation's number.
    pub fn generation(&self) -> u32 {
        u32::try_from(self.material.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// The material of `generation`, unsealed under `kek` (None: no such generation, or it
    /// does not open under this key).
    pub fn material(&self, generation: u32, kek: &MasterKey) -> Option<[u8; 32]> {
        let m = self.material.get(usize::try_from(generation).ok()?)?;
        let sealed = from_hex(&m.sealed)?;
        let plain = kek.open(&sealed, &material_aad(&self.id, generation))?;
        plain.try_into().ok()
    }

    /// The stored form.
    pub fn encode(&self) -> String {
        // Plain strings, numbers and booleans always serialize.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored document (None: it does not decode, or is in a format this build does not
    /// know).
    pub fn decode(doc: &str) -> Option<KmsKey> {
        serde_json::from_str::<KmsKey>(doc)
            .ok()
            .filter(|k| k.format == KMS_KEY_FORMAT)
    }
}

impl Material {
    /// Fresh random material for generation `generation` of key `id`, sealed under `kek`.
    pub fn generate(id: &str, generation: u32, now_ms: i64, kek: &MasterKey) -> Material {
        let plain: [u8; 32] = rand::random();
        Material {
            sealed: to_hex(&kek.seal(&plain, &material_aad(id, generation))),
            created_ms: now_ms,
        }
    }
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_ids_are_named_as_aws_names_them() {
        for (named, id) in [
            ("testkey-1", "testkey-1"),
            ("alias/aws/s3", "aws/s3"),
            ("aws/s3", "aws/s3"),
            (
                "arn:aws:kms:us-east-1:123456789012:key/testkey-1",
                "testkey-1",
            ),
            ("arn:aws:kms:us-east-1:123456789012:alias/aws/s3", "aws/s3"),
            ("key/k", "k"),
        ] {
            assert_eq!(key_id_of(named), id, "{named}");
        }
        assert!(valid_key_id("testkey-1"));
        assert!(valid_key_id("A.b_c-9"));
        for bad in ["", "aws/s3", "coffer/sse-s3", "a b", "é", &"x".repeat(251)] {
            assert!(!valid_key_id(bad), "{bad:?}");
        }
    }

    #[test]
    fn key_material_opens_only_under_its_kek_id_and_generation() {
        let kek = MasterKey::derive_for(b"cluster secret", "coffer key-encryption key v1");
        let k = KmsKey::generate("testkey-1", "a test key", 5, &kek);
        let doc = k.encode();
        let back = KmsKey::decode(&doc).unwrap();
        assert_eq!(back, k);
        let m = back.material(0, &kek).unwrap();
        assert_eq!(back.material(0, &kek), Some(m));
        assert!(back.material(1, &kek).is_none());
        let other = MasterKey::derive_for(b"other secret", "coffer key-encryption key v1");
        assert!(back.material(0, &other).is_none());
        // The material is not in the document in clear.
        assert!(!doc.contains(&to_hex(&m)));
        // Moved to another key id, it does not open.
        let mut moved = back.clone();
        moved.id = "testkey-2".into();
        assert!(moved.material(0, &kek).is_none());
        // A later format is not read as this one.
        assert!(KmsKey::decode(&doc.replace("\"format\":1", "\"format\":2")).is_none());
        // Rotation adds a generation; the old one still opens.
        let rotated = back.rotated(9, &kek);
        assert_eq!(rotated.generation(), 1);
        assert_eq!(rotated.material(0, &kek), Some(m));
        assert!(rotated.material(1, &kek).is_some_and(|n| n != m));
        assert_eq!(from_hex("0aff"), Some(vec![10, 255]));
        assert_eq!(from_hex("0af"), None);
        assert_eq!(from_hex("zz"), None);
    }
}
