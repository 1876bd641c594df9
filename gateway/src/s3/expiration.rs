//! `x-amz-expiration`: when the bucket's lifecycle rules will expire an object, and by which
//! rule, on PUT, copy, CompleteMultipartUpload, GET and HEAD, as S3 answers it
//! (`expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="picture-deletion-rule"`).
//!
//! The header is advice, and S3 itself applies a new configuration with a delay: each gateway
//! keeps the lifecycle documents it read for a few seconds
//! ([`crate::model::config_cache::Caches`]), so that answering the header costs a
//! metadata read per bucket and period, not per request.

use crate::model::lifecycle;
use crate::s3::ctx::ReqCtx;

/// What the rules need to know of an object.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Key.
    pub key: &'a str,
    /// Size in bytes.
    pub size: u64,
    /// Seconds since the epoch it was written at.
    pub created: i64,
    /// Whether it has tags (they are read only when it has and a rule filters on tags).
    pub tagged: bool,
}

/// The `x-amz-expiration` header for the current version `s` of an object in the request's
/// bucket, if an enabled rule will expire it.
pub async fn header(ctx: &ReqCtx<'_>, s: Subject<'_>) -> Option<(&'static str, String)> {
    let rules = ctx
        .caches
        .lifecycle
        .get(ctx.cluster, ctx.bucket_name)
        .await?;
    if !rules.expires_anything() {
        return None;
    }
    let tags = if s.tagged && rules.filters_on_tags() {
        read_tags(ctx, s.key).await
    } else {
        Vec::new()
    };
    let (due, rule) =
        rules.expiration(s.key, s.size, &tags, s.created, ctx.config.lifecycle_day)?;
    Some(("x-amz-expiration", lifecycle::expiration_header(due, rule)?))
}

/// `x-amz-abort-date` and `x-amz-abort-rule-id` for an upload of `key` initiated at
/// `initiated_ms`, if an enabled rule of the request's bucket aborts it (none otherwise).
pub async fn abort_headers(
    ctx: &ReqCtx<'_>,
    key: &str,
    initiated_ms: i64,
) -> Vec<(&'static str, String)> {
    let Some(rules) = ctx.caches.lifecycle.get(ctx.cluster, ctx.bucket_name).await else {
        return Vec::new();
    };
    let due = lifecycle::due::abort_at(
        &rules,
        key,
        initiated_ms.div_euclid(1000),
        ctx.config.lifecycle_day,
    );
    let Some((at, rule)) = due else {
        return Vec::new();
    };
    let Ok(secs) = u64::try_from(at) else {
        return Vec::new();
    };
    let date =
        httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs));
    let mut out = vec![("x-amz-abort-date", date)];
    if actix_web::http::header::HeaderValue::from_str(rule).is_ok() {
        out.push(("x-amz-abort-rule-id", rule.to_owned()));
    }
    out
}

/// The current version's tags (none when they cannot be read: the header is advice).
async fn read_tags(ctx: &ReqCtx<'_>, key: &str) -> Vec<(String, String)> {
    let Ok(bucket) = ctx.bucket().await else {
        return Vec::new();
    };
    match crate::s3::object::read::facts(ctx.cluster, bucket.id, key, None).await {
        Ok(f) => crate::model::tags::decode(f.tags.as_deref()),
        Err(_) => Vec::new(),
    }
}
