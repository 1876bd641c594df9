//! Stage 5, respond: an error becomes S3's (or IAM's) error document; every answer carries
//! the request id, the CORS headers its bucket's rules give it, and the server name.

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse};

use super::route::address;
use crate::iam;
use crate::s3::error::S3Result;
use crate::state::AppState;

/// A fresh request id (16 uppercase hex characters, as S3's).
pub fn request_id() -> String {
    format!("{:016X}", rand::random::<u64>())
}

/// The response to `req` for `result`, with its headers.
pub fn respond(
    req: &HttpRequest,
    state: &AppState,
    id: &str,
    result: S3Result<HttpResponse>,
    cors: Vec<(HeaderName, HeaderValue)>,
) -> HttpResponse {
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(code = e.code.as_str(), "request failed");
            let bucket = address(req.head(), state.config.domain.as_deref())
                .ok()
                .and_then(|a| a.0);
            if iam::is_iam_request(req.head(), bucket.as_deref()) {
                iam::IamError::from(&e).response(id)
            } else {
                e.response(req.path(), id, req.method() == Method::HEAD)
            }
        }
    };
    finish(resp, id, cors)
}

/// `resp` with the headers every answer carries: CORS, the request id, the server name.
pub fn finish(
    mut resp: HttpResponse,
    id: &str,
    cors: Vec<(HeaderName, HeaderValue)>,
) -> HttpResponse {
    let h = resp.headers_mut();
    for (k, v) in cors {
        h.insert(k, v);
    }
    if let Ok(v) = HeaderValue::from_str(id) {
        h.insert(HeaderName::from_static("x-amz-request-id"), v.clone());
        h.insert(HeaderName::from_static("x-amz-id-2"), v);
    }
    h.insert(
        actix_web::http::header::SERVER,
        HeaderValue::from_static("Coffer"),
    );
    resp
}
