//! Stage 3, authorize: the request is checked once, here, never inside handlers: identity and
//! bucket policies, ACLs and Object Ownership ([`crate::authz`]), what an object's record
//! decides, a copy's source, and the request headers of features not built.

use actix_web::dev::RequestHead;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::policy::Context;
use coffer_proto::version_id::VersionId;

use super::authenticate::{authorization_facts, Identity};
use super::route::Addressed;
use crate::authz::{self, Authz};
use crate::s3::error::S3Result;
use crate::s3::headers;
use crate::s3::router::Endpoint;
use crate::s3::sse;
use crate::state::AppState;

/// What `who` may do: their identity policies, the bucket's policy and ACLs, with the
/// request's condition keys (`list`: it lists keys).
pub fn authz_of(
    state: &AppState,
    req: &RequestHead,
    to: &Addressed,
    who: Identity,
    list: bool,
) -> Authz {
    let Identity {
        caller,
        owner,
        facts,
        now,
        ..
    } = who;
    // Policies see the request through its condition keys; without a policy there is nothing
    // to build them for.
    let context = if facts.identity_policies.is_empty() && facts.bucket_policy.is_none() {
        Context::default()
    } else {
        let secure = state.config.transport.secure(req);
        authz::context::build(req, &to.query, list, &caller, now, secure)
    };
    Authz::new(caller, owner, facts, context, &state.policies)
}

/// Authorize `endpoint` for `who`; the authorization handlers run under.
pub async fn authorize(
    state: &AppState,
    req: &RequestHead,
    to: &Addressed,
    endpoint: &Endpoint,
    who: Identity,
) -> S3Result<Authz> {
    let list = matches!(
        endpoint,
        Endpoint::ListObjects | Endpoint::ListObjectsV2 | Endpoint::ListObjectVersions
    );
    let authz = authz_of(state, req, to, who, list);
    let bucket_name = to.bucket_name();
    let version = to.query.get("versionId");
    let pending = authz.check(endpoint, bucket_name, version.is_some())?;
    settle(state, &authz, pending, version).await?;
    if matches!(
        endpoint,
        Endpoint::CopyObject { .. } | Endpoint::UploadPartCopy { .. }
    ) {
        let src = headers::CopySource::from_headers(&req.headers)?;
        let facts = if src.bucket == bucket_name {
            None
        } else {
            Some(authorization_facts(state, None, Some(src.bucket.clone())).await?)
        };
        let pending = authz.check_copy_source(
            &src.bucket,
            &src.key,
            facts,
            &state.policies,
            src.version_id.is_some(),
        )?;
        settle(state, &authz, pending, src.version_id.as_deref()).await?;
    }
    let secure = state.config.sse_c_over_http || state.config.transport.secure(req);
    sse::check(endpoint, &req.headers, secure)?;
    Ok(authz)
}

/// Finish a check that an object's record decides: read its owner, ACL and tags, those of
/// the version the request names (`version`) when it names one, as S3 decides per version.
pub async fn settle(
    state: &AppState,
    authz: &Authz,
    pending: Option<authz::Pending>,
    version: Option<&str>,
) -> S3Result<()> {
    let Some(p) = pending else {
        return Ok(());
    };
    let found = match version.filter(|v| VersionId::parse(v).is_ok()) {
        Some(v) => state.cluster.version_facts(p.bucket_id, &p.key, v).await?,
        // A malformed id is the handler's to refuse; the current version decides until then.
        None => state.cluster.object_facts(p.bucket_id, &p.key).await?,
    };
    authz.settle(&p, found.as_ref())
}
