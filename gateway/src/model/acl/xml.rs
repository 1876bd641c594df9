//! The `<AccessControlPolicy>` document: parsed strictly for Put*Acl, written for Get*Acl.

use serde::Deserialize;

use super::{valid_canonical_id, Acl, Grant, Grantee, Group, Permission, MAX_GRANTS};
use crate::model::owner::{display_name, owner_id, owner_xml};
use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::{self, XmlWriter};

/// InvalidArgument naming the argument and its value.
pub fn invalid(msg: &'static str, name: &str, value: &str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, msg)
        .with("ArgumentName", name.to_owned())
        .with("ArgumentValue", value.to_owned())
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

/// One `<Grant>` as a request writes it (in an ACL, or in a logging status's TargetGrants).
#[derive(Debug, Deserialize)]
pub struct GrantXml {
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

pub fn malformed() -> S3Error {
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
        acl.grants.push(grant(g, malformed)?);
    }
    Ok(acl)
}

/// A `<Grant>`'s meaning; `malformed` is the error of one that does not make sense.
pub fn grant(g: GrantXml, malformed: fn() -> S3Error) -> S3Result<Grant> {
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
    Ok(Grant {
        grantee,
        permission,
    })
}

/// Write `<Grant>` `g` of a resource owned by `owner` (canonical id `owner_canonical`).
pub fn write_grant(x: &mut XmlWriter, g: &Grant, owner: &str, owner_canonical: &str) {
    const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";
    x.open("Grant");
    match &g.grantee {
        Grantee::User(id) => {
            let attrs = [("xmlns:xsi", XSI), ("xsi:type", "CanonicalUser")];
            x.open_attrs("Grantee", &attrs);
            x.elem("ID", id);
            if id == owner_canonical {
                x.elem("DisplayName", display_name(owner));
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

/// The `<AccessControlPolicy>` of a resource owned by `owner` (an owner id as records keep
/// it) with ACL `acl`.
pub fn to_xml(owner: &str, acl: &Acl) -> String {
    let owner_canonical = owner_id(owner);
    let mut x = XmlWriter::new();
    x.open_ns("AccessControlPolicy");
    owner_xml(&mut x, "Owner", owner);
    x.open("AccessControlList");
    for g in &acl.grants {
        write_grant(&mut x, g, owner, &owner_canonical);
    }
    x.close("AccessControlList");
    x.close("AccessControlPolicy");
    x.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const OWNER: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

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
