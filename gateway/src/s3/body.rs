//! The request-body pipeline of writes: aws-chunked decoding, then MD5 (the ETag), the
//! payload SHA-256 when it was signed, and the requested `x-amz-checksum-*`, all verified when
//! the body ends and before the storage layer sees the end of the stream. A failed check is
//! sent down the stream as an error, so the blob being written is discarded.

use base64::Engine;
use bytes::Bytes;
use coffer_proto::types::{Checksum, ChecksumAlgorithm, ChecksumType};
use coffer_proto::ProtoError;
use futures::{Stream, StreamExt};
use sha2::{Digest as _, Sha256};
use tokio::sync::mpsc;

use super::error::{S3Error, S3ErrorCode};
use super::headers::{checksum_header, checksum_name, ChecksumRequest};
use crate::auth::chunked::ChunkDecoder;
use crate::auth::{Auth, Payload};
use crate::md5lanes::Md5Stream;

/// A running checksum.
pub enum ChecksumHasher {
    /// CRC-32.
    Crc32(crc32fast::Hasher),
    /// CRC-32C.
    Crc32c(u32),
    /// CRC-64/NVME.
    Crc64(crc64fast_nvme::Digest),
    /// SHA-1.
    Sha1(sha1::Sha1),
    /// SHA-256.
    Sha256(Sha256),
}

impl ChecksumHasher {
    /// A hasher for `a`.
    pub fn new(a: ChecksumAlgorithm) -> Self {
        match a {
            ChecksumAlgorithm::Crc32 => ChecksumHasher::Crc32(crc32fast::Hasher::new()),
            ChecksumAlgorithm::Crc32c => ChecksumHasher::Crc32c(0),
            ChecksumAlgorithm::Crc64Nvme => ChecksumHasher::Crc64(crc64fast_nvme::Digest::new()),
            ChecksumAlgorithm::Sha1 => ChecksumHasher::Sha1(sha1::Sha1::new()),
            ChecksumAlgorithm::Sha256 => ChecksumHasher::Sha256(Sha256::new()),
        }
    }

    /// Add bytes.
    pub fn update(&mut self, d: &[u8]) {
        match self {
            ChecksumHasher::Crc32(h) => h.update(d),
            ChecksumHasher::Crc32c(c) => *c = crc32c::crc32c_append(*c, d),
            ChecksumHasher::Crc64(h) => h.write(d),
            ChecksumHasher::Sha1(h) => h.update(d),
            ChecksumHasher::Sha256(h) => h.update(d),
        }
    }

    /// The raw digest (CRCs big-endian, as S3 encodes them).
    pub fn finish(self) -> Vec<u8> {
        match self {
            ChecksumHasher::Crc32(h) => h.finalize().to_be_bytes().to_vec(),
            ChecksumHasher::Crc32c(c) => c.to_be_bytes().to_vec(),
            ChecksumHasher::Crc64(h) => h.sum64().to_be_bytes().to_vec(),
            ChecksumHasher::Sha1(h) => h.finalize().to_vec(),
            ChecksumHasher::Sha256(h) => h.finalize().to_vec(),
        }
    }
}

/// Base64 as S3 uses it.
pub fn b64(d: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(d)
}

/// What a verified body was.
#[derive(Debug, Clone)]
pub struct BodyOutcome {
    /// Decoded bytes.
    pub size: u64,
    /// MD5 of the decoded bytes.
    pub md5: [u8; 16],
    /// The verified checksum, if one was requested.
    pub checksum: Option<Checksum>,
    /// The checksum the write asked for besides ([`Computed`]), when it is another.
    pub computed: Option<Checksum>,
}

impl BodyOutcome {
    /// The checksum of `a`: the client's, verified, or the one computed.
    pub fn checksum_of(&self, a: ChecksumAlgorithm) -> Option<Checksum> {
        [&self.checksum, &self.computed]
            .into_iter()
            .flatten()
            .find(|c| c.algorithm == a)
            .cloned()
    }

    /// What a new object keeps: the client's checksum, else the default one computed.
    pub fn stored_checksum(&self) -> Option<Checksum> {
        self.checksum.clone().or_else(|| self.computed.clone())
    }
}

/// A checksum a write computes itself, besides the one the client may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Computed {
    /// Nothing more.
    Nothing,
    /// `a` when the client sends no checksum: an object's default (S3 gives every object
    /// uploaded without one a CRC64NVME).
    Default(ChecksumAlgorithm),
    /// `a` whatever the client sends: a part's, in its upload's algorithm.
    Always(ChecksumAlgorithm),
}

/// Decodes and verifies one request body.
pub struct BodyProcessor {
    decoder: Option<ChunkDecoder>,
    md5: Md5Stream,
    sha256: Option<(Sha256, [u8; 32])>,
    checksum: Option<(ChecksumRequest, ChecksumHasher)>,
    computed: Option<(ChecksumAlgorithm, ChecksumHasher)>,
    content_md5: Option<[u8; 16]>,
    declared: Option<u64>,
    size: u64,
    max: u64,
}

impl BodyProcessor {
    /// Set up from the authentication result and the request's headers.
    pub fn new(
        auth: &Auth,
        aws_chunked: bool,
        declared_len: Option<u64>,
        content_md5: Option<[u8; 16]>,
        checksum: Option<ChecksumRequest>,
        max: u64,
    ) -> Result<Self, S3Error> {
        let streaming = matches!(
            auth.payload,
            Payload::StreamingSigned { .. } | Payload::StreamingUnsignedTrailer
        );
        let decoder =
            (streaming || aws_chunked).then(|| ChunkDecoder::new(auth.chunk_signer.clone()));
        if checksum.as_ref().is_some_and(|c| c.in_trailer) && decoder.is_none() {
            return Err(S3Error::msg(
                S3ErrorCode::InvalidRequest,
                "x-amz-trailer requires an aws-chunked body",
            ));
        }
        if let Some(n) = declared_len {
            if n > max {
                return Err(S3Error::new(S3ErrorCode::EntityTooLarge)
                    .with("ProposedSize", n.to_string())
                    .with("MaxSizeAllowed", max.to_string()));
            }
        }
        Ok(BodyProcessor {
            decoder,
            md5: Md5Stream::new(),
            sha256: match auth.payload {
                Payload::Sha256(want) => Some((Sha256::new(), want)),
                _ => None,
            },
            checksum: checksum.map(|c| {
                let h = ChecksumHasher::new(c.algorithm);
                (c, h)
            }),
            computed: None,
            content_md5,
            declared: declared_len,
            size: 0,
            max,
        })
    }

    /// Also compute the checksum `c` asks for (unless it is the one the client sends).
    pub fn computing(mut self, c: Computed) -> Self {
        let requested = self.checksum.as_ref().map(|(r, _)| r.algorithm);
        let a = match c {
            Computed::Nothing => None,
            Computed::Default(a) => requested.is_none().then_some(a),
            Computed::Always(a) => (requested != Some(a)).then_some(a),
        };
        self.computed = a.map(|a| (a, ChecksumHasher::new(a)));
        self
    }

    /// Feed received bytes; decoded pieces are appended to `out`.
    pub fn feed(&mut self, chunk: Bytes, out: &mut Vec<Bytes>) -> Result<(), S3Error> {
        if let Some((h, _)) = &mut self.sha256 {
            h.update(&chunk);
        }
        let start = out.len();
        match &mut self.decoder {
            Some(d) => d.push(chunk, out)?,
            None => out.push(chunk),
        }
        for piece in out.iter().skip(start) {
            self.md5.update(piece);
            if let Some((_, h)) = &mut self.checksum {
                h.update(piece);
            }
            if let Some((_, h)) = &mut self.computed {
                h.update(piece);
            }
            self.size += piece.len() as u64;
        }
        if self.size > self.max {
            return Err(S3Error::new(S3ErrorCode::EntityTooLarge));
        }
        Ok(())
    }

    /// Decoded bytes so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The body ended: run every check.
    pub fn finish(self) -> Result<BodyOutcome, S3Error> {
        if let Some(d) = &self.decoder {
            d.finish()?;
        }
        if let Some(n) = self.declared {
            if n != self.size {
                return Err(S3Error::new(S3ErrorCode::IncompleteBody));
            }
        }
        if let Some((h, want)) = self.sha256 {
            if h.finalize().as_slice() != want {
                return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch)
                    .with("ClientComputedContentSHA256", hex::encode(want)));
            }
        }
        let md5 = self.md5.finish();
        if let Some(want) = self.content_md5 {
            if want != md5 {
                return Err(S3Error::new(S3ErrorCode::BadDigest).with("ExpectedDigest", b64(&want)));
            }
        }
        let checksum = match self.checksum {
            None => None,
            Some((req, h)) => {
                let got = b64(&h.finish());
                let expected = match (&req.expected, req.in_trailer, &self.decoder) {
                    (Some(e), _, _) => Some(e.clone()),
                    (None, true, Some(d)) => {
                        let name = checksum_header(req.algorithm);
                        let v = d
                            .trailers
                            .iter()
                            .find(|(k, _)| k == name)
                            .map(|(_, v)| v.clone());
                        Some(v.ok_or_else(|| {
                            S3Error::msg(
                                S3ErrorCode::InvalidRequest,
                                "The x-amz-trailer checksum was not sent",
                            )
                        })?)
                    }
                    _ => None,
                };
                if let Some(e) = expected {
                    if e != got {
                        return Err(S3Error::msg(
                            S3ErrorCode::BadDigest,
                            format!(
                                "The {} you specified did not match the calculated checksum.",
                                checksum_name(req.algorithm)
                            ),
                        ));
                    }
                }
                Some(Checksum {
                    algorithm: req.algorithm,
                    value: got,
                    kind: ChecksumType::FullObject,
                })
            }
        };
        Ok(BodyOutcome {
            size: self.size,
            md5,
            checksum,
            computed: self.computed.map(|(algorithm, h)| Checksum {
                algorithm,
                value: b64(&h.finish()),
                kind: ChecksumType::FullObject,
            }),
        })
    }
}

/// Sender half feeding a blob write.
pub type BlobSender = mpsc::Sender<Result<Bytes, ProtoError>>;

/// A channel whose receiving end is a `ClusterApi` byte stream.
pub fn blob_channel() -> (BlobSender, coffer_proto::ByteStream) {
    let (tx, rx) = mpsc::channel::<Result<Bytes, ProtoError>>(4);
    let stream =
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|i| (i, rx)) });
    (tx, Box::pin(stream))
}

/// Error sent down the blob stream when the body fails (the blob is discarded).
fn abort(e: &S3Error) -> ProtoError {
    ProtoError::Body(e.code.as_str().to_owned())
}

/// Read the rest of the body through `proc` into `tx`; verification happens before the
/// stream's end reaches the receiver.
pub async fn pump<S, E>(
    mut payload: S,
    mut proc: BodyProcessor,
    tx: BlobSender,
) -> Result<BodyOutcome, S3Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut out = Vec::new();
    while let Some(chunk) = payload.next().await {
        let res = match chunk {
            Ok(c) => proc.feed(c, &mut out),
            Err(e) => Err(S3Error::msg(
                S3ErrorCode::IncompleteBody,
                format!("The request body was cut short: {e}"),
            )),
        };
        if let Err(e) = res {
            let _ = tx.send(Err(abort(&e))).await;
            return Err(e);
        }
        for b in out.drain(..) {
            if tx.send(Ok(b)).await.is_err() {
                // The store gave up; its error is what the client gets.
                return Err(S3Error::new(S3ErrorCode::InternalError));
            }
        }
    }
    match proc.finish() {
        Ok(o) => Ok(o),
        Err(e) => {
            let _ = tx.send(Err(abort(&e))).await;
            Err(e)
        }
    }
}

/// How a body ended up after reading its beginning.
pub enum Collected {
    /// The whole body fit in memory.
    Small(Bytes, BodyOutcome),
    /// The body is larger: what was read so far, and the processor to continue with.
    Large(Vec<Bytes>, Box<BodyProcessor>),
}

/// Read up to `limit` decoded bytes; a body that ends within the limit is returned whole.
pub async fn collect_upto<S, E>(
    payload: &mut S,
    mut proc: BodyProcessor,
    limit: u64,
) -> Result<Collected, S3Error>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut parts = Vec::new();
    while proc.size() <= limit {
        match payload.next().await {
            Some(Ok(c)) => proc.feed(c, &mut parts)?,
            Some(Err(e)) => {
                return Err(S3Error::msg(
                    S3ErrorCode::IncompleteBody,
                    format!("The request body was cut short: {e}"),
                ))
            }
            None => {
                let outcome = proc.finish()?;
                let data = if parts.len() == 1 {
                    parts.remove(0)
                } else {
                    Bytes::from(parts.concat())
                };
                return Ok(Collected::Small(data, outcome));
            }
        }
    }
    Ok(Collected::Large(parts, Box::new(proc)))
}

/// Read a small request body (XML documents) completely, refusing more than `max` bytes.
pub async fn small_body(
    mut payload: actix_web::web::Payload,
    max: usize,
) -> Result<Bytes, S3Error> {
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| S3Error::msg(S3ErrorCode::IncompleteBody, e.to_string()))?;
        if buf.len() + chunk.len() > max {
            return Err(S3Error::msg(
                S3ErrorCode::MalformedXML,
                "The XML document is too large",
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn auth(payload: Payload) -> Auth {
        Auth {
            access_key: None,
            payload,
            chunk_signer: None,
        }
    }

    #[test]
    fn known_checksums() {
        // "hello world" under each algorithm, as the AWS SDKs compute them.
        let cases = [
            (ChecksumAlgorithm::Crc32, "DUoRhQ=="),
            (ChecksumAlgorithm::Crc32c, "yZRlqg=="),
            (ChecksumAlgorithm::Sha1, "Kq5sNclPz7QV2+lfQIuc6R7oRu0="),
            (
                ChecksumAlgorithm::Sha256,
                "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
            ),
        ];
        for (a, want) in cases {
            let mut h = ChecksumHasher::new(a);
            h.update(b"hello ");
            h.update(b"world");
            assert_eq!(b64(&h.finish()), want, "{a:?}");
        }
    }

    #[test]
    fn sha256_mismatch_and_md5_mismatch_are_caught() {
        let wrong = [0u8; 32];
        let mut p = BodyProcessor::new(
            &auth(Payload::Sha256(wrong)),
            false,
            Some(5),
            None,
            None,
            100,
        )
        .unwrap();
        p.feed(Bytes::from_static(b"hello"), &mut Vec::new())
            .unwrap();
        assert_eq!(
            p.finish().unwrap_err().code,
            S3ErrorCode::XAmzContentSHA256Mismatch
        );

        let mut p = BodyProcessor::new(
            &auth(Payload::Unsigned),
            false,
            Some(5),
            Some([0; 16]),
            None,
            100,
        )
        .unwrap();
        p.feed(Bytes::from_static(b"hello"), &mut Vec::new())
            .unwrap();
        assert_eq!(p.finish().unwrap_err().code, S3ErrorCode::BadDigest);

        let mut p =
            BodyProcessor::new(&auth(Payload::Unsigned), false, Some(6), None, None, 100).unwrap();
        p.feed(Bytes::from_static(b"hello"), &mut Vec::new())
            .unwrap();
        assert_eq!(p.finish().unwrap_err().code, S3ErrorCode::IncompleteBody);
    }

    #[test]
    fn trailer_checksum_is_verified() {
        let req = ChecksumRequest {
            algorithm: ChecksumAlgorithm::Crc32,
            expected: None,
            in_trailer: true,
        };
        let body = |v: &str| {
            Bytes::from(format!(
                "b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:{v}\r\n\r\n"
            ))
        };
        let mut p = BodyProcessor::new(
            &auth(Payload::StreamingUnsignedTrailer),
            true,
            None,
            None,
            Some(req.clone()),
            100,
        )
        .unwrap();
        p.feed(body("DUoRhQ=="), &mut Vec::new()).unwrap();
        let o = p.finish().unwrap();
        assert_eq!(o.size, 11);
        assert_eq!(o.checksum.unwrap().value, "DUoRhQ==");
        let mut p = BodyProcessor::new(
            &auth(Payload::StreamingUnsignedTrailer),
            true,
            None,
            None,
            Some(req),
            100,
        )
        .unwrap();
        p.feed(body("AAAAAA=="), &mut Vec::new()).unwrap();
        assert_eq!(p.finish().unwrap_err().code, S3ErrorCode::BadDigest);
    }
}
