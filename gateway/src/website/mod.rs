//! The website endpoint: a listener of its own (`--website-address`) that serves buckets with
//! a website configuration as static sites, as Amazon S3's website endpoints do. The bucket is
//! named by the Host ([`host`]); every request is anonymous and is authorized by the same
//! bucket policy, ACL and Block Public Access evaluation as the REST endpoint
//! (`crate::authz`); objects are read by the REST GET itself
//! (`crate::s3::ops::get::read_object`), so ranges, conditions, content headers and
//! encryption behave as there. What differs is what the configuration adds
//! ([`crate::model::website`]): index documents, redirects and routing rules, error documents,
//! and HTML error pages ([`page`]).
//!
//! A request costs what a REST GET costs: one authorization read (which brings the website
//! configuration with the bucket's policy) and one read of the object.

pub mod host;
pub mod page;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpRequest, HttpResponse};
use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::policy::Caller;
use coffer_proto::types::BucketInfo;

use crate::access_log::Seen;
use crate::authz::Authz;
use crate::model::website::{self, Asked, Website};
use crate::s3::ctx::ReqCtx;
use crate::s3::dispatch::authenticate::Identity;
use crate::s3::dispatch::route::Addressed;
use crate::s3::dispatch::{authorize, respond};
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::ops::get::{read_object, Reading};
use crate::s3::router::{Endpoint, Query};
use crate::state::AppState;

/// The website endpoint's one handler.
pub async fn handle(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let arrived = (std::time::Instant::now(), crate::s3::headers::now_ms());
    let id = respond::request_id();
    let head = req.method() == Method::HEAD;
    let mut cors = Vec::new();
    let mut seen = Seen::default();
    let (resp, error) = match serve(&req, &state, &mut cors, &mut seen).await {
        Ok(r) => (r, None),
        Err(e) => {
            tracing::debug!(code = e.code.as_str(), "website request failed");
            (page::error(&e, &id, head), Some(e.code.as_str()))
        }
    };
    let resp = respond::finish(resp, &id, cors);
    crate::access_log::observe(&state, &req, &id, arrived, seen, error, resp).await
}

/// What a website request is served from: its bucket, configuration and authorization.
struct Site {
    bucket: BucketInfo,
    website: Website,
    authz: Authz,
    to: Addressed,
}

async fn serve(
    req: &HttpRequest,
    state: &AppState,
    cors: &mut Vec<(HeaderName, HeaderValue)>,
    seen: &mut Seen,
) -> S3Result<HttpResponse> {
    let host_header = req.headers().get("host").and_then(|h| h.to_str().ok());
    let name = host::bucket_of(host_header, state.config.website_domain.as_deref())?;
    seen.website = Some((name.clone(), None));
    let method = req.method();
    if !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Err(S3Error::new(S3ErrorCode::MethodNotAllowed)
            .with("Method", method.as_str())
            .with("ResourceType", "OBJECT")
            .header("allow", "GET, HEAD, OPTIONS"));
    }
    let site = site(req, state, &name, cors).await?;
    let raw_path = req.uri().path();
    let key = percent_encoding::percent_decode_str(raw_path)
        .decode_utf8()
        .map_err(|_| S3Error::new(S3ErrorCode::NoSuchKey))?;
    let key = key.strip_prefix('/').unwrap_or(&key).to_owned();
    seen.website = Some((name.clone(), Some(key.clone())));
    let scheme = if state.config.transport.secure(req.head()) {
        "https"
    } else {
        "http"
    };
    let host = host_header.unwrap_or_default();
    let asked = Asked {
        key: &key,
        raw_path,
        host,
        scheme,
    };
    let empty = Query::default();
    let anonymous = crate::auth::Auth::anonymous();
    let ctx = ReqCtx {
        cluster: &state.cluster,
        config: &state.config,
        req,
        query: &empty,
        auth: &anonymous,
        owner: "",
        authz: &site.authz,
        bucket_name: &site.bucket.name,
        keys: &state.keys,
        caches: &state.caches,
    };
    if *method == Method::OPTIONS {
        return crate::s3::ops::cors::preflight(&ctx).await;
    }
    if let Some(r) = site.website.route(&asked) {
        return Ok(page::redirect(&r));
    }
    let head = *method == Method::HEAD;
    let index = site.website.index.as_deref().unwrap_or("index.html");
    let target = if key.is_empty() || key.ends_with('/') {
        format!("{key}{index}")
    } else {
        key.clone()
    };
    let failed = match object(state, &ctx, &site, &target, head, Reading::AsAsked).await {
        Ok(resp) => return Ok(redirected(resp)),
        Err(e) => e,
    };
    let failed = if failed.code == S3ErrorCode::NoSuchKey {
        // `/dir` without its slash: the folder's index, when there is one.
        if target == key && !key.is_empty() {
            let folder_index = format!("{key}/{index}");
            if ctx
                .cluster
                .object(site.bucket.id, &folder_index)
                .await?
                .is_some()
            {
                return Ok(HttpResponse::Found()
                    .insert_header((
                        "location",
                        format!("/{}/", crate::auth::sigv4::uri_encode(&key, true)),
                    ))
                    .finish());
            }
        }
        missing(&site, &target)
    } else {
        failed
    };
    let status = failed.code.status().as_u16();
    if let Some(r) = site.website.after_error(&asked, status) {
        return Ok(page::redirect(&r));
    }
    match (&site.website.error_document, status) {
        (Some(doc), 400..=499) => error_document(state, &ctx, &site, doc, head, failed).await,
        _ => Err(failed),
    }
}

/// The bucket `name`, its website configuration and what anonymous callers may do there,
/// from one authorization read; `cors` gets the headers its CORS rules give the answer.
async fn site(
    req: &HttpRequest,
    state: &AppState,
    name: &str,
    cors: &mut Vec<(HeaderName, HeaderValue)>,
) -> S3Result<Site> {
    let (facts, docs) = state
        .cluster
        .authorization_with(None, Some(name.to_owned()), vec![BucketConfigKind::Website])
        .await?;
    let bucket = facts
        .bucket
        .clone()
        .ok_or_else(|| S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", name))?;
    let website = docs
        .into_iter()
        .next()
        .flatten()
        .and_then(|d| website::decode(&d))
        .ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchWebsiteConfiguration).with("BucketName", name)
        })?;
    if let (Some(origin), Some(doc)) = (req.headers().get("origin"), &facts.bucket_cors) {
        let rules = crate::model::cors::decode(doc);
        let origin = origin.to_str().unwrap_or_default();
        if let Some(rule) = crate::model::cors::matching(&rules, origin, req.method().as_str(), &[])
        {
            *cors = crate::model::cors::headers(rule, origin, None);
        }
    }
    let to = Addressed {
        bucket: Some(name.to_owned()),
        key: None,
        vhost: None,
        query: Query::default(),
    };
    let who = Identity {
        auth: crate::auth::Auth::anonymous(),
        caller: Caller::Anonymous,
        owner: String::new(),
        facts,
        now: chrono::Utc::now(),
    };
    let authz = authorize::authz_of(state, req.head(), &to, who, false);
    Ok(Site {
        bucket,
        website,
        authz,
        to,
    })
}

/// `key` read as an anonymous GET (or HEAD) of the REST endpoint reads it: authorized, then
/// served.
async fn object(
    state: &AppState,
    ctx: &ReqCtx<'_>,
    site: &Site,
    key: &str,
    head: bool,
    reading: Reading,
) -> S3Result<HttpResponse> {
    let endpoint = Endpoint::GetObject {
        key: key.to_owned(),
    };
    let pending = site.authz.check(&endpoint, site.to.bucket_name(), false)?;
    authorize::settle(state, &site.authz, pending, None).await?;
    read_object(ctx, key, head, reading).await
}

/// A missing `key`: 404 NoSuchKey if anonymous callers may list the bucket (and so learn it
/// is not there), else 403 AccessDenied, as S3 answers.
fn missing(site: &Site, key: &str) -> S3Error {
    let may_list = matches!(
        site.authz
            .check(&Endpoint::ListObjects, site.to.bucket_name(), false),
        Ok(None)
    );
    if may_list {
        S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key)
    } else {
        S3Error::new(S3ErrorCode::AccessDenied)
    }
}

/// An object served whole, or its website redirect: a 301 to the object's
/// `x-amz-website-redirect-location` with an empty body, in its place.
fn redirected(resp: HttpResponse) -> HttpResponse {
    match resp.headers().get(crate::s3::website::REDIRECT).cloned() {
        Some(location) => HttpResponse::MovedPermanently()
            .insert_header(("location", location))
            .finish(),
        None => resp,
    }
}

/// The error document `doc` in place of error `failed`, with its status; the default page
/// when the document cannot be served (missing, private, or itself failing).
async fn error_document(
    state: &AppState,
    ctx: &ReqCtx<'_>,
    site: &Site,
    doc: &str,
    head: bool,
    failed: S3Error,
) -> S3Result<HttpResponse> {
    match object(state, ctx, site, doc, head, Reading::Whole).await {
        Ok(mut resp) => {
            *resp.status_mut() = failed.code.status();
            let h = resp.headers_mut();
            h.remove(crate::s3::website::REDIRECT);
            if let Ok(v) = HeaderValue::from_str(failed.code.as_str()) {
                h.insert(HeaderName::from_static("x-amz-error-code"), v);
            }
            Ok(resp)
        }
        Err(_) => Err(failed),
    }
}
