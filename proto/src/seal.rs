//! The cluster master key and secrets sealed under it. The master key is derived from the
//! cluster secret (HKDF-SHA256), so every node and gateway of a cluster holds it and nothing
//! else needs distributing; secrets (access keys' secret keys) are stored only sealed with
//! AES-256-GCM under it, bound to what they belong to by the associated data.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

/// Bytes of the random nonce that starts each sealed value.
const NONCE: usize = 12;

/// The key secrets at rest are sealed under.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// The master key of the cluster whose secret is `cluster_secret`.
    pub fn derive(cluster_secret: &[u8]) -> MasterKey {
        MasterKey::derive_for(cluster_secret, "coffer master key v1")
    }

    /// A sealing key of 32 bytes of key material.
    pub fn from_bytes(key: [u8; 32]) -> MasterKey {
        MasterKey(key)
    }

    /// A key derived from `secret` for `purpose` (HKDF-SHA256, salt "coffer"): the
    /// key-encryption key of server-side encryption is derived from the cluster secret with
    /// purpose "coffer key-encryption key v1" unless one is given.
    pub fn derive_for(secret: &[u8], purpose: &str) -> MasterKey {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"coffer"), secret);
        let mut key = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's limit of 8160: expand cannot fail.
        let _ = hk.expand(purpose.as_bytes(), &mut key);
        MasterKey(key)
    }

    /// `plain` sealed: nonce, then ciphertext and tag. `aad` must be given again to open it.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new((&self.0).into());
        let nonce: [u8; NONCE] = rand::random();
        // AES-GCM refuses only messages over 64 GiB; an empty result would never open.
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// The plaintext of a sealed value, if it was sealed under this key with `aad`.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
        let cipher = Aes256Gcm::new((&self.0).into());
        let nonce = sealed.get(..NONCE)?;
        let msg = sealed.get(NONCE..)?;
        cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg, aad })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key_and_label() {
        let k = MasterKey::derive(b"cluster secret one");
        let sealed = k.seal(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", b"AKIAEXAMPLE");
        assert!(
            !sealed.windows(8).any(|w| w == b"wJalrXUt"),
            "the secret is not in clear"
        );
        assert_eq!(
            k.open(&sealed, b"AKIAEXAMPLE").unwrap(),
            b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert!(k.open(&sealed, b"AKIAOTHER").is_none());
        assert!(MasterKey::derive(b"cluster secret two")
            .open(&sealed, b"AKIAEXAMPLE")
            .is_none());
        let mut flipped = sealed.clone();
        flipped[20] ^= 1;
        assert!(k.open(&flipped, b"AKIAEXAMPLE").is_none());
        assert!(k.open(&sealed[..5], b"AKIAEXAMPLE").is_none());
        assert_ne!(
            sealed,
            k.seal(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", b"AKIAEXAMPLE")
        );
        assert_eq!(format!("{k:?}"), "MasterKey(..)");
    }
}
