//! `Expect: 100-continue`: a client that asks before sending its body gets the request's
//! refusal instead of `100 Continue` when the request will be refused (a bad signature, no
//! bucket, access denied, a header for a feature not built), so it does not send a body for
//! nothing. The stages before the body ([`super::stage`]) run here, before the server writes
//! `100 Continue`; what they found rides in the request's extensions to the handler, which
//! then does not run them again.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::{web, HttpMessage, HttpResponse};

use super::{respond, stage, Staged};
use crate::s3::error::{S3Error, S3ErrorCode};
use crate::s3::router::Endpoint;
use crate::state::AppState;

/// Decide on `req` before its body: `Ok(req)` lets the server answer `100 Continue` and hand
/// it to the handler; `Err` is the answer, sent in place of `100 Continue`.
pub async fn expect(
    state: web::Data<AppState>,
    req: actix_http::Request,
) -> Result<actix_http::Request, HttpResponse> {
    let mut cors: Vec<(HeaderName, HeaderValue)> = Vec::new();
    let staged = stage(&state, req.head(), &mut cors)
        .await
        .and_then(|s| match s {
            // Every write with a body but CreateBucket's needs its bucket to exist.
            Staged::Ready(p)
                if p.to.bucket.is_some()
                    && p.authz.bucket.is_none()
                    && p.endpoint != Endpoint::CreateBucket =>
            {
                Err(S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", p.to.bucket_name()))
            }
            s => Ok(s),
        });
    match staged {
        Ok(Staged::Ready(p)) => {
            req.extensions_mut().insert((*p, cors));
            Ok(req)
        }
        // IAM calls and POST Object forms are authenticated over their bodies.
        Ok(Staged::Iam(_) | Staged::Form(_)) => Ok(req),
        Err(e) => {
            let id = respond::request_id();
            let head = req.head();
            tracing::debug!(
                request_id = %id,
                code = e.code.as_str(),
                "refused before the body (Expect: 100-continue)"
            );
            let resp = e.response(head.uri.path(), &id, head.method == Method::HEAD);
            Err(respond::finish(resp, &id, cors))
        }
    }
}
