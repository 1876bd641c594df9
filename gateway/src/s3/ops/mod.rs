//! One module per S3 operation family; [`run`] is the one `match` from endpoint to handler.

pub mod acl;
pub mod bucket;
pub mod copy;
pub mod cors;
pub mod data;
pub mod delete;
pub mod get;
pub mod list;
pub mod multipart;
pub mod ownership;
pub mod policy;
pub mod public_access;
pub mod put;
pub mod tagging;
pub mod versions;

use actix_web::{web, HttpResponse};
use coffer_proto::meta::{BucketConfigKind, MetaAnswer, MetaCommand, MetaQuery};

use super::ctx::ReqCtx;
use super::error::{S3Error, S3ErrorCode, S3Result};
use super::router::Endpoint;

/// Run the handler of `endpoint`.
pub async fn run(
    ctx: &ReqCtx<'_>,
    endpoint: Endpoint,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    match endpoint {
        Endpoint::ListBuckets => bucket::list_buckets(ctx).await,
        Endpoint::CreateBucket => bucket::create_bucket(ctx, payload).await,
        Endpoint::HeadBucket => bucket::head_bucket(ctx).await,
        Endpoint::DeleteBucket => bucket::delete_bucket(ctx).await,
        Endpoint::GetBucketLocation => bucket::get_bucket_location(ctx).await,
        Endpoint::GetBucketVersioning => bucket::get_bucket_versioning(ctx).await,
        Endpoint::GetBucketPolicy => policy::get_bucket_policy(ctx).await,
        Endpoint::PutBucketPolicy => policy::put_bucket_policy(ctx, payload).await,
        Endpoint::DeleteBucketPolicy => policy::delete_bucket_policy(ctx).await,
        Endpoint::GetBucketPolicyStatus => policy::get_bucket_policy_status(ctx).await,
        Endpoint::GetBucketCors => cors::get_bucket_cors(ctx).await,
        Endpoint::PutBucketCors => cors::put_bucket_cors(ctx, payload).await,
        Endpoint::DeleteBucketCors => cors::delete_bucket_cors(ctx).await,
        Endpoint::PreflightCors => cors::preflight(ctx).await,
        Endpoint::GetPublicAccessBlock => public_access::get(ctx).await,
        Endpoint::PutPublicAccessBlock => public_access::put(ctx, payload).await,
        Endpoint::DeletePublicAccessBlock => public_access::delete(ctx).await,
        Endpoint::GetBucketAcl => acl::get_bucket_acl(ctx).await,
        Endpoint::PutBucketAcl => acl::put_bucket_acl(ctx, payload).await,
        Endpoint::GetObjectTagging { key } => tagging::get(ctx, &key).await,
        Endpoint::PutObjectTagging { key } => tagging::put(ctx, &key, payload).await,
        Endpoint::DeleteObjectTagging { key } => tagging::delete(ctx, &key).await,
        Endpoint::GetObjectAcl { key } => acl::get_object_acl(ctx, &key).await,
        Endpoint::PutObjectAcl { key } => acl::put_object_acl(ctx, &key, payload).await,
        Endpoint::GetBucketOwnershipControls => ownership::get(ctx).await,
        Endpoint::PutBucketOwnershipControls => ownership::put(ctx, payload).await,
        Endpoint::DeleteBucketOwnershipControls => ownership::delete(ctx).await,
        Endpoint::ListObjects => list::list_objects_v1(ctx).await,
        Endpoint::ListObjectsV2 => list::list_objects_v2(ctx).await,
        Endpoint::ListObjectVersions => versions::list_object_versions(ctx).await,
        Endpoint::ListMultipartUploads => list::list_uploads(ctx).await,
        Endpoint::DeleteObjects => delete::delete_objects(ctx, payload).await,
        Endpoint::PutObject { key } => put::put_object(ctx, &key, payload).await,
        Endpoint::CopyObject { key } => copy::copy_object(ctx, &key).await,
        Endpoint::GetObject { key } => get::get_object(ctx, &key, false).await,
        Endpoint::HeadObject { key } => get::get_object(ctx, &key, true).await,
        Endpoint::GetObjectAttributes { key } => get::get_object_attributes(ctx, &key).await,
        Endpoint::DeleteObject { key } => delete::delete_object(ctx, &key).await,
        Endpoint::CreateMultipartUpload { key } => multipart::create(ctx, &key).await,
        Endpoint::UploadPart {
            key,
            part_number,
            upload_id,
        } => multipart::upload_part(ctx, &key, part_number, &upload_id, payload).await,
        Endpoint::UploadPartCopy {
            key,
            part_number,
            upload_id,
        } => multipart::upload_part_copy(ctx, &key, part_number, &upload_id).await,
        Endpoint::CompleteMultipartUpload { key, upload_id } => {
            multipart::complete(ctx, &key, &upload_id, payload).await
        }
        Endpoint::AbortMultipartUpload { key, upload_id } => {
            multipart::abort(ctx, &key, &upload_id).await
        }
        Endpoint::ListParts { key, upload_id } => {
            multipart::list_parts(ctx, &key, &upload_id).await
        }
        // Handled by dispatch, which hands the form to `post_object` before authorizing.
        Endpoint::PostObject => Err(S3Error::internal("POST Object reached the handler table")),
        Endpoint::NotImplemented(what) => Err(S3Error::msg(
            S3ErrorCode::NotImplemented,
            format!("{what} is not implemented yet by this server"),
        )),
    }
}

/// The addressed bucket's `kind` document, if it has one (NoSuchBucket when the bucket does
/// not exist).
pub async fn bucket_config(ctx: &ReqCtx<'_>, kind: BucketConfigKind) -> S3Result<Option<String>> {
    let q = MetaQuery::GetBucketConfig {
        bucket: ctx.bucket_name.to_owned(),
        kind,
    };
    match ctx.cluster.meta_read(q).await? {
        MetaAnswer::BucketConfig(Some(doc)) => Ok(doc),
        MetaAnswer::BucketConfig(None) => {
            Err(S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", ctx.bucket_name))
        }
        other => Err(S3Error::internal(format!("unexpected answer {other:?}"))),
    }
}

/// The owner, ACL and tags of `key`'s current version; NoSuchKey if there is none, and
/// InvalidArgument when `version` (a requested version id) is not it.
pub async fn object_facts(
    cluster: &std::sync::Arc<dyn coffer_proto::ClusterApi>,
    bucket_id: u64,
    key: &str,
    version: Option<&str>,
) -> S3Result<coffer_proto::meta::ObjectFacts> {
    let q = MetaQuery::ObjectFacts {
        bucket_id,
        key: key.to_owned(),
    };
    let facts = match cluster.meta_read(q).await? {
        MetaAnswer::ObjectFacts(Some(f)) => f,
        MetaAnswer::ObjectFacts(None) => {
            return Err(S3Error::new(S3ErrorCode::NoSuchKey).with("Key", key))
        }
        other => return Err(S3Error::internal(format!("unexpected answer {other:?}"))),
    };
    match version {
        Some(want) if want != facts.version_id => Err(invalid_version(want)),
        _ => Ok(facts),
    }
}

/// A `versionId` that names no version of the key.
pub fn invalid_version(want: &str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, "Invalid version id specified")
        .with("ArgumentName", "versionId")
        .with("ArgumentValue", want)
}

/// Set (`Some`) or remove (`None`) the addressed bucket's `kind` document.
pub async fn set_bucket_config(
    ctx: &ReqCtx<'_>,
    kind: BucketConfigKind,
    value: Option<String>,
) -> S3Result<()> {
    let cmd = MetaCommand::SetBucketConfig {
        bucket: ctx.bucket_name.to_owned(),
        kind,
        value,
    };
    match ctx.cluster.meta_write(cmd).await {
        Ok(_) => Ok(()),
        Err(coffer_proto::ProtoError::NoSuchBucket) => {
            Err(S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", ctx.bucket_name))
        }
        Err(e) => Err(e.into()),
    }
}

/// Read a small request body (XML documents) completely, refusing more than `max` bytes.
pub async fn small_body(mut payload: web::Payload, max: usize) -> S3Result<bytes::Bytes> {
    use futures::StreamExt;
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| S3Error::msg(S3ErrorCode::IncompleteBody, e.to_string()))?;
        if buf.len() + chunk.len() > max {
            return Err(S3Error::msg(
                S3ErrorCode::MalformedXML,
                "The XML document is too large",
            ));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// The canonical user id of an owner (the root access key id, or an IAM user's
/// [`crate::authz::user_owner`]): 64 hex characters, as S3's canonical user ids.
pub fn owner_id(owner: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(owner.as_bytes()))
}

/// Write `<Owner>` (or `<Initiator>`) for an owner: its canonical id, and as display name the
/// user name (or the root access key id).
pub fn owner_xml(x: &mut super::xml::XmlWriter, tag: &str, owner: &str) {
    x.open(tag);
    x.elem("ID", &owner_id(owner));
    x.elem(
        "DisplayName",
        owner.strip_prefix("arn:aws:iam:::user/").unwrap_or(owner),
    );
    x.close(tag);
}

/// An XML 200 response.
pub fn xml_ok(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/xml")
        .body(body)
}
