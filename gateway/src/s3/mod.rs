//! S3 request dispatch: address (path or virtual-host style) → authenticate → route →
//! authorize → handler, with one tracing span and one request id per request. Permissions are
//! checked here once, never inside handlers.

pub mod body;
pub mod crc_combine;
pub mod ctx;
pub mod error;
pub mod headers;
pub mod names;
pub mod ops;
pub mod router;
pub mod xml;

use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use tracing::{debug, Instrument};

use self::ctx::ReqCtx;
use self::error::{S3Error, S3ErrorCode, S3Result};
use self::router::{Endpoint, Query};
use crate::auth::{self, SignedRequest};
use crate::server::AppState;

/// A fresh request id (16 uppercase hex characters, as S3's).
fn request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

/// Split the request into (bucket, key, bucket-from-host).
fn address(
    req: &HttpRequest,
    domain: Option<&str>,
) -> S3Result<(Option<String>, Option<String>, Option<String>)> {
    let raw = req.uri().path();
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| {
            S3Error::msg(
                S3ErrorCode::InvalidArgument,
                "The request path is not valid UTF-8",
            )
        })?;
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    let vhost = domain
        .and_then(|d| host.strip_suffix(d))
        .and_then(|b| b.strip_suffix('.'))
        .filter(|b| !b.is_empty())
        .map(str::to_owned);
    let path = decoded.strip_prefix('/').unwrap_or(&decoded);
    if let Some(b) = vhost {
        let key = (!path.is_empty()).then(|| path.to_owned());
        return Ok((Some(b.clone()), key, Some(b)));
    }
    Ok(match path.split_once('/') {
        Some((b, k)) => (Some(b.to_owned()), Some(k.to_owned()), None),
        None if path.is_empty() => (None, None, None),
        None => (Some(path.to_owned()), None, None),
    })
}

/// The catch-all S3 handler.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let id = request_id();
    let span = tracing::info_span!("s3", request_id = %id, op = tracing::field::Empty);
    let head = req.method() == Method::HEAD;
    let mut resp = match handle(&req, payload, &state).instrument(span.clone()).await {
        Ok(r) => r,
        Err(e) => {
            debug!(parent: &span, code = e.code.as_str(), "request failed");
            e.response(req.path(), &id, head)
        }
    };
    let h = resp.headers_mut();
    if let Ok(v) = actix_web::http::header::HeaderValue::from_str(&id) {
        h.insert(
            actix_web::http::header::HeaderName::from_static("x-amz-request-id"),
            v.clone(),
        );
        h.insert(
            actix_web::http::header::HeaderName::from_static("x-amz-id-2"),
            v,
        );
    }
    h.insert(
        actix_web::http::header::SERVER,
        actix_web::http::header::HeaderValue::from_static("Coffer"),
    );
    resp
}

async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
) -> S3Result<HttpResponse> {
    let cfg = &state.config;
    let (bucket, key, vhost) = address(req, cfg.domain.as_deref())?;
    let query = Query::parse(req.query_string());
    let signed = SignedRequest {
        method: req.method(),
        raw_path: req.uri().path(),
        raw_query: req.query_string(),
        query: &query,
        headers: req.headers(),
        vhost_bucket: vhost.as_deref(),
        region: &cfg.region,
    };
    // A key that is not a root key may be an IAM user's: its secret comes from the metadata.
    let claimed = auth::claimed_access_key(&signed);
    let root = claimed
        .as_deref()
        .is_some_and(|ak| cfg.credentials.secret(ak).is_some());
    let user_keys;
    let creds = match claimed.as_deref() {
        Some(ak) if !root => {
            user_keys = iam_credentials(&state.cluster, cfg, ak).await?;
            &user_keys
        }
        _ => &cfg.credentials,
    };
    let auth = auth::authenticate(&signed, creds, chrono::Utc::now().timestamp())?;
    let has_copy_source = req.headers().contains_key("x-amz-copy-source");
    let endpoint = Endpoint::route(
        req.method(),
        bucket.as_deref(),
        key.as_deref(),
        &query,
        has_copy_source,
    )?;
    tracing::Span::current().record("op", endpoint.name());
    // Authorization: until policies and ACLs exist, the root key may do everything, and IAM
    // users (who have no policy yet) and anonymous requests nothing: AWS's implicit deny.
    let Some(access_key) = auth.access_key.as_deref().filter(|_| root) else {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    };
    if let Some(k) = &key {
        if k.len() > 1024 {
            return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
                .with("Size", k.len().to_string())
                .with("MaxSizeAllowed", "1024"));
        }
    }
    let ctx = ReqCtx {
        cluster: &state.cluster,
        config: cfg,
        req,
        query: &query,
        auth: &auth,
        access_key,
        bucket_name: bucket.as_deref().unwrap_or_default(),
    };
    ops::run(&ctx, endpoint, payload).await
}

/// Credentials holding IAM access key `ak`, if it exists, is active and its secret unseals;
/// empty otherwise (the request then fails with InvalidAccessKeyId).
async fn iam_credentials(
    cluster: &std::sync::Arc<dyn coffer_proto::ClusterApi>,
    cfg: &crate::GatewayConfig,
    ak: &str,
) -> S3Result<auth::Credentials> {
    use coffer_proto::meta::{MetaAnswer, MetaQuery};
    let mut creds = auth::Credentials::default();
    let Some(master) = &cfg.master_key else {
        return Ok(creds);
    };
    if let MetaAnswer::AccessKey(Some(key)) = cluster
        .meta_read(MetaQuery::GetAccessKey(ak.to_owned()))
        .await?
    {
        let secret = master
            .open(&key.sealed_secret, ak.as_bytes())
            .and_then(|s| String::from_utf8(s).ok());
        match secret {
            Some(secret) if key.active => creds.insert(ak, secret),
            Some(_) => {}
            None => tracing::warn!(access_key = ak, "an access key's secret does not unseal"),
        }
    }
    Ok(creds)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn path_and_virtual_host_addressing() {
        let r = TestRequest::with_uri("/b/a%20b/c")
            .insert_header(("host", "localhost:9000"))
            .to_http_request();
        assert_eq!(
            address(&r, Some("s3.local")).unwrap(),
            (Some("b".into()), Some("a b/c".into()), None)
        );
        let r = TestRequest::with_uri("/a/b")
            .insert_header(("host", "bk.s3.local:9000"))
            .to_http_request();
        assert_eq!(
            address(&r, Some("s3.local")).unwrap(),
            (Some("bk".into()), Some("a/b".into()), Some("bk".into()))
        );
        let r = TestRequest::with_uri("/")
            .insert_header(("host", "s3.local"))
            .to_http_request();
        assert_eq!(address(&r, Some("s3.local")).unwrap(), (None, None, None));
        let r = TestRequest::with_uri("/b").to_http_request();
        assert_eq!(address(&r, None).unwrap(), (Some("b".into()), None, None));
    }
}
