//! One module per S3 operation family; [`run`] is the one `match` from endpoint to handler.
//! Handlers share code only through modules that are not handlers (the object pipeline, the
//! header readers, the models): no handler imports another.

pub mod acl;
pub mod bucket;
pub mod copy;
pub mod cors;
pub mod delete;
pub mod encryption;
pub mod get;
pub mod lifecycle;
pub mod list;
pub mod logging;
pub mod multipart;
pub mod object_lock;
pub mod ownership;
pub mod policy;
pub mod public_access;
pub mod put;
pub mod tagging;
pub mod versioning;
pub mod website;

use actix_web::{web, HttpResponse};

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
        Endpoint::GetBucketVersioning => versioning::get_bucket_versioning(ctx).await,
        Endpoint::PutBucketVersioning => versioning::put_bucket_versioning(ctx, payload).await,
        Endpoint::GetObjectLockConfiguration => object_lock::get_configuration(ctx).await,
        Endpoint::PutObjectLockConfiguration => object_lock::put_configuration(ctx, payload).await,
        Endpoint::GetObjectRetention { key } => object_lock::get_retention(ctx, &key).await,
        Endpoint::PutObjectRetention { key } => {
            object_lock::put_retention(ctx, &key, payload).await
        }
        Endpoint::GetObjectLegalHold { key } => object_lock::get_legal_hold(ctx, &key).await,
        Endpoint::PutObjectLegalHold { key } => {
            object_lock::put_legal_hold(ctx, &key, payload).await
        }
        Endpoint::GetBucketPolicy => policy::get_bucket_policy(ctx).await,
        Endpoint::PutBucketPolicy => policy::put_bucket_policy(ctx, payload).await,
        Endpoint::DeleteBucketPolicy => policy::delete_bucket_policy(ctx).await,
        Endpoint::GetBucketPolicyStatus => policy::get_bucket_policy_status(ctx).await,
        Endpoint::GetBucketCors => cors::get_bucket_cors(ctx).await,
        Endpoint::PutBucketCors => cors::put_bucket_cors(ctx, payload).await,
        Endpoint::DeleteBucketCors => cors::delete_bucket_cors(ctx).await,
        Endpoint::PreflightCors => cors::preflight(ctx).await,
        Endpoint::GetBucketEncryption => encryption::get(ctx).await,
        Endpoint::PutBucketEncryption => encryption::put(ctx, payload).await,
        Endpoint::DeleteBucketEncryption => encryption::delete(ctx).await,
        Endpoint::GetBucketWebsite => website::get(ctx).await,
        Endpoint::PutBucketWebsite => website::put(ctx, payload).await,
        Endpoint::DeleteBucketWebsite => website::delete(ctx).await,
        Endpoint::GetBucketLifecycle => lifecycle::get(ctx).await,
        Endpoint::PutBucketLifecycle => lifecycle::put(ctx, payload).await,
        Endpoint::DeleteBucketLifecycle => lifecycle::delete(ctx).await,
        Endpoint::GetPublicAccessBlock => public_access::get(ctx).await,
        Endpoint::PutPublicAccessBlock => public_access::put(ctx, payload).await,
        Endpoint::DeletePublicAccessBlock => public_access::delete(ctx).await,
        Endpoint::GetBucketAcl => acl::get_bucket_acl(ctx).await,
        Endpoint::GetBucketLogging => logging::get(ctx).await,
        Endpoint::PutBucketLogging => logging::put(ctx, payload).await,
        Endpoint::PutBucketAcl => acl::put_bucket_acl(ctx, payload).await,
        Endpoint::GetObjectTagging { key } => tagging::get(ctx, &key).await,
        Endpoint::PutObjectTagging { key } => tagging::put(ctx, &key, payload).await,
        Endpoint::DeleteObjectTagging { key } => tagging::delete(ctx, &key).await,
        Endpoint::GetObjectAcl { key } => acl::get_object_acl(ctx, &key).await,
        Endpoint::PutObjectAcl { key } => acl::put_object_acl(ctx, &key, payload).await,
        Endpoint::GetBucketOwnershipControls => ownership::get(ctx).await,
        Endpoint::PutBucketOwnershipControls => ownership::put(ctx, payload).await,
        Endpoint::DeleteBucketOwnershipControls => ownership::delete(ctx).await,
        Endpoint::ListObjects => list::objects::list_objects_v1(ctx).await,
        Endpoint::ListObjectsV2 => list::objects::list_objects_v2(ctx).await,
        Endpoint::ListObjectVersions => list::versions::list_object_versions(ctx).await,
        Endpoint::ListMultipartUploads => list::objects::list_uploads(ctx).await,
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
