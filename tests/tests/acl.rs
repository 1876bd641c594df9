//! ACLs and Object Ownership, as S3 has them: new buckets are BucketOwnerEnforced (ACLs
//! disabled: setting one is AccessControlListNotSupported); buckets created with ObjectWriter
//! or switched to it take canned ACLs, grant headers and AccessControlPolicy bodies on buckets,
//! objects, copies and multipart uploads, and those grants authorize for real: anonymous
//! callers through AllUsers, any signed caller through AuthenticatedUsers, one user by
//! canonical id. Block Public Access refuses (BlockPublicAcls) or silences (IgnorePublicAcls)
//! public grants.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::types::{
    AccessControlPolicy, BucketCannedAcl, Grant, Grantee, ObjectCannedAcl, ObjectOwnership, Owner,
    OwnershipControls, OwnershipControlsRule, Permission, PublicAccessBlockConfiguration, Type,
};
use aws_sdk_s3::Client;
use cluster_tests::{outcome, signed, LocalCluster};

#[tokio::test]
async fn acls_and_object_ownership() {
    tokio::time::timeout(Duration::from_secs(300), story())
        .await
        .expect("test timed out");
}

async fn put(c: &Client, bucket: &str, key: &str, acl: Option<ObjectCannedAcl>) -> String {
    let r = c
        .put_object()
        .bucket(bucket)
        .key(key)
        .set_acl(acl)
        .body(b"data".to_vec().into())
        .send()
        .await;
    outcome(r)
}

async fn get(c: &Client, bucket: &str, key: &str) -> String {
    outcome(c.get_object().bucket(bucket).key(key).send().await)
}

/// The status of an anonymous request.
async fn anonymous(method: reqwest::Method, url: String) -> u16 {
    let r = reqwest::Client::new().request(method, url).body("x");
    r.send().await.unwrap().status().as_u16()
}

fn ownership(o: ObjectOwnership) -> OwnershipControls {
    let rule = OwnershipControlsRule::builder()
        .object_ownership(o)
        .build()
        .unwrap();
    OwnershipControls::builder().rules(rule).build().unwrap()
}

fn user_grant(id: &str, p: Permission) -> Grant {
    let who = Grantee::builder()
        .r#type(Type::CanonicalUser)
        .id(id)
        .build()
        .unwrap();
    Grant::builder().grantee(who).permission(p).build()
}

/// The (owner id, [(grantee id or URI, permission)]) of an object's ACL.
async fn object_acl(c: &Client, bucket: &str, key: &str) -> (String, Vec<(String, String)>) {
    let acl = c
        .get_object_acl()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let owner = acl
        .owner()
        .and_then(|o| o.id())
        .unwrap_or_default()
        .to_owned();
    let grants = acl
        .grants()
        .iter()
        .map(|g| {
            let who = g.grantee().unwrap();
            let id = who.id().or(who.uri()).unwrap_or_default().to_owned();
            (id, g.permission().unwrap().as_str().to_owned())
        })
        .collect();
    (owner, grants)
}

async fn story() {
    let cluster = LocalCluster::start(1, &[]).await;
    let ep = cluster.endpoint.clone();
    let root = cluster.client();
    let alice = cluster.user_client("alice");
    let bob = cluster.user_client("bob");
    // A user learns its canonical id from ListBuckets, as on S3.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("list.json");
    std::fs::write(
        &f,
        r#"{"Statement":{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}}"#,
    )
    .unwrap();
    let f = f.to_string_lossy().into_owned();
    let out = cluster.admin_output(1, &["policy", "attach", "--user", "alice", "list", &f]);
    assert!(out.status.success(), "{out:?}");
    let listed = alice.list_buckets().send().await.unwrap();
    let alice_id = listed.owner().unwrap().id().unwrap().to_owned();
    let root_id = root
        .list_buckets()
        .send()
        .await
        .unwrap()
        .owner()
        .unwrap()
        .id()
        .unwrap()
        .to_owned();
    assert_eq!(alice_id.len(), 64);
    assert_ne!(alice_id, root_id);

    // A new bucket is BucketOwnerEnforced: ACLs are read as the owner's full control and
    // refused when they would grant anything else.
    root.create_bucket()
        .bucket("enforced")
        .send()
        .await
        .unwrap();
    let oc = root
        .get_bucket_ownership_controls()
        .bucket("enforced")
        .send()
        .await
        .unwrap();
    let rule = &oc.ownership_controls().unwrap().rules()[0];
    assert_eq!(
        rule.object_ownership(),
        &ObjectOwnership::BucketOwnerEnforced
    );
    let acl = root
        .get_bucket_acl()
        .bucket("enforced")
        .send()
        .await
        .unwrap();
    assert_eq!(acl.owner().unwrap().id(), Some(root_id.as_str()));
    assert_eq!(acl.grants().len(), 1);
    assert_eq!(acl.grants()[0].permission(), Some(&Permission::FullControl));
    let public = Some(ObjectCannedAcl::PublicRead);
    assert_eq!(
        put(&root, "enforced", "k", public.clone()).await,
        "AccessControlListNotSupported"
    );
    let full = Some(ObjectCannedAcl::BucketOwnerFullControl);
    assert_eq!(put(&root, "enforced", "k", full).await, "ok");
    let r = root
        .put_bucket_acl()
        .bucket("enforced")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(outcome(r), "AccessControlListNotSupported");
    let r = root
        .create_bucket()
        .bucket("refused")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(outcome(r), "InvalidBucketAclWithObjectOwnership");

    // ObjectWriter, public-read: anyone lists it, nobody writes to it anonymously.
    root.create_bucket()
        .bucket("open")
        .acl(BucketCannedAcl::PublicRead)
        .object_ownership(ObjectOwnership::ObjectWriter)
        .send()
        .await
        .unwrap();
    let get_url = |path: &str| format!("{ep}/{path}");
    assert_eq!(anonymous(reqwest::Method::GET, get_url("open")).await, 200);
    assert_eq!(
        anonymous(reqwest::Method::PUT, get_url("open/anon")).await,
        403
    );
    assert_eq!(
        anonymous(reqwest::Method::GET, get_url("open?acl")).await,
        403,
        "READ does not give READ_ACP"
    );
    let acl = root.get_bucket_acl().bucket("open").send().await.unwrap();
    let all_users = acl.grants().iter().any(|g| {
        g.grantee().and_then(|w| w.uri()) == Some("http://acs.amazonaws.com/groups/global/AllUsers")
            && g.permission() == Some(&Permission::Read)
    });
    assert!(all_users, "{acl:?}");

    // Object ACLs: public-read for everyone, authenticated-read for signed callers only, the
    // default for the owner alone.
    assert_eq!(put(&root, "open", "pub", public.clone()).await, "ok");
    let auth = Some(ObjectCannedAcl::AuthenticatedRead);
    assert_eq!(put(&root, "open", "auth", auth).await, "ok");
    assert_eq!(put(&root, "open", "priv", None).await, "ok");
    let table = [
        ("pub", 200, "ok"),
        ("auth", 403, "ok"),
        ("priv", 403, "AccessDenied"),
    ];
    for (key, anon, signed_user) in table {
        let url = get_url(&format!("open/{key}"));
        assert_eq!(anonymous(reqwest::Method::GET, url).await, anon, "{key}");
        assert_eq!(get(&alice, "open", key).await, signed_user, "{key}");
    }
    // Response header overrides need a signed request, as on S3.
    let url = get_url("open/pub?response-content-type=text%2Fplain");
    assert_eq!(anonymous(reqwest::Method::GET, url).await, 400);
    // A grant header for one user, by canonical id.
    root.put_object_acl()
        .bucket("open")
        .key("priv")
        .grant_read(format!("id=\"{alice_id}\""))
        .send()
        .await
        .unwrap();
    assert_eq!(get(&alice, "open", "priv").await, "ok");
    assert_eq!(get(&bob, "open", "priv").await, "AccessDenied");
    let (owner, grants) = object_acl(&root, "open", "priv").await;
    assert_eq!(owner, root_id);
    assert_eq!(grants, vec![(alice_id.clone(), "READ".to_owned())]);
    // Reading an ACL is READ_ACP, not READ.
    assert_eq!(
        outcome(
            alice
                .get_object_acl()
                .bucket("open")
                .key("priv")
                .send()
                .await
        ),
        "AccessDenied"
    );

    // An AccessControlPolicy body gives alice WRITE on the bucket: her objects are hers.
    let policy = AccessControlPolicy::builder()
        .owner(Owner::builder().id(&root_id).build())
        .grants(user_grant(&root_id, Permission::FullControl))
        .grants(user_grant(&alice_id, Permission::Write))
        .build();
    root.put_bucket_acl()
        .bucket("open")
        .access_control_policy(policy)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous(reqwest::Method::GET, get_url("open")).await, 403);
    assert_eq!(put(&alice, "open", "alices", None).await, "ok");
    assert_eq!(put(&bob, "open", "bobs", None).await, "AccessDenied");
    assert_eq!(get(&alice, "open", "alices").await, "ok", "her own object");
    assert_eq!(get(&bob, "open", "alices").await, "AccessDenied");
    let (owner, _) = object_acl(&alice, "open", "alices").await;
    assert_eq!(owner, alice_id);
    // Changing the owner in a policy body is AccessDenied.
    let theft = AccessControlPolicy::builder()
        .owner(Owner::builder().id(&alice_id).build())
        .grants(user_grant(&alice_id, Permission::FullControl))
        .build();
    let r = root
        .put_bucket_acl()
        .bucket("open")
        .access_control_policy(theft)
        .send()
        .await;
    assert_eq!(outcome(r), "AccessDenied");

    // Copies and multipart uploads take their ACL from their own request.
    root.copy_object()
        .bucket("open")
        .key("copy")
        .copy_source("open/priv")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    assert_eq!(
        anonymous(reqwest::Method::GET, get_url("open/copy")).await,
        200
    );
    let up = root
        .create_multipart_upload()
        .bucket("open")
        .key("mp")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    cluster_tests::upload_and_complete(&root, "open", "mp", id, &[b"part".to_vec()]).await;
    assert_eq!(
        anonymous(reqwest::Method::GET, get_url("open/mp")).await,
        200
    );

    // Block Public Access: IgnorePublicAcls silences public grants, BlockPublicAcls refuses
    // new ones.
    let pab = |block: bool, ignore: bool| {
        PublicAccessBlockConfiguration::builder()
            .block_public_acls(block)
            .ignore_public_acls(ignore)
            .build()
    };
    let set_pab = |block, ignore| {
        root.put_public_access_block()
            .bucket("open")
            .public_access_block_configuration(pab(block, ignore))
            .send()
    };
    set_pab(false, true).await.unwrap();
    assert_eq!(
        anonymous(reqwest::Method::GET, get_url("open/pub")).await,
        403
    );
    set_pab(true, false).await.unwrap();
    assert_eq!(
        anonymous(reqwest::Method::GET, get_url("open/pub")).await,
        200
    );
    assert_eq!(
        put(&root, "open", "pub2", public.clone()).await,
        "AccessDenied"
    );
    let r = root
        .put_object_acl()
        .bucket("open")
        .key("priv")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(outcome(r), "AccessDenied");
    assert_eq!(put(&root, "open", "priv2", None).await, "ok");
    root.delete_public_access_block()
        .bucket("open")
        .send()
        .await
        .unwrap();

    // BucketOwnerPreferred: bucket-owner-full-control hands the object to the bucket owner.
    let set_ownership = |o| {
        root.put_bucket_ownership_controls()
            .bucket("open")
            .ownership_controls(ownership(o))
            .send()
    };
    set_ownership(ObjectOwnership::BucketOwnerPreferred)
        .await
        .unwrap();
    let full = Some(ObjectCannedAcl::BucketOwnerFullControl);
    assert_eq!(put(&alice, "open", "given", full).await, "ok");
    assert_eq!(put(&alice, "open", "kept", None).await, "ok");
    assert_eq!(object_acl(&root, "open", "given").await.0, root_id);
    assert_eq!(object_acl(&alice, "open", "kept").await.0, alice_id);

    // Disabling ACLs needs a bucket ACL that grants the owner alone; then grants count for
    // nothing and the bucket owner owns everything.
    let r = set_ownership(ObjectOwnership::BucketOwnerEnforced).await;
    assert_eq!(outcome(r), "InvalidBucketAclWithObjectOwnership");
    root.put_bucket_acl()
        .bucket("open")
        .acl(BucketCannedAcl::Private)
        .send()
        .await
        .unwrap();
    set_ownership(ObjectOwnership::BucketOwnerEnforced)
        .await
        .unwrap();
    assert_eq!(
        anonymous(reqwest::Method::GET, get_url("open/pub")).await,
        403
    );
    assert_eq!(get(&alice, "open", "priv").await, "AccessDenied");
    assert_eq!(object_acl(&root, "open", "kept").await.0, root_id);
    // Without the setting the bucket behaves as ObjectWriter: the grants count again.
    root.delete_bucket_ownership_controls()
        .bucket("open")
        .send()
        .await
        .unwrap();
    let gone = root
        .get_bucket_ownership_controls()
        .bucket("open")
        .send()
        .await;
    assert_eq!(outcome(gone), "OwnershipControlsNotFoundError");
    assert_eq!(
        anonymous(reqwest::Method::GET, get_url("open/pub")).await,
        200
    );

    // Bad ACL documents and headers get S3's errors.
    let raw = |body: String| {
        signed(reqwest::Method::PUT, &ep, "/open?acl", &[])
            .body(body)
            .send()
    };
    let oversized = format!(
        "<AccessControlPolicy><Owner><ID>{root_id}</ID></Owner><AccessControlList>{}</AccessControlList></AccessControlPolicy>",
        "<Grant/>".repeat(10_000)
    );
    let cases = [
        ("<AccessControlPolicy>".to_owned(), 400, "MalformedACLError"),
        (
            "<AccessControlPolicy><AccessControlList/></AccessControlPolicy>".to_owned(),
            400,
            "MalformedACLError",
        ),
        (oversized, 400, "MalformedACLError"),
    ];
    for (body, status, want) in cases {
        let shown = body.chars().take(80).collect::<String>();
        let r = raw(body).await.unwrap();
        assert_eq!(r.status().as_u16(), status, "{shown}");
        let text = r.text().await.unwrap();
        assert!(text.contains(&format!("<Code>{want}</Code>")), "{text}");
    }
    let r = signed(
        reqwest::Method::PUT,
        &ep,
        "/open/priv?acl",
        &[
            ("x-amz-acl", "private"),
            (
                "x-amz-grant-read",
                "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"",
            ),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<Code>InvalidRequest</Code>"));
    let r = root
        .put_object()
        .bucket("open")
        .key("e")
        .grant_read("emailAddress=\"someone@example.com\"")
        .body(b"x".to_vec().into())
        .send()
        .await;
    assert_eq!(outcome(r), "UnresolvableGrantByEmailAddress");
}

/// `--default-object-ownership ObjectWriter`: tools that set ACLs on buckets they create,
/// without asking for ACLs to be enabled, work as they did on S3 before 2023; a bucket that
/// asks for BucketOwnerEnforced still gets it.
#[tokio::test]
async fn a_configured_default_ownership_lets_acl_tools_work() {
    let s =
        cluster_tests::Server::start_with(&["--default-object-ownership", "ObjectWriter"]).await;
    let c = s.client();
    c.create_bucket()
        .bucket("legacy")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await
        .unwrap_or_else(|e| panic!("CreateBucket with a canned ACL: {e:?}"));
    let controls = c
        .get_bucket_ownership_controls()
        .bucket("legacy")
        .send()
        .await
        .unwrap();
    let rule = &controls.ownership_controls().unwrap().rules()[0];
    assert_eq!(rule.object_ownership(), &ObjectOwnership::ObjectWriter);
    assert_eq!(
        put(&c, "legacy", "page", Some(ObjectCannedAcl::PublicRead)).await,
        "ok"
    );
    let url = format!("{}/legacy/page", s.endpoint);
    assert_eq!(anonymous(reqwest::Method::GET, url).await, 200);
    c.create_bucket()
        .bucket("strict")
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .send()
        .await
        .unwrap();
    assert_eq!(
        put(&c, "strict", "page", Some(ObjectCannedAcl::PublicRead)).await,
        "AccessControlListNotSupported"
    );
    let e = c
        .create_bucket()
        .bucket("strict2")
        .object_ownership(ObjectOwnership::BucketOwnerEnforced)
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(outcome(e), "InvalidBucketAclWithObjectOwnership");
}

/// Without the setting, S3's default since 2023: ACLs are disabled on new buckets.
#[tokio::test]
async fn new_buckets_are_bucket_owner_enforced_by_default() {
    let s = cluster_tests::Server::start().await;
    let c = s.client();
    let e = c
        .create_bucket()
        .bucket("acl-asked")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(outcome(e), "InvalidBucketAclWithObjectOwnership");
    c.create_bucket().bucket("plain").send().await.unwrap();
    assert_eq!(
        put(&c, "plain", "k", Some(ObjectCannedAcl::PublicRead)).await,
        "AccessControlListNotSupported"
    );
    assert_eq!(
        put(
            &c,
            "plain",
            "k",
            Some(ObjectCannedAcl::BucketOwnerFullControl)
        )
        .await,
        "ok"
    );
    let e = c
        .put_bucket_acl()
        .bucket("plain")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(outcome(e), "AccessControlListNotSupported");
    let e = c
        .put_object_acl()
        .bucket("plain")
        .key("k")
        .acl(ObjectCannedAcl::PublicRead)
        .send()
        .await;
    assert_eq!(outcome(e), "AccessControlListNotSupported");
}
