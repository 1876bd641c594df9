//! `s3-floor`: the clients' own floor. An S3 endpoint that keeps objects in memory and checks
//! nothing: no signatures, no durability, no checksums but the MD5 ETag of a single PUT.
//! `../shared/tools/s3bench.sh` run against it measures what rclone, the aws CLI, boto3 and
//! wrk cost on this machine by themselves: a figure it does not reach, no server reaches here.
//! A benchmark tool, never a store: everything is gone when it stops.
//!
//! Usage: s3-floor [--address 127.0.0.1:9300]   (path-style requests only)

mod store;

use std::sync::Arc;

use actix_web::body::SizedStream;
use actix_web::http::{Method, StatusCode};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use bytes::Bytes;
use coffer_gateway::auth::chunked::ChunkDecoder;
use coffer_gateway::s3::error::{S3Error, S3ErrorCode};
use coffer_gateway::s3::headers::{self, http_date, iso_date, now_ms, parse_range};
use coffer_gateway::s3::xml::{self, XmlWriter};
use futures::StreamExt;
use md5::{Digest, Md5};
use percent_encoding::percent_decode_str;

use store::{list, Object, Store, Upload};

/// GET bodies go to actix-http in slices of this size, as the gateway sends them.
const SEND_CHUNK: usize = 64 * 1024;

type Result<T> = std::result::Result<T, S3Error>;

fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// The request's query parameters, decoded.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(q: &str) -> Self {
        Query(
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// The request body, decoded from `aws-chunked` framing when it has it.
async fn body(req: &HttpRequest, mut payload: web::Payload) -> Result<(Vec<Bytes>, u64)> {
    let chunked = headers::get(req.headers(), "x-amz-content-sha256")
        .is_some_and(|v| v.starts_with("STREAMING-"));
    let mut decoder = chunked.then(|| ChunkDecoder::new(None));
    let mut out = Vec::new();
    while let Some(piece) = payload.next().await {
        let piece = piece.map_err(|_| S3Error::new(S3ErrorCode::IncompleteBody))?;
        match &mut decoder {
            Some(d) => d.push(piece, &mut out)?,
            None => out.push(piece),
        }
    }
    if let Some(d) = &decoder {
        d.finish()?;
    }
    let size = out.iter().map(|b| b.len() as u64).sum();
    Ok((out, size))
}

fn xml_response(x: XmlWriter) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml")
        .body(x.finish())
}

fn no_bucket() -> S3Error {
    S3Error::new(S3ErrorCode::NoSuchBucket)
}

async fn handle(
    req: HttpRequest,
    payload: web::Payload,
    store: web::Data<Arc<Store>>,
) -> HttpResponse {
    let id = store.id().to_string();
    let path = decode(req.path());
    let head = req.method() == Method::HEAD;
    match route(&req, payload, &store, &path).await {
        Ok(r) => r,
        Err(e) => e.response(&path, &id, head),
    }
}

async fn route(
    req: &HttpRequest,
    payload: web::Payload,
    store: &Store,
    path: &str,
) -> Result<HttpResponse> {
    let q = Query::parse(req.query_string());
    let (bucket, key) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or((path.trim_start_matches('/'), ""));
    let m = req.method().clone();
    if bucket.is_empty() {
        return Ok(list_buckets(store));
    }
    if key.is_empty() {
        return match m {
            Method::PUT => {
                store.lock().buckets.entry(bucket.to_owned()).or_default();
                Ok(HttpResponse::Ok().finish())
            }
            Method::HEAD | Method::GET if !store.lock().buckets.contains_key(bucket) => {
                Err(no_bucket())
            }
            Method::HEAD => Ok(HttpResponse::Ok().finish()),
            Method::GET if q.has("location") => {
                let mut x = XmlWriter::new();
                x.open_ns("LocationConstraint");
                x.close("LocationConstraint");
                Ok(xml_response(x))
            }
            Method::GET => Ok(list_objects(store, bucket, &q)),
            Method::POST if q.has("delete") => {
                let (b, _) = body(req, payload).await?;
                delete_objects(store, bucket, &b.concat())
            }
            Method::DELETE => {
                store.lock().buckets.remove(bucket);
                Ok(HttpResponse::NoContent().finish())
            }
            _ => Err(S3Error::new(S3ErrorCode::NotImplemented)),
        };
    }
    match m {
        Method::POST if q.has("uploads") => create_upload(req, store, bucket, key),
        Method::PUT if q.has("uploadId") => {
            let (pieces, _) = body(req, payload).await?;
            upload_part(store, &q, pieces)
        }
        Method::POST if q.has("uploadId") => {
            let (b, _) = body(req, payload).await?;
            complete(store, &q, &b.concat())
        }
        Method::DELETE if q.has("uploadId") => {
            store
                .lock()
                .uploads
                .remove(q.get("uploadId").unwrap_or_default());
            Ok(HttpResponse::NoContent().finish())
        }
        Method::PUT if req.headers().contains_key("x-amz-copy-source") => {
            Err(S3Error::new(S3ErrorCode::NotImplemented))
        }
        Method::PUT => {
            let (pieces, size) = body(req, payload).await?;
            let mut md5 = Md5::new();
            pieces.iter().for_each(|p| md5.update(p));
            let etag = format!("\"{}\"", hex::encode(md5.finalize()));
            let o = Object {
                pieces,
                size,
                etag: etag.clone(),
                modified_ms: now_ms(),
                content_type: headers::get(req.headers(), "content-type").map(str::to_owned),
                meta: headers::user_meta(req.headers())?,
            };
            let mut st = store.lock();
            let objects = st.buckets.get_mut(bucket).ok_or_else(no_bucket)?;
            objects.insert(key.to_owned(), o);
            Ok(HttpResponse::Ok().insert_header(("etag", etag)).finish())
        }
        Method::GET => get(req, store, bucket, key, false),
        Method::HEAD => get(req, store, bucket, key, true),
        Method::DELETE => {
            if let Some(objects) = store.lock().buckets.get_mut(bucket) {
                objects.remove(key);
            }
            Ok(HttpResponse::NoContent().finish())
        }
        _ => Err(S3Error::new(S3ErrorCode::NotImplemented)),
    }
}

fn list_buckets(store: &Store) -> HttpResponse {
    let mut x = XmlWriter::new();
    x.open_ns("ListAllMyBucketsResult");
    x.open("Owner");
    x.elem("ID", "floor");
    x.close("Owner");
    x.open("Buckets");
    for name in store.lock().buckets.keys() {
        x.open("Bucket");
        x.elem("Name", name);
        x.elem("CreationDate", &iso_date(0));
        x.close("Bucket");
    }
    x.close("Buckets");
    x.close("ListAllMyBucketsResult");
    xml_response(x)
}

/// ListObjects (v1) and ListObjectsV2; keys are never URL-encoded (the clients decode only
/// when the response says `EncodingType`).
fn list_objects(store: &Store, bucket: &str, q: &Query) -> HttpResponse {
    let v2 = q.get("list-type") == Some("2");
    let prefix = q.get("prefix").unwrap_or_default();
    let delimiter = q.get("delimiter");
    let after = if v2 {
        q.get("continuation-token")
            .or(q.get("start-after"))
            .unwrap_or_default()
    } else {
        q.get("marker").unwrap_or_default()
    };
    let max = q
        .get("max-keys")
        .and_then(|m| m.parse().ok())
        .unwrap_or(1000usize)
        .min(1000);
    let page = {
        let st = store.lock();
        st.buckets
            .get(bucket)
            .map(|objects| list(objects, prefix, delimiter, after, max))
            .unwrap_or_default()
    };
    let mut x = XmlWriter::new();
    x.open_ns("ListBucketResult");
    x.elem("Name", bucket);
    x.elem("Prefix", prefix);
    x.opt("Delimiter", delimiter);
    x.elem("MaxKeys", &max.to_string());
    x.elem(
        "IsTruncated",
        if page.next.is_some() { "true" } else { "false" },
    );
    if v2 {
        let n = page.objects.len() + page.prefixes.len();
        x.elem("KeyCount", &n.to_string());
        x.opt("NextContinuationToken", page.next.as_deref());
    } else {
        x.elem("Marker", after);
        x.opt("NextMarker", page.next.as_deref());
    }
    for (k, o) in &page.objects {
        x.open("Contents");
        x.elem("Key", k);
        x.elem("LastModified", &iso_date(o.modified_ms));
        x.elem("ETag", &o.etag);
        x.elem("Size", &o.size.to_string());
        x.elem("StorageClass", "STANDARD");
        x.close("Contents");
    }
    for p in &page.prefixes {
        x.open("CommonPrefixes");
        x.elem("Prefix", p);
        x.close("CommonPrefixes");
    }
    x.close("ListBucketResult");
    xml_response(x)
}

fn delete_objects(store: &Store, bucket: &str, body: &[u8]) -> Result<HttpResponse> {
    let del: xml::Delete = xml::from_body(body)?;
    let mut st = store.lock();
    let objects = st.buckets.get_mut(bucket).ok_or_else(no_bucket)?;
    let mut x = XmlWriter::new();
    x.open_ns("DeleteResult");
    for o in &del.objects {
        objects.remove(&o.key);
        if !del.quiet {
            x.open("Deleted");
            x.elem("Key", &o.key);
            x.close("Deleted");
        }
    }
    x.close("DeleteResult");
    Ok(xml_response(x))
}

fn create_upload(
    req: &HttpRequest,
    store: &Store,
    bucket: &str,
    key: &str,
) -> Result<HttpResponse> {
    let id = store.id().to_string();
    let upload = Upload {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        content_type: headers::get(req.headers(), "content-type").map(str::to_owned),
        meta: headers::user_meta(req.headers())?,
        parts: Default::default(),
    };
    let mut st = store.lock();
    if !st.buckets.contains_key(bucket) {
        return Err(no_bucket());
    }
    st.uploads.insert(id.clone(), upload);
    let mut x = XmlWriter::new();
    x.open_ns("InitiateMultipartUploadResult");
    x.elem("Bucket", bucket);
    x.elem("Key", key);
    x.elem("UploadId", &id);
    x.close("InitiateMultipartUploadResult");
    Ok(xml_response(x))
}

fn upload_part(store: &Store, q: &Query, pieces: Vec<Bytes>) -> Result<HttpResponse> {
    let n: u32 = q
        .get("partNumber")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidArgument))?;
    // Not an MD5: no client of s3bench checks a part's ETag against its bytes.
    let etag = format!("\"{:032x}\"", store.id());
    let mut st = store.lock();
    let up = st
        .uploads
        .get_mut(q.get("uploadId").unwrap_or_default())
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchUpload))?;
    up.parts.insert(n, (pieces, etag.clone()));
    Ok(HttpResponse::Ok().insert_header(("etag", etag)).finish())
}

fn complete(store: &Store, q: &Query, body: &[u8]) -> Result<HttpResponse> {
    let done: xml::CompleteMultipartUpload = xml::from_body(body)?;
    let mut st = store.lock();
    let up = st
        .uploads
        .remove(q.get("uploadId").unwrap_or_default())
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchUpload))?;
    let mut pieces = Vec::new();
    let mut parts = up.parts;
    for p in &done.parts {
        let (bytes, _) = parts
            .remove(&p.part_number)
            .ok_or_else(|| S3Error::new(S3ErrorCode::InvalidPart))?;
        pieces.extend(bytes);
    }
    let etag = format!("\"{:032x}-{}\"", store.id(), done.parts.len());
    let o = Object {
        size: pieces.iter().map(|b| b.len() as u64).sum(),
        pieces,
        etag: etag.clone(),
        modified_ms: now_ms(),
        content_type: up.content_type,
        meta: up.meta,
    };
    let objects = st.buckets.get_mut(&up.bucket).ok_or_else(no_bucket)?;
    objects.insert(up.key.clone(), o);
    let mut x = XmlWriter::new();
    x.open_ns("CompleteMultipartUploadResult");
    x.elem("Bucket", &up.bucket);
    x.elem("Key", &up.key);
    x.elem("ETag", &etag);
    x.close("CompleteMultipartUploadResult");
    Ok(xml_response(x))
}

fn get(
    req: &HttpRequest,
    store: &Store,
    bucket: &str,
    key: &str,
    head: bool,
) -> Result<HttpResponse> {
    let o = {
        let st = store.lock();
        let objects = st.buckets.get(bucket).ok_or_else(no_bucket)?;
        objects
            .get(key)
            .cloned()
            .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchKey))?
    };
    let range = parse_range(headers::get(req.headers(), "range"), o.size)?;
    let (start, end) = range.map_or((0, o.size), |r| (r.start, r.end));
    let mut b = if range.is_some() {
        let mut b = HttpResponse::build(StatusCode::PARTIAL_CONTENT);
        b.insert_header((
            "content-range",
            format!("bytes {start}-{}/{}", end.saturating_sub(1), o.size),
        ));
        b
    } else {
        HttpResponse::Ok()
    };
    b.insert_header(("etag", o.etag.as_str()))
        .insert_header(("last-modified", http_date(o.modified_ms)))
        .insert_header(("accept-ranges", "bytes"))
        .insert_header((
            "content-type",
            o.content_type.as_deref().unwrap_or("binary/octet-stream"),
        ));
    for (k, v) in &o.meta {
        b.insert_header((format!("x-amz-meta-{k}"), v.as_str()));
    }
    let chunks = if head {
        Vec::new()
    } else {
        o.slices(start, end, SEND_CHUNK)
    };
    let stream = futures::stream::iter(chunks.into_iter().map(Ok::<_, std::convert::Infallible>));
    Ok(b.body(SizedStream::new(end - start, stream)))
}

/// An S3 endpoint that keeps objects in memory and checks nothing, to measure what S3 clients
/// cost on this machine by themselves. A benchmark tool only: it has no authentication.
#[derive(clap::Parser)]
#[command(name = "s3-floor")]
struct Args {
    /// Where to listen (a loopback address).
    #[arg(long, default_value = "127.0.0.1:9300")]
    address: String,
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let address = <Args as clap::Parser>::parse().address;
    let store = web::Data::new(Arc::new(Store::default()));
    println!("s3-floor: http://{address} (in memory, no authentication)");
    HttpServer::new(move || {
        App::new()
            .app_data(store.clone())
            .default_service(web::to(handle))
    })
    .bind(address)?
    .run()
    .await
}
