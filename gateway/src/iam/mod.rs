//! The IAM query API on the S3 endpoint, as Ceph RGW serves it, so that `aws iam
//! --endpoint-url <S3 endpoint>` manages users, access keys, groups and inline policies: a
//! SigV4-signed `POST /` with a form body `Action=...&Version=2010-05-08`. Authorized like
//! every request: the root key may do everything, an IAM user what its identity policies allow
//! (`iam:CreateUser` on `arn:aws:iam:::user/NAME`, ...).
//!
//! - [`actions`]: one function per IAM action.

pub mod actions;

use actix_web::dev::RequestHead;
use actix_web::http::Method;
use actix_web::HttpResponse;
use coffer_proto::ProtoError;

use crate::s3::error::S3Error;
use crate::s3::router::Query;
use crate::s3::xml::XmlWriter;

/// The IAM XML namespace.
pub const NS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// Largest request body (a policy document of 6,144 characters, URL-encoded, and the rest).
pub const MAX_BODY: usize = 64 << 10;

/// Whether a request addressed to no bucket is an IAM call.
pub fn is_iam_request(req: &RequestHead, bucket: Option<&str>) -> bool {
    bucket.is_none()
        && req.method == Method::POST
        && req
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"))
}

/// An IAM error: code, HTTP status and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamError {
    /// `NoSuchEntity`, ...
    pub code: &'static str,
    /// HTTP status.
    pub status: u16,
    /// Message.
    pub message: String,
}

impl IamError {
    /// An error of `code` and `status`.
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        IamError {
            code,
            status,
            message: message.into(),
        }
    }

    /// A missing or invalid parameter.
    pub fn invalid(message: impl Into<String>) -> Self {
        IamError::new("ValidationError", 400, message)
    }

    /// The `<ErrorResponse>` answer.
    pub fn response(&self, request_id: &str) -> HttpResponse {
        let mut x = XmlWriter::new();
        x.open_with_ns("ErrorResponse", NS);
        x.open("Error");
        x.elem(
            "Type",
            if self.status < 500 {
                "Sender"
            } else {
                "Receiver"
            },
        );
        x.elem("Code", self.code);
        x.elem("Message", &self.message);
        x.close("Error");
        x.elem("RequestId", request_id);
        x.close("ErrorResponse");
        let status = actix_web::http::StatusCode::from_u16(self.status)
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        HttpResponse::build(status)
            .content_type("text/xml")
            .body(x.finish())
    }
}

impl From<&S3Error> for IamError {
    /// An authentication or request error met before the action ran.
    fn from(e: &S3Error) -> Self {
        IamError::new(
            e.code.as_str(),
            e.code.status().as_u16(),
            e.message.as_deref().unwrap_or(e.code.message()),
        )
    }
}

impl From<ProtoError> for IamError {
    fn from(e: ProtoError) -> Self {
        match e {
            ProtoError::NoSuchEntity(m) => IamError::new("NoSuchEntity", 404, m),
            ProtoError::EntityAlreadyExists(m) => IamError::new("EntityAlreadyExists", 409, m),
            ProtoError::LimitExceeded(m) => IamError::new("LimitExceeded", 409, m),
            ProtoError::DeleteConflict(m) => IamError::new("DeleteConflict", 409, m),
            ProtoError::ValidationError(m) => IamError::invalid(m),
            ProtoError::NotLeader(_)
            | ProtoError::Timeout
            | ProtoError::Unreachable(_)
            | ProtoError::QuorumNotReached(_)
            | ProtoError::RaftStopped(_) => {
                tracing::warn!("cluster unavailable: {e}");
                IamError::new("ServiceFailure", 503, "The cluster is unavailable.")
            }
            ProtoError::NoSuchBucket
            | ProtoError::BucketAlreadyExists
            | ProtoError::BucketAlreadyOwnedByYou
            | ProtoError::BucketNotEmpty
            | ProtoError::NoSuchKey
            | ProtoError::NoSuchVersion
            | ProtoError::InvalidBucketState(_)
            | ProtoError::ObjectLocked
            | ProtoError::KmsKeyExists
            | ProtoError::KmsKeyChanged
            | ProtoError::NoSuchUpload
            | ProtoError::InvalidPart(_)
            | ProtoError::PreconditionFailed
            | ProtoError::ConditionalRequestConflict
            | ProtoError::Cancelled
            | ProtoError::Corrupt(_)
            | ProtoError::Io(_)
            | ProtoError::Body(_)
            | ProtoError::Protocol(_)
            | ProtoError::Unauthorized
            | ProtoError::Internal(_)
            | ProtoError::ConnectionClosed
            | ProtoError::UnexpectedMessage(_)
            | ProtoError::FrameTooLarge(_)
            | ProtoError::Malformed(_)
            | ProtoError::UnexpectedAnswer(_)
            | ProtoError::ShardNotHere(_)
            | ProtoError::ShardDeleted(_)
            | ProtoError::NoSuchNode(_)
            | ProtoError::NoSuchStorageClass(_)
            | ProtoError::InvalidErasureProfile(_)
            | ProtoError::MisplacedCommand(_)
            | ProtoError::Snapshot(_) => {
                tracing::warn!("IAM request failed: {e}");
                IamError::new("ServiceFailure", 500, "Request processing has failed.")
            }
        }
    }
}

/// The form parameters of a request body.
pub struct Params(Query);

impl Params {
    /// Parse a form body.
    pub fn parse(body: &[u8]) -> Params {
        Params(Query::parse(&String::from_utf8_lossy(body)))
    }

    /// A parameter (None when absent).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name)
    }

    /// A required parameter.
    pub fn required(&self, name: &str) -> Result<&str, IamError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            IamError::invalid(format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"))
        })
    }
}

/// `<{Action}Response>` around `result` (written into `<{Action}Result>` when given).
pub fn ok(action: &str, request_id: &str, result: Option<&dyn Fn(&mut XmlWriter)>) -> HttpResponse {
    let mut x = XmlWriter::new();
    let response = format!("{action}Response");
    x.open_with_ns(&response, NS);
    if let Some(write) = result {
        let tag = format!("{action}Result");
        x.open(&tag);
        write(&mut x);
        x.close(&tag);
    }
    x.open("ResponseMetadata");
    x.elem("RequestId", request_id);
    x.close("ResponseMetadata");
    x.close(&response);
    HttpResponse::Ok().content_type("text/xml").body(x.finish())
}
