//! Who may do what: the root key, bucket owners, users with identity policies and anonymous
//! callers, under bucket policies, ACLs, Object Ownership and conditions on object tags.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::acl;
use crate::model::owner::user_owner;
use coffer_proto::types::Versioning;

fn bucket(owner: &str) -> BucketInfo {
    BucketInfo {
        id: 1,
        name: "b".into(),
        created_ms: 0,
        owner: owner.into(),
        location: String::new(),
        versioning: Versioning::Unversioned,
    }
}

fn authz(caller: Caller, owner: &str, identity: &[&str], policy: Option<&str>) -> Authz {
    let facts = AuthzFacts {
        identity_policies: identity
            .iter()
            .map(|d| ("user/x/p".to_owned(), (*d).to_owned()))
            .collect(),
        bucket: Some(bucket("arn:aws:iam:::user/owner")),
        bucket_policy: policy.map(str::to_owned),
        bucket_ownership: Some("BucketOwnerEnforced".into()),
        ..AuthzFacts::default()
    };
    from_facts(caller, owner, facts)
}

fn from_facts(caller: Caller, owner: &str, facts: AuthzFacts) -> Authz {
    let cache = cache::PolicyCache::default();
    Authz::new(caller, owner.into(), facts, Context::default(), &cache)
}

fn user(name: &str) -> Caller {
    Caller::User {
        name: name.into(),
        user_id: format!("AIDA{name}"),
        canonical_id: owner_id(&user_owner(name)),
    }
}

const DENY_ALL: &str = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}}"#;
const READ: &str =
    r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#;

fn get() -> Endpoint {
    Endpoint::GetObject { key: "k".into() }
}

#[test]
fn who_may_do_what() {
    let denied = |a: &Authz, e: &Endpoint| a.check(e, "b", false).is_err();
    let root = || Caller::Root {
        canonical_id: String::new(),
    };
    // The root key: everything, unless a bucket policy denies; policy management always.
    let r = authz(root(), "ROOT", &[], None);
    assert!(!denied(&r, &get()));
    let r = authz(root(), "ROOT", &[], Some(DENY_ALL));
    assert!(denied(&r, &get()));
    assert!(!denied(&r, &Endpoint::DeleteBucketPolicy));
    // The bucket owner likewise.
    let o = authz(user("owner"), "arn:aws:iam:::user/owner", &[], None);
    assert!(!denied(&o, &get()) && !denied(&o, &Endpoint::PutBucketPolicy));
    // Another user: only what an identity policy allows, and never past a Deny.
    let u = authz(user("u"), "arn:aws:iam:::user/u", &[], None);
    assert!(denied(&u, &get()));
    let u = authz(user("u"), "arn:aws:iam:::user/u", &[READ], None);
    assert!(!denied(&u, &get()));
    assert!(denied(&u, &Endpoint::PutObject { key: "k".into() }));
    assert!(denied(&u, &Endpoint::PutBucketPolicy));
    let u = authz(user("u"), "arn:aws:iam:::user/u", &[READ], Some(DENY_ALL));
    assert!(denied(&u, &get()));
    // Anonymous: nothing without a policy for "*"; not even an answer of NotImplemented.
    let a = authz(Caller::Anonymous, "", &[], None);
    assert!(denied(&a, &get()));
    assert!(denied(&a, &Endpoint::NotImplemented("acl")));
    // A stored policy that no longer parses denies everything but policy management.
    let b = authz(user("owner"), "arn:aws:iam:::user/owner", &[], Some("{"));
    assert!(denied(&b, &get()));
    assert!(!denied(&b, &Endpoint::DeleteBucketPolicy));
}

/// An ObjectWriter bucket of "arn:aws:iam:::user/owner" whose ACL is `bucket_acl`.
fn acl_bucket(caller: Caller, owner: &str, bucket_acl: &Acl, pab: &str) -> Authz {
    let facts = AuthzFacts {
        bucket: Some(bucket("arn:aws:iam:::user/owner")),
        bucket_acl: Some(bucket_acl.encode()),
        bucket_ownership: Some("ObjectWriter".into()),
        bucket_public_access_block: Some(pab.into()),
        ..AuthzFacts::default()
    };
    from_facts(caller, owner, facts)
}

#[test]
fn acls_authorize_where_ownership_enables_them() {
    let owner = owner_id(&user_owner("owner"));
    let public_rw = Acl::canned("public-read-write", &owner, &owner).unwrap();
    let put = Endpoint::PutObject { key: "k".into() };
    let list = Endpoint::ListObjects;
    let allowed = |a: &Authz, e: &Endpoint| matches!(a.check(e, "b", false), Ok(None));
    // Anyone may list and write a public-read-write bucket; only the owner reads its ACL.
    let a = acl_bucket(Caller::Anonymous, "", &public_rw, "{}");
    assert!(allowed(&a, &put) && allowed(&a, &list));
    assert!(a.check(&Endpoint::GetBucketAcl, "b", false).is_err());
    assert!(a.check(&Endpoint::DeleteBucket, "b", false).is_err());
    // IgnorePublicAcls takes the groups' grants away.
    let ignore = PublicAccessBlock {
        ignore_public_acls: true,
        ..PublicAccessBlock::default()
    };
    let a = acl_bucket(Caller::Anonymous, "", &public_rw, &ignore.encode());
    assert!(a.check(&put, "b", false).is_err());
    // A grant to one user by canonical id.
    let mut grant = Acl::private(&owner);
    grant.grants.push(acl::Grant {
        grantee: acl::Grantee::User(owner_id(&user_owner("u"))),
        permission: Permission::ReadAcp,
    });
    let u = acl_bucket(user("u"), &user_owner("u"), &grant, "{}");
    assert!(allowed(&u, &Endpoint::GetBucketAcl));
    assert!(u.check(&Endpoint::PutBucketAcl, "b", false).is_err());
    let v = acl_bucket(user("v"), &user_owner("v"), &grant, "{}");
    assert!(v.check(&Endpoint::GetBucketAcl, "b", false).is_err());
    // IgnorePublicAcls also silences an object's public grants.
    let readable = Acl::canned("public-read", &owner, &owner).unwrap().encode();
    let object = |owner: &str, acl: Option<&str>| ObjectFacts {
        version_id: "null".into(),
        owner: owner.into(),
        acl: acl.map(str::to_owned),
        tags: None,
    };
    let by_owner = "arn:aws:iam:::user/owner";
    let pending = a.check(&get(), "b", false).unwrap().unwrap();
    let public = object(by_owner, Some(&readable));
    assert!(a.settle(&pending, Some(&public)).is_err());
    // Reading an object: its own ACL and owner decide.
    let a = acl_bucket(Caller::Anonymous, "", &public_rw, "{}");
    let pending = a.check(&get(), "b", false).unwrap().unwrap();
    assert!(a.settle(&pending, Some(&public)).is_ok());
    assert!(a.settle(&pending, Some(&object(by_owner, None))).is_err());
    assert!(a.settle(&pending, None).is_err());
    // The bucket owner does not read what another user wrote and did not share ...
    let o = acl_bucket(user("owner"), &user_owner("owner"), &public_rw, "{}");
    let pending = o.check(&get(), "b", false).unwrap().unwrap();
    let theirs = object(&user_owner("u"), None);
    assert!(o.settle(&pending, Some(&theirs)).is_err());
    assert!(o.settle(&pending, Some(&object(by_owner, None))).is_ok());
    // ... but learns that a key is missing, and may delete anything.
    assert!(o.settle(&pending, None).is_ok());
    assert!(allowed(&o, &Endpoint::DeleteObject { key: "k".into() }));
    // Under BucketOwnerEnforced the same grants count for nothing.
    let e = authz(Caller::Anonymous, "", &[], None);
    assert!(e.check(&put, "b", false).is_err());
}

#[test]
fn policies_see_the_tags_of_the_object() {
    // Alice reads objects tagged team=red, and nothing tagged secret, whoever allows it.
    let read_red = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"red"}}}}"#;
    let deny_secret = r#"{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/secret":"yes"}}}}"#;
    let tagged = |tags: &[(&str, &str)]| ObjectFacts {
        version_id: "null".into(),
        owner: "arn:aws:iam:::user/owner".into(),
        acl: None,
        tags: Some(crate::model::tags::encode(
            &tags
                .iter()
                .map(|(k, v)| ((*k).into(), (*v).into()))
                .collect(),
        )),
    };
    let a = authz(
        user("alice"),
        &user_owner("alice"),
        &[read_red],
        Some(deny_secret),
    );
    let pending = a
        .check(&get(), "b", false)
        .unwrap()
        .expect("the tags are needed");
    assert!(a
        .settle(&pending, Some(&tagged(&[("team", "red")])))
        .is_ok());
    assert!(a
        .settle(&pending, Some(&tagged(&[("team", "blue")])))
        .is_err());
    let both = tagged(&[("team", "red"), ("secret", "yes")]);
    assert!(a.settle(&pending, Some(&both)).is_err());
    // The root key too is held to the bucket policy's Deny.
    let r = authz(
        Caller::Root {
            canonical_id: String::new(),
        },
        "ROOT",
        &[],
        Some(deny_secret),
    );
    let pending = r.check(&get(), "b", false).unwrap().unwrap();
    assert!(r.settle(&pending, Some(&both)).is_err());
    assert!(r.settle(&pending, Some(&tagged(&[]))).is_ok());
    // Without such conditions no object is read.
    let plain = authz(user("alice"), &user_owner("alice"), &[READ], None);
    assert!(matches!(plain.check(&get(), "b", false), Ok(None)));
}
