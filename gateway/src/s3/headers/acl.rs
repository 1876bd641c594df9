//! The ACL a request's headers ask for: a canned `x-amz-acl` or `x-amz-grant-*` grants.

use actix_web::http::header::HeaderMap;

use super::get;
use crate::model::acl::xml::invalid;
use crate::model::acl::{
    valid_canonical_id, Acl, Grant, Grantee, Group, Permission, CANNED, MAX_GRANTS,
};
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};

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
        if let Some(v) = get(h, name) {
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
    match (get(h, "x-amz-acl"), any_grant) {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::http::header::{HeaderName, HeaderValue};

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
}
