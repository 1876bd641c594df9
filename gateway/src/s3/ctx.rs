//! [`ReqCtx`]: what every handler gets once dispatch has authenticated and routed a request.

use actix_web::HttpRequest;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::{BucketConfigKind, MetaCommand};
use coffer_proto::types::BucketInfo;
use coffer_proto::ClusterApi;

use super::error::{S3Error, S3ErrorCode, S3Result};
use super::router::Query;
use crate::auth::Auth;
use crate::config::GatewayConfig;

/// The request context.
pub struct ReqCtx<'a> {
    /// The storage cluster.
    pub cluster: &'a std::sync::Arc<dyn ClusterApi>,
    /// Settings.
    pub config: &'a GatewayConfig,
    /// The HTTP request.
    pub req: &'a HttpRequest,
    /// Decoded query.
    pub query: &'a Query,
    /// Authentication result.
    pub auth: &'a Auth,
    /// Who writes are recorded as owned by: the caller's owner id (root access key id or IAM
    /// user), or for an anonymous caller the bucket's owner (as S3's BucketOwnerEnforced).
    pub owner: &'a str,
    /// The request's authorization (checked before the handler runs).
    pub authz: &'a crate::authz::Authz,
    /// The addressed bucket name ("" for service-level requests).
    pub bucket_name: &'a str,
    /// The key service's keys.
    pub keys: &'a crate::sse::keys::Keyring,
    /// Bucket configurations as this gateway last read them.
    pub caches: &'a crate::model::config_cache::Caches,
}

impl ReqCtx<'_> {
    /// The addressed bucket (NoSuchBucket if it does not exist). Read with the request's
    /// authorization; read again only when that found none.
    pub async fn bucket(&self) -> S3Result<BucketInfo> {
        if let Some(b) = self
            .authz
            .bucket
            .as_ref()
            .filter(|b| b.name == self.bucket_name)
        {
            return Ok(b.clone());
        }
        self.cluster.bucket(self.bucket_name).await?.ok_or_else(|| {
            S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", self.bucket_name)
        })
    }

    /// A request header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        super::headers::get(self.req.headers(), name)
    }

    /// The addressed bucket's `kind` document, if it has one (NoSuchBucket when the bucket
    /// does not exist).
    pub async fn bucket_config(&self, kind: BucketConfigKind) -> S3Result<Option<String>> {
        self.cluster
            .bucket_config(self.bucket_name, kind)
            .await?
            .ok_or_else(|| {
                S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", self.bucket_name)
            })
    }

    /// Set (`Some`) or remove (`None`) the addressed bucket's `kind` document.
    pub async fn set_bucket_config(
        &self,
        kind: BucketConfigKind,
        value: Option<String>,
    ) -> S3Result<()> {
        let cmd = MetaCommand::SetBucketConfig {
            bucket: self.bucket_name.to_owned(),
            kind,
            value,
        };
        match self.cluster.meta_write(cmd).await {
            Ok(_) => Ok(()),
            Err(coffer_proto::ProtoError::NoSuchBucket) => {
                Err(S3Error::new(S3ErrorCode::NoSuchBucket).with("BucketName", self.bucket_name))
            }
            Err(e) => Err(e.into()),
        }
    }
}
