//! S3 request dispatch: address (path or virtual-host style) → one metadata read of what
//! authentication and authorization need → authenticate → route → authorize → handler, with one tracing span and one request id per request. Permissions are
//! checked here once, never inside handlers.

pub mod body;
pub mod crc_combine;
pub mod ctx;
pub mod error;
pub mod headers;
pub mod names;
pub mod object_lock;
pub mod ops;
pub mod post_object;
pub mod post_policy;
pub mod router;
pub mod sse;
pub mod website;
pub mod xml;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use tracing::{debug, Instrument};

use coffer_proto::iam::AuthzFacts;
use coffer_proto::meta::{MetaAnswer, MetaQuery};
use coffer_proto::policy::{Caller, Context};

use self::ctx::ReqCtx;
use self::error::{S3Error, S3ErrorCode, S3Result};
use self::router::{Endpoint, Query};
use crate::auth::{self, SignedRequest};
use crate::authz::{self, Authz};
use crate::iam;
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
    let mut cors = Vec::new();
    let mut resp = match handle(&req, payload, &state, &id, &mut cors)
        .instrument(span.clone())
        .await
    {
        Ok(r) => r,
        Err(e) => {
            debug!(parent: &span, code = e.code.as_str(), "request failed");
            let bucket = address(&req, state.config.domain.as_deref())
                .ok()
                .and_then(|a| a.0);
            if iam::is_iam_request(&req, bucket.as_deref()) {
                iam::IamError::from(&e).response(&id)
            } else {
                e.response(req.path(), &id, head)
            }
        }
    };
    let h = resp.headers_mut();
    for (k, v) in cors {
        h.insert(k, v);
    }
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

/// Handle a request; `cors` receives the CORS headers its answer (success or error) carries.
async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    request_id: &str,
    cors: &mut Vec<(HeaderName, HeaderValue)>,
) -> S3Result<HttpResponse> {
    let cfg = &state.config;
    let (bucket, key, vhost) = address(req, cfg.domain.as_deref())?;
    let query = Query::parse(req.query_string());
    // An IAM call is signed over its body (a small form), so it is read before authenticating.
    let mut payload = Some(payload);
    let iam_body = match payload.take() {
        Some(p) if iam::is_iam_request(req, bucket.as_deref()) => {
            Some(ops::small_body(p, iam::MAX_BODY).await?)
        }
        p => {
            payload = p;
            None
        }
    };
    let body_sha256 = iam_body.as_ref().map(|b| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    });
    let signed = SignedRequest {
        method: req.method(),
        raw_path: req.uri().path(),
        raw_query: req.query_string(),
        query: &query,
        headers: req.headers(),
        vhost_bucket: vhost.as_deref(),
        region: &cfg.region,
        body_sha256: body_sha256.as_deref(),
    };
    // One metadata read tells authentication and authorization what they need: a non-root
    // key's user, secret and policies, and the addressed bucket with its policy.
    let claimed = auth::claimed_access_key(&signed);
    let root = claimed
        .as_deref()
        .is_some_and(|ak| cfg.credentials.secret(ak).is_some());
    let user_key = claimed.filter(|_| !root);
    let facts = if user_key.is_some() || bucket.is_some() {
        authorization_facts(state, user_key.clone(), bucket.clone()).await?
    } else {
        AuthzFacts::default()
    };
    if let (Some(origin), Some(doc)) = (req.headers().get("origin"), &facts.bucket_cors) {
        let method = req.method().as_str();
        let rules = ops::cors::decode(doc);
        let origin = origin.to_str().unwrap_or_default();
        if let Some(rule) = ops::cors::matching(&rules, origin, method, &[]) {
            *cors = ops::cors::headers(rule, origin, None);
        }
    }
    let user_creds;
    let creds = match (&user_key, &facts.key) {
        (Some(ak), key) => {
            user_creds = iam_credentials(cfg, ak, key.as_ref());
            &user_creds
        }
        (None, _) => &cfg.credentials,
    };
    let now = chrono::Utc::now();
    // A CORS preflight is never authenticated: a browser sends it without credentials, with
    // the query of the request it asks about (a presigned URL's signature included).
    let auth = if req.method() == Method::OPTIONS {
        auth::Auth::anonymous()
    } else {
        auth::authenticate(&signed, creds, now.timestamp())?
    };
    let (caller, owner) = identify(auth.access_key.as_deref(), root, facts.user.as_ref())?;
    if let Some(body) = iam_body {
        if let auth::Payload::Sha256(d) = auth.payload {
            if Some(hex::encode(d)) != body_sha256 {
                return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch));
            }
        }
        let context = if facts.identity_policies.is_empty() {
            Context::default()
        } else {
            authz::context::build(req, &query, false, &caller, now)
        };
        let authz = Authz::new(caller, owner, facts, context, &state.policies);
        let cx = iam::actions::IamCtx {
            cluster: &state.cluster,
            master: cfg.master_key.as_ref(),
            authz: &authz,
            request_id,
        };
        return Ok(iam::actions::run(&cx, &iam::Params::parse(&body))
            .await
            .unwrap_or_else(|e| e.response(request_id)));
    }
    let Some(payload) = payload else {
        return Err(S3Error::internal("the request body was already read"));
    };
    let has_copy_source = req.headers().contains_key("x-amz-copy-source");
    let endpoint = Endpoint::route(
        req.method(),
        bucket.as_deref(),
        key.as_deref(),
        &query,
        has_copy_source,
    )?;
    tracing::Span::current().record("op", endpoint.name());
    if endpoint == Endpoint::PostObject {
        // The form carries its own signature: it is authenticated and authorized there.
        let bucket = bucket.as_deref().unwrap_or_default();
        return post_object::post_object(state, req, &query, bucket, payload).await;
    }
    if let Some(k) = &key {
        if k.len() > 1024 {
            return Err(S3Error::new(S3ErrorCode::KeyTooLongError)
                .with("Size", k.len().to_string())
                .with("MaxSizeAllowed", "1024"));
        }
    }
    // Policies see the request through its condition keys; without a policy there is nothing
    // to build them for.
    let context = if facts.identity_policies.is_empty() && facts.bucket_policy.is_none() {
        Context::default()
    } else {
        let list = matches!(
            endpoint,
            Endpoint::ListObjects | Endpoint::ListObjectsV2 | Endpoint::ListObjectVersions
        );
        authz::context::build(req, &query, list, &caller, now)
    };
    let authz = Authz::new(caller, owner, facts, context, &state.policies);
    let bucket_name = bucket.as_deref().unwrap_or_default();
    let pending = authz.check(&endpoint, bucket_name)?;
    settle(state, &authz, pending).await?;
    if matches!(
        endpoint,
        Endpoint::CopyObject { .. } | Endpoint::UploadPartCopy { .. }
    ) {
        let src = headers::CopySource::from_headers(req.headers())?;
        let facts = if src.bucket == bucket_name {
            None
        } else {
            Some(authorization_facts(state, None, Some(src.bucket.clone())).await?)
        };
        let pending = authz.check_copy_source(&src.bucket, &src.key, facts, &state.policies)?;
        settle(state, &authz, pending).await?;
    }
    sse::check(&endpoint, req.headers())?;
    object_lock::check(&endpoint, req.headers())?;
    website::check(&endpoint, req.headers())?;
    let owner = authz.writer();
    let ctx = ReqCtx {
        cluster: &state.cluster,
        config: cfg,
        req,
        query: &query,
        auth: &auth,
        owner: &owner,
        authz: &authz,
        bucket_name,
    };
    ops::run(&ctx, endpoint, payload).await
}

/// The caller and its owner id for a request signed with `access_key` (None: anonymous);
/// `root`: it is the root key; `user`: the key's user.
fn identify(
    access_key: Option<&str>,
    root: bool,
    user: Option<&coffer_proto::iam::UserRecord>,
) -> S3Result<(Caller, String)> {
    Ok(match (access_key, user) {
        (None, _) => (Caller::Anonymous, String::new()),
        (Some(ak), _) if root => (
            Caller::Root {
                canonical_id: ops::owner_id(ak),
            },
            ak.to_owned(),
        ),
        (Some(_), Some(u)) => {
            let owner = authz::user_owner(&u.name);
            let caller = Caller::User {
                name: u.name.clone(),
                user_id: u.user_id.clone(),
                canonical_id: ops::owner_id(&owner),
            };
            (caller, owner)
        }
        // A key whose user is gone authenticates nothing.
        (Some(_), None) => return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId)),
    })
}

/// Finish a check that an object's record decides: read its owner, ACL and tags.
async fn settle(state: &AppState, authz: &Authz, pending: Option<authz::Pending>) -> S3Result<()> {
    let Some(p) = pending else {
        return Ok(());
    };
    let q = MetaQuery::ObjectFacts {
        bucket_id: p.bucket_id,
        key: p.key.clone(),
    };
    match state.cluster.meta_read(q).await? {
        MetaAnswer::ObjectFacts(found) => authz.settle(&p, found.as_ref()),
        other => Err(S3Error::internal(format!("unexpected answer {other:?}"))),
    }
}

/// What authorizing a request signed with `access_key` on `bucket` needs, in one read.
async fn authorization_facts(
    state: &AppState,
    access_key: Option<String>,
    bucket: Option<String>,
) -> S3Result<AuthzFacts> {
    let q = MetaQuery::Authorization { access_key, bucket };
    match state.cluster.meta_read(q).await? {
        MetaAnswer::Authorization(f) => Ok(*f),
        other => Err(S3Error::internal(format!("unexpected answer {other:?}"))),
    }
}

/// Credentials holding IAM access key `ak` if its record exists, is active and its secret
/// unseals; empty otherwise (the request then fails with InvalidAccessKeyId).
fn iam_credentials(
    cfg: &crate::GatewayConfig,
    ak: &str,
    key: Option<&coffer_proto::iam::KeyRecord>,
) -> auth::Credentials {
    let mut creds = auth::Credentials::default();
    let (Some(master), Some(key)) = (&cfg.master_key, key) else {
        return creds;
    };
    let secret = master
        .open(&key.sealed_secret, ak.as_bytes())
        .and_then(|s| String::from_utf8(s).ok());
    match secret {
        Some(secret) if key.active => creds.insert(ak, secret),
        Some(_) => {}
        None => tracing::warn!(access_key = ak, "an access key's secret does not unseal"),
    }
    creds
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
