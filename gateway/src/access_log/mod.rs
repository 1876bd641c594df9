//! Server access logs: every request to a bucket whose logging is on (PutBucketLogging,
//! [`crate::model::logging`]), on the S3 endpoint or the website endpoint
//! (`WEBSITE.GET.OBJECT`), becomes a record in AWS's format ([`record`]), failed and
//! anonymous ones included, once its response has been sent. Each gateway batches the
//! records of a bucket in memory and delivers a batch as one log object into the target
//! bucket ([`deliver`]) when it is a flush period old (`--access-log-flush-seconds`, 300 by
//! default) or 4 MiB large, and at shutdown.
//!
//! As on S3, logging is best effort: records a gateway holds when it is killed are lost, and
//! a batch whose target no longer takes logs (deleted, or its policy no longer grants
//! `logging.s3.amazonaws.com`) is dropped and counted. A batch the cluster could not store is
//! kept for the next flush while the gateway holds less than [`MAX_HELD`] bytes of records.

pub mod batch;
pub mod deliver;
pub mod record;

use std::pin::Pin;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse};

pub use self::batch::{AccessLogs, Batch, METRICS};
use self::record::Record;
use crate::model::logging::LoggingStatus;
use crate::model::owner::owner_id;
use crate::s3::dispatch::route::address;
use crate::s3::router::{Endpoint, SUBRESOURCE_OPERATIONS};
use crate::state::AppState;

/// What the stages of a request learned that its record needs.
#[derive(Debug, Default)]
pub struct Seen {
    /// What it was routed to.
    pub endpoint: Option<Endpoint>,
    /// Who signed it: a canonical user id, or an IAM user's ARN.
    pub requester: Option<String>,
    /// For the website endpoint, which names buckets by host: the bucket and, once read, the
    /// key asked for.
    pub website: Option<(String, Option<String>)>,
}

/// The requester field of a caller whose writes are owned by `owner` (an owner id as records
/// keep it: an IAM user's ARN, or the root key's id).
pub fn requester(owner: &str) -> String {
    if owner.starts_with("arn:") {
        owner.to_owned()
    } else {
        owner_id(owner)
    }
}

/// `resp` to `req`, which arrived at `started` (`at_ms` since the epoch) and got request id
/// `id`, logged when its bucket's logging is on: the record is made once its body has been
/// sent (or the client went away).
pub async fn observe(
    state: &actix_web::web::Data<AppState>,
    req: &HttpRequest,
    id: &str,
    (started, at_ms): (Instant, i64),
    seen: Seen,
    error_code: Option<&'static str>,
    resp: HttpResponse,
) -> HttpResponse {
    let (bucket, key) = match seen.website.clone() {
        Some((bucket, key)) => (bucket, key),
        None => match address(req.head(), state.config.domain.as_deref()) {
            Ok((Some(bucket), key, _)) => (bucket, key),
            _ => return resp,
        },
    };
    let Some(status) = state.caches.logging.get(&state.cluster, &bucket).await else {
        return resp;
    };
    let key = key.filter(|k| !k.is_empty());
    let h = req.headers();
    let text = |name: &str| crate::s3::headers::get(h, name).map(str::to_owned);
    let query = req.query_string();
    let sub = query
        .split('&')
        .map(|p| p.split_once('=').map_or(p, |(n, _)| n))
        .find(|n| SUBRESOURCE_OPERATIONS.iter().any(|(_, s, _, _)| s == n))
        .unwrap_or_default();
    let query_map = crate::s3::router::Query::parse(query);
    let signed = crate::auth::how_signed(req.headers(), &query_map);
    let record = Record {
        bucket_owner: owner_id(&status.bucket_owner),
        bucket: bucket.clone(),
        time_ms: at_ms,
        remote_ip: req.peer_addr().map(|a| a.ip().to_string()),
        requester: seen.requester,
        request_id: id.to_owned(),
        operation: match seen.website {
            Some(_) => format!("WEBSITE.{}.OBJECT", req.method().as_str()),
            None => record::operation(
                req.method().as_str(),
                seen.endpoint.as_ref(),
                key.is_some(),
                sub,
            ),
        },
        key: key.clone(),
        request_uri: record::request_uri(
            req.method().as_str(),
            req.path(),
            query,
            &format!("{:?}", req.version()),
        ),
        status: resp.status().as_u16(),
        error_code: error_code.map(str::to_owned),
        object_size: object_size(req, key.is_some(), &resp),
        turnaround_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        referer: text("referer"),
        user_agent: text("user-agent"),
        version_id: query_map.get("versionId").map(str::to_owned),
        signature_version: signed.map(|s| if s.v4 { "SigV4" } else { "SigV2" }),
        auth_type: signed.map(|s| {
            if s.in_query {
                "QueryString"
            } else {
                "AuthHeader"
            }
        }),
        host: text("host"),
        region: state.config.region.clone(),
    };
    let pending = Pending {
        state: state.clone(),
        bucket,
        status,
        record,
        started,
        sent: 0,
    };
    resp.map_body(|_, body| {
        BoxBody::new(Logged {
            body,
            pending: Some(pending),
        })
    })
}

/// The object's whole size, where the request reads or writes one: an object body answered
/// in full or in part (`Content-Range`'s total), or an upload's declared length.
fn object_size(req: &HttpRequest, has_key: bool, resp: &HttpResponse) -> Option<u64> {
    let number = |v: Option<&str>| v.and_then(|v| v.trim().parse::<u64>().ok());
    let method = req.method().as_str();
    match method {
        "GET" | "HEAD" if has_key && resp.status().is_success() => {
            let h = resp.headers();
            let header = |n: &str| h.get(n).and_then(|v| v.to_str().ok());
            let sized = match resp.body().size() {
                BodySize::Sized(n) if n > 0 => Some(n),
                _ => None,
            };
            number(header("content-range").and_then(|r| r.rsplit('/').next()))
                .or(sized)
                .or_else(|| number(header("content-length")))
        }
        "PUT" if has_key => {
            let h = req.headers();
            number(crate::s3::headers::get(h, "x-amz-decoded-content-length"))
                .or_else(|| number(crate::s3::headers::get(h, "content-length")))
        }
        _ => None,
    }
}

/// A record waiting for its response's body to be sent.
struct Pending {
    state: actix_web::web::Data<AppState>,
    bucket: String,
    status: Arc<LoggingStatus>,
    record: Record,
    started: Instant,
    sent: u64,
}

/// A response body that counts what it sends and makes the record when it is done (or
/// dropped: a client that went away is logged with what it got).
struct Logged {
    body: BoxBody,
    pending: Option<Pending>,
}

impl MessageBody for Logged {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        let next = Pin::new(&mut this.body).poll_next(cx);
        if let (Poll::Ready(Some(Ok(b))), Some(p)) = (&next, this.pending.as_mut()) {
            p.sent += b.len() as u64;
        }
        next
    }
}

impl Drop for Logged {
    fn drop(&mut self) {
        if let Some(p) = self.pending.take() {
            let total = u64::try_from(p.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            let line = p.record.line(p.sent, total);
            p.state
                .access_logs
                .push(&p.bucket, p.status, p.record.time_ms, line);
        }
    }
}

/// Deliver due batches until the process ends: every second, those a flush period old.
pub async fn run(state: actix_web::web::Data<AppState>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        deliver_due(&state, false).await;
    }
}

/// Deliver the due batches now (all of them with `all`: at shutdown).
pub async fn deliver_due(state: &AppState, all: bool) {
    for (bucket, mut batch) in state.access_logs.due(all) {
        // Delivered lines leave the batch as their objects are written: what is kept for
        // later is only what was not.
        match deliver::deliver(state, &bucket, &mut batch).await {
            Ok(n) => {
                METRICS.objects.fetch_add(n, Relaxed);
            }
            Err(deliver::Failure::Refused(why)) => {
                tracing::warn!(
                    bucket,
                    target = batch.status.target_bucket,
                    "access log records dropped: {why}"
                );
                METRICS.dropped.fetch_add(batch.lines.len() as u64, Relaxed);
            }
            Err(deliver::Failure::Unavailable(why)) => {
                tracing::warn!(bucket, "access log delivery failed, kept for later: {why}");
                state.access_logs.keep(bucket, batch);
            }
        }
    }
}
