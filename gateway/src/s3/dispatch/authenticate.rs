//! Stage 2, authenticate: one metadata read tells authentication and authorization what they
//! need (a non-root key's user, secret and policies, and the addressed bucket with its
//! policy); the signature is checked against the key's secret; the caller is identified.

use actix_web::dev::RequestHead;
use actix_web::http::Method;
use coffer_proto::api::ClusterApiExt;
use coffer_proto::iam::AuthzFacts;
use coffer_proto::meta::BucketConfigKind;
use coffer_proto::policy::Caller;

use super::route::Addressed;
use crate::auth::{self, Auth, SignedRequest};
use crate::model::owner::{owner_id, user_owner};
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::state::AppState;

/// Who sent a request, and what authorizing it needs.
pub struct Identity {
    /// The signature check's result.
    pub auth: Auth,
    /// The caller.
    pub caller: Caller,
    /// The caller's owner id (empty for anonymous).
    pub owner: String,
    /// The key's user and policies, and the bucket with its policy.
    pub facts: AuthzFacts,
    /// When the request was authenticated.
    pub now: chrono::DateTime<chrono::Utc>,
}

/// Authenticate `req`, addressed as `to`; `body_sha256` is the digest of a body read before
/// authenticating (IAM calls are signed over their form).
pub async fn authenticate(
    state: &AppState,
    req: &RequestHead,
    to: &Addressed,
    body_sha256: Option<&str>,
) -> S3Result<Identity> {
    let cfg = &state.config;
    let signed = SignedRequest {
        method: &req.method,
        raw_path: req.uri.path(),
        raw_query: req.uri.query().unwrap_or_default(),
        query: &to.query,
        headers: &req.headers,
        vhost_bucket: to.vhost.as_deref(),
        region: &cfg.region,
        body_sha256,
    };
    let claimed = auth::claimed_access_key(&signed);
    let root = claimed
        .as_deref()
        .is_some_and(|ak| cfg.credentials.secret(ak).is_some());
    let user_key = claimed.filter(|_| !root);
    let facts = if user_key.is_some() || to.bucket.is_some() {
        authorization_facts(state, user_key.clone(), to.bucket.clone()).await?
    } else {
        AuthzFacts::default()
    };
    let user_creds;
    let creds = match (&user_key, &facts.key) {
        (Some(ak), key) => {
            user_creds = credentials(cfg, ak, key.as_ref());
            &user_creds
        }
        (None, _) => &cfg.credentials,
    };
    let now = chrono::Utc::now();
    // A CORS preflight is never authenticated: a browser sends it without credentials, with
    // the query of the request it asks about (a presigned URL's signature included).
    let auth = if req.method == Method::OPTIONS {
        Auth::anonymous()
    } else {
        auth::authenticate(&signed, creds, now.timestamp())?
    };
    let (caller, owner) = identify(auth.access_key.as_deref(), root, facts.user.as_ref())?;
    Ok(Identity {
        auth,
        caller,
        owner,
        facts,
        now,
    })
}

/// The caller and its owner id for a request signed with `access_key` (None: anonymous);
/// `root`: it is the root key; `user`: the key's user.
pub fn identify(
    access_key: Option<&str>,
    root: bool,
    user: Option<&coffer_proto::iam::UserRecord>,
) -> S3Result<(Caller, String)> {
    Ok(match (access_key, user) {
        (None, _) => (Caller::Anonymous, String::new()),
        (Some(ak), _) if root => (
            Caller::Root {
                canonical_id: owner_id(ak),
            },
            ak.to_owned(),
        ),
        (Some(_), Some(u)) => {
            let owner = user_owner(&u.name);
            let caller = Caller::User {
                name: u.name.clone(),
                user_id: u.user_id.clone(),
                canonical_id: owner_id(&owner),
            };
            (caller, owner)
        }
        // A key whose user is gone authenticates nothing.
        (Some(_), None) => return Err(S3Error::new(S3ErrorCode::InvalidAccessKeyId)),
    })
}

/// What authorizing a request signed with `access_key` on `bucket` needs, and the bucket's
/// default encryption, which its writes need, in one read.
pub async fn authorization_facts(
    state: &AppState,
    access_key: Option<String>,
    bucket: Option<String>,
) -> S3Result<AuthzFacts> {
    let (mut facts, docs) = state
        .cluster
        .authorization_with(access_key, bucket, vec![BucketConfigKind::Encryption])
        .await?;
    facts.bucket_encryption = docs.into_iter().next().flatten();
    Ok(facts)
}

/// Credentials holding IAM access key `ak` if its record exists, is active and its secret
/// unseals; empty otherwise (the request then fails with InvalidAccessKeyId).
pub fn credentials(
    cfg: &crate::GatewayConfig,
    ak: &str,
    key: Option<&coffer_proto::iam::KeyRecord>,
) -> auth::Credentials {
    let mut creds = auth::Credentials::default();
    let (Some(master), Some(key)) = (&cfg.master_key, key) else {
        return creds;
    };
    let secret = master
        .open(&key.sealed_secret, ak.as_bytes())
        .and_then(|s| String::from_utf8(s).ok());
    match secret {
        Some(secret) if key.active => creds.insert(ak, secret),
        Some(_) => {}
        None => tracing::warn!(access_key = ak, "an access key's secret does not unseal"),
    }
    creds
}
