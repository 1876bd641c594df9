//! The S3 error model: [`S3ErrorCode`] (code, HTTP status, default message from the AWS S3
//! error table), [`S3Error`] and its XML response. Internal causes are logged, never shown.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use coffer_proto::ProtoError;

use super::xml::writer::XmlWriter;

/// A code's text: its name, or the text given after `as` (codes that are not identifiers,
/// such as the key service's `KMS.NotFoundException`).
macro_rules! code_text {
    ($name:ident) => {
        stringify!($name)
    };
    ($name:ident $text:literal) => {
        $text
    };
}

macro_rules! codes {
    ($($name:ident $(as $text:literal)? => $status:literal, $msg:literal;)*) => {
        /// S3 error codes this gateway returns.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum S3ErrorCode { $(#[doc = $msg] $name,)* }

        impl S3ErrorCode {
            /// The code as it appears in `<Code>`.
            pub fn as_str(self) -> &'static str { match self { $(S3ErrorCode::$name => code_text!($name $($text)?),)* } }
            /// The HTTP status.
            pub fn status(self) -> StatusCode {
                match self { $(S3ErrorCode::$name => StatusCode::from_u16($status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),)* }
            }
            /// AWS's default message.
            pub fn message(self) -> &'static str { match self { $(S3ErrorCode::$name => $msg,)* } }
        }
    };
}

codes! {
    AccessDenied => 403, "Access Denied";
    AccessControlListNotSupported => 400, "The bucket does not allow ACLs";
    AccessForbidden => 403, "CORSResponse: This CORS request is not allowed.";
    AuthorizationHeaderMalformed => 400, "The authorization header is malformed.";
    AuthorizationQueryParametersError => 400, "Error parsing the X-Amz-Credential parameter.";
    BadRequest => 400, "Bad Request";
    BadDigest => 400, "The Content-MD5 you specified did not match what we received.";
    BucketAlreadyExists => 409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.";
    BucketAlreadyOwnedByYou => 409, "Your previous request to create the named bucket succeeded and you already own it.";
    BucketNotEmpty => 409, "The bucket you tried to delete is not empty";
    ConditionalRequestConflict => 409, "A conflicting operation occurred. If using PutObject you can retry the request.";
    EntityTooLarge => 400, "Your proposed upload exceeds the maximum allowed object size.";
    EntityTooSmall => 400, "Your proposed upload is smaller than the minimum allowed object size.";
    IllegalLocationConstraintException => 400, "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.";
    IncompleteBody => 400, "You did not provide the number of bytes specified by the Content-Length HTTP header.";
    InternalError => 500, "We encountered an internal error. Please try again.";
    InvalidAccessKeyId => 403, "The AWS Access Key Id you provided does not exist in our records.";
    InvalidArgument => 400, "Invalid Argument";
    InvalidBucketAclWithObjectOwnership => 400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting";
    InvalidBucketName => 400, "The specified bucket is not valid.";
    InvalidBucketState => 409, "The request is not valid with the current state of the bucket.";
    InvalidDigest => 400, "The Content-MD5 you specified is not valid.";
    InvalidEncryptionAlgorithmError => 400, "The encryption request you specified is not valid. The valid value is AES256.";
    InvalidPolicyDocument => 400, "The content of the form does not meet the conditions specified in the policy document.";
    InvalidPart => 400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.";
    InvalidPartNumber => 416, "The requested partnumber is not satisfiable";
    InvalidPartOrder => 400, "The list of parts was not in ascending order. Parts must be ordered by part number.";
    InvalidRedirectLocation => 400, "The website redirect location must have a prefix of 'http://' or 'https://' or '/'.";
    InvalidRange => 416, "The requested range is not satisfiable";
    InvalidRequest => 400, "Invalid Request";
    InvalidTag => 400, "The tag provided was not a valid tag.";
    InvalidTargetBucketForLogging => 400, "The target bucket for logging does not exist";
    InvalidStorageClass => 400, "The storage class you specified is not valid";
    KeyTooLongError => 400, "Your key is too long";
    KmsDisabled as "KMS.DisabledException" => 400, "The KMS key is disabled.";
    KmsNotFound as "KMS.NotFoundException" => 400, "The KMS key does not exist.";
    MalformedACLError => 400, "The XML you provided was not well-formed or did not validate against our published schema";
    MalformedPolicy => 400, "Policies must be valid JSON and the first byte must be '{'";
    MalformedPOSTRequest => 400, "The body of your POST request is not well-formed multipart/form-data.";
    MalformedXML => 400, "The XML you provided was not well-formed or did not validate against our published schema";
    MaxPostPreDataLengthExceededError => 400, "Your POST request fields preceding the upload file were too large.";
    MetadataTooLarge => 400, "Your metadata headers exceed the maximum allowed metadata size.";
    MethodNotAllowed => 405, "The specified method is not allowed against this resource.";
    MissingContentLength => 411, "You must provide the Content-Length HTTP header.";
    NoSuchBucket => 404, "The specified bucket does not exist";
    NoSuchBucketPolicy => 404, "The bucket policy does not exist";
    NoSuchCORSConfiguration => 404, "The CORS configuration does not exist";
    NoSuchPublicAccessBlockConfiguration => 404, "The public access block configuration was not found";
    NoSuchKey => 404, "The specified key does not exist.";
    NoSuchObjectLockConfiguration => 404, "The specified object does not have a ObjectLock configuration";
    ObjectLockConfigurationNotFoundError => 404, "Object Lock configuration does not exist for this bucket";
    NoSuchVersion => 404, "The specified version does not exist.";
    NoSuchWebsiteConfiguration => 404, "The specified bucket does not have a website configuration";
    NoSuchLifecycleConfiguration => 404, "The lifecycle configuration does not exist";
    NoSuchUpload => 404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.";
    NotImplemented => 501, "A header you provided implies functionality that is not implemented";
    NotModified => 304, "Not Modified";
    OwnershipControlsNotFoundError => 404, "The bucket ownership controls were not found";
    PreconditionFailed => 412, "At least one of the pre-conditions you specified did not hold";
    RequestTimeTooSkewed => 403, "The difference between the request time and the current time is too large.";
    ServerSideEncryptionConfigurationNotFoundError => 404, "The server side encryption configuration was not found";
    ServiceUnavailable => 503, "Please reduce your request rate.";
    SignatureDoesNotMatch => 403, "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
    SlowDown => 503, "Please reduce your request rate.";
    UnexpectedContent => 400, "This request does not support content";
    UnresolvableGrantByEmailAddress => 400, "The email address you provided does not match any account on record.";
    XAmzContentSHA256Mismatch => 400, "The provided 'x-amz-content-sha256' header does not match what was computed.";
}

/// An S3 error on its way to the client.
#[derive(Debug)]
pub struct S3Error {
    /// The code.
    pub code: S3ErrorCode,
    /// Message (AWS's default when None).
    pub message: Option<Cow<'static, str>>,
    /// Extra elements for the XML body (e.g. `Key`, `BucketName`, `Condition`).
    pub extra: Vec<(&'static str, String)>,
    /// Extra response headers.
    pub headers: Vec<(&'static str, String)>,
}

/// Result type of handlers.
pub type S3Result<T> = Result<T, S3Error>;

impl S3Error {
    /// An error with the default message.
    pub fn new(code: S3ErrorCode) -> Self {
        S3Error {
            code,
            message: None,
            extra: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// An error with a message.
    pub fn msg(code: S3ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        S3Error {
            message: Some(message.into()),
            ..Self::new(code)
        }
    }

    /// Add an element to the XML body.
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    /// Add a response header.
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// An internal error: the cause goes to the log, the client sees a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause:#}");
        Self::new(S3ErrorCode::InternalError)
    }

    /// Render the response (no body for HEAD).
    pub fn response(&self, resource: &str, request_id: &str, head: bool) -> HttpResponse {
        let mut b = HttpResponse::build(self.code.status());
        for (k, v) in &self.headers {
            b.insert_header((*k, v.as_str()));
        }
        if head || self.code == S3ErrorCode::NotModified {
            return b.finish();
        }
        let mut x = XmlWriter::new();
        x.open("Error");
        x.elem("Code", self.code.as_str());
        x.elem(
            "Message",
            self.message.as_deref().unwrap_or(self.code.message()),
        );
        for (k, v) in &self.extra {
            x.elem(k, v);
        }
        x.elem("Resource", resource);
        x.elem("RequestId", request_id);
        x.close("Error");
        b.content_type("application/xml").body(x.finish())
    }
}

impl From<S3ErrorCode> for S3Error {
    fn from(code: S3ErrorCode) -> Self {
        S3Error::new(code)
    }
}

/// Every remote error decides its S3 code here; a new variant must be mapped (no `_ =>`).
impl From<ProtoError> for S3Error {
    fn from(e: ProtoError) -> Self {
        use S3ErrorCode as C;
        match e {
            ProtoError::NoSuchBucket => C::NoSuchBucket.into(),
            ProtoError::BucketAlreadyExists => C::BucketAlreadyExists.into(),
            ProtoError::BucketAlreadyOwnedByYou => C::BucketAlreadyOwnedByYou.into(),
            ProtoError::BucketNotEmpty => C::BucketNotEmpty.into(),
            ProtoError::NoSuchKey => C::NoSuchKey.into(),
            ProtoError::NoSuchVersion => C::NoSuchVersion.into(),
            ProtoError::InvalidBucketState(m) => S3Error::msg(C::InvalidBucketState, m),
            ProtoError::ObjectLocked => S3Error::msg(
                C::AccessDenied,
                "Access Denied because object protected by object lock.",
            ),
            ProtoError::NoSuchUpload => C::NoSuchUpload.into(),
            ProtoError::InvalidPart(n) => {
                S3Error::new(C::InvalidPart).with("PartNumber", n.to_string())
            }
            ProtoError::PreconditionFailed => C::PreconditionFailed.into(),
            ProtoError::ConditionalRequestConflict => C::ConditionalRequestConflict.into(),
            ProtoError::NotLeader(_)
            | ProtoError::Timeout
            | ProtoError::Unreachable(_)
            | ProtoError::QuorumNotReached(_) => {
                tracing::warn!("cluster unavailable: {e}");
                C::ServiceUnavailable.into()
            }
            ProtoError::Cancelled => S3Error::msg(C::InternalError, "The request was cancelled."),
            ProtoError::Body(m) => S3Error::msg(C::IncompleteBody, m),
            ProtoError::RaftStopped(_) => {
                tracing::warn!("cluster unavailable: {e}");
                C::ServiceUnavailable.into()
            }
            ProtoError::Corrupt(_)
            | ProtoError::Io(_)
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
            | ProtoError::Snapshot(_)
            | ProtoError::KmsKeyExists
            | ProtoError::KmsKeyChanged => S3Error::internal(e),
            // IAM commands are not S3 operations: none of these can answer an S3 request.
            ProtoError::NoSuchEntity(_)
            | ProtoError::EntityAlreadyExists(_)
            | ProtoError::LimitExceeded(_)
            | ProtoError::DeleteConflict(_)
            | ProtoError::ValidationError(_) => S3Error::internal(e),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    async fn body(r: HttpResponse) -> String {
        let b = actix_web::body::to_bytes(r.into_body()).await.unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn error_responses_are_the_s3_shape() {
        let mut e = S3Error::new(S3ErrorCode::NoSuchKey).with("Key", "a&b");
        e.headers.push(("x-amz-delete-marker", "true".into()));
        let r = e.response("/b/a&b", "REQ1", false);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers().get("content-type").unwrap(), "application/xml");
        assert_eq!(r.headers().get("x-amz-delete-marker").unwrap(), "true");
        assert_eq!(
            body(r).await,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Key>a&amp;b</Key>\
             <Resource>/b/a&amp;b</Resource><RequestId>REQ1</RequestId></Error>"
        );
        // A message of its own replaces the code's.
        let r = S3Error::msg(S3ErrorCode::InvalidArgument, "bad <x>").response("/b", "R", false);
        assert_eq!(r.status().as_u16(), 400);
        assert!(body(r).await.contains("<Message>bad &lt;x&gt;</Message>"));
        // HEAD and 304 answers carry no body; the status and headers stay.
        let r = e.response("/b/k", "R", true);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers().get("x-amz-delete-marker").unwrap(), "true");
        assert_eq!(body(r).await, "");
        let r = S3Error::new(S3ErrorCode::NotModified).response("/b/k", "R", false);
        assert_eq!(r.status().as_u16(), 304);
        assert_eq!(body(r).await, "");
        assert_eq!(S3ErrorCode::InvalidRange.status().as_u16(), 416);
    }

    #[test]
    fn internal_errors_never_show_their_cause() {
        let e = S3Error::from(ProtoError::Io("disk /dev/sdb1 failed".into()));
        assert_eq!(e.code, S3ErrorCode::InternalError);
        assert!(e.message.is_none() && e.extra.is_empty());
    }
}
