//! SSE-C: the customer's key, sent with every request that writes or reads the object's bytes
//! (`x-amz-server-side-encryption-customer-*`, or `x-amz-copy-source-server-side-encryption-
//! customer-*` for a copy's source), checked as S3 checks it, and never stored: the object
//! keeps its data key sealed under the customer's key and a salted keyed hash of that key
//! ([`CustomerKey::check`]), which tells a wrong key (403) from the right one.

use actix_web::http::header::HeaderMap;
use base64::Engine;
use hmac::{Hmac, Mac};
use md5::Digest;
use sha2::Sha256;

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};

/// Bytes of the random salt in a key check.
const SALT: usize = 16;

/// The three headers of a customer key: algorithm, key, key MD5.
pub struct Names {
    algorithm: &'static str,
    key: &'static str,
    md5: &'static str,
}

/// The customer's key for the object written or read.
pub const OBJECT: Names = Names {
    algorithm: "x-amz-server-side-encryption-customer-algorithm",
    key: "x-amz-server-side-encryption-customer-key",
    md5: "x-amz-server-side-encryption-customer-key-md5",
};

/// The customer's key for a copy's source.
pub const COPY_SOURCE: Names = Names {
    algorithm: "x-amz-copy-source-server-side-encryption-customer-algorithm",
    key: "x-amz-copy-source-server-side-encryption-customer-key",
    md5: "x-amz-copy-source-server-side-encryption-customer-key-md5",
};

/// A customer's key as a request gave it.
#[derive(Clone)]
pub struct CustomerKey {
    key: [u8; 32],
    /// The key's MD5, base64 (echoed in responses).
    pub md5: String,
}

impl std::fmt::Debug for CustomerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        write!(f, "CustomerKey(md5 {})", self.md5)
    }
}

fn invalid(msg: &'static str, argument: &'static str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, msg).with("ArgumentName", argument)
}

impl CustomerKey {
    /// The customer key the headers `names` of `h` give (None: none of them is there),
    /// checked as S3 checks it: all three, AES256, a 256-bit key, its MD5.
    pub fn from_headers(h: &HeaderMap, names: &Names) -> S3Result<Option<CustomerKey>> {
        let get = |n: &str| h.get(n).map(|v| v.to_str().unwrap_or_default().trim());
        let (algorithm, key, md5) = (get(names.algorithm), get(names.key), get(names.md5));
        if algorithm.is_none() && key.is_none() && md5.is_none() {
            return Ok(None);
        }
        let Some(algorithm) = algorithm else {
            return Err(invalid(
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.",
                names.algorithm,
            ));
        };
        if algorithm != "AES256" {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidEncryptionAlgorithmError,
                "The encryption request you specified is not valid. The valid value is AES256.",
            )
            .with("ArgumentName", names.algorithm)
            .with("ArgumentValue", algorithm));
        }
        let Some(key) = key else {
            return Err(invalid(
                "Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.",
                names.key,
            ));
        };
        let Some(md5) = md5 else {
            return Err(invalid(
                "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.",
                names.md5,
            ));
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        let key: [u8; 32] = b64
            .decode(key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| {
                invalid(
                    "The secret key was invalid for the specified algorithm.",
                    names.key,
                )
            })?;
        let given = b64.decode(md5).ok();
        if given.as_deref() != Some(md5::Md5::digest(key).as_slice()) {
            return Err(invalid(
                "The calculated MD5 hash of the key did not match the hash that was provided.",
                names.md5,
            ));
        }
        Ok(Some(CustomerKey {
            key,
            md5: md5.to_owned(),
        }))
    }

    /// The key as a sealing key.
    pub fn sealer(&self) -> coffer_proto::seal::MasterKey {
        coffer_proto::seal::MasterKey::from_bytes(self.key)
    }

    fn mac(&self, salt: &[u8]) -> Vec<u8> {
        // HMAC takes a key of any length: `new_from_slice` cannot fail here.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts a 32-byte key"));
        m.update(b"coffer-sse-c-check");
        m.update(salt);
        m.finalize().into_bytes().to_vec()
    }

    /// A fresh check of this key: a random salt, then HMAC-SHA256 of it under the key.
    pub fn check(&self) -> Vec<u8> {
        let salt: [u8; SALT] = rand::random();
        let mut out = salt.to_vec();
        out.extend(self.mac(&salt));
        out
    }

    /// Whether this is the key `check` was made with (in constant time).
    pub fn matches(&self, check: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        match check.split_at_checked(SALT) {
            Some((salt, mac)) => self.mac(salt).ct_eq(mac).into(),
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    fn given(key: &[u8], md5_of: &[u8], algorithm: &str) -> HeaderMap {
        headers(&[
            (OBJECT.algorithm, algorithm),
            (OBJECT.key, &b64(key)),
            (OBJECT.md5, &b64(&md5::Md5::digest(md5_of))),
        ])
    }

    fn code(r: S3Result<Option<CustomerKey>>) -> String {
        r.err()
            .map(|e| e.code.as_str().to_owned())
            .unwrap_or_default()
    }

    #[test]
    fn a_key_is_checked_as_s3_checks_it() {
        let key = [3u8; 32];
        let k = CustomerKey::from_headers(&given(&key, &key, "AES256"), &OBJECT)
            .unwrap()
            .unwrap();
        assert_eq!(k.md5, b64(&md5::Md5::digest(key)));
        assert!(!format!("{k:?}").contains(&b64(&key)));
        assert!(CustomerKey::from_headers(&HeaderMap::new(), &OBJECT)
            .unwrap()
            .is_none());
        // The copy source's headers are another set.
        assert!(
            CustomerKey::from_headers(&given(&key, &key, "AES256"), &COPY_SOURCE)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            code(CustomerKey::from_headers(
                &given(&key, &key, "AES128"),
                &OBJECT
            )),
            "InvalidEncryptionAlgorithmError"
        );
        for bad in [
            given(&[3u8; 16], &[3u8; 16], "AES256"),
            given(&key, &[4u8; 32], "AES256"),
            headers(&[(OBJECT.algorithm, "AES256")]),
            headers(&[(OBJECT.algorithm, "AES256"), (OBJECT.key, &b64(&key))]),
            headers(&[(OBJECT.key, &b64(&key))]),
            headers(&[
                (OBJECT.algorithm, "AES256"),
                (OBJECT.key, "not base64!"),
                (OBJECT.md5, "x"),
            ]),
        ] {
            assert_eq!(
                code(CustomerKey::from_headers(&bad, &OBJECT)),
                "InvalidArgument",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_check_tells_the_right_key_from_a_wrong_one() {
        let h = |k: [u8; 32]| given(&k, &k, "AES256");
        let right = CustomerKey::from_headers(&h([1; 32]), &OBJECT)
            .unwrap()
            .unwrap();
        let wrong = CustomerKey::from_headers(&h([2; 32]), &OBJECT)
            .unwrap()
            .unwrap();
        let check = right.check();
        assert!(right.matches(&check));
        assert!(!wrong.matches(&check));
        assert!(!right.matches(&check[..10]));
        // Salted: two checks of one key differ, and neither holds the key.
        assert_ne!(check, right.check());
        assert!(!check.windows(32).any(|w| w == [1u8; 32]));
    }
}
