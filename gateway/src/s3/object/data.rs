//! Moving object bytes: [`write_body`] turns a request body into object data (inline when
//! small, else a blob written while the body streams in, verified before it is committed);
//! [`copy_data`] copies a range of another object's bytes; [`read_range`] streams a byte range
//! of an object across its blobs. Each takes the data key of an encrypted object: bytes are
//! sealed on their way to the cluster and opened on their way back (`crate::sse::packages`),
//! and every size and range here is the plaintext's.

use std::sync::Arc;

use actix_web::web;
use bytes::Bytes;
use coffer_proto::types::{BlobRef, Checksum, ChecksumAlgorithm, ChecksumType, ObjectData};
use coffer_proto::{ByteStream, ClusterApi, ProtoError};
use futures::StreamExt;

use crate::s3::body::{self, BodyOutcome, BodyProcessor, ChecksumHasher, Collected, Computed};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{self, ByteRange};
use crate::s3::object::read::Source;
use crate::sse::packages::{open_stream, seal_stream, Tampered, Window};
use crate::sse::DataKey;

impl From<Tampered> for ProtoError {
    fn from(t: Tampered) -> ProtoError {
        ProtoError::Corrupt(t.to_string())
    }
}

/// Store `stream` as a blob of `storage_class`, sealed with `key` when the object is
/// encrypted (under an id chosen here: the blob's key is derived from it).
async fn put(
    cluster: &Arc<dyn ClusterApi>,
    storage_class: &str,
    stream: ByteStream,
    key: Option<&DataKey>,
) -> Result<BlobRef, ProtoError> {
    match key {
        None => cluster.put_blob(storage_class, stream).await,
        Some(k) => {
            let id: [u8; 16] = rand::random();
            let sealed: ByteStream = Box::pin(seal_stream(k.run(Some(&id)), stream));
            cluster.put_blob_as(storage_class, id, sealed).await
        }
    }
}

/// Set up the body processor for a write from the request's headers.
fn processor(ctx: &ReqCtx<'_>, max: u64) -> S3Result<BodyProcessor> {
    let h = ctx.req.headers();
    let aws_chunked =
        headers::get(h, "content-encoding").is_some_and(|e| e.contains("aws-chunked"));
    let streaming = aws_chunked
        || !matches!(
            ctx.auth.payload,
            crate::auth::Payload::Unsigned | crate::auth::Payload::Sha256(_)
        );
    let parse = |n: &str| headers::get(h, n).map(|v| v.trim().parse::<u64>());
    let declared = if streaming {
        match parse("x-amz-decoded-content-length") {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => {
                return Err(S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    "x-amz-decoded-content-length is not a number",
                ))
            }
            None => None,
        }
    } else {
        match parse("content-length") {
            Some(Ok(n)) => Some(n),
            Some(Err(_)) => return Err(S3Error::new(S3ErrorCode::MissingContentLength)),
            // `Transfer-Encoding: chunked` without a length, as other S3-compatible servers
            // accept it: the body is as long as its chunks, within `max` all the same.
            None if h.contains_key("transfer-encoding") => None,
            None => Some(0),
        }
    };
    BodyProcessor::new(
        ctx.auth,
        aws_chunked,
        declared,
        headers::content_md5(h)?,
        headers::checksum_request(h)?,
        max,
    )
}

/// Store a request body, sealed with `key` when the object is encrypted. With
/// `inline_limit`, a body up to that size is kept in memory for the metadata record; a larger
/// one (or any, without a limit) becomes a blob with the erasure profile of `storage_class`.
pub async fn write_body(
    ctx: &ReqCtx<'_>,
    storage_class: &str,
    payload: web::Payload,
    inline_limit: Option<u64>,
    max: u64,
    computed: Computed,
    key: Option<&DataKey>,
) -> S3Result<(ObjectData, BodyOutcome)> {
    let proc = processor(ctx, max)?.computing(computed);
    store_body(ctx.cluster, storage_class, payload, proc, inline_limit, key).await
}

/// [`write_body`] for any stream of body bytes (a form's file field), read through `proc`.
pub async fn store_body<S, E>(
    cluster: &Arc<dyn ClusterApi>,
    storage_class: &str,
    mut payload: S,
    proc: BodyProcessor,
    inline_limit: Option<u64>,
    key: Option<&DataKey>,
) -> S3Result<(ObjectData, BodyOutcome)>
where
    S: futures::Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let (prefix, proc) = match inline_limit {
        Some(limit) => match body::collect_upto(&mut payload, proc, limit).await? {
            Collected::Small(data, outcome) => {
                let data = match key {
                    Some(k) => k.run(None).seal_all(&data),
                    None => data,
                };
                return Ok((ObjectData::Inline(data), outcome));
            }
            Collected::Large(prefix, proc) => (prefix, *proc),
        },
        None => (Vec::new(), proc),
    };
    let (tx, stream) = body::blob_channel();
    let feed = async move {
        for b in prefix {
            if tx.send(Ok(b)).await.is_err() {
                return Err(S3Error::new(S3ErrorCode::InternalError));
            }
        }
        body::pump(payload, proc, tx).await
    };
    let (outcome, blob) = futures::join!(feed, put(cluster, storage_class, stream, key));
    match (outcome, blob) {
        (Ok(o), Ok(b)) => Ok((ObjectData::Blobs(vec![b]), o)),
        (Err(e), Ok(b)) => {
            discard(cluster, b).await;
            Err(e)
        }
        // The body feed fails with InternalError only when the store stopped taking bytes:
        // then the store's error says why. Any other feed error (a bad digest, a cut body) is
        // the client's, and the store failed because of it.
        (Err(e), Err(stored)) if e.code == S3ErrorCode::InternalError => Err(stored.into()),
        (Err(e), Err(_)) => Err(e),
        (Ok(_), Err(e)) => Err(e.into()),
    }
}

/// The digests of copied bytes: their MD5 (the ETag) and a checksum.
pub struct CopyDigests {
    md5: md5::Md5,
    checksum: (ChecksumAlgorithm, ChecksumHasher),
}

impl CopyDigests {
    /// Digests computing the checksum `a`.
    pub fn new(a: ChecksumAlgorithm) -> Self {
        use md5::Digest;
        CopyDigests {
            md5: md5::Md5::new(),
            checksum: (a, ChecksumHasher::new(a)),
        }
    }

    fn update(&mut self, b: &[u8]) {
        use md5::Digest;
        self.md5.update(b);
        self.checksum.1.update(b);
    }

    /// The MD5 and the full-object checksum.
    fn finish(self) -> ([u8; 16], Checksum) {
        use md5::Digest;
        let (algorithm, h) = self.checksum;
        let checksum = Checksum {
            algorithm,
            value: body::b64(&h.finish()),
            kind: ChecksumType::FullObject,
        };
        (self.md5.finalize().into(), checksum)
    }
}

/// Store bytes from another stream (copies) as a blob of `storage_class`, sealed with `key`
/// when the copy is encrypted, with the digests of their plaintext.
pub async fn write_stream(
    cluster: &Arc<dyn ClusterApi>,
    storage_class: &str,
    mut src: ByteStream,
    mut digests: CopyDigests,
    key: Option<&DataKey>,
) -> S3Result<(BlobRef, [u8; 16], Checksum)> {
    let (tx, stream) = body::blob_channel();
    let feed = async move {
        while let Some(item) = src.next().await {
            let failed = item.is_err();
            if let Ok(b) = &item {
                digests.update(b);
            }
            if tx.send(item).await.is_err() || failed {
                return None;
            }
        }
        Some(digests.finish())
    };
    let (digests, blob) = futures::join!(feed, put(cluster, storage_class, stream, key));
    match (digests, blob) {
        (Some((m, c)), Ok(b)) => Ok((b, m, c)),
        (None, Ok(b)) => {
            discard(cluster, b).await;
            Err(S3Error::internal("copy source stream ended early"))
        }
        (_, Err(e)) => Err(e.into()),
    }
}

/// Copy `range` of the source's bytes into new object data, sealed with `key` when the copy
/// is encrypted: inline when small enough (and `inline_ok`), else a new blob of
/// `storage_class`. Returns the data, the MD5 of its plaintext and its checksum in
/// `algorithm`.
pub async fn copy_data(
    ctx: &ReqCtx<'_>,
    src: &Source,
    range: ByteRange,
    storage_class: &str,
    inline_ok: bool,
    algorithm: ChecksumAlgorithm,
    key: Option<&DataKey>,
) -> S3Result<(ObjectData, [u8; 16], Checksum)> {
    let digests = CopyDigests::new(algorithm);
    let len = range.end - range.start;
    if let (true, ObjectData::Inline(b)) = (
        inline_ok && len <= ctx.config.inline_threshold,
        &src.version.data,
    ) {
        let slice = match &src.data_key {
            Some(k) => k
                .run(None)
                .open_range(b, range.start, range.end)
                .map_err(|t| S3Error::from(ProtoError::from(t)))?,
            None => b.slice(range.start as usize..range.end as usize),
        };
        return Ok(inline(slice, digests, key));
    }
    let stream = read_range(
        ctx.cluster.clone(),
        &src.version.data,
        src.data_key.clone(),
        range.start,
        range.end,
    );
    let (blob, md5, checksum) =
        write_stream(ctx.cluster, storage_class, stream, digests, key).await?;
    Ok((ObjectData::Blobs(vec![blob]), md5, checksum))
}

/// Plaintext kept in the metadata record, sealed with `key` when encrypted, with its digests.
fn inline(
    plain: Bytes,
    mut digests: CopyDigests,
    key: Option<&DataKey>,
) -> (ObjectData, [u8; 16], Checksum) {
    digests.update(&plain);
    let (md5, checksum) = digests.finish();
    let data = match key {
        Some(k) => k.run(None).seal_all(&plain),
        None => plain,
    };
    (ObjectData::Inline(data), md5, checksum)
}

/// Store bytes the server wrote itself (an access log object) as object data: inline up to
/// `inline_limit` bytes, else a blob of `storage_class`; sealed with `key` when encrypted.
/// Returns the data, the MD5 of the plaintext and its CRC64NVME checksum.
pub async fn store_bytes(
    cluster: &Arc<dyn ClusterApi>,
    storage_class: &str,
    plain: Bytes,
    inline_limit: u64,
    key: Option<&DataKey>,
) -> S3Result<(ObjectData, [u8; 16], Checksum)> {
    let digests = CopyDigests::new(ChecksumAlgorithm::Crc64Nvme);
    if plain.len() as u64 <= inline_limit {
        return Ok(inline(plain, digests, key));
    }
    let src: ByteStream = Box::pin(futures::stream::once(async move { Ok(plain) }));
    let (blob, md5, checksum) = write_stream(cluster, storage_class, src, digests, key).await?;
    Ok((ObjectData::Blobs(vec![blob]), md5, checksum))
}

/// Delete a blob nothing references (best effort: the orphan sweep catches failures).
pub async fn discard(cluster: &Arc<dyn ClusterApi>, blob: BlobRef) {
    if let Err(e) = cluster.delete_blob(blob).await {
        tracing::warn!("failed to discard an unreferenced blob: {e}");
    }
}

/// Stream bytes `start..end` of an object's plaintext (`key`: its data key, when it is
/// encrypted).
pub fn read_range(
    cluster: Arc<dyn ClusterApi>,
    data: &ObjectData,
    key: Option<Arc<DataKey>>,
    start: u64,
    end: u64,
) -> ByteStream {
    match data {
        ObjectData::Inline(b) => {
            let bytes = match &key {
                Some(k) => k
                    .run(None)
                    .open_range(b, start, end)
                    .map_err(ProtoError::from),
                None => {
                    let (s, e) = (
                        start.min(b.len() as u64) as usize,
                        end.min(b.len() as u64) as usize,
                    );
                    Ok(b.slice(s..e.max(s)))
                }
            };
            Box::pin(futures::stream::once(async move { bytes }))
        }
        ObjectData::Blobs(blobs) => {
            let mut pieces = Vec::new();
            let mut off = 0u64;
            for b in blobs {
                let size = match key {
                    Some(_) => coffer_proto::sse::plain_len(b.size),
                    None => b.size,
                };
                let (bs, be) = (off, off + size);
                if be > start && bs < end {
                    pieces.push((b.clone(), start.max(bs) - bs, end.min(be) - bs));
                }
                off = be;
            }
            let s = futures::stream::iter(pieces)
                .then(move |(blob, s, e)| {
                    let cluster = cluster.clone();
                    let key = key.clone();
                    async move { read_blob(&cluster, blob, key.as_deref(), s, e).await }
                })
                .flatten();
            Box::pin(s)
        }
    }
}

/// Stream plaintext bytes `start..end` of one blob (sealed with `key` when given).
async fn read_blob(
    cluster: &Arc<dyn ClusterApi>,
    blob: BlobRef,
    key: Option<&DataKey>,
    start: u64,
    end: u64,
) -> ByteStream {
    let failed = |err| Box::pin(futures::stream::once(async move { Err(err) })) as ByteStream;
    match key {
        None => cluster
            .get_blob(blob, start, end)
            .await
            .unwrap_or_else(failed),
        Some(k) => {
            let window = Window::of(start, end, blob.size);
            let cipher = k.run(Some(&blob.id));
            match cluster
                .get_blob(blob, window.sealed_start, window.sealed_end)
                .await
            {
                Ok(sealed) => Box::pin(open_stream(cipher, window, sealed)),
                Err(err) => failed(err),
            }
        }
    }
}
