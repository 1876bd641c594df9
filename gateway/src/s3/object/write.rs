//! Writing an object. Every operation that makes an object version (PutObject, POST Object,
//! CopyObject, CompleteMultipartUpload) describes it as a [`NewObject`] and commits it with
//! [`commit`]; CreateMultipartUpload keeps the same description as the upload's
//! ([`create_upload`]), and UploadPart and UploadPartCopy record parts with [`commit_part`].
//!
//! The stored record is built in [`NewObject::into_version`] and nowhere else: the version
//! id is set there, and so will be the encryption and website-redirect facts that later
//! features add. A refused commit leaves nothing visible: the state machine queues the new
//! blob for deletion.

use std::sync::Arc;

use actix_web::http::header::HeaderMap;
use coffer_proto::lock::VersionLock;
use coffer_proto::meta::{CompletePart, MetaCommand, MetaOk, WritePrecondition};
use coffer_proto::types::{
    BucketInfo, Checksum, ChecksumAlgorithm, ChecksumType, ContentHeaders, ObjectData,
    ObjectVersion, PartInfo, PartSummary, UploadInfo, NULL_VERSION,
};
use coffer_proto::ClusterApi;

use crate::model::acl::Acl;
use crate::model::tags::{self, Tags};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3Result};
use crate::s3::grants;
use crate::s3::headers::{self, acl, tagging};
use crate::sse::{CustomerKey, DataKey, Sealing};
use coffer_proto::sse::Encryption;

/// What a write says about the object version it makes, before its bytes are stored.
#[derive(Debug, Clone)]
pub struct NewObject {
    /// The key.
    pub key: String,
    /// Content headers.
    pub content: ContentHeaders,
    /// User metadata.
    pub user_meta: Vec<(String, String)>,
    /// Storage class (its erasure profile stores the bytes).
    pub storage_class: String,
    /// Owner, as Object Ownership decides.
    pub owner: String,
    /// ACL asked for (None: the owner's full control).
    pub acl: Option<Acl>,
    /// Tags asked for.
    pub tags: Option<Tags>,
    /// The Object Lock the version gets ([`crate::s3::object_lock::for_write`]).
    pub lock: Option<VersionLock>,
    /// Conditional-write headers.
    pub precondition: WritePrecondition,
    /// How its bytes are encrypted (None: they are not), with the data key that seals them.
    pub sealing: Option<Sealing>,
    /// Where the website endpoint redirects a request for it
    /// (`x-amz-website-redirect-location`).
    pub website_redirect: Option<String>,
}

impl NewObject {
    /// What the headers `h` of a write to `key` in `bucket` say about the object: content
    /// headers, metadata, storage class, ACL (and so owner) and tags. `h` is the request's
    /// headers, or a form's fields as headers. No conditions: see [`NewObject::when`].
    pub fn from_headers(
        ctx: &ReqCtx<'_>,
        bucket: &BucketInfo,
        key: &str,
        h: &HeaderMap,
    ) -> S3Result<NewObject> {
        let storage_class = headers::storage_class(h)?;
        let content = headers::content_headers(h);
        let user_meta = headers::user_meta(h)?;
        let (owner, acl) = grants::for_new_object(ctx, bucket, acl::requested(h)?)?;
        let tags = tagging::from_header(h)?;
        let website_redirect = crate::s3::website::redirect_location(h)?;
        Ok(NewObject {
            key: key.to_owned(),
            content,
            user_meta,
            storage_class,
            owner,
            acl,
            tags,
            lock: None,
            precondition: WritePrecondition::None,
            sealing: None,
            website_redirect,
        })
    }

    /// This object, its bytes sealed as `sealing` says.
    pub fn sealed(self, sealing: Option<Sealing>) -> NewObject {
        NewObject { sealing, ..self }
    }

    /// The data key that seals its bytes, when it is encrypted.
    pub fn data_key(&self) -> Option<&DataKey> {
        self.sealing.as_ref().map(|s| &*s.key)
    }

    /// This object, locked with `lock`.
    pub fn locked(self, lock: Option<VersionLock>) -> NewObject {
        NewObject { lock, ..self }
    }

    /// This object, written only if `precondition` holds (the `If-*` headers of PutObject,
    /// CopyObject and CompleteMultipartUpload).
    pub fn when(self, precondition: WritePrecondition) -> NewObject {
        NewObject {
            precondition,
            ..self
        }
    }

    /// The object an upload completes into: described when the upload was created (its ACL
    /// and tags were recorded with it then), with the conditions of the completing request.
    pub fn from_upload(up: &UploadInfo, precondition: WritePrecondition) -> NewObject {
        NewObject {
            key: up.key.clone(),
            content: up.content.clone(),
            user_meta: up.user_meta.clone(),
            storage_class: up.storage_class.clone(),
            owner: up.owner.clone(),
            acl: None,
            tags: None,
            // Recorded with the upload, and moved to the object when it completes.
            lock: None,
            precondition,
            // The state machine gives the object its upload's encryption and redirect.
            sealing: None,
            website_redirect: None,
        }
    }

    /// The record of this object with bytes `body`, written now. The one place a stored
    /// object version is built.
    fn into_version(self, body: Body) -> ObjectVersion {
        // A single-part SSE-C object's ETag is not its MD5 (a multipart ETag is made of its
        // parts', which already are not).
        let etag = match (&self.sealing, body.parts.is_empty()) {
            (Some(s), true) => hex::decode(&body.etag)
                .ok()
                .and_then(|m| <[u8; 16]>::try_from(m).ok())
                .map_or(body.etag, |md5| s.etag(&md5)),
            _ => body.etag,
        };
        ObjectVersion {
            key: self.key,
            version_id: NULL_VERSION.into(),
            last_modified_ms: headers::now_ms(),
            size: body.size,
            etag,
            content: self.content,
            user_meta: self.user_meta,
            checksum: body.checksum,
            parts: body.parts,
            storage_class: self.storage_class,
            delete_marker: false,
            owner: self.owner,
            data: body.data,
            tag_count: None,
            stamp: None,
            encryption: self.sealing.map(|s| Box::new(s.encryption)),
            website_redirect: self.website_redirect,
        }
    }
}

/// The stored bytes of a new object version.
#[derive(Debug, Clone)]
pub struct Body {
    /// Size in bytes.
    pub size: u64,
    /// ETag, unquoted: the MD5 in hex, or `md5-of-md5s-N` for a multipart object.
    pub etag: String,
    /// Checksum.
    pub checksum: Option<Checksum>,
    /// Parts, for a multipart object.
    pub parts: Vec<PartSummary>,
    /// Where the bytes are (filled in from the parts for a multipart object).
    pub data: ObjectData,
}

impl Body {
    /// Bytes stored in one piece, with their MD5.
    pub fn single(data: ObjectData, size: u64, md5: [u8; 16], checksum: Option<Checksum>) -> Body {
        Body {
            size,
            etag: hex::encode(md5),
            checksum,
            parts: Vec::new(),
            data,
        }
    }
}

/// How a version is committed.
pub enum Commit<'a> {
    /// As a new version of its key (PutObject, POST Object, CopyObject).
    Put,
    /// By completing upload `upload_id` from `parts` (whose blobs become the object's).
    Complete {
        /// The upload.
        upload_id: &'a str,
        /// The parts chosen, in order.
        parts: Vec<CompletePart>,
    },
}

/// A committed version, as responses describe it.
#[derive(Debug, Clone)]
pub struct Committed {
    /// ETag, unquoted.
    pub etag: String,
    /// Last-Modified, in milliseconds since the epoch.
    pub last_modified_ms: i64,
    /// Checksum.
    pub checksum: Option<Checksum>,
    /// The version id, in a bucket with versioning on (`null` when suspended).
    pub version_id: Option<String>,
    /// How its bytes are encrypted.
    pub encryption: Option<Box<Encryption>>,
    /// The customer's key it was written with (SSE-C), whose MD5 the answer echoes.
    pub customer: Option<CustomerKey>,
    /// Size in bytes.
    pub size: u64,
    /// Whether it has tags.
    pub tagged: bool,
}

impl Committed {
    /// The ETag as headers and documents carry it: quoted.
    pub fn quoted_etag(&self) -> String {
        format!("\"{}\"", self.etag)
    }

    /// What lifecycle rules need to know of it ([`crate::s3::expiration`]).
    pub fn subject<'a>(&self, key: &'a str) -> crate::s3::expiration::Subject<'a> {
        crate::s3::expiration::Subject {
            key,
            size: self.size,
            created: self.last_modified_ms.div_euclid(1000),
            tagged: self.tagged,
        }
    }

    /// Add `x-amz-version-id` to `b` when the version has an id, and the headers that
    /// describe its encryption.
    pub fn version_header(&self, b: &mut actix_web::HttpResponseBuilder) {
        if let Some(id) = &self.version_id {
            b.insert_header(("x-amz-version-id", id.as_str()));
        }
        crate::sse::describe_write(b, self.encryption.as_deref(), self.customer.as_ref());
    }
}

/// Commit `new` with bytes `body` into bucket `bucket_id` through Raft, with its conditions,
/// ACL and tags in the same write.
pub async fn commit(
    cluster: &Arc<dyn ClusterApi>,
    bucket_id: u64,
    new: NewObject,
    body: Body,
    how: Commit<'_>,
) -> S3Result<Committed> {
    let (acl, tag_set, lock, precondition) = (
        new.acl.clone(),
        new.tags.clone(),
        new.lock,
        new.precondition.clone(),
    );
    let customer = new.sealing.as_ref().and_then(|s| s.customer.clone());
    let version = new.into_version(body);
    let redirect = version.website_redirect.clone();
    let mut committed = Committed {
        etag: version.etag.clone(),
        last_modified_ms: version.last_modified_ms,
        checksum: version.checksum.clone(),
        version_id: None,
        encryption: version.encryption.clone(),
        size: version.size,
        tagged: tag_set.as_ref().is_some_and(|t| !t.is_empty())
            || version.tag_count.is_some_and(|n| n > 0),
        customer,
    };
    let key = version.key.clone();
    let remember = matches!(how, Commit::Complete { .. });
    let (cmd, context) = match how {
        Commit::Put => (
            MetaCommand::PutObject {
                bucket_id,
                version,
                precondition,
            },
            ("Key", key),
        ),
        Commit::Complete { upload_id, parts } => (
            MetaCommand::CompleteUpload {
                bucket_id,
                upload_id: upload_id.to_owned(),
                parts,
                version,
                precondition,
            },
            ("UploadId", upload_id.to_owned()),
        ),
    };
    let mut cmd = with_extras(
        redirected_to(
            sealed_as(cmd, committed.encryption.as_deref()),
            redirect.as_deref(),
        ),
        acl.as_ref(),
        tag_set.as_ref(),
        lock.as_ref(),
    );
    if remember {
        // Kept a day, so that the completion retried answers the same success.
        cmd = MetaCommand::RememberCompletion { cmd: Box::new(cmd) };
    }
    let ok = cluster
        .meta_write(cmd)
        .await
        .map_err(|e| S3Error::from(e).with(context.0, context.1))?;
    if let MetaOk::Written { version_id } = ok {
        committed.version_id = Some(version_id);
    }
    Ok(committed)
}

/// Record upload `upload_id` of `new`, whose parts will carry `checksum` (algorithm and
/// type). The ACL and tags asked for now are the completed object's. Returns when it was
/// initiated, ms since the epoch.
pub async fn create_upload(
    ctx: &ReqCtx<'_>,
    bucket_id: u64,
    new: NewObject,
    upload_id: &str,
    checksum: Option<(ChecksumAlgorithm, ChecksumType)>,
) -> S3Result<i64> {
    let initiated_ms = headers::now_ms();
    let upload = UploadInfo {
        key: new.key,
        upload_id: upload_id.to_owned(),
        initiated_ms,
        content: new.content,
        user_meta: new.user_meta,
        checksum_algorithm: checksum.map(|c| c.0),
        checksum_type: checksum.map(|c| c.1),
        storage_class: new.storage_class,
        owner: new.owner,
        encryption: None,
        website_redirect: None,
    };
    let cmd = redirected_to(
        sealed_as(
            MetaCommand::CreateUpload { bucket_id, upload },
            new.sealing.as_ref().map(|s| &s.encryption),
        ),
        new.website_redirect.as_deref(),
    );
    ctx.cluster
        .meta_write(with_extras(
            cmd,
            new.acl.as_ref(),
            new.tags.as_ref(),
            new.lock.as_ref(),
        ))
        .await?;
    Ok(initiated_ms)
}

/// Record `part` of upload `upload_id` of `key` (replacing an earlier upload of its number).
pub async fn commit_part(
    ctx: &ReqCtx<'_>,
    bucket_id: u64,
    key: &str,
    upload_id: &str,
    part: PartInfo,
) -> S3Result<()> {
    ctx.cluster
        .meta_write(MetaCommand::PutPart {
            bucket_id,
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
            part,
        })
        .await
        .map_err(|e| S3Error::from(e).with("UploadId", upload_id))?;
    Ok(())
}

/// `cmd` writing bytes encrypted as `encryption` says (a CompleteUpload's object takes its
/// upload's, which the state machine keeps).
fn sealed_as(cmd: MetaCommand, encryption: Option<&Encryption>) -> MetaCommand {
    match (encryption, &cmd) {
        (Some(e), MetaCommand::PutObject { .. } | MetaCommand::CreateUpload { .. }) => {
            MetaCommand::WithEncryption {
                encryption: e.clone(),
                cmd: Box::new(cmd),
            }
        }
        _ => cmd,
    }
}

/// `cmd` writing a version or upload that the website endpoint redirects to `location`.
fn redirected_to(cmd: MetaCommand, location: Option<&str>) -> MetaCommand {
    match location {
        Some(location) => MetaCommand::WithWebsiteRedirect {
            location: location.to_owned(),
            cmd: Box::new(cmd),
        },
        None => cmd,
    }
}

/// `cmd` with the ACL and tags that go with it, applied in the same write.
fn with_extras(
    cmd: MetaCommand,
    acl: Option<&Acl>,
    tag_set: Option<&Tags>,
    lock: Option<&VersionLock>,
) -> MetaCommand {
    let cmd = match lock {
        Some(lock) => MetaCommand::WithLock {
            lock: serde_json::to_string(lock).unwrap_or_default(),
            cmd: Box::new(cmd),
        },
        None => cmd,
    };
    let cmd = match acl {
        Some(acl) => MetaCommand::WithAcl {
            acl: acl.encode(),
            cmd: Box::new(cmd),
        },
        None => cmd,
    };
    match tag_set.filter(|t| !t.is_empty()) {
        Some(t) => MetaCommand::WithTags {
            tags: tags::encode(t),
            cmd: Box::new(cmd),
        },
        None => cmd,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_object() -> NewObject {
        NewObject {
            key: "k".into(),
            content: ContentHeaders::default(),
            user_meta: vec![("a".into(), "1".into())],
            storage_class: "STANDARD".into(),
            owner: "ROOTKEY".into(),
            acl: None,
            tags: None,
            lock: None,
            precondition: WritePrecondition::None,
            sealing: None,
            website_redirect: Some("/other.html".into()),
        }
    }

    #[test]
    fn the_record_takes_every_fact_of_the_write() {
        let body = Body::single(
            ObjectData::Inline(bytes::Bytes::from_static(b"hi")),
            2,
            [7; 16],
            None,
        );
        let v = new_object().into_version(body);
        assert_eq!(v.key, "k");
        assert_eq!(v.version_id, NULL_VERSION);
        assert_eq!(v.size, 2);
        assert_eq!(v.etag, "07".repeat(16));
        assert_eq!(v.user_meta, vec![("a".to_owned(), "1".to_owned())]);
        assert_eq!(v.owner, "ROOTKEY");
        assert!(!v.delete_marker && v.parts.is_empty());
        assert!(v.last_modified_ms > 0);
        assert_eq!(v.website_redirect.as_deref(), Some("/other.html"));
    }

    #[test]
    fn acl_tags_and_lock_ride_with_the_write() {
        let put = || MetaCommand::AbortUpload {
            bucket_id: 1,
            key: "k".into(),
            upload_id: "u".into(),
        };
        assert_eq!(with_extras(put(), None, Some(&Vec::new()), None), put());
        let acl = Acl::private("a");
        let t = vec![("team".to_owned(), "red".to_owned())];
        let lock = VersionLock {
            retention: None,
            legal_hold: true,
        };
        let MetaCommand::WithTags { tags: doc, cmd } =
            with_extras(put(), Some(&acl), Some(&t), Some(&lock))
        else {
            panic!("tags are the outer wrapper");
        };
        assert_eq!(tags::decode(Some(&doc)), t);
        let MetaCommand::WithAcl { acl: doc, cmd } = *cmd else {
            panic!("the ACL wraps the lock");
        };
        assert_eq!(Acl::decode(Some(&doc), "a"), acl);
        let MetaCommand::WithLock { lock: doc, cmd } = *cmd else {
            panic!("the lock wraps the write");
        };
        assert_eq!(serde_json::from_str::<VersionLock>(&doc).ok(), Some(lock));
        assert_eq!(*cmd, put());
    }
}
