//! A remote tier's objects: one S3 object per blob, `{prefix}{blob id in hex}` in the tier's
//! bucket, holding the blob's bytes as Coffer stores them (an encrypted blob stays sealed:
//! its key never leaves the cluster). Requests are path-style and signed with AWS Signature
//! Version 4 (`UNSIGNED-PAYLOAD`; a PUT is checked against its ETag, the MD5 of the body,
//! computed on the way). The secret access key is opened from the tiers document with the
//! node's key-encryption key for each request and never logged.
//!
//! A blob on a remote tier is recorded with one placement entry: node
//! [`REMOTE_NODE`], drive = the tier's id.

use std::sync::OnceLock;

use coffer_proto::tier::{RemoteTier, Tier, TierKind, Tiers, REMOTE_NODE};
use coffer_proto::types::{BlobRef, ShardLoc};
use coffer_proto::{ByteStream, ProtoError};
use futures::StreamExt;
use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use serde::Deserialize;
use sha2::Sha256;

use crate::cluster::Node;

/// The remote tier a blob is on (its id), if it is on one.
pub fn tier_of(blob: &BlobRef) -> Option<u32> {
    match blob.placement.as_slice() {
        [ShardLoc { node, drive }] if *node == REMOTE_NODE => Some(*drive),
        _ => None,
    }
}

/// `blob` as placed on remote tier `tier`.
pub fn placed_on(blob: &BlobRef, tier: u32) -> BlobRef {
    BlobRef {
        placement: vec![ShardLoc {
            node: REMOTE_NODE,
            drive: tier,
        }],
        ..blob.clone()
    }
}

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(10))
            .build()
            .unwrap_or_default()
    })
}

/// What a request to a remote tier needs: where, and with which key.
pub struct Remote {
    tier: String,
    conf: RemoteTier,
    secret: String,
}

fn unreachable_tier(e: impl std::fmt::Display) -> ProtoError {
    ProtoError::Unreachable(format!("remote tier: {e}"))
}

impl Remote {
    /// Remote tier `tier` as `tiers` has it, its secret opened with this node's key.
    pub fn of(node: &Node, tiers: &Tiers, tier: u32) -> Result<Remote, ProtoError> {
        let t = tiers
            .by_id(tier)
            .ok_or_else(|| ProtoError::Internal(format!("no tier with id {tier}")))?;
        Remote::from_tier(node, t)
    }

    /// `t`, which must be a remote tier.
    pub fn from_tier(node: &Node, t: &Tier) -> Result<Remote, ProtoError> {
        let TierKind::Remote(conf) = &t.kind else {
            return Err(ProtoError::Internal(format!(
                "tier {:?} is not remote",
                t.name
            )));
        };
        let kek = node.config.kek.as_ref().ok_or_else(|| {
            ProtoError::Internal("this node has no key-encryption key for remote tiers".into())
        })?;
        let secret = conf.secret(kek, &t.name).ok_or_else(|| {
            ProtoError::Internal(format!(
                "tier {:?}'s secret does not open under this node's key-encryption key",
                t.name
            ))
        })?;
        Ok(Remote {
            tier: t.name.clone(),
            conf: conf.clone(),
            secret,
        })
    }

    /// The object key of a blob.
    fn key(&self, blob: &BlobRef) -> String {
        format!("{}{}", self.conf.prefix, blob.id_hex())
    }

    /// A signed request for `key` (`Range` and body added by the caller).
    fn request(&self, method: reqwest::Method, key: &str) -> reqwest::RequestBuilder {
        let path = format!("/{}/{}", encode_path(&self.conf.bucket), encode_path(key));
        self.signed(method, path, &[])
    }

    /// A signed request for `path` (already encoded) with query parameters `query`.
    fn signed(
        &self,
        method: reqwest::Method,
        path: String,
        query: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let query = canonical_query(query);
        let url = if query.is_empty() {
            format!("{}{path}", self.conf.endpoint)
        } else {
            format!("{}{path}?{query}", self.conf.endpoint)
        };
        let host = self
            .conf
            .endpoint
            .split_once("://")
            .map_or(self.conf.endpoint.as_str(), |(_, h)| h)
            .to_owned();
        let now = chrono::Utc::now();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let auth = sign(
            &SigningInput {
                method: method.as_str(),
                path: &path,
                query: &query,
                host: &host,
                amz_date: &amz_date,
                region: &self.conf.region,
                access_key_id: &self.conf.access_key_id,
            },
            &self.secret,
        );
        http()
            .request(method, url)
            .header("x-amz-date", amz_date)
            .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
            .header("authorization", auth)
    }

    /// Store `body` (exactly `blob.size` bytes) as blob `blob`'s object; checked against the
    /// ETag the tier answers.
    pub async fn put(&self, blob: &BlobRef, body: ByteStream) -> Result<(), ProtoError> {
        // The HTTP client stops polling the body once Content-Length bytes went out, so the
        // hash is finished at the last byte rather than at the stream's end.
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut hash = Some((Md5::new(), tx, blob.size));
        if blob.size == 0 {
            if let Some((h, tx, _)) = hash.take() {
                let _ = tx.send(hex::encode(h.finalize()));
            }
        }
        let hashed = body.map(move |chunk| {
            if let (Ok(b), Some((h, _, left))) = (&chunk, hash.as_mut()) {
                h.update(b);
                *left = left.saturating_sub(b.len() as u64);
                if *left == 0 {
                    if let Some((h, tx, _)) = hash.take() {
                        let _ = tx.send(hex::encode(h.finalize()));
                    }
                }
            }
            chunk
        });
        let resp = self
            .request(reqwest::Method::PUT, &self.key(blob))
            .header("content-length", blob.size)
            .body(reqwest::Body::wrap_stream(hashed))
            .send()
            .await
            .map_err(unreachable_tier)?;
        let status = resp.status();
        let etag = resp
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(|e| e.trim_matches('"').to_owned());
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(refused(&self.tier, status, &body));
        }
        let sent = rx
            .await
            .map_err(|_| ProtoError::Internal("the blob's read ended early".into()))?;
        if etag.as_deref() != Some(sent.as_str()) {
            return Err(ProtoError::Internal(format!(
                "remote tier {:?} stored blob {} with ETag {etag:?}, not the MD5 sent ({sent})",
                self.tier,
                blob.id_hex()
            )));
        }
        Ok(())
    }

    /// Bytes `start..end` of blob `blob`.
    pub async fn get(
        &self,
        blob: &BlobRef,
        start: u64,
        end: u64,
    ) -> Result<ByteStream, ProtoError> {
        if start >= end {
            return Ok(Box::pin(futures::stream::empty()));
        }
        let resp = self
            .request(reqwest::Method::GET, &self.key(blob))
            .header("range", format!("bytes={start}-{}", end - 1))
            .send()
            .await
            .map_err(unreachable_tier)?;
        let status = resp.status();
        if !status.is_success() {
            let body = resp.text().await.unwrap_or_default();
            return Err(refused(&self.tier, status, &body));
        }
        let tier = self.tier.clone();
        Ok(Box::pin(resp.bytes_stream().map(move |r| {
            r.map_err(|e| unreachable_tier(format!("{tier}: {e}")))
        })))
    }

    /// Delete blob `blob`'s object (a missing one is no error).
    pub async fn delete(&self, blob: &BlobRef) -> Result<(), ProtoError> {
        self.delete_id(&blob.id).await
    }

    /// Delete the object of the blob with id `id` (a missing one is no error).
    pub async fn delete_id(&self, id: &[u8; 16]) -> Result<(), ProtoError> {
        let key = format!("{}{}", self.conf.prefix, hex::encode(id));
        let resp = self
            .request(reqwest::Method::DELETE, &key)
            .send()
            .await
            .map_err(unreachable_tier)?;
        let status = resp.status();
        if status.is_success() || status == reqwest::StatusCode::NOT_FOUND {
            return Ok(());
        }
        let body = resp.text().await.unwrap_or_default();
        Err(refused(&self.tier, status, &body))
    }
}

/// One page of a remote tier's blob objects.
#[derive(Debug, Default)]
pub struct ListPage {
    /// Each object under the prefix whose name is a blob id: the id, and when it was written.
    pub blobs: Vec<([u8; 16], chrono::DateTime<chrono::Utc>)>,
    /// The token of the next page, if there is one.
    pub next: Option<String>,
}

/// A ListObjectsV2 answer, as far as the sweep reads it.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListBucketResult {
    #[serde(default)]
    contents: Vec<Listed>,
    #[serde(default)]
    next_continuation_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    key: String,
    last_modified: String,
}

impl Remote {
    /// One page (ListObjectsV2) of the objects under the tier's prefix, after the page whose
    /// token is `token`.
    pub async fn list(&self, token: Option<&str>) -> Result<ListPage, ProtoError> {
        let mut query = vec![("list-type", "2"), ("prefix", self.conf.prefix.as_str())];
        if let Some(t) = token {
            query.push(("continuation-token", t));
        }
        let path = format!("/{}", encode_path(&self.conf.bucket));
        let resp = self
            .signed(reqwest::Method::GET, path, &query)
            .send()
            .await
            .map_err(unreachable_tier)?;
        let status = resp.status();
        let body = resp.text().await.map_err(unreachable_tier)?;
        if !status.is_success() {
            return Err(refused(&self.tier, status, &body));
        }
        let parsed: ListBucketResult = quick_xml::de::from_str(&body).map_err(|e| {
            ProtoError::Unreachable(format!(
                "remote tier {:?}: unreadable listing: {e}",
                self.tier
            ))
        })?;
        Ok(parse_listing(parsed, &self.conf.prefix))
    }
}

/// The blobs of a listing: keys that are the prefix and a blob id in hex. Others (not
/// Coffer's) are left out, and so never deleted.
fn parse_listing(l: ListBucketResult, prefix: &str) -> ListPage {
    let blobs = l
        .contents
        .into_iter()
        .filter_map(|o| {
            let hex_id = o.key.strip_prefix(prefix)?;
            let id = <[u8; 16]>::try_from(hex::decode(hex_id).ok()?).ok()?;
            let at = chrono::DateTime::parse_from_rfc3339(&o.last_modified).ok()?;
            Some((id, at.with_timezone(&chrono::Utc)))
        })
        .collect();
    ListPage {
        blobs,
        next: l.next_continuation_token.filter(|t| !t.is_empty()),
    }
}

fn refused(tier: &str, status: reqwest::StatusCode, body: &str) -> ProtoError {
    let code = body
        .split_once("<Code>")
        .and_then(|(_, r)| r.split_once("</Code>"))
        .map_or("", |(c, _)| c);
    ProtoError::Unreachable(format!("remote tier {tier:?} answered {status} {code}"))
}

/// A path as SigV4 canonicalizes it: every byte but the unreserved ones and '/' as %XX.
fn encode_path(s: &str) -> String {
    encode(s, true)
}

/// A query string as SigV4 canonicalizes it (and as it is sent): names and values encoded,
/// '/' too, sorted by name.
fn canonical_query(query: &[(&str, &str)]) -> String {
    let mut pairs: Vec<(String, String)> = query
        .iter()
        .map(|(k, v)| (encode(k, false), encode(v, false)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// `s` with every byte but the unreserved ones (and '/' where `slash` is set) as %XX.
fn encode(s: &str, slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What a request's signature covers.
struct SigningInput<'a> {
    method: &'a str,
    /// Already encoded.
    path: &'a str,
    /// Canonical (see [`canonical_query`]).
    query: &'a str,
    host: &'a str,
    amz_date: &'a str,
    region: &'a str,
    access_key_id: &'a str,
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length: `new_from_slice` cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

/// The `Authorization` header of an AWS Signature Version 4 request signing `host`,
/// `x-amz-content-sha256` (UNSIGNED-PAYLOAD) and `x-amz-date`.
fn sign(r: &SigningInput<'_>, secret: &str) -> String {
    let signed = "host;x-amz-content-sha256;x-amz-date";
    let canonical = format!(
        "{}\n{}\n{}\nhost:{}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{}\n\n{signed}\nUNSIGNED-PAYLOAD",
        r.method, r.path, r.query, r.host, r.amz_date
    );
    let day = r.amz_date.get(..8).unwrap_or("");
    let scope = format!("{day}/{}/s3/aws4_request", r.region);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        r.amz_date,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), day.as_bytes());
    for part in [r.region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex::encode(hmac(&key, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        r.access_key_id
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn signatures_follow_the_sigv4_example() {
        // The GET Object example of the S3 SigV4 documentation, with its headers reduced to
        // those signed here: the derivation is checked against an independent computation
        // (Python's hmac/hashlib) of the same canonical request.
        let r = SigningInput {
            method: "GET",
            path: "/examplebucket/test.txt",
            query: "",
            host: "examplebucket.s3.amazonaws.com",
            amz_date: "20130524T000000Z",
            region: "us-east-1",
            access_key_id: "AKIAIOSFODNN7EXAMPLE",
        };
        let auth = sign(&r, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        assert!(auth.starts_with(
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, \
             SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature="
        ));
        assert_eq!(
            auth.rsplit('=').next(),
            Some("d3c1b91eff3864fd8bd74f9abe53e3f266f14222c83f1646dc13d1982abb4af2")
        );
    }

    #[test]
    fn paths_are_encoded_as_sigv4_wants() {
        assert_eq!(encode_path("a b/c+d~e_f.g-h"), "a%20b/c%2Bd~e_f.g-h");
        assert_eq!(encode_path("é"), "%C3%A9");
    }

    #[test]
    fn query_strings_are_sorted_and_encoded() {
        assert_eq!(
            canonical_query(&[("prefix", "a b/c"), ("list-type", "2")]),
            "list-type=2&prefix=a%20b%2Fc"
        );
        assert_eq!(canonical_query(&[]), "");
    }

    #[test]
    fn a_listing_names_the_blobs_under_the_prefix() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>archive</Name>
<Prefix>coffer/</Prefix><KeyCount>3</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>true</IsTruncated>
<Contents><Key>coffer/0102030405060708090a0b0c0d0e0f10</Key><LastModified>2026-12-07T10:00:00.000Z</LastModified><ETag>"x"</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>coffer/notes.txt</Key><LastModified>2026-12-07T10:00:00.000Z</LastModified><ETag>"y"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>coffer/0102</Key><LastModified>2026-12-07T10:00:00.000Z</LastModified><ETag>"z"</ETag><Size>1</Size><StorageClass>STANDARD</StorageClass></Contents>
<NextContinuationToken>tok&amp;1</NextContinuationToken></ListBucketResult>"#;
        let parsed: ListBucketResult = quick_xml::de::from_str(xml).unwrap();
        let page = parse_listing(parsed, "coffer/");
        let want: [u8; 16] = core::array::from_fn(|i| i as u8 + 1);
        assert_eq!(page.blobs.len(), 1, "{page:?}");
        assert_eq!(page.blobs[0].0, want);
        assert_eq!(page.blobs[0].1.timestamp(), 1_796_637_600);
        assert_eq!(page.next.as_deref(), Some("tok&1"));
        let last: ListBucketResult = quick_xml::de::from_str(
            "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
        )
        .unwrap();
        assert!(parse_listing(last, "coffer/").next.is_none());
    }

    #[test]
    fn a_remote_placement_names_its_tier() {
        let b = BlobRef {
            id: [1; 16],
            size: 5,
            layout: coffer_proto::types::Layout {
                k: 2,
                m: 1,
                stripe_size: 1 << 20,
            },
            placement: vec![ShardLoc { node: 1, drive: 0 }],
        };
        assert_eq!(tier_of(&b), None);
        let r = placed_on(&b, 7);
        assert_eq!(tier_of(&r), Some(7));
        assert_eq!((r.id, r.size, r.layout), (b.id, b.size, b.layout));
    }
}
