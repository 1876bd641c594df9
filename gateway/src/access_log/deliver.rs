//! Delivering a batch of records: as log objects written into the target bucket by the
//! gateway itself (the same commit as a PutObject), owned by the target's owner, encrypted
//! with SSE-S3 when the target has default encryption, granted as TargetGrants say.
//!
//! The target must take them, as AWS checks it: its bucket policy allows the service
//! principal `logging.s3.amazonaws.com` `s3:PutObject` on the log object's key (with
//! `aws:SourceArn`, the logged bucket's ARN, and `aws:SourceAccount`, its owner's canonical id:
//! a cluster has no AWS account numbers), or, where ACLs are enabled, its ACL grants the
//! LogDelivery group WRITE. PutBucketLogging checks it for the prefix; every delivery checks
//! it again for the key.
//!
//! Keys, with `[UniqueString]` 16 random hex digits:
//! - simple: `[TargetPrefix][YYYY]-[MM]-[DD]-[hh]-[mm]-[ss]-[UniqueString]`;
//! - partitioned: `[TargetPrefix][SourceAccountId]/[SourceRegion]/[SourceBucket]/[YYYY]/[MM]/[DD]/`
//!   and the simple name, where SourceAccountId is the logged bucket owner's canonical id. By
//!   EventTime (the default) one object per day of requests, its time `00-00-00`; by
//!   DeliveryTime, the time of delivery.

use std::sync::Arc;

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use coffer_proto::api::ClusterApiExt;
use coffer_proto::meta::{BucketConfigKind, WritePrecondition};
use coffer_proto::policy::{Caller, Context, Decision, Policy, PolicyKind, Request};
use coffer_proto::types::{BucketInfo, ContentHeaders};
use coffer_proto::ClusterApi;

use super::Batch;
use crate::model::acl::{Acl, Grantee, Group, Ownership, Permission};
use crate::model::logging::{DateSource, KeyFormat, LoggingStatus};
use crate::model::owner::owner_id;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::object::data::store_bytes;
use crate::s3::object::write::{self, Body, Commit, NewObject};
use crate::state::AppState;

/// The service principal a target's policy grants.
pub const SERVICE: &str = "logging.s3.amazonaws.com";

/// Why a batch was not delivered.
#[derive(Debug)]
pub enum Failure {
    /// The target does not take it (gone, or no longer granted): the batch is dropped.
    Refused(String),
    /// The cluster did not store it: it is kept for the next flush.
    Unavailable(String),
}

impl From<S3Error> for Failure {
    fn from(e: S3Error) -> Failure {
        let why = format!(
            "{}: {}",
            e.code.as_str(),
            e.message.as_deref().unwrap_or(e.code.message())
        );
        match e.code {
            S3ErrorCode::InternalError
            | S3ErrorCode::ServiceUnavailable
            | S3ErrorCode::SlowDown => Failure::Unavailable(why),
            _ => Failure::Refused(why),
        }
    }
}

fn refused(status: &LoggingStatus, msg: &'static str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidTargetBucketForLogging, msg)
        .with("TargetBucket", status.target_bucket.clone())
}

/// The target bucket of `status` (logging bucket `source`), if it takes log objects under
/// `key`: InvalidTargetBucketForLogging when it does not exist or grants nothing,
/// AccessControlListNotSupported for TargetGrants where ACLs are disabled.
pub async fn check_target(
    cluster: &Arc<dyn ClusterApi>,
    source: &str,
    status: &LoggingStatus,
    key: &str,
) -> S3Result<(BucketInfo, Ownership)> {
    let target = &status.target_bucket;
    let Some(info) = cluster.bucket(target).await? else {
        return Err(refused(
            status,
            "The target bucket for logging does not exist",
        ));
    };
    let doc = |kind| async move {
        cluster
            .bucket_config(target, kind)
            .await
            .map(Option::flatten)
    };
    let ownership =
        Ownership::from_stored(doc(BucketConfigKind::OwnershipControls).await?.as_deref());
    if !status.grants.is_empty() && !ownership.acls_enabled() {
        return Err(S3Error::msg(
            S3ErrorCode::AccessControlListNotSupported,
            "Target grants not allowed for bucket owner enforced buckets",
        ));
    }
    let by_policy = match doc(BucketConfigKind::Policy).await? {
        Some(d) => match Policy::parse(&d, &PolicyKind::Bucket(target.clone())) {
            Ok(policy) => {
                let mut context = Context::default();
                context.set("aws:SourceArn", format!("arn:aws:s3:::{source}"));
                context.set("aws:SourceAccount", owner_id(&status.bucket_owner));
                let caller = Caller::Service {
                    name: SERVICE.to_owned(),
                };
                let resource = format!("arn:aws:s3:::{target}/{key}");
                let req = Request {
                    caller: &caller,
                    action: "s3:PutObject",
                    resource: &resource,
                    context: &context,
                };
                policy.evaluate(&req) == Decision::Allow
            }
            Err(_) => false,
        },
        None => false,
    };
    let by_acl = ownership.acls_enabled() && {
        let acl = Acl::decode(
            doc(BucketConfigKind::Acl).await?.as_deref(),
            &owner_id(&info.owner),
        );
        acl.grants.iter().any(|g| {
            g.grantee == Grantee::Group(Group::LogDelivery)
                && matches!(g.permission, Permission::Write | Permission::FullControl)
        })
    };
    if !(by_policy || by_acl) {
        return Err(refused(
            status,
            "You must either provide the necessary permissions to the logging service using a bucket policy or give the log-delivery group WRITE and READ_ACP permissions to the target bucket",
        ));
    }
    Ok((info, ownership))
}

/// The key of a log object of bucket `source` delivered at `now`, for requests of the day
/// `event_day` (EventTime partitions).
pub fn object_key(
    status: &LoggingStatus,
    source: &str,
    region: &str,
    now: DateTime<Utc>,
    event_day: DateTime<Utc>,
) -> String {
    let unique = format!("{:016X}", rand::random::<u64>());
    let name = |t: DateTime<Utc>| format!("{}-{unique}", t.format("%Y-%m-%d-%H-%M-%S"));
    match status.key_format {
        None | Some(KeyFormat::Simple) => format!("{}{}", status.target_prefix, name(now)),
        Some(KeyFormat::Partitioned { date_source }) => {
            let t = match date_source {
                Some(DateSource::DeliveryTime) => now,
                None | Some(DateSource::EventTime) => event_day,
            };
            format!(
                "{}{}/{region}/{source}/{}/{}",
                status.target_prefix,
                owner_id(&status.bucket_owner),
                t.format("%Y/%m/%d"),
                name(t)
            )
        }
    }
}

/// Whether log objects hold one day of requests each (EventTime partitions).
fn by_event_day(status: &LoggingStatus) -> bool {
    matches!(
        status.key_format,
        Some(KeyFormat::Partitioned {
            date_source: None | Some(DateSource::EventTime)
        })
    )
}

/// The start of the UTC day of `ms`.
fn day_of(ms: i64) -> DateTime<Utc> {
    let t = DateTime::from_timestamp_millis(ms).unwrap_or_default();
    t.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(t, |d| d.and_utc())
}

/// Deliver `batch`, the records of bucket `source`: one log object (or, by EventTime, one per
/// day of requests). Lines leave the batch as their object is written. Returns the objects
/// written.
pub async fn deliver(state: &AppState, source: &str, batch: &mut Batch) -> Result<u64, Failure> {
    let status = batch.status.clone();
    let mut written = 0;
    while let Some(&(first, _)) = batch.lines.first() {
        let day = day_of(first);
        let take = if by_event_day(&status) {
            batch
                .lines
                .iter()
                .take_while(|(at, _)| day_of(*at) == day)
                .count()
        } else {
            batch.lines.len()
        };
        let key = object_key(&status, source, &state.config.region, Utc::now(), day);
        let (target, ownership) = check_target(&state.cluster, source, &status, &key).await?;
        let text: String = batch.lines[..take]
            .iter()
            .map(|(_, l)| l.as_str())
            .collect();
        write_log(state, &status, &target, ownership, key, Bytes::from(text)).await?;
        let bytes: usize = batch.lines.drain(..take).map(|(_, l)| l.len()).sum();
        batch.bytes = batch.bytes.saturating_sub(bytes);
        written += 1;
    }
    Ok(written)
}

/// Write one log object `key` of `text` into `target`.
async fn write_log(
    state: &AppState,
    status: &LoggingStatus,
    target: &BucketInfo,
    ownership: Ownership,
    key: String,
    text: Bytes,
) -> S3Result<()> {
    let encrypted = state
        .cluster
        .bucket_config(&target.name, BucketConfigKind::Encryption)
        .await?
        .flatten()
        .is_some()
        || state.config.default_encryption == crate::config::DefaultSse::S3;
    let sealing = match encrypted {
        true => Some(crate::sse::sse_s3(&state.keys, &state.cluster, &target.name, &key).await?),
        false => None,
    };
    let size = text.len() as u64;
    let storage_class = "STANDARD";
    let (data, md5, checksum) = store_bytes(
        &state.cluster,
        storage_class,
        text,
        state.config.inline_threshold,
        sealing.as_ref().map(|s| &*s.key),
    )
    .await?;
    let acl = (ownership.acls_enabled() && !status.grants.is_empty()).then(|| {
        let mut acl = Acl::private(&owner_id(&target.owner));
        acl.grants.extend(status.grants.iter().cloned());
        acl
    });
    let new = NewObject {
        key,
        content: ContentHeaders {
            content_type: Some("text/plain".into()),
            ..ContentHeaders::default()
        },
        user_meta: Vec::new(),
        storage_class: storage_class.into(),
        owner: target.owner.clone(),
        acl,
        tags: None,
        lock: None,
        precondition: WritePrecondition::None,
        sealing,
        website_redirect: None,
    };
    let body = Body::single(data, size, md5, Some(checksum));
    write::commit(&state.cluster, target.id, new, body, Commit::Put).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn status(key_format: Option<KeyFormat>) -> LoggingStatus {
        LoggingStatus {
            format: crate::model::logging::FORMAT,
            target_bucket: "logs".into(),
            target_prefix: "web/".into(),
            grants: Vec::new(),
            key_format,
            bucket_owner: "AKIAOWNER".into(),
        }
    }

    #[test]
    fn keys_follow_the_configured_format() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T18:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let day = day_of(now.timestamp_millis() - 86_400_000);
        let simple = object_key(&status(None), "site", "us-east-1", now, day);
        assert!(simple.starts_with("web/2026-12-07-18-04-05-"), "{simple}");
        assert_eq!(simple.len(), "web/2026-12-07-18-04-05-".len() + 16);
        let owner = owner_id("AKIAOWNER");
        let by_event = object_key(
            &status(Some(KeyFormat::Partitioned { date_source: None })),
            "site",
            "us-east-1",
            now,
            day,
        );
        assert!(
            by_event.starts_with(&format!(
                "web/{owner}/us-east-1/site/2026/12/06/2026-12-06-00-00-00-"
            )),
            "{by_event}"
        );
        let by_delivery = object_key(
            &status(Some(KeyFormat::Partitioned {
                date_source: Some(DateSource::DeliveryTime),
            })),
            "site",
            "us-east-1",
            now,
            day,
        );
        assert!(
            by_delivery.starts_with(&format!(
                "web/{owner}/us-east-1/site/2026/12/07/2026-12-07-18-04-05-"
            )),
            "{by_delivery}"
        );
        assert_ne!(
            object_key(&status(None), "site", "us-east-1", now, day),
            simple,
            "two objects of the same second differ"
        );
    }
}
