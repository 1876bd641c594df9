//! Versioning through a real server and the AWS SDK: Put/GetBucketVersioning and its refusals,
//! every write answering its version id, reads by id, delete markers and what reads of them
//! answer, removing versions for good, the suspended state's null version, DeleteObjects,
//! per-version tags, copies from an old version, ListObjectVersions paging, and many writers
//! on one key.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use aws_sdk_s3::types::{BucketVersioningStatus, Delete, ObjectIdentifier, Tag, Tagging};
use cluster_tests::{code, get_bytes, set_versioning, signed, status, Server};

async fn put(c: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) -> Option<String> {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .unwrap()
        .version_id
}

async fn get_version(c: &aws_sdk_s3::Client, bucket: &str, key: &str, id: &str) -> String {
    let o = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .version_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(o.version_id(), Some(id));
    String::from_utf8(o.body.collect().await.unwrap().to_vec()).unwrap()
}

/// (key, version id, is latest, is a delete marker) of every entry of a bucket's version
/// listing, in order, paging `page` at a time.
async fn versions(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    page: i32,
) -> Vec<(String, String, bool, bool)> {
    let mut out = Vec::new();
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let r = c
            .list_object_versions()
            .bucket(bucket)
            .max_keys(page)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .unwrap();
        // Versions and markers come as separate lists; their order is by key, newest first.
        let mut page_rows: Vec<(String, String, bool, bool)> = r
            .versions()
            .iter()
            .map(|v| {
                let row = (
                    v.key().unwrap(),
                    v.version_id().unwrap(),
                    v.is_latest().unwrap(),
                );
                (row.0.to_owned(), row.1.to_owned(), row.2, false)
            })
            .chain(r.delete_markers().iter().map(|m| {
                let row = (
                    m.key().unwrap(),
                    m.version_id().unwrap(),
                    m.is_latest().unwrap(),
                );
                (row.0.to_owned(), row.1.to_owned(), row.2, true)
            }))
            .collect();
        // The SDK splits versions from markers; put them back in S3's order: by key, the
        // latest first, then by id (stamped ids sort newest first; these tests' `null`
        // versions are either latest or the oldest).
        page_rows.sort_by(|a, b| (&a.0, !a.2, &a.1).cmp(&(&b.0, !b.2, &b.1)));
        out.extend(page_rows);
        if !r.is_truncated().unwrap_or(false) {
            return out;
        }
        key_marker = r.next_key_marker().map(str::to_owned);
        version_marker = r.next_version_id_marker().map(str::to_owned);
    }
}

#[tokio::test]
async fn the_versioning_configuration_moves_forward_only_and_refuses_mfa() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("vc-bucket").send().await.unwrap();
    let status_of = || c.get_bucket_versioning().bucket("vc-bucket").send();
    assert_eq!(status_of().await.unwrap().status(), None);
    let raw = signed(
        reqwest::Method::GET,
        &s.endpoint,
        "/vc-bucket?versioning",
        &[],
    )
    .send()
    .await
    .unwrap();
    let body = raw.text().await.unwrap();
    assert!(body.contains("<VersioningConfiguration"), "{body}");
    assert!(!body.contains("<Status>"), "{body}");
    set_versioning(&c, "vc-bucket", BucketVersioningStatus::Enabled).await;
    assert_eq!(
        status_of().await.unwrap().status(),
        Some(&BucketVersioningStatus::Enabled)
    );
    set_versioning(&c, "vc-bucket", BucketVersioningStatus::Suspended).await;
    assert_eq!(
        status_of().await.unwrap().status(),
        Some(&BucketVersioningStatus::Suspended)
    );
    let put_raw = |xml: &'static str, extra: &'static [(&'static str, &'static str)]| {
        signed(
            reqwest::Method::PUT,
            &s.endpoint,
            "/vc-bucket?versioning",
            extra,
        )
        .body(xml)
        .send()
    };
    for bad in [
        "<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
        "<VersioningConfiguration><Status>Unversioned</Status></VersioningConfiguration>",
        "<VersioningConfiguration></VersioningConfiguration>",
        "<VersioningConfiguration><Status>Enabled</Status>",
        "not xml",
    ] {
        let r = put_raw(bad, &[]).await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("<Code>MalformedXML</Code>"));
    }
    let mfa = "<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>";
    let r = put_raw(mfa, &[]).await.unwrap();
    assert_eq!(r.status(), 501);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("MFA Delete is not supported"));
    let ok = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
    let r = put_raw(ok, &[("x-amz-mfa", "arn:aws:iam::1:mfa/x 123456")])
        .await
        .unwrap();
    assert_eq!(r.status(), 501);
    // None of the refusals changed anything.
    assert_eq!(
        status_of().await.unwrap().status(),
        Some(&BucketVersioningStatus::Suspended)
    );
    let missing = c.get_bucket_versioning().bucket("nope").send().await;
    assert_eq!(code(&missing.unwrap_err()), "NoSuchBucket");
}

#[tokio::test]
async fn an_enabled_bucket_keeps_every_version_and_delete_markers_hide_keys() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("ve-bucket").send().await.unwrap();
    // Unversioned: no version id in answers.
    assert_eq!(put(&c, "ve-bucket", "k", "zero").await, None);
    set_versioning(&c, "ve-bucket", BucketVersioningStatus::Enabled).await;
    let v1 = put(&c, "ve-bucket", "k", "one").await.unwrap();
    let v2 = put(&c, "ve-bucket", "k", "two").await.unwrap();
    assert_ne!(v1, v2);
    assert_eq!(get_version(&c, "ve-bucket", "k", &v1).await, "one");
    assert_eq!(get_version(&c, "ve-bucket", "k", "null").await, "zero");
    assert_eq!(get_bytes(&c, "ve-bucket", "k").await, b"two");
    let head = c
        .head_object()
        .bucket("ve-bucket")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.version_id(), Some(v2.as_str()));

    // DELETE without an id adds a marker and says so.
    let d = c
        .delete_object()
        .bucket("ve-bucket")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(d.delete_marker(), Some(true));
    let marker = d.version_id().unwrap().to_owned();
    let raw = signed(reqwest::Method::GET, &s.endpoint, "/ve-bucket/k", &[])
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 404);
    assert_eq!(raw.headers()["x-amz-delete-marker"], "true");
    assert_eq!(raw.headers()["x-amz-version-id"], marker.as_str());
    assert!(raw.text().await.unwrap().contains("<Code>NoSuchKey</Code>"));
    // The marker by its id: 405, with the marker's headers.
    let raw = signed(
        reqwest::Method::GET,
        &s.endpoint,
        &format!("/ve-bucket/k?versionId={marker}"),
        &[],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(raw.status(), 405);
    assert_eq!(raw.headers()["x-amz-delete-marker"], "true");
    assert!(raw.headers().contains_key("last-modified"));
    assert!(raw
        .text()
        .await
        .unwrap()
        .contains("<Code>MethodNotAllowed</Code>"));
    let head = c
        .head_object()
        .bucket("ve-bucket")
        .key("k")
        .version_id(&marker)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&head), 405);
    // Listing hides the key; the versions are all there.
    let listed = c
        .list_objects_v2()
        .bucket("ve-bucket")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.key_count(), Some(0));
    assert_eq!(
        versions(&c, "ve-bucket", 1000).await,
        vec![
            ("k".to_owned(), marker.clone(), true, true),
            ("k".to_owned(), v2.clone(), false, false),
            ("k".to_owned(), v1.clone(), false, false),
            ("k".to_owned(), "null".to_owned(), false, false),
        ]
    );
    // A second DELETE stacks another marker.
    let again = c
        .delete_object()
        .bucket("ve-bucket")
        .key("k")
        .send()
        .await
        .unwrap();
    let marker2 = again.version_id().unwrap().to_owned();
    assert_ne!(marker2, marker);

    // Removing the markers by id brings the key back.
    for m in [&marker2, &marker] {
        let d = c
            .delete_object()
            .bucket("ve-bucket")
            .key("k")
            .version_id(m)
            .send()
            .await
            .unwrap();
        assert_eq!(d.delete_marker(), Some(true));
        assert_eq!(d.version_id(), Some(m.as_str()));
    }
    assert_eq!(get_bytes(&c, "ve-bucket", "k").await, b"two");

    // Restoring an old version: copy it over the key.
    let copied = c
        .copy_object()
        .bucket("ve-bucket")
        .key("k")
        .copy_source(format!("ve-bucket/k?versionId={v1}"))
        .send()
        .await
        .unwrap();
    assert_eq!(copied.copy_source_version_id(), Some(v1.as_str()));
    let v3 = copied.version_id().unwrap().to_owned();
    assert_eq!(get_bytes(&c, "ve-bucket", "k").await, b"one");

    // Removing the current version for good makes the previous one current.
    c.delete_object()
        .bucket("ve-bucket")
        .key("k")
        .version_id(&v3)
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&c, "ve-bucket", "k").await, b"two");
    let e = c
        .get_object()
        .bucket("ve-bucket")
        .key("k")
        .version_id(&v3)
        .send()
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (404, "NoSuchVersion"));
    // Deleting it again: nothing to do, and no error.
    c.delete_object()
        .bucket("ve-bucket")
        .key("k")
        .version_id(&v3)
        .send()
        .await
        .unwrap();
    // A bucket with versions left is not empty.
    for (key, id, _, _) in versions(&c, "ve-bucket", 1000).await {
        let e = c
            .delete_bucket()
            .bucket("ve-bucket")
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "BucketNotEmpty");
        c.delete_object()
            .bucket("ve-bucket")
            .key(key)
            .version_id(id)
            .send()
            .await
            .unwrap();
    }
    c.delete_bucket().bucket("ve-bucket").send().await.unwrap();
}

#[tokio::test]
async fn a_suspended_bucket_writes_and_deletes_the_null_version() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("vs-bucket").send().await.unwrap();
    set_versioning(&c, "vs-bucket", BucketVersioningStatus::Enabled).await;
    let v1 = put(&c, "vs-bucket", "k", "one").await.unwrap();
    set_versioning(&c, "vs-bucket", BucketVersioningStatus::Suspended).await;
    assert_eq!(
        put(&c, "vs-bucket", "k", "two").await.as_deref(),
        Some("null")
    );
    assert_eq!(
        put(&c, "vs-bucket", "k", "three").await.as_deref(),
        Some("null")
    );
    assert_eq!(
        versions(&c, "vs-bucket", 1000).await,
        vec![
            ("k".to_owned(), "null".to_owned(), true, false),
            ("k".to_owned(), v1.clone(), false, false),
        ]
    );
    let d = c
        .delete_object()
        .bucket("vs-bucket")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        (d.delete_marker(), d.version_id()),
        (Some(true), Some("null"))
    );
    assert_eq!(
        versions(&c, "vs-bucket", 1000).await,
        vec![
            ("k".to_owned(), "null".to_owned(), true, true),
            ("k".to_owned(), v1.clone(), false, false),
        ]
    );
    assert_eq!(get_version(&c, "vs-bucket", "k", &v1).await, "one");
}

#[tokio::test]
async fn delete_objects_reports_markers_and_removed_versions() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("vd-bucket").send().await.unwrap();
    set_versioning(&c, "vd-bucket", BucketVersioningStatus::Enabled).await;
    let a1 = put(&c, "vd-bucket", "a", "a1").await.unwrap();
    let a2 = put(&c, "vd-bucket", "a", "a2").await.unwrap();
    let b1 = put(&c, "vd-bucket", "b", "b1").await.unwrap();
    let id = |k: &str, v: Option<&str>| {
        ObjectIdentifier::builder()
            .key(k)
            .set_version_id(v.map(str::to_owned))
            .build()
            .unwrap()
    };
    let r = c
        .delete_objects()
        .bucket("vd-bucket")
        .delete(
            Delete::builder()
                .objects(id("a", Some(&a1)))
                .objects(id("b", None))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(r.errors().is_empty(), "{:?}", r.errors());
    let by_key = |k: &str| r.deleted().iter().find(|d| d.key() == Some(k)).unwrap();
    assert_eq!(by_key("a").version_id(), Some(a1.as_str()));
    assert_eq!(by_key("a").delete_marker(), None);
    assert_eq!(by_key("b").delete_marker(), Some(true));
    let marker = by_key("b").delete_marker_version_id().unwrap().to_owned();
    assert_eq!(
        versions(&c, "vd-bucket", 1000).await,
        vec![
            ("a".to_owned(), a2.clone(), true, false),
            ("b".to_owned(), marker.clone(), true, true),
            ("b".to_owned(), b1.clone(), false, false),
        ]
    );
    // Removing the marker by id reports that it was one.
    let r = c
        .delete_objects()
        .bucket("vd-bucket")
        .delete(
            Delete::builder()
                .objects(id("b", Some(&marker)))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.deleted()[0].delete_marker(), Some(true));
    assert_eq!(get_bytes(&c, "vd-bucket", "b").await, b"b1");

    // A conditional delete that names a version: the condition is on the current version.
    let a3 = c
        .put_object()
        .bucket("vd-bucket")
        .key("a")
        .body(b"a3".to_vec().into())
        .send()
        .await
        .unwrap();
    let delete_if = |v: &str, etag: &str| {
        c.delete_object()
            .bucket("vd-bucket")
            .key("a")
            .version_id(v)
            .if_match(etag)
            .send()
    };
    let e = delete_if(&a2, "\"0123456789abcdef0123456789abcdef\"")
        .await
        .unwrap_err();
    assert_eq!((status(&e), code(&e).as_str()), (412, "PreconditionFailed"));
    assert_eq!(get_version(&c, "vd-bucket", "a", &a2).await, "a2");
    let r = c
        .delete_objects()
        .bucket("vd-bucket")
        .delete(
            Delete::builder()
                .objects(
                    ObjectIdentifier::builder()
                        .key("a")
                        .version_id(&a2)
                        .e_tag("\"0123456789abcdef0123456789abcdef\"")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.errors()[0].code(), Some("PreconditionFailed"));
    let done = delete_if(&a2, a3.e_tag().unwrap()).await.unwrap();
    assert_eq!(done.version_id(), Some(a2.as_str()));
    assert_eq!(
        versions(&c, "vd-bucket", 1000).await[0],
        (
            "a".to_owned(),
            a3.version_id().unwrap().to_owned(),
            true,
            false
        )
    );
    assert_eq!(versions(&c, "vd-bucket", 1000).await.len(), 2);
}

#[tokio::test]
async fn tags_and_reads_name_a_version() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("vt-bucket").send().await.unwrap();
    set_versioning(&c, "vt-bucket", BucketVersioningStatus::Enabled).await;
    let v1 = put(&c, "vt-bucket", "k", "one").await.unwrap();
    let v2 = put(&c, "vt-bucket", "k", "two").await.unwrap();
    let tagging = Tagging::builder()
        .tag_set(Tag::builder().key("era").value("first").build().unwrap())
        .build()
        .unwrap();
    let r = c
        .put_object_tagging()
        .bucket("vt-bucket")
        .key("k")
        .version_id(&v1)
        .tagging(tagging)
        .send()
        .await
        .unwrap();
    assert_eq!(r.version_id(), Some(v1.as_str()));
    let tags_of = |v: &str| {
        c.get_object_tagging()
            .bucket("vt-bucket")
            .key("k")
            .version_id(v)
            .send()
    };
    let old = tags_of(&v1).await.unwrap();
    assert_eq!(old.tag_set().len(), 1);
    assert_eq!(old.version_id(), Some(v1.as_str()));
    assert!(tags_of(&v2).await.unwrap().tag_set().is_empty());
    let o = c
        .get_object()
        .bucket("vt-bucket")
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert_eq!(o.tag_count(), Some(1));
    let acl = c
        .get_object_acl()
        .bucket("vt-bucket")
        .key("k")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    assert!(!acl.grants().is_empty());
}

#[tokio::test]
async fn listing_versions_pages_through_every_version_once() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("vl-bucket").send().await.unwrap();
    set_versioning(&c, "vl-bucket", BucketVersioningStatus::Enabled).await;
    for key in ["a", "b/c", "b/d", "e"] {
        for i in 0..3 {
            put(&c, "vl-bucket", key, &format!("{key}{i}")).await;
        }
    }
    c.delete_object()
        .bucket("vl-bucket")
        .key("e")
        .send()
        .await
        .unwrap();
    let all = versions(&c, "vl-bucket", 1000).await;
    assert_eq!(all.len(), 13);
    for page in [1, 2, 5] {
        assert_eq!(
            versions(&c, "vl-bucket", page).await,
            all,
            "pages of {page}"
        );
    }
    // Delimiter: b/ once, as a common prefix.
    let r = c
        .list_object_versions()
        .bucket("vl-bucket")
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(r.common_prefixes().len(), 1);
    assert_eq!(r.versions().len(), 6);
    assert_eq!(r.delete_markers().len(), 1);
    // ListObjectsV2 lists the live keys once each, not e.
    let keys = c
        .list_objects_v2()
        .bucket("vl-bucket")
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = keys.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(names, vec!["a", "b/c", "b/d"]);
    // version-id-marker needs a key-marker; a malformed one is refused.
    let e = c
        .list_object_versions()
        .bucket("vl-bucket")
        .version_id_marker("null")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidArgument");
}

#[tokio::test]
async fn many_writers_on_one_key_each_get_their_own_version() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("vw-bucket").send().await.unwrap();
    set_versioning(&c, "vw-bucket", BucketVersioningStatus::Enabled).await;
    let writes = (0..24).map(|i| {
        let c = c.clone();
        async move { put(&c, "vw-bucket", "k", &format!("w{i}")).await.unwrap() }
    });
    let mut ids = futures::future::join_all(writes).await;
    let listed = versions(&c, "vw-bucket", 7).await;
    assert_eq!(listed.len(), 24);
    assert_eq!(listed.iter().filter(|r| r.2).count(), 1);
    // The latest commit is the current version: the smallest id (ids sort newest first).
    ids.sort();
    let latest = &listed.iter().find(|r| r.2).unwrap().1;
    assert_eq!(latest, &ids[0]);
    let mut listed_ids: Vec<String> = listed.into_iter().map(|r| r.1).collect();
    listed_ids.sort();
    assert_eq!(listed_ids, ids);
    let head = c
        .head_object()
        .bucket("vw-bucket")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(head.version_id(), Some(ids[0].as_str()));
}

#[tokio::test]
async fn an_object_acl_decides_for_its_own_version() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket()
        .bucket("va-bucket")
        .object_ownership(aws_sdk_s3::types::ObjectOwnership::ObjectWriter)
        .send()
        .await
        .unwrap();
    set_versioning(&c, "va-bucket", BucketVersioningStatus::Enabled).await;
    let public = c
        .put_object()
        .bucket("va-bucket")
        .key("k")
        .acl(aws_sdk_s3::types::ObjectCannedAcl::PublicRead)
        .body(b"public".to_vec().into())
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let private = put(&c, "va-bucket", "k", "private").await.unwrap();
    let anonymous = |query: String| {
        let url = format!("{}/va-bucket/k{query}", s.endpoint);
        async move { reqwest::get(url).await.unwrap().status().as_u16() }
    };
    // The old version's ACL lets anyone read it; the current one's does not.
    assert_eq!(anonymous(format!("?versionId={public}")).await, 200);
    assert_eq!(anonymous(format!("?versionId={private}")).await, 403);
    assert_eq!(anonymous(String::new()).await, 403);
}
