//! The router against the AWS documentation's request examples, and its errors.
#![allow(clippy::unwrap_used)]
use super::*;

fn r(method: Method, path: &str, copy: bool) -> Result<Endpoint, S3Error> {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let path = path.trim_start_matches('/');
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (Some(b), Some(k)),
        None if path.is_empty() => (None, None),
        None => (Some(path), None),
    };
    Endpoint::route(&method, bucket, key, &Query::parse(query), copy)
}

#[test]
fn aws_doc_examples() {
    use Endpoint as E;
    let k = || "Key+".to_string();
    let table: Vec<(Method, &str, bool, Endpoint)> = vec![
        (Method::GET, "/", false, E::ListBuckets),
        (Method::PUT, "/b", false, E::CreateBucket),
        (Method::HEAD, "/b", false, E::HeadBucket),
        (Method::DELETE, "/b", false, E::DeleteBucket),
        (Method::GET, "/b?location", false, E::GetBucketLocation),
        (
            Method::GET,
            "/b?list-type=2&prefix=a",
            false,
            E::ListObjectsV2,
        ),
        (Method::GET, "/b?prefix=a", false, E::ListObjects),
        (Method::GET, "/b?uploads", false, E::ListMultipartUploads),
        (Method::GET, "/b?versions", false, E::ListObjectVersions),
        (Method::POST, "/b?delete", false, E::DeleteObjects),
        (Method::POST, "/b", false, E::PostObject),
        (Method::PUT, "/b/Key+", false, E::PutObject { key: k() }),
        (Method::PUT, "/b/Key+", true, E::CopyObject { key: k() }),
        (Method::GET, "/b/Key+", false, E::GetObject { key: k() }),
        (
            Method::GET,
            "/b/Key+?attributes",
            false,
            E::GetObjectAttributes { key: k() },
        ),
        (Method::HEAD, "/b/Key+", false, E::HeadObject { key: k() }),
        (
            Method::DELETE,
            "/b/Key+",
            false,
            E::DeleteObject { key: k() },
        ),
        (
            Method::POST,
            "/b/Key+?uploads",
            false,
            E::CreateMultipartUpload { key: k() },
        ),
        (
            Method::PUT,
            "/b/Key+?partNumber=2&uploadId=U",
            false,
            E::UploadPart {
                key: k(),
                part_number: 2,
                upload_id: "U".into(),
            },
        ),
        (
            Method::PUT,
            "/b/Key+?partNumber=2&uploadId=U",
            true,
            E::UploadPartCopy {
                key: k(),
                part_number: 2,
                upload_id: "U".into(),
            },
        ),
        (
            Method::POST,
            "/b/Key+?uploadId=U",
            false,
            E::CompleteMultipartUpload {
                key: k(),
                upload_id: "U".into(),
            },
        ),
        (
            Method::DELETE,
            "/b/Key+?uploadId=U",
            false,
            E::AbortMultipartUpload {
                key: k(),
                upload_id: "U".into(),
            },
        ),
        (
            Method::GET,
            "/b/Key+?uploadId=U",
            false,
            E::ListParts {
                key: k(),
                upload_id: "U".into(),
            },
        ),
        (Method::GET, "/b?cors", false, E::GetBucketCors),
        (Method::PUT, "/b?cors", false, E::PutBucketCors),
        (Method::DELETE, "/b?cors", false, E::DeleteBucketCors),
        (Method::OPTIONS, "/b/Key+", false, E::PreflightCors),
        (
            Method::PUT,
            "/b?publicAccessBlock",
            false,
            E::PutPublicAccessBlock,
        ),
        (Method::GET, "/b?lifecycle", false, E::GetBucketLifecycle),
        (
            Method::GET,
            "/b?accelerate",
            false,
            E::NotImplemented("GetBucketAccelerateConfiguration"),
        ),
        (
            Method::PUT,
            "/b/Key+?renameObject",
            false,
            E::NotImplemented("RenameObject"),
        ),
        (Method::GET, "/b?acl", false, E::GetBucketAcl),
        (Method::PUT, "/b?acl", false, E::PutBucketAcl),
        (
            Method::GET,
            "/b/Key+?acl",
            false,
            E::GetObjectAcl { key: k() },
        ),
        (
            Method::PUT,
            "/b/Key+?acl",
            false,
            E::PutObjectAcl { key: k() },
        ),
        (
            Method::DELETE,
            "/b?ownershipControls",
            false,
            E::DeleteBucketOwnershipControls,
        ),
        (Method::GET, "/b?policy", false, E::GetBucketPolicy),
        (Method::PUT, "/b?policy", false, E::PutBucketPolicy),
        (Method::DELETE, "/b?policy", false, E::DeleteBucketPolicy),
        (
            Method::GET,
            "/b?policyStatus",
            false,
            E::GetBucketPolicyStatus,
        ),
        (
            Method::PUT,
            "/b/Key+?tagging",
            false,
            E::PutObjectTagging { key: k() },
        ),
        (
            Method::GET,
            "/b?tagging",
            false,
            E::NotImplemented("GetBucketTagging"),
        ),
    ];
    for (m, path, copy, want) in table {
        assert_eq!(r(m.clone(), path, copy).unwrap(), want, "{m} {path}");
    }
}

#[test]
fn bad_routes_are_errors() {
    assert_eq!(
        r(Method::PUT, "/", false).unwrap_err().code,
        S3ErrorCode::MethodNotAllowed
    );
    assert_eq!(
        r(Method::PATCH, "/b/k", false).unwrap_err().code,
        S3ErrorCode::MethodNotAllowed
    );
    let e = r(Method::PUT, "/b/k?partNumber=0&uploadId=U", false).unwrap_err();
    assert_eq!(e.code, S3ErrorCode::InvalidArgument);
    let e = r(Method::PUT, "/b/k?partNumber=x&uploadId=U", false).unwrap_err();
    assert_eq!(e.code, S3ErrorCode::InvalidArgument);
}

#[test]
fn query_decoding() {
    let q = Query::parse("prefix=a%2Fb+c&uploads&x=");
    assert_eq!(q.get("prefix"), Some("a/b c"));
    assert!(q.has("uploads"));
    assert_eq!(q.get("x"), Some(""));
}

#[test]
fn a_sub_resource_never_falls_through_to_the_plain_bucket_operation() {
    use Endpoint as E;
    for path in [
        "/b?acl",
        "/b?versioning",
        "/b?location",
        "/b?uploads",
        "/b?policyStatus",
        "/b?delete",
        "/b?versions",
        "/b?session",
    ] {
        let e = r(Method::DELETE, path, false).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::MethodNotAllowed, "DELETE {path}");
    }
    for path in [
        "/new?location",
        "/new?uploads",
        "/new?policyStatus",
        "/new?delete",
    ] {
        let e = r(Method::PUT, path, false).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::MethodNotAllowed, "PUT {path}");
    }
    assert_eq!(
        r(Method::DELETE, "/b?metadataTable", false).unwrap(),
        E::NotImplemented("DeleteBucketMetadataTableConfiguration")
    );
    assert_eq!(
        r(Method::PUT, "/new?abac", false).unwrap(),
        E::NotImplemented("PutBucketAbac")
    );
    // A bucket's sub-resource on an object, and an object's on a bucket.
    let e = r(Method::GET, "/b/k?cors", false).unwrap_err();
    assert_eq!(e.code, S3ErrorCode::MethodNotAllowed);
    let e = r(Method::GET, "/b?attributes", false).unwrap_err();
    assert_eq!(e.code, S3ErrorCode::MethodNotAllowed);
    // Parameters that are not sub-resources leave the plain operation.
    assert_eq!(
        r(Method::DELETE, "/b?x-id=DeleteBucket", false).unwrap(),
        E::DeleteBucket
    );
}
