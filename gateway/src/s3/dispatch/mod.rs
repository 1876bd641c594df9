//! The request entry point, in stages: [`route`] (where a request is addressed, which
//! operation it asks for) → [`authenticate`] (who sent it) → [`authorize`] (may they) →
//! handle ([`crate::s3::ops::run`]) → [`respond`] (errors, request id, CORS) → the server
//! access log ([`crate::access_log::observe`]). One tracing span and one request id per
//! request. Each stage is a function of its own, so that another front
//! door (POST Object's form, the website endpoint) runs the same stages in its own order.

pub mod authenticate;
pub mod authorize;
pub mod expect;
pub mod respond;
pub mod route;

use actix_web::dev::RequestHead;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use tracing::Instrument;

use self::route::Addressed;
use crate::access_log::Seen;
use crate::iam;
use crate::s3::body::small_body;
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::router::Endpoint;
use crate::s3::{ops, post_object};
use crate::state::AppState;

/// The catch-all S3 handler.
pub async fn dispatch(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    let arrived = (std::time::Instant::now(), crate::s3::headers::now_ms());
    let id = respond::request_id();
    let span = tracing::info_span!("s3", request_id = %id, op = tracing::field::Empty);
    let mut cors = Vec::new();
    let mut seen = Seen::default();
    let result = handle(&req, payload, &state, &id, &mut cors, &mut seen)
        .instrument(span.clone())
        .await;
    let error = result.as_ref().err().map(|e| e.code.as_str());
    let resp = span.in_scope(|| respond::respond(&req, &state, &id, result, cors));
    crate::access_log::observe(&state, &req, &id, arrived, seen, error, resp).await
}

/// A request that went through the stages before its body: where it is addressed, what it
/// asks for, who sent it and what they may do, and the CORS headers of its answer.
pub struct Prepared {
    to: Addressed,
    endpoint: Endpoint,
    auth: crate::auth::Auth,
    authz: crate::authz::Authz,
}

/// What the stages before the body make of a request.
pub enum Staged {
    /// An S3 operation, authenticated and authorized.
    Ready(Box<Prepared>),
    /// An IAM call, signed over its body: authenticated once the body is read.
    Iam(Addressed),
    /// A POST Object form, which carries its own signature in the body.
    Form(Addressed),
}

/// Route, authenticate and authorize a request from its head alone. The `Expect:
/// 100-continue` handler runs this before the client sends the body (so that a refused
/// request is refused before it is sent, see [`expect`]); the handler runs it otherwise.
/// `cors` receives the CORS headers of the answer, success or error.
pub async fn stage(
    state: &AppState,
    head: &RequestHead,
    cors: &mut Vec<(HeaderName, HeaderValue)>,
) -> S3Result<Staged> {
    let to = Addressed::of(head, state.config.domain.as_deref())?;
    if iam::is_iam_request(head, to.bucket.as_deref()) {
        return Ok(Staged::Iam(to));
    }
    let who = authenticate::authenticate(state, head, &to, None).await?;
    if let (Some(origin), Some(doc)) = (head.headers.get("origin"), &who.facts.bucket_cors) {
        let rules = crate::model::cors::decode(doc);
        let origin = origin.to_str().unwrap_or_default();
        if let Some(rule) = crate::model::cors::matching(&rules, origin, head.method.as_str(), &[])
        {
            *cors = crate::model::cors::headers(rule, origin, None);
        }
    }
    let endpoint = to.endpoint(head)?;
    if endpoint == Endpoint::PostObject {
        return Ok(Staged::Form(to));
    }
    let auth = who.auth.clone();
    let authz = authorize::authorize(state, head, &to, &endpoint, who).await?;
    Ok(Staged::Ready(Box::new(Prepared {
        to,
        endpoint,
        auth,
        authz,
    })))
}

/// Run the stages for a request; `cors` receives the CORS headers its answer (success or
/// error) carries, `seen` what its access log record needs.
async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    request_id: &str,
    cors: &mut Vec<(HeaderName, HeaderValue)>,
    seen: &mut Seen,
) -> S3Result<HttpResponse> {
    // Staged already when the client waited for 100 Continue.
    let staged = req
        .extensions_mut()
        .remove::<(Prepared, Vec<(HeaderName, HeaderValue)>)>();
    let p = match staged {
        Some((p, headers)) => {
            *cors = headers;
            p
        }
        None => match stage(state, req.head(), cors).await? {
            Staged::Ready(p) => *p,
            Staged::Iam(to) => {
                let body = small_body(payload, iam::MAX_BODY).await?;
                return iam_call(state, req, &to, &body, request_id).await;
            }
            Staged::Form(to) => {
                seen.endpoint = Some(Endpoint::PostObject);
                tracing::Span::current().record("op", Endpoint::PostObject.name());
                return post_object::post_object(state, req, &to.query, to.bucket_name(), payload)
                    .await;
            }
        },
    };
    tracing::Span::current().record("op", p.endpoint.name());
    let owner = p.authz.writer();
    seen.endpoint = Some(p.endpoint.clone());
    if p.authz.canonical_id().is_some() {
        seen.requester = Some(crate::access_log::requester(&owner));
    }
    let ctx = ReqCtx {
        cluster: &state.cluster,
        config: &state.config,
        req,
        query: &p.to.query,
        auth: &p.auth,
        owner: &owner,
        authz: &p.authz,
        bucket_name: p.to.bucket_name(),
        keys: &state.keys,
        caches: &state.caches,
    };
    ops::run(&ctx, p.endpoint, payload).await
}

/// An IAM query API call: authenticated over its form `body`, authorized by the caller's
/// identity policies, answered in IAM's XML.
async fn iam_call(
    state: &AppState,
    req: &HttpRequest,
    to: &Addressed,
    body: &[u8],
    request_id: &str,
) -> S3Result<HttpResponse> {
    use sha2::Digest;
    let body_sha256 = hex::encode(sha2::Sha256::digest(body));
    let who = authenticate::authenticate(state, req.head(), to, Some(&body_sha256)).await?;
    if let crate::auth::Payload::Sha256(d) = who.auth.payload {
        if hex::encode(d) != body_sha256 {
            return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch));
        }
    }
    let authz = authorize::authz_of(state, req.head(), to, who, false);
    let cx = iam::actions::IamCtx {
        cluster: &state.cluster,
        master: state.config.master_key.as_ref(),
        authz: &authz,
        request_id,
    };
    Ok(iam::actions::run(&cx, &iam::Params::parse(body))
        .await
        .unwrap_or_else(|e| e.response(request_id)))
}
