//! Access control lists as S3 has them: grants of READ, WRITE, READ_ACP, WRITE_ACP or
//! FULL_CONTROL to canonical users or to the AllUsers, AuthenticatedUsers and LogDelivery
//! groups; the canned ACLs; and Object Ownership, which decides whether ACLs count at all.
//! Documents are stored as JSON of [`Acl`]; a bucket or object without one has the default,
//! its owner's full control. [`xml`] is the `<AccessControlPolicy>` document.

pub mod xml;

use serde::{Deserialize, Serialize};

/// The AllUsers group: anyone, signed or not.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// The AuthenticatedUsers group: any signed caller.
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
/// The LogDelivery group (grants to it are kept; Coffer delivers no logs).
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";
/// Grants one ACL may hold (as S3).
pub const MAX_GRANTS: usize = 100;

/// A permission an ACL grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    /// List a bucket; read an object.
    Read,
    /// Create, overwrite and delete objects of a bucket.
    Write,
    /// Read the ACL.
    ReadAcp,
    /// Write the ACL.
    WriteAcp,
    /// All of the above.
    FullControl,
}

impl Permission {
    /// The S3 name (`READ_ACP`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::FullControl => "FULL_CONTROL",
        }
    }

    /// From the S3 name.
    pub fn parse(s: &str) -> Option<Permission> {
        [
            Permission::Read,
            Permission::Write,
            Permission::ReadAcp,
            Permission::WriteAcp,
            Permission::FullControl,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }

    /// Whether holding `self` gives `wanted`.
    fn covers(self, wanted: Permission) -> bool {
        self == Permission::FullControl || self == wanted
    }

    /// The permission a bucket's ACL (`object_acl`: an object's ACL) must grant for `action`,
    /// as S3 maps ACL permissions to actions; None: that ACL does not grant it.
    pub fn for_action(action: &str, object_acl: bool) -> Option<Permission> {
        Some(match (action, object_acl) {
            (
                "s3:ListBucket" | "s3:ListBucketVersions" | "s3:ListBucketMultipartUploads",
                false,
            ) => Permission::Read,
            ("s3:PutObject" | "s3:DeleteObject" | "s3:DeleteObjectVersion", false) => {
                Permission::Write
            }
            ("s3:GetBucketAcl", false) | ("s3:GetObjectAcl", true) => Permission::ReadAcp,
            ("s3:PutBucketAcl", false) | ("s3:PutObjectAcl", true) => Permission::WriteAcp,
            ("s3:GetObject" | "s3:GetObjectVersion", true) => Permission::Read,
            _ => return None,
        })
    }
}

/// A predefined group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Group {
    /// Anyone.
    AllUsers,
    /// Any signed caller.
    AuthenticatedUsers,
    /// S3's log delivery.
    LogDelivery,
}

impl Group {
    /// Its URI.
    pub fn uri(self) -> &'static str {
        match self {
            Group::AllUsers => ALL_USERS,
            Group::AuthenticatedUsers => AUTHENTICATED_USERS,
            Group::LogDelivery => LOG_DELIVERY,
        }
    }

    /// From its URI.
    pub fn from_uri(uri: &str) -> Option<Group> {
        [
            Group::AllUsers,
            Group::AuthenticatedUsers,
            Group::LogDelivery,
        ]
        .into_iter()
        .find(|g| g.uri() == uri)
    }
}

/// Who a grant is to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grantee {
    /// A canonical user id (64 hex characters).
    User(String),
    /// A group.
    Group(Group),
}

/// One grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// To whom.
    pub grantee: Grantee,
    /// What.
    pub permission: Permission,
}

/// An access control list (its owner is the bucket's or object's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Acl {
    /// The grants, in order.
    pub grants: Vec<Grant>,
}

/// The canned ACLs.
pub const CANNED: [&str; 7] = [
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
];

/// Whether `id` has the shape of a canonical user id.
pub fn valid_canonical_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

impl Acl {
    fn grant(&mut self, grantee: Grantee, permission: Permission) {
        self.grants.push(Grant {
            grantee,
            permission,
        });
    }

    /// The default ACL: `owner_id` (a canonical id) has full control.
    pub fn private(owner_id: &str) -> Acl {
        let mut acl = Acl::default();
        acl.grant(Grantee::User(owner_id.to_owned()), Permission::FullControl);
        acl
    }

    /// The canned ACL `name` for a resource owned by `owner_id` in a bucket owned by
    /// `bucket_owner_id` (None if there is no such canned ACL).
    pub fn canned(name: &str, owner_id: &str, bucket_owner_id: &str) -> Option<Acl> {
        let mut acl = Acl::private(owner_id);
        let group = |g| Grantee::Group(g);
        let bucket_owner = Grantee::User(bucket_owner_id.to_owned());
        match name {
            "private" => {}
            "public-read" => acl.grant(group(Group::AllUsers), Permission::Read),
            "public-read-write" => {
                acl.grant(group(Group::AllUsers), Permission::Read);
                acl.grant(group(Group::AllUsers), Permission::Write);
            }
            "authenticated-read" => acl.grant(group(Group::AuthenticatedUsers), Permission::Read),
            // The bucket owner's grants say nothing new when it owns the resource itself.
            "bucket-owner-read" | "bucket-owner-full-control" if owner_id == bucket_owner_id => {}
            "bucket-owner-read" => acl.grant(bucket_owner, Permission::Read),
            "bucket-owner-full-control" => acl.grant(bucket_owner, Permission::FullControl),
            "log-delivery-write" => {
                acl.grant(group(Group::LogDelivery), Permission::Write);
                acl.grant(group(Group::LogDelivery), Permission::ReadAcp);
            }
            _ => return None,
        }
        Some(acl)
    }

    /// The stored document.
    pub fn encode(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The ACL of a resource owned by `owner_id` whose stored document is `doc`. A document
    /// that does not decode (it did when stored) grants its owner alone.
    pub fn decode(doc: Option<&str>, owner_id: &str) -> Acl {
        doc.and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_else(|| Acl::private(owner_id))
    }

    /// Whether a grant goes to AllUsers or AuthenticatedUsers (what Block Public Access
    /// calls a public ACL).
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|g| {
            matches!(
                g.grantee,
                Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
            )
        })
    }

    /// Whether it grants nothing but `owner_id`'s full control (all that BucketOwnerEnforced
    /// accepts).
    pub fn owner_only(&self, owner_id: &str) -> bool {
        self.grants.iter().all(|g| {
            g.grantee == Grantee::User(owner_id.to_owned())
                && g.permission == Permission::FullControl
        })
    }

    /// Whether it grants `wanted` to the caller with canonical id `caller` (None:
    /// anonymous). `ignore_public`: IgnorePublicAcls is in force.
    pub fn allows(&self, caller: Option<&str>, wanted: Permission, ignore_public: bool) -> bool {
        self.grants.iter().any(|g| {
            let to_caller = match &g.grantee {
                Grantee::User(id) => caller == Some(id.as_str()),
                Grantee::Group(Group::AllUsers) => !ignore_public,
                Grantee::Group(Group::AuthenticatedUsers) => !ignore_public && caller.is_some(),
                Grantee::Group(Group::LogDelivery) => false,
            };
            to_caller && g.permission.covers(wanted)
        })
    }
}

/// Object Ownership of a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    /// ACLs are disabled; the bucket owner owns every object.
    BucketOwnerEnforced,
    /// Objects written with the bucket-owner-full-control canned ACL belong to the bucket
    /// owner; the others to their writer.
    BucketOwnerPreferred,
    /// Objects belong to their writer.
    ObjectWriter,
}

impl Ownership {
    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Ownership::BucketOwnerEnforced => "BucketOwnerEnforced",
            Ownership::BucketOwnerPreferred => "BucketOwnerPreferred",
            Ownership::ObjectWriter => "ObjectWriter",
        }
    }

    /// From its name.
    pub fn parse(s: &str) -> Option<Ownership> {
        [
            Ownership::BucketOwnerEnforced,
            Ownership::BucketOwnerPreferred,
            Ownership::ObjectWriter,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    /// The setting in force for a stored one: a bucket without one behaves as ObjectWriter
    /// (as on S3 after DeleteBucketOwnershipControls).
    pub fn from_stored(doc: Option<&str>) -> Ownership {
        doc.and_then(Ownership::parse)
            .unwrap_or(Ownership::ObjectWriter)
    }

    /// Whether ACLs authorize anything.
    pub fn acls_enabled(self) -> bool {
        self != Ownership::BucketOwnerEnforced
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const OWNER: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const OTHER: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    #[test]
    fn canned_acls_grant_what_s3_says() {
        use Permission::*;
        let acl = |name| Acl::canned(name, OWNER, OTHER).unwrap_or_default();
        let anon = None;
        let signed = Some(OTHER);
        // (canned, caller, permission, granted)
        let table = [
            ("private", Some(OWNER), FullControl, true),
            ("private", signed, Read, false),
            ("private", anon, Read, false),
            ("public-read", anon, Read, true),
            ("public-read", anon, Write, false),
            ("public-read", anon, ReadAcp, false),
            ("public-read-write", anon, Write, true),
            ("authenticated-read", anon, Read, false),
            ("authenticated-read", signed, Read, true),
            ("bucket-owner-read", signed, Read, true),
            ("bucket-owner-read", signed, WriteAcp, false),
            ("bucket-owner-full-control", signed, WriteAcp, true),
            ("log-delivery-write", signed, Write, false),
            ("log-delivery-write", anon, Write, false),
        ];
        for (name, caller, perm, want) in table {
            assert_eq!(
                acl(name).allows(caller, perm, false),
                want,
                "{name} {caller:?} {perm:?}"
            );
        }
        assert!(Acl::canned("public", OWNER, OTHER).is_none());
        // IgnorePublicAcls: the groups' grants count for nothing; users' still do.
        assert!(!acl("public-read").allows(anon, Read, true));
        assert!(!acl("authenticated-read").allows(signed, Read, true));
        assert!(acl("bucket-owner-read").allows(signed, Read, true));
        assert!(acl("public-read").is_public() && acl("authenticated-read").is_public());
        assert!(!acl("log-delivery-write").is_public() && !acl("private").is_public());
        // What BucketOwnerEnforced accepts.
        assert!(acl("private").owner_only(OWNER));
        assert!(Acl::canned("bucket-owner-full-control", OWNER, OWNER)
            .unwrap()
            .owner_only(OWNER));
        assert!(!acl("bucket-owner-full-control").owner_only(OWNER));
        assert!(!acl("public-read").owner_only(OWNER));
    }

    #[test]
    fn documents_round_trip_and_default_to_the_owner() {
        let acl = Acl::canned("public-read-write", OWNER, OTHER).unwrap();
        assert_eq!(Acl::decode(Some(&acl.encode()), OTHER), acl);
        assert_eq!(Acl::decode(None, OWNER), Acl::private(OWNER));
        assert_eq!(Acl::decode(Some("{"), OWNER), Acl::private(OWNER));
        assert_eq!(Permission::parse("READ_ACP"), Some(Permission::ReadAcp));
        assert_eq!(Permission::parse("Read"), None);
        assert_eq!(Group::from_uri(ALL_USERS), Some(Group::AllUsers));
        assert!(valid_canonical_id(OWNER) && !valid_canonical_id("abc"));
    }

    #[test]
    fn ownership_and_the_actions_acls_govern() {
        assert_eq!(Ownership::from_stored(None), Ownership::ObjectWriter);
        assert!(!Ownership::from_stored(Some("BucketOwnerEnforced")).acls_enabled());
        assert_eq!(Ownership::parse("bucketownerenforced"), None);
        let p = Permission::for_action;
        assert_eq!(p("s3:ListBucket", false), Some(Permission::Read));
        assert_eq!(p("s3:PutObject", false), Some(Permission::Write));
        assert_eq!(p("s3:GetObject", true), Some(Permission::Read));
        assert_eq!(p("s3:GetObject", false), None);
        assert_eq!(p("s3:PutObjectAcl", true), Some(Permission::WriteAcp));
        assert_eq!(p("s3:DeleteBucket", false), None);
        assert_eq!(p("s3:PutBucketPolicy", false), None);
    }
}
