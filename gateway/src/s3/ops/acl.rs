//! ACLs on the wire: Get/PutBucketAcl, Get/PutObjectAcl, and the ACL (and owner) that the
//! `x-amz-acl` or `x-amz-grant-*` headers give a new bucket, object or upload. Object
//! Ownership decides whether ACLs may be set at all, Block Public Access whether public ones
//! may; [`crate::authz`] applies them.

use actix_web::http::header::HeaderMap;
use actix_web::{web, HttpResponse};
use coffer_proto::meta::{BucketConfigKind, MetaCommand};
use coffer_proto::types::BucketInfo;
use serde::Deserialize;

use super::{owner_id, owner_xml, set_bucket_config, small_body, xml_ok};
use crate::authz::acl::{
    valid_canonical_id, Acl, Grant, Grantee, Group, Ownership, Permission, CANNED, MAX_GRANTS,
};
use crate::s3::ctx::ReqCtx;
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::headers;
use crate::s3::xml::{self, XmlWriter};

/// Largest AccessControlPolicy document accepted.
const MAX_BODY: usize = 64 << 10;

/// The grant headers and the permission each grants.
const GRANT_HEADERS: [(&str, Permission); 5] = [
    ("x-amz-grant-read", Permission::Read),
    ("x-amz-grant-write", Permission::Write),
    ("x-amz-grant-read-acp", Permission::ReadAcp),
    ("x-amz-grant-write-acp", Permission::WriteAcp),
    ("x-amz-grant-full-control", Permission::FullControl),
];

/// What a request's headers ask of the ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Nothing: the default.
    Default,
    /// A canned ACL, by name.
    Canned(String),
    /// Explicit grants.
    Grants(Acl),
}

fn invalid(msg: &'static str, name: &str, value: &str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, msg)
        .with("ArgumentName", name.to_owned())
        .with("ArgumentValue", value.to_owned())
}

/// One grantee of a grant header: `id="..."`, `uri="..."` or `emailAddress="..."`.
fn header_grantee(header: &str, item: &str) -> S3Result<Grantee> {
    let (kind, value) = item
        .split_once('=')
        .ok_or_else(|| invalid("Invalid grant", header, item))?;
    let value = value.trim().trim_matches('"');
    match kind.trim() {
        "id" if valid_canonical_id(value) => Ok(Grantee::User(value.to_ascii_lowercase())),
        "id" => Err(invalid("Invalid id", header, value)),
        "uri" => Group::from_uri(value)
            .map(Grantee::Group)
            .ok_or_else(|| invalid("Invalid group uri", header, value)),
        "emailAddress" => Err(S3Error::new(S3ErrorCode::UnresolvableGrantByEmailAddress)
            .with("EmailAddress", value.to_owned())),
        _ => Err(invalid("Invalid grant", header, item)),
    }
}

/// Read `x-amz-acl` and `x-amz-grant-*`.
pub fn requested(h: &HeaderMap) -> S3Result<Requested> {
    let mut grants = Acl::default();
    for (name, permission) in GRANT_HEADERS {
        if let Some(v) = headers::get(h, name) {
            for item in v.split(',').filter(|i| !i.trim().is_empty()) {
                grants.grants.push(Grant {
                    grantee: header_grantee(name, item.trim())?,
                    permission,
                });
            }
        }
    }
    if grants.grants.len() > MAX_GRANTS {
        return Err(S3Error::new(S3ErrorCode::MalformedACLError));
    }
    let any_grant = GRANT_HEADERS.iter().any(|(n, _)| h.contains_key(*n));
    match (headers::get(h, "x-amz-acl"), any_grant) {
        (Some(_), true) => Err(S3Error::msg(
            S3ErrorCode::InvalidRequest,
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )),
        (Some(c), false) if CANNED.contains(&c) => Ok(Requested::Canned(c.to_owned())),
        (Some(c), false) => Err(invalid("Invalid canned ACL", "x-amz-acl", c)),
        (None, true) => Ok(Requested::Grants(grants)),
        (None, false) => Ok(Requested::Default),
    }
}

impl Requested {
    /// The ACL asked for, of a resource owned by `owner` in a bucket owned by
    /// `bucket_owner` (canonical ids); None for the default.
    pub fn resolve(&self, owner: &str, bucket_owner: &str) -> Option<Acl> {
        match self {
            Requested::Default => None,
            Requested::Canned(c) => Acl::canned(c, owner, bucket_owner),
            Requested::Grants(acl) => Some(acl.clone()),
        }
    }
}

/// Refuse a public ACL where Block Public Access blocks them.
fn check_public(ctx: &ReqCtx<'_>, acl: Option<&Acl>) -> S3Result<()> {
    if ctx.authz.public_access.block_public_acls && acl.is_some_and(Acl::is_public) {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    Ok(())
}

/// The owner and ACL of an object or upload `bucket` gets from this request's headers, as
/// its Object Ownership says: under BucketOwnerEnforced the bucket owner owns it and no ACL
/// but the bucket owner's full control is accepted; under BucketOwnerPreferred the bucket
/// owner owns what is written with `bucket-owner-full-control`; else the writer owns it.
pub fn for_new_object(ctx: &ReqCtx<'_>, bucket: &BucketInfo) -> S3Result<(String, Option<Acl>)> {
    for_new_object_with(ctx, bucket, requested(ctx.req.headers())?)
}

/// [`for_new_object`] for the ACL `asked` (a form's `acl` field).
pub fn for_new_object_with(
    ctx: &ReqCtx<'_>,
    bucket: &BucketInfo,
    asked: Requested,
) -> S3Result<(String, Option<Acl>)> {
    let bucket_owner = owner_id(&bucket.owner);
    let owner = match ctx.authz.ownership {
        Ownership::BucketOwnerEnforced => {
            if asked
                .resolve(&bucket_owner, &bucket_owner)
                .is_some_and(|a| !a.owner_only(&bucket_owner))
            {
                return Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
            }
            return Ok((bucket.owner.clone(), None));
        }
        Ownership::BucketOwnerPreferred
            if asked == Requested::Canned("bucket-owner-full-control".into()) =>
        {
            bucket.owner.clone()
        }
        _ => ctx.owner.to_owned(),
    };
    let acl = asked.resolve(&owner_id(&owner), &bucket_owner);
    check_public(ctx, acl.as_ref())?;
    Ok((owner, acl))
}

/// `cmd` with the ACL that goes with it.
pub fn with_acl(cmd: MetaCommand, acl: Option<&Acl>) -> MetaCommand {
    match acl {
        Some(acl) => MetaCommand::WithAcl {
            acl: acl.encode(),
            cmd: Box::new(cmd),
        },
        None => cmd,
    }
}

/// The first documents of a bucket `ctx.owner` creates: its Object Ownership
/// (`x-amz-object-ownership`, BucketOwnerEnforced by default, as S3 since 2023) and the ACL
/// its headers ask for.
pub fn for_new_bucket(ctx: &ReqCtx<'_>) -> S3Result<Vec<(BucketConfigKind, String)>> {
    let ownership = match ctx.header("x-amz-object-ownership") {
        None => Ownership::BucketOwnerEnforced,
        Some(o) => Ownership::parse(o).ok_or_else(|| {
            invalid(
                "Invalid x-amz-object-ownership header",
                "x-amz-object-ownership",
                o,
            )
        })?,
    };
    let me = owner_id(ctx.owner);
    let acl = requested(ctx.req.headers())?.resolve(&me, &me);
    if !ownership.acls_enabled() && acl.as_ref().is_some_and(|a| !a.owner_only(&me)) {
        return Err(S3Error::new(
            S3ErrorCode::InvalidBucketAclWithObjectOwnership,
        ));
    }
    check_public(ctx, acl.as_ref())?;
    let mut configs = vec![(
        BucketConfigKind::OwnershipControls,
        ownership.as_str().to_owned(),
    )];
    if let Some(acl) = acl.filter(|_| ownership.acls_enabled()) {
        configs.push((BucketConfigKind::Acl, acl.encode()));
    }
    Ok(configs)
}

#[derive(Debug, Deserialize)]
struct PolicyXml {
    #[serde(rename = "Owner")]
    owner: Option<OwnerXml>,
    #[serde(rename = "AccessControlList")]
    list: Option<ListXml>,
}

#[derive(Debug, Deserialize)]
struct OwnerXml {
    #[serde(rename = "ID")]
    id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ListXml {
    #[serde(rename = "Grant", default)]
    grants: Vec<GrantXml>,
}

#[derive(Debug, Deserialize)]
struct GrantXml {
    #[serde(rename = "Grantee")]
    grantee: Option<GranteeXml>,
    #[serde(rename = "Permission")]
    permission: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GranteeXml {
    #[serde(rename = "@xsi:type", alias = "@type")]
    kind: Option<String>,
    #[serde(rename = "ID")]
    id: Option<String>,
    #[serde(rename = "URI")]
    uri: Option<String>,
    #[serde(rename = "EmailAddress")]
    email: Option<String>,
}

fn malformed() -> S3Error {
    S3Error::new(S3ErrorCode::MalformedACLError)
}

/// Parse an `<AccessControlPolicy>` for a resource owned by `owner` (a canonical id): the
/// Owner must be given and be that owner (changing it is AccessDenied, as on S3).
pub fn parse_policy(body: &[u8], owner: &str) -> S3Result<Acl> {
    let doc: PolicyXml = xml::from_body(body).map_err(|_| malformed())?;
    let given = doc.owner.and_then(|o| o.id).ok_or_else(malformed)?;
    if !given.eq_ignore_ascii_case(owner) {
        return Err(S3Error::new(S3ErrorCode::AccessDenied));
    }
    let grants = doc.list.map(|l| l.grants).unwrap_or_default();
    if grants.len() > MAX_GRANTS {
        return Err(malformed());
    }
    let mut acl = Acl::default();
    for g in grants {
        let (Some(who), Some(permission)) = (g.grantee, g.permission) else {
            return Err(malformed());
        };
        let permission = Permission::parse(permission.trim()).ok_or_else(malformed)?;
        let kind = who
            .kind
            .as_deref()
            .map(|k| k.rsplit(':').next().unwrap_or(k));
        let grantee = match (kind, who.id, who.uri, who.email) {
            (Some("CanonicalUser") | None, Some(id), None, None) => {
                let id = id.trim();
                if !valid_canonical_id(id) {
                    return Err(invalid("Invalid id", "CanonicalUser/ID", id));
                }
                Grantee::User(id.to_ascii_lowercase())
            }
            (Some("Group") | None, None, Some(uri), None) => Grantee::Group(
                Group::from_uri(uri.trim())
                    .ok_or_else(|| invalid("Invalid group uri", "Group/URI", &uri))?,
            ),
            (Some("AmazonCustomerByEmail") | None, None, None, Some(email)) => {
                return Err(S3Error::new(S3ErrorCode::UnresolvableGrantByEmailAddress)
                    .with("EmailAddress", email));
            }
            _ => return Err(malformed()),
        };
        acl.grants.push(Grant {
            grantee,
            permission,
        });
    }
    Ok(acl)
}

/// The `<AccessControlPolicy>` of a resource owned by `owner` (an owner id as records keep
/// it) with ACL `acl`.
pub fn to_xml(owner: &str, acl: &Acl) -> String {
    const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
    let owner_canonical = owner_id(owner);
    let mut x = XmlWriter::new();
    x.open_ns("AccessControlPolicy");
    owner_xml(&mut x, "Owner", owner);
    x.open("AccessControlList");
    for g in &acl.grants {
        x.open("Grant");
        match &g.grantee {
            Grantee::User(id) => {
                let attrs = [("xmlns:xsi", XSI), ("xsi:type", "CanonicalUser")];
                x.open_attrs("Grantee", &attrs);
                x.elem("ID", id);
                if *id == owner_canonical {
                    x.elem(
                        "DisplayName",
                        owner.strip_prefix("arn:aws:iam:::user/").unwrap_or(owner),
                    );
                }
            }
            Grantee::Group(group) => {
                x.open_attrs("Grantee", &[("xmlns:xsi", XSI), ("xsi:type", "Group")]);
                x.elem("URI", group.uri());
            }
        }
        x.close("Grantee");
        x.elem("Permission", g.permission.as_str());
        x.close("Grant");
    }
    x.close("AccessControlList");
    x.close("AccessControlPolicy");
    x.finish()
}

/// The ACL a PutBucketAcl or PutObjectAcl request sets on a resource owned by `owner` in a
/// bucket owned by `bucket_owner` (canonical ids): from its headers or from its body.
async fn asked_acl(
    ctx: &ReqCtx<'_>,
    payload: web::Payload,
    owner: &str,
    bucket_owner: &str,
) -> S3Result<Acl> {
    let body = small_body(payload, MAX_BODY)
        .await
        .map_err(|_| malformed())?;
    let has_body = !body.iter().all(u8::is_ascii_whitespace);
    match (requested(ctx.req.headers())?, has_body) {
        (Requested::Default, true) => parse_policy(&body, owner),
        (Requested::Default, false) => Err(malformed()),
        (_, true) => Err(S3Error::msg(
            S3ErrorCode::UnexpectedContent,
            "This request does not support content",
        )),
        (asked, false) => asked.resolve(owner, bucket_owner).ok_or_else(malformed),
    }
}

/// GET /bucket?acl (under BucketOwnerEnforced: the owner's full control, whatever was set).
pub async fn get_bucket_acl(ctx: &ReqCtx<'_>) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let acl = if ctx.authz.ownership.acls_enabled() {
        ctx.authz.bucket_acl.clone()
    } else {
        Acl::private(&owner_id(&bucket.owner))
    };
    Ok(xml_ok(to_xml(&bucket.owner, &acl)))
}

/// PUT /bucket?acl
pub async fn put_bucket_acl(ctx: &ReqCtx<'_>, payload: web::Payload) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let owner = owner_id(&bucket.owner);
    let acl = asked_acl(ctx, payload, &owner, &owner).await?;
    if !ctx.authz.ownership.acls_enabled() {
        if !acl.owner_only(&owner) {
            return Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
        }
        // The one ACL BucketOwnerEnforced accepts is the one in force already.
        return Ok(HttpResponse::Ok().finish());
    }
    check_public(ctx, Some(&acl))?;
    set_bucket_config(ctx, BucketConfigKind::Acl, Some(acl.encode())).await?;
    Ok(HttpResponse::Ok().finish())
}

/// The owner and ACL in force of `key`'s current version (NoSuchKey if there is none).
async fn object_acl(ctx: &ReqCtx<'_>, bucket: &BucketInfo, key: &str) -> S3Result<(String, Acl)> {
    let version = ctx.query.get("versionId");
    let f = super::object_facts(ctx.cluster, bucket.id, key, version).await?;
    if !ctx.authz.ownership.acls_enabled() {
        return Ok((bucket.owner.clone(), Acl::private(&owner_id(&bucket.owner))));
    }
    let acl = Acl::decode(f.acl.as_deref(), &owner_id(&f.owner));
    Ok((f.owner, acl))
}

/// GET /bucket/key?acl
pub async fn get_object_acl(ctx: &ReqCtx<'_>, key: &str) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let (owner, acl) = object_acl(ctx, &bucket, key).await?;
    Ok(xml_ok(to_xml(&owner, &acl)))
}

/// PUT /bucket/key?acl
pub async fn put_object_acl(
    ctx: &ReqCtx<'_>,
    key: &str,
    payload: web::Payload,
) -> S3Result<HttpResponse> {
    let bucket = ctx.bucket().await?;
    let (owner, _) = object_acl(ctx, &bucket, key).await?;
    let owner = owner_id(&owner);
    let acl = asked_acl(ctx, payload, &owner, &owner_id(&bucket.owner)).await?;
    if !ctx.authz.ownership.acls_enabled() {
        if !acl.owner_only(&owner) {
            return Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported));
        }
        return Ok(HttpResponse::Ok().finish());
    }
    check_public(ctx, Some(&acl))?;
    let cmd = MetaCommand::SetObjectAcl {
        bucket_id: bucket.id,
        key: key.to_owned(),
        acl: acl.encode(),
    };
    ctx.cluster
        .meta_write(cmd)
        .await
        .map_err(|e| S3Error::from(e).with("Key", key))?;
    Ok(HttpResponse::Ok().finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

    const OWNER: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(
                HeaderName::from_static(k),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        m
    }

    #[test]
    fn headers_ask_for_canned_acls_or_grants() {
        assert_eq!(requested(&h(&[])).unwrap(), Requested::Default);
        assert_eq!(
            requested(&h(&[("x-amz-acl", "public-read")])).unwrap(),
            Requested::Canned("public-read".into())
        );
        let e = requested(&h(&[("x-amz-acl", "public")])).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::InvalidArgument);
        let grant =
            format!("id=\"{OTHER}\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"");
        let asked = requested(&h(&[("x-amz-grant-read", &grant)])).unwrap();
        let Requested::Grants(acl) = asked else {
            panic!("{asked:?}")
        };
        assert_eq!(acl.grants.len(), 2);
        assert!(acl.allows(None, Permission::Read, false));
        assert!(acl.allows(Some(OTHER), Permission::Read, false));
        assert!(!acl.allows(Some(OTHER), Permission::Write, false));
        // Both forms at once; bad ids, URIs and e-mail grantees.
        let both = [
            ("x-amz-acl", "private"),
            ("x-amz-grant-read", grant.as_str()),
        ];
        assert_eq!(
            requested(&h(&both)).unwrap_err().code,
            S3ErrorCode::InvalidRequest
        );
        let cases = [
            ("id=\"abc\"", S3ErrorCode::InvalidArgument),
            ("uri=\"http://example.com/x\"", S3ErrorCode::InvalidArgument),
            (
                "emailAddress=\"a@b.c\"",
                S3ErrorCode::UnresolvableGrantByEmailAddress,
            ),
            ("nonsense", S3ErrorCode::InvalidArgument),
        ];
        for (v, code) in cases {
            let e = requested(&h(&[("x-amz-grant-write", v)])).unwrap_err();
            assert_eq!(e.code, code, "{v}");
        }
    }

    fn policy(owner: &str, grants: &str) -> String {
        format!(
            "<AccessControlPolicy xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Owner><ID>{owner}</ID></Owner><AccessControlList>{grants}</AccessControlList></AccessControlPolicy>"
        )
    }

    const XSI: &str = "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

    #[test]
    fn access_control_policies_parse_strictly() {
        let user = format!("<Grant><Grantee {XSI} xsi:type=\"CanonicalUser\"><ID>{OTHER}</ID><DisplayName>x</DisplayName></Grantee><Permission>WRITE_ACP</Permission></Grant>");
        let group = format!("<Grant><Grantee {XSI} xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AuthenticatedUsers</URI></Grantee><Permission>READ</Permission></Grant>");
        let acl = parse_policy(policy(OWNER, &(user.clone() + &group)).as_bytes(), OWNER).unwrap();
        assert!(acl.allows(Some(OTHER), Permission::WriteAcp, false));
        assert!(acl.allows(Some(OWNER), Permission::Read, false));
        assert!(!acl.allows(None, Permission::Read, false));
        // What GetBucketAcl writes parses back to the same ACL, for its owner only.
        let mine = owner_id("ROOTKEY");
        let acl2 = Acl::canned("public-read", &mine, &mine).unwrap();
        let round = parse_policy(to_xml("ROOTKEY", &acl2).as_bytes(), &mine).unwrap();
        assert_eq!(round, acl2);
        let theirs = parse_policy(to_xml("ROOTKEY", &acl2).as_bytes(), OWNER);
        assert_eq!(theirs.unwrap_err().code, S3ErrorCode::AccessDenied);
        // Refusals: each with S3's code.
        let bad_perm = user.replace("WRITE_ACP", "WRITE_ACPX");
        let no_owner = "<AccessControlPolicy><AccessControlList/></AccessControlPolicy>";
        let email = format!("<Grant><Grantee {XSI} xsi:type=\"AmazonCustomerByEmail\"><EmailAddress>a@b.c</EmailAddress></Grantee><Permission>READ</Permission></Grant>");
        let bad_id = user.replace(OTHER, "123");
        let mismatch = user.replace("CanonicalUser", "Group");
        let many = group.repeat(MAX_GRANTS + 1);
        let cases: Vec<(String, S3ErrorCode)> = vec![
            (
                "<AccessControlPolicy>".into(),
                S3ErrorCode::MalformedACLError,
            ),
            (no_owner.into(), S3ErrorCode::MalformedACLError),
            (policy(OWNER, &bad_perm), S3ErrorCode::MalformedACLError),
            (policy(OTHER, &user), S3ErrorCode::AccessDenied),
            (
                policy(OWNER, &email),
                S3ErrorCode::UnresolvableGrantByEmailAddress,
            ),
            (policy(OWNER, &bad_id), S3ErrorCode::InvalidArgument),
            (policy(OWNER, &mismatch), S3ErrorCode::MalformedACLError),
            (policy(OWNER, &many), S3ErrorCode::MalformedACLError),
            (
                format!("{}{}", "<a>".repeat(10_000), "</a>".repeat(10_000)),
                S3ErrorCode::MalformedACLError,
            ),
        ];
        for (doc, code) in cases {
            let got = parse_policy(doc.as_bytes(), OWNER)
                .map(|_| ())
                .map_err(|e| e.code);
            assert_eq!(got, Err(code), "{}", &doc[..doc.len().min(200)]);
        }
    }
}
