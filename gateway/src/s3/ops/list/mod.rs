//! Listing: ListObjects (v1), ListObjectsV2 and ListMultipartUploads ([`objects`]) and
//! ListObjectVersions ([`versions`]). The node evaluates prefix, delimiter and start position
//! as a range scan; this module holds what the listings share (parameters, the scan, the
//! entries' XML), and each handler maps S3's markers and tokens onto it.

pub mod objects;
pub mod versions;

use coffer_proto::api::ClusterApiExt;
use coffer_proto::types::{ListEntry, ListQuery, ListResult};

use crate::auth::sigv4::uri_encode;
use crate::model::owner::{display_name, owner_id};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers::{checksum_name, iso_date};
use crate::s3::xml::XmlWriter;

pub(super) fn max_param(ctx: &ReqCtx<'_>, name: &str) -> S3Result<u32> {
    match ctx.query.get(name) {
        None => Ok(1000),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(|n| n.min(1000) as u32)
            .ok_or_else(|| {
                S3Error::msg(
                    S3ErrorCode::InvalidArgument,
                    format!("Provided {name} not an integer or within integer range"),
                )
                .with("ArgumentName", name)
                .with("ArgumentValue", v)
            }),
    }
}

/// Whether `encoding-type=url` was asked for (anything else is InvalidArgument).
pub(super) fn url_encoding(ctx: &ReqCtx<'_>) -> S3Result<bool> {
    match ctx.query.get("encoding-type") {
        None => Ok(false),
        Some("url") => Ok(true),
        Some(v) => Err(S3Error::msg(
            S3ErrorCode::InvalidArgument,
            "Invalid Encoding Method specified in Request",
        )
        .with("ArgumentName", "encoding-type")
        .with("ArgumentValue", v)),
    }
}

/// Keys as the request asked for them: URL-encoded or not.
pub(super) struct Enc(pub(super) bool);
impl Enc {
    pub(super) fn s<'a>(&self, v: &'a str) -> std::borrow::Cow<'a, str> {
        if self.0 {
            uri_encode(v, true).into()
        } else {
            v.into()
        }
    }
}

pub(super) async fn scan(
    ctx: &ReqCtx<'_>,
    bucket_id: u64,
    query: ListQuery,
) -> S3Result<ListResult> {
    Ok(ctx.cluster.list_objects(bucket_id, query).await?)
}

/// What every object listing takes from its query: prefix, delimiter (empty: none) and
/// max-keys.
#[derive(Clone, Copy)]
pub(super) struct Scope<'a> {
    pub(super) prefix: &'a str,
    pub(super) delimiter: Option<&'a str>,
    pub(super) max_keys: u32,
}

impl<'a> Scope<'a> {
    pub(super) fn parse(ctx: &'a ReqCtx<'_>) -> S3Result<Self> {
        Ok(Scope {
            prefix: ctx.query.get("prefix").unwrap_or_default(),
            delimiter: ctx.query.get("delimiter").filter(|d| !d.is_empty()),
            max_keys: max_param(ctx, "max-keys")?,
        })
    }

    /// The node's range scan for this scope, from after `start_after` (empty: the start).
    pub(super) fn query(&self, start_after: Option<&str>) -> ListQuery {
        ListQuery {
            prefix: self.prefix.to_owned(),
            delimiter: self.delimiter.map(str::to_owned),
            start_after: start_after.filter(|s| !s.is_empty()).map(str::to_owned),
            max_keys: self.max_keys,
        }
    }
}

fn contents(x: &mut XmlWriter, r: &ListResult, enc: &Enc, owner: bool) {
    let mut owners = Owners::default();
    for e in &r.entries {
        x.open("Contents");
        x.elem("Key", &enc.s(&e.key));
        entry_facts(x, &Facts::of_entry(e), owner.then_some(&mut owners));
        x.close("Contents");
    }
    common_prefixes(x, r, enc);
}

/// What a listing says of an object version, borrowed from a [`ListEntry`] or a version.
pub(super) struct Facts<'a> {
    last_modified_ms: i64,
    etag: &'a str,
    checksum_algorithm: Option<coffer_proto::types::ChecksumAlgorithm>,
    checksum_type: Option<coffer_proto::types::ChecksumType>,
    size: u64,
    owner: &'a str,
    storage_class: &'a str,
}

impl<'a> Facts<'a> {
    fn of_entry(e: &'a ListEntry) -> Self {
        Facts {
            last_modified_ms: e.last_modified_ms,
            etag: &e.etag,
            checksum_algorithm: e.checksum_algorithm,
            checksum_type: e.checksum_type,
            size: e.size,
            owner: &e.owner,
            storage_class: &e.storage_class,
        }
    }

    pub(super) fn of_version(v: &'a coffer_proto::types::ObjectVersion) -> Self {
        Facts {
            last_modified_ms: v.last_modified_ms,
            etag: &v.etag,
            checksum_algorithm: v.checksum.as_ref().map(|c| c.algorithm),
            checksum_type: v.checksum.as_ref().map(|c| c.kind),
            size: v.size,
            owner: &v.owner,
            storage_class: &v.storage_class,
        }
    }
}

/// The `<Owner>` elements of a listing, each owner's canonical id (a hash) computed once.
#[derive(Default)]
pub(super) struct Owners(std::collections::HashMap<String, String>);

impl Owners {
    pub(super) fn write(&mut self, x: &mut XmlWriter, owner: &str) {
        let id = match self.0.get(owner) {
            Some(id) => id,
            None => self
                .0
                .entry(owner.to_owned())
                .or_insert_with(|| owner_id(owner)),
        };
        x.open("Owner");
        x.elem("ID", id);
        x.elem("DisplayName", display_name(owner));
        x.close("Owner");
    }
}

/// What a listing says of an object after its key (and version): date, ETag, checksum,
/// size, owner when asked for (`owners`), storage class.
pub(super) fn entry_facts(x: &mut XmlWriter, e: &Facts<'_>, owners: Option<&mut Owners>) {
    x.elem("LastModified", &iso_date(e.last_modified_ms));
    x.elem("ETag", &format!("\"{}\"", e.etag));
    if let Some(a) = e.checksum_algorithm {
        x.elem("ChecksumAlgorithm", checksum_name(a));
    }
    if let Some(t) = e.checksum_type {
        x.elem(
            "ChecksumType",
            if t == coffer_proto::types::ChecksumType::Composite {
                "COMPOSITE"
            } else {
                "FULL_OBJECT"
            },
        );
    }
    x.elem("Size", &e.size.to_string());
    if let Some(owners) = owners {
        owners.write(x, e.owner);
    }
    x.elem("StorageClass", e.storage_class);
}

/// The `CommonPrefixes` of a listing.
pub(super) fn common_prefixes(x: &mut XmlWriter, r: &ListResult, enc: &Enc) {
    for p in &r.common_prefixes {
        x.open("CommonPrefixes");
        x.elem("Prefix", &enc.s(p));
        x.close("CommonPrefixes");
    }
}
