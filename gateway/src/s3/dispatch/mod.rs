//! The request entry point, in stages: [`route`] (where a request is addressed, which
//! operation it asks for) → [`authenticate`] (who sent it) → [`authorize`] (may they) →
//! handle ([`crate::s3::ops::run`]) → [`respond`] (errors, request id, CORS). One tracing span
//! and one request id per request. Each stage is a function of its own, so that another front
//! door (POST Object's form, the website endpoint) runs the same stages in its own order.

pub mod authenticate;
pub mod authorize;
pub mod respond;
pub mod route;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{web, HttpRequest, HttpResponse};
use tracing::Instrument;

use self::route::Addressed;
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
    let id = respond::request_id();
    let span = tracing::info_span!("s3", request_id = %id, op = tracing::field::Empty);
    let mut cors = Vec::new();
    let result = handle(&req, payload, &state, &id, &mut cors)
        .instrument(span.clone())
        .await;
    span.in_scope(|| respond::respond(&req, &state, &id, result, cors))
}

/// Run the stages for a request; `cors` receives the CORS headers its answer (success or
/// error) carries.
async fn handle(
    req: &HttpRequest,
    payload: web::Payload,
    state: &AppState,
    request_id: &str,
    cors: &mut Vec<(HeaderName, HeaderValue)>,
) -> S3Result<HttpResponse> {
    let to = Addressed::of(req, state.config.domain.as_deref())?;
    // An IAM call is signed over its body (a small form), so it is read before authenticating.
    if iam::is_iam_request(req, to.bucket.as_deref()) {
        let body = small_body(payload, iam::MAX_BODY).await?;
        return iam_call(state, req, &to, &body, request_id).await;
    }
    let who = authenticate::authenticate(state, req, &to, None).await?;
    if let (Some(origin), Some(doc)) = (req.headers().get("origin"), &who.facts.bucket_cors) {
        let rules = crate::model::cors::decode(doc);
        let origin = origin.to_str().unwrap_or_default();
        if let Some(rule) = crate::model::cors::matching(&rules, origin, req.method().as_str(), &[])
        {
            *cors = crate::model::cors::headers(rule, origin, None);
        }
    }
    let endpoint = to.endpoint(req)?;
    tracing::Span::current().record("op", endpoint.name());
    if endpoint == Endpoint::PostObject {
        // The form carries its own signature: it is authenticated and authorized there.
        return post_object::post_object(state, req, &to.query, to.bucket_name(), payload).await;
    }
    let auth = who.auth.clone();
    let authz = authorize::authorize(state, req, &to, &endpoint, who).await?;
    let owner = authz.writer();
    let ctx = ReqCtx {
        cluster: &state.cluster,
        config: &state.config,
        req,
        query: &to.query,
        auth: &auth,
        owner: &owner,
        authz: &authz,
        bucket_name: to.bucket_name(),
    };
    ops::run(&ctx, endpoint, payload).await
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
    let who = authenticate::authenticate(state, req, to, Some(&body_sha256)).await?;
    if let crate::auth::Payload::Sha256(d) = who.auth.payload {
        if hex::encode(d) != body_sha256 {
            return Err(S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch));
        }
    }
    let authz = authorize::authz_of(state, req, to, who, false);
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
