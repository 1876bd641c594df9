//! Data written by an earlier Coffer stays readable: a server started on a copy of a fixture
//! (`node/tests/fixtures/v1`, written by the first stored formats, `v2`, by the last build
//! before versioning, `v3`, by the last build before encryption, and `v4`, by the last build
//! before website redirects, with encrypted objects; never made again) serves
//! every object, upload, tag, ACL, bucket document, IAM key and storage class it holds, takes
//! new writes (an SSE-S3 object among them), serves it all again after
//! a kill -9 and a restart, and keeps its objects as their `null` versions once versioning is
//! turned on.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use aws_sdk_s3::types::{BucketVersioningStatus, Permission, Type};
use cluster_tests::{
    client_for, code, coffer_bin, free_port, get_bytes, set_versioning, Process, Server,
};
use md5::{Digest, Md5};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../node/tests/fixtures")
        .join(name)
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn md5_hex(b: &[u8]) -> String {
    hex::encode(Md5::digest(b))
}

#[tokio::test]
async fn a_data_folder_written_by_format_v1_is_served_whole() {
    tokio::time::timeout(Duration::from_secs(300), served_whole("v1"))
        .await
        .expect("test timed out");
}

#[tokio::test]
async fn a_data_folder_written_before_versioning_is_served_whole() {
    tokio::time::timeout(Duration::from_secs(300), served_whole("v2"))
        .await
        .expect("test timed out");
}

#[tokio::test]
async fn a_data_folder_written_before_encryption_is_served_whole() {
    tokio::time::timeout(Duration::from_secs(300), served_whole("v3"))
        .await
        .expect("test timed out");
}

#[tokio::test]
async fn a_data_folder_written_before_website_redirects_is_served_whole() {
    tokio::time::timeout(Duration::from_secs(300), served_whole("v4"))
        .await
        .expect("test timed out");
}

async fn served_whole(name: &str) {
    let fixture = fixture(name);
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture.join("expected.json")).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixture.join("data"), &dir.path().join("data"));
    let (ak, sk) = (
        expected["access_key"].as_str().unwrap(),
        expected["secret_key"].as_str().unwrap(),
    );
    let port = free_port();
    let admin = format!("127.0.0.1:{}", free_port());
    let data = dir.path().join("data");
    let args = [
        "server",
        "--data",
        data.to_str().unwrap(),
        "--address",
        &format!("127.0.0.1:{port}"),
        "--admin-address",
        &admin,
    ];
    let env = [
        ("COFFER_ACCESS_KEY_ID", ak),
        ("COFFER_SECRET_ACCESS_KEY", sk),
    ];
    let process = Process::spawn(&args, &env, &dir.path().join("server.log"));
    let mut server = Server {
        process,
        endpoint: format!("http://127.0.0.1:{port}"),
        dir,
    };
    server.wait_ready().await;
    check_everything(&server, &expected, ak, sk).await;

    // The storage class profile and the cluster-wide Block Public Access settings.
    let out = Command::new(coffer_bin())
        .args(["admin", "--json", "--node", &admin, "--cluster-secret-file"])
        .arg(data.join("cluster.secret"))
        .args(["storage-class", "list"])
        .output()
        .unwrap();
    let classes: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        classes["classes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["name"] == "GLACIER" && c["k"] == 1 && c["m"] == 0),
        "{classes}"
    );

    // New writes land beside the old records, and everything survives a crash.
    let c = client_for(&server.endpoint, ak, sk);
    c.put_object()
        .bucket("fixture")
        .key("written-by-today.txt")
        .body(b"today".to_vec().into())
        .send()
        .await
        .unwrap();
    // An encrypted object beside the old ones (its key service made now).
    c.put_object()
        .bucket("fixture")
        .key("sealed-today.txt")
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
        .body(b"sealed today".to_vec().into())
        .send()
        .await
        .unwrap();
    // The open upload of the fixture completes with its old part.
    let pending = &expected["pending_upload"];
    let upload_id = pending["upload_id"].as_str().unwrap();
    let parts = c
        .list_parts()
        .bucket("fixture")
        .key("pending.bin")
        .upload_id(upload_id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.parts().len(), 1);
    assert_eq!(parts.parts()[0].e_tag(), pending["part_etag"].as_str());
    c.complete_multipart_upload()
        .bucket("fixture")
        .key("pending.bin")
        .upload_id(upload_id)
        .multipart_upload(cluster_tests::completed(&[(
            1,
            pending["part_etag"].as_str().unwrap().to_owned(),
        )]))
        .send()
        .await
        .unwrap();
    let tags = c
        .get_object_tagging()
        .bucket("fixture")
        .key("pending.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tag_set().len(),
        1,
        "the upload's tags move to the object"
    );
    let head = c
        .get_object()
        .bucket("fixture")
        .key("pending.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(head.tag_count(), Some(1), "and their count with them");
    server.crash_and_restart().await;
    check_everything(&server, &expected, ak, sk).await;
    assert_eq!(
        get_bytes(&c, "fixture", "written-by-today.txt").await,
        b"today"
    );
    assert_eq!(
        get_bytes(&c, "fixture", "sealed-today.txt").await,
        b"sealed today"
    );
    assert_eq!(
        md5_hex(&get_bytes(&c, "fixture", "pending.bin").await),
        pending["md5"].as_str().unwrap()
    );
    versioning_over_old_objects(&mut server, &expected, ak, sk).await;
}

/// Versioning turned on over the fixture: every old object is its key's `null` version, kept
/// with its tags and ACL when a new version is written over it or a delete marker hides it.
async fn versioning_over_old_objects(
    server: &mut Server,
    expected: &serde_json::Value,
    ak: &str,
    sk: &str,
) {
    let c = client_for(&server.endpoint, ak, sk);
    set_versioning(&c, "fixture", BucketVersioningStatus::Enabled).await;
    let versions = || async {
        let r = c
            .list_object_versions()
            .bucket("fixture")
            .send()
            .await
            .unwrap();
        let mut rows: Vec<(String, String, bool)> = r
            .versions()
            .iter()
            .map(|v| {
                let (k, id) = (v.key().unwrap(), v.version_id().unwrap());
                (k.to_owned(), id.to_owned(), v.is_latest().unwrap())
            })
            .chain(r.delete_markers().iter().map(|m| {
                let (k, id) = (m.key().unwrap(), m.version_id().unwrap());
                (k.to_owned(), format!("marker {id}"), m.is_latest().unwrap())
            }))
            .collect();
        rows.sort();
        rows
    };
    let mut keys: Vec<String> = expected["objects"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|p| p.strip_prefix("fixture/").map(str::to_owned))
        .chain(["pending.bin", "written-by-today.txt", "sealed-today.txt"].map(str::to_owned))
        .collect();
    keys.sort();
    let all_null: Vec<_> = keys
        .iter()
        .map(|k| (k.clone(), "null".to_owned(), true))
        .collect();
    assert_eq!(versions().await, all_null);

    // A new version over an old object, and a delete marker over another.
    let new = c
        .put_object()
        .bucket("fixture")
        .key("inline.txt")
        .body(b"new".to_vec().into())
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let marker = c
        .delete_object()
        .bucket("fixture")
        .key("blob.bin")
        .send()
        .await
        .unwrap()
        .version_id
        .unwrap();
    let check = |server: &Server| {
        let c = client_for(&server.endpoint, ak, sk);
        let (new, marker) = (new.clone(), marker.clone());
        let mut want = all_null.clone();
        async move {
            for row in &mut want {
                row.2 = row.0 != "inline.txt" && row.0 != "blob.bin";
            }
            want.push(("inline.txt".to_owned(), new, true));
            want.push(("blob.bin".to_owned(), format!("marker {marker}"), true));
            want.sort();
            let old = c
                .get_object()
                .bucket("fixture")
                .key("inline.txt")
                .version_id("null")
                .send()
                .await
                .unwrap();
            assert_eq!(old.version_id(), Some("null"));
            assert_eq!(old.tag_count(), Some(2));
            let body = old.body.collect().await.unwrap().into_bytes();
            assert_eq!(&body[..], b"hello fixture\n");
            let tags = c
                .get_object_tagging()
                .bucket("fixture")
                .key("inline.txt")
                .version_id("null")
                .send()
                .await
                .unwrap();
            assert_eq!(tags.tag_set().len(), 2, "the old version keeps its tags");
            let acl = c
                .get_object_acl()
                .bucket("fixture")
                .key("inline.txt")
                .version_id("null")
                .send()
                .await
                .unwrap();
            assert_eq!(acl.grants().len(), 2, "and its ACL: {acl:?}");
            let current = c
                .get_object_tagging()
                .bucket("fixture")
                .key("inline.txt")
                .send()
                .await
                .unwrap();
            assert!(current.tag_set().is_empty(), "the new version has none");
            let e = c
                .get_object()
                .bucket("fixture")
                .key("blob.bin")
                .send()
                .await
                .unwrap_err();
            assert_eq!(code(&e), "NoSuchKey");
            let blob = c
                .get_object()
                .bucket("fixture")
                .key("blob.bin")
                .version_id("null")
                .send()
                .await
                .unwrap();
            let body = blob.body.collect().await.unwrap().into_bytes();
            let want_md5 = &expected["objects"]["fixture/blob.bin"]["md5"];
            assert_eq!(md5_hex(&body), want_md5.as_str().unwrap());
            want
        }
    };
    let want = check(server).await;
    assert_eq!(versions().await, want);
    server.crash_and_restart().await;
    check(server).await;
    assert_eq!(versions().await, want, "after a kill -9 and a restart");
}

async fn check_everything(server: &Server, expected: &serde_json::Value, ak: &str, sk: &str) {
    let c = client_for(&server.endpoint, ak, sk);
    let objects = expected["objects"].as_object().unwrap();
    for (path, want) in objects {
        let (bucket, key) = path.split_once('/').unwrap();
        let o = c
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e:?}"));
        assert_eq!(o.e_tag(), want["etag"].as_str(), "{path}");
        assert_eq!(o.content_length(), want["size"].as_i64(), "{path}");
        // Records of format version 1 hold no tag count: it is counted from the tag set.
        let tag_count = want
            .get("tags")
            .and_then(|t| t.as_object())
            .map(|t| t.len());
        assert_eq!(
            o.tag_count().map(|n| n as usize),
            tag_count,
            "{path} x-amz-tagging-count"
        );
        if let Some(ct) = want.get("content_type") {
            assert_eq!(o.content_type(), ct.as_str(), "{path}");
        }
        if let Some(cd) = want.get("content_disposition") {
            assert_eq!(o.content_disposition(), cd.as_str(), "{path}");
        }
        // Fixtures from v4 on hold objects encrypted by the build that wrote them.
        assert_eq!(
            o.server_side_encryption().map(|s| s.as_str()),
            want.get("sse").and_then(|s| s.as_str()),
            "{path}"
        );
        if let Some(class) = want.get("storage_class") {
            assert_eq!(
                o.storage_class().map(|s| s.as_str()),
                class.as_str(),
                "{path}"
            );
        }
        for (k, v) in want
            .get("metadata")
            .and_then(|m| m.as_object())
            .into_iter()
            .flatten()
        {
            assert_eq!(
                o.metadata().and_then(|m| m.get(k)).map(String::as_str),
                v.as_str(),
                "{path} metadata {k}"
            );
        }
        let body = o.body.collect().await.unwrap().into_bytes();
        assert_eq!(md5_hex(&body), want["md5"].as_str().unwrap(), "{path}");
        if let Some(tags) = want.get("tags").and_then(|t| t.as_object()) {
            let got = c
                .get_object_tagging()
                .bucket(bucket)
                .key(key)
                .send()
                .await
                .unwrap();
            assert_eq!(got.tag_set().len(), tags.len(), "{path}");
            for t in got.tag_set() {
                assert_eq!(tags[t.key()].as_str(), Some(t.value()), "{path}");
            }
        }
    }
    // Listing: exactly the fixture's keys (and what this test added), in order.
    let listed: Vec<String> = c
        .list_objects_v2()
        .bucket("fixture")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_owned))
        .filter(|k| {
            !["written-by-today.txt", "sealed-today.txt", "pending.bin"].contains(&k.as_str())
        })
        .collect();
    let mut want: Vec<String> = objects
        .keys()
        .filter_map(|p| p.strip_prefix("fixture/").map(str::to_owned))
        .collect();
    want.sort();
    assert_eq!(listed, want);
    // Checksums stored with the objects.
    let h = c
        .head_object()
        .bucket("fixture")
        .key("inline.txt")
        .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
        .send()
        .await
        .unwrap();
    assert!(h.checksum_sha1().is_some(), "{h:?}");
    let h = c
        .head_object()
        .bucket("fixture")
        .key("multi.bin")
        .part_number(1)
        .send()
        .await
        .unwrap();
    assert_eq!(h.parts_count(), Some(1));
    // The object ACL (public-read) and the bucket documents.
    let acl = c
        .get_object_acl()
        .bucket("fixture")
        .key("inline.txt")
        .send()
        .await
        .unwrap();
    assert!(
        acl.grants().iter().any(|g| {
            g.permission() == Some(&Permission::Read)
                && g.grantee().is_some_and(|e| {
                    e.r#type() == &Type::Group
                        && e.uri() == Some("http://acs.amazonaws.com/groups/global/AllUsers")
                })
        }),
        "{acl:?}"
    );
    let policy = c
        .get_bucket_policy()
        .bucket("fixture-two")
        .send()
        .await
        .unwrap();
    assert!(policy.policy().unwrap_or_default().contains("PublicRead"));
    let cors = c
        .get_bucket_cors()
        .bucket("fixture-two")
        .send()
        .await
        .unwrap();
    assert_eq!(
        cors.cors_rules()[0].allowed_origins(),
        ["https://www.example.test"]
    );
    let pab = c
        .get_public_access_block()
        .bucket("fixture")
        .send()
        .await
        .unwrap();
    assert_eq!(
        pab.public_access_block_configuration()
            .and_then(|p| p.block_public_policy()),
        Some(true)
    );
    let uploads = c
        .list_multipart_uploads()
        .bucket("fixture")
        .send()
        .await
        .unwrap();
    let open: Vec<_> = uploads.uploads().iter().filter_map(|u| u.key()).collect();
    assert!(
        open.is_empty() || open == ["pending.bin"],
        "uploads: {open:?}"
    );
    // Anonymous read through the bucket policy, and the IAM user's key (sealed in the
    // fixture) through its group's policy.
    let page = reqwest::get(format!("{}/fixture-two/public/page.html", server.endpoint))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let user = client_for(
        &server.endpoint,
        expected["user_key"]["id"].as_str().unwrap(),
        expected["user_key"]["secret"].as_str().unwrap(),
    );
    assert_eq!(
        get_bytes(&user, "fixture", "inline.txt").await,
        b"hello fixture\n"
    );
    let denied = user
        .get_object()
        .bucket("fixture-two")
        .key("public/page.html")
        .send()
        .await;
    // Allowed to everyone by the bucket policy, so the user may read it too.
    assert!(denied.is_ok(), "{denied:?}");
    let denied = user
        .put_object()
        .bucket("fixture")
        .key("x")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&denied), "AccessDenied");
}
