//! Garbage on a cluster: every way of leaving data behind (overwrites, deletes, aborted and
//! partly used multipart uploads, a bucket deleted with an upload in it, copies, versions
//! removed for good and a suspended bucket's null version overwritten, a PUT cut off by its
//! client, a PUT cut off by a killed gateway) and the disk usage of the nodes returning to what
//! the live objects (an older version among them) need.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{BucketVersioningStatus, Delete, ObjectIdentifier};
use cluster_tests::{
    bytes, completed, get_bytes, set_versioning, signed, upload_parts, LocalCluster,
};
use tokio::io::AsyncWriteExt;

#[tokio::test]
async fn disk_usage_returns_to_live_objects() {
    tokio::time::timeout(Duration::from_secs(300), garbage())
        .await
        .expect("test timed out");
}

/// Bytes of every file a node keeps outside its metadata store.
fn data_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "meta") {
                continue;
            }
            total += data_bytes(&p);
        } else {
            total += e.metadata().map_or(0, |m| m.len());
        }
    }
    total
}

fn cluster_bytes(cluster: &LocalCluster) -> u64 {
    (1..=cluster.nodes.len())
        .map(|i| data_bytes(&cluster.node_dir(i)))
        .sum()
}

async fn put(c: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &[u8]) {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.to_vec().into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("PUT {bucket}/{key}: {e:?}"));
}

/// A PUT whose client declares `declared` bytes, sends `sent` and hangs up.
async fn cut_put(endpoint: &str, path: &str, declared: usize, sent: usize) {
    let req = signed(reqwest::Method::PUT, endpoint, path, &[])
        .build()
        .unwrap();
    let host = endpoint.trim_start_matches("http://");
    let mut head = format!("PUT {path} HTTP/1.1\r\nhost: {host}\r\n");
    for (k, v) in req.headers() {
        head.push_str(&format!("{k}: {}\r\n", v.to_str().unwrap()));
    }
    head.push_str(&format!("content-length: {declared}\r\n\r\n"));
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&bytes(sent, 99)).await.unwrap();
    s.flush().await.unwrap();
    // Long enough for the gateway to have streamed the first stripes to the nodes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(s);
}

async fn garbage() {
    let mut cluster = LocalCluster::start(3, &["--orphan-grace", "2"]).await;
    let c = cluster.client();
    for b in ["live", "junk"] {
        c.create_bucket().bucket(b).send().await.unwrap();
    }

    // The live set, and what it takes on disk (2+1 over three nodes, every shard written).
    let a = bytes((3 << 20) + 1, 1);
    let b = bytes(1 << 20, 2);
    let small = bytes(1000, 3);
    let (p1, p2) = (bytes(5 << 20, 4), bytes(700_000, 5));
    put(&c, "live", "a", &a).await;
    put(&c, "live", "b", &b).await;
    put(&c, "live", "small", &small).await;
    let up = c
        .create_multipart_upload()
        .bucket("live")
        .key("mpu")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let parts = upload_parts(&c, "live", "mpu", &id, &[p1.clone(), p2.clone()]).await;
    c.complete_multipart_upload()
        .bucket("live")
        .key("mpu")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap();
    // Two versions of one key in a versioned bucket: the older one is live too.
    c.create_bucket().bucket("vlive").send().await.unwrap();
    set_versioning(&c, "vlive", BucketVersioningStatus::Enabled).await;
    put(&c, "vlive", "k", &bytes(1 << 20, 6)).await;
    put(&c, "vlive", "k", &bytes(1 << 20, 7)).await;
    let live = cluster_bytes(&cluster);
    let started = Instant::now();

    // Overwrites: of a junk key three times, and of a live key, back to the same bytes (a new
    // blob of the same size).
    let mut junk_written = 0u64;
    for i in 0..3 {
        let body = bytes(2 << 20, 10 + i);
        put(&c, "junk", "over", &body).await;
        junk_written += body.len() as u64;
    }
    put(&c, "live", "a", &bytes((3 << 20) + 1, 20)).await;
    put(&c, "live", "a", &a).await;
    junk_written += 2 * a.len() as u64;

    // Deletes, one by one and in a batch.
    let mut ids = Vec::new();
    for i in 0..4 {
        let key = format!("del{i}");
        put(&c, "junk", &key, &bytes(1 << 20, 30 + i)).await;
        junk_written += 1 << 20;
        ids.push(ObjectIdentifier::builder().key(key).build().unwrap());
    }
    c.delete_object()
        .bucket("junk")
        .key("over")
        .send()
        .await
        .unwrap();
    c.delete_objects()
        .bucket("junk")
        .delete(Delete::builder().set_objects(Some(ids)).build().unwrap())
        .send()
        .await
        .unwrap();

    // An aborted multipart upload; a completed one that leaves a part out and had a part
    // uploaded twice, then deleted.
    let up = c
        .create_multipart_upload()
        .bucket("junk")
        .key("aborted")
        .send()
        .await
        .unwrap();
    let aborted = up.upload_id().unwrap().to_owned();
    upload_parts(&c, "junk", "aborted", &aborted, &[p1.clone(), p2.clone()]).await;
    c.abort_multipart_upload()
        .bucket("junk")
        .key("aborted")
        .upload_id(&aborted)
        .send()
        .await
        .unwrap();
    let up = c
        .create_multipart_upload()
        .bucket("junk")
        .key("partly")
        .send()
        .await
        .unwrap();
    let partly = up.upload_id().unwrap().to_owned();
    upload_parts(&c, "junk", "partly", &partly, std::slice::from_ref(&p2)).await;
    let used = upload_parts(&c, "junk", "partly", &partly, &[p2.clone(), p1.clone()]).await;
    c.complete_multipart_upload()
        .bucket("junk")
        .key("partly")
        .upload_id(&partly)
        .multipart_upload(completed(&used[..1]))
        .send()
        .await
        .unwrap();
    c.delete_object()
        .bucket("junk")
        .key("partly")
        .send()
        .await
        .unwrap();
    junk_written += 3 * (p1.len() + p2.len()) as u64;

    // A copy of a live object, deleted: the original keeps its data.
    c.copy_object()
        .bucket("junk")
        .key("copy")
        .copy_source("live/b")
        .send()
        .await
        .unwrap();
    c.delete_object()
        .bucket("junk")
        .key("copy")
        .send()
        .await
        .unwrap();

    // Versions removed for good, a marker with them; a suspended bucket's null version
    // overwritten twice.
    c.create_bucket().bucket("vjunk").send().await.unwrap();
    set_versioning(&c, "vjunk", BucketVersioningStatus::Enabled).await;
    let mut gone = Vec::new();
    for i in 0..3 {
        let r = c
            .put_object()
            .bucket("vjunk")
            .key("v")
            .body(bytes(1 << 20, 50 + i).into())
            .send()
            .await
            .unwrap();
        gone.push(r.version_id.unwrap());
        junk_written += 1 << 20;
    }
    let marker = c
        .delete_object()
        .bucket("vjunk")
        .key("v")
        .send()
        .await
        .unwrap();
    gone.push(marker.version_id.unwrap());
    for id in &gone {
        c.delete_object()
            .bucket("vjunk")
            .key("v")
            .version_id(id)
            .send()
            .await
            .unwrap();
    }
    set_versioning(&c, "vjunk", BucketVersioningStatus::Suspended).await;
    for i in 0..2 {
        put(&c, "vjunk", "null", &bytes(1 << 20, 60 + i)).await;
        junk_written += 1 << 20;
    }
    c.delete_object()
        .bucket("vjunk")
        .key("null")
        .version_id("null")
        .send()
        .await
        .unwrap();
    c.delete_bucket().bucket("vjunk").send().await.unwrap();

    // A bucket deleted while it holds only an incomplete upload: S3 deletes it and the
    // upload, and the parts' data goes too.
    c.create_bucket().bucket("doomed").send().await.unwrap();
    let up = c
        .create_multipart_upload()
        .bucket("doomed")
        .key("pending")
        .send()
        .await
        .unwrap();
    let pending = up.upload_id().unwrap().to_owned();
    upload_parts(&c, "doomed", "pending", &pending, &[p1.clone(), p2.clone()]).await;
    c.delete_bucket()
        .bucket("doomed")
        .send()
        .await
        .unwrap_or_else(|e| panic!("DeleteBucket with only an incomplete upload: {e:?}"));
    junk_written += (p1.len() + p2.len()) as u64;

    // A PUT whose client hangs up after 6 of 12 MiB.
    cut_put(&cluster.endpoint, "/junk/cut", 12 << 20, 6 << 20).await;
    junk_written += 6 << 20;

    // A PUT in flight when its gateway is killed: shards may be on the nodes with no commit.
    // Its shards are the files that were not there before it (the delete queue only removes).
    let before: BTreeSet<PathBuf> = (1..=cluster.nodes.len())
        .flat_map(|i| cluster.shard_files(i))
        .collect();
    let new_bytes = |cluster: &LocalCluster| -> u64 {
        (1..=cluster.nodes.len())
            .flat_map(|i| cluster.shard_files(i))
            .filter(|p| !before.contains(p))
            .map(|p| std::fs::metadata(p).map_or(0, |m| m.len()))
            .sum()
    };
    let inflight = {
        let c = c.clone();
        tokio::spawn(async move {
            c.put_object()
                .bucket("junk")
                .key("killed")
                .body(bytes(64 << 20, 40).into())
                .send()
                .await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while new_bytes(&cluster) < 4 << 20 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The step tests nothing unless shards of the PUT are on the nodes when its gateway dies.
    let written = new_bytes(&cluster);
    assert!(
        written >= 4 << 20,
        "the PUT to be cut wrote {written} B of shards in 20 s\n{}",
        cluster.logs()
    );
    cluster.gateway.kill9();
    let cut = inflight.await.unwrap();
    assert!(
        cut.is_err(),
        "the PUT cut by its killed gateway was acknowledged"
    );
    cluster.gateway.restart();
    cluster_tests::wait_for_log_count(&cluster.gateway, "S3 gateway listening", 2, 30).await;
    junk_written += 64 << 20;
    let peak = cluster_bytes(&cluster);

    // Wait for the delete queue and the orphan sweep (grace 2 s) to take it all back.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let now = cluster_bytes(&cluster);
        if now == live {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "disk usage {now} B, live objects need {live} B\n{}",
            cluster.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let settled = started.elapsed();

    // Nothing of the junk is visible, and every live object reads back intact.
    let listed = c.list_objects_v2().bucket("junk").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(0), "{listed:?}");
    let uploads = c
        .list_multipart_uploads()
        .bucket("junk")
        .send()
        .await
        .unwrap();
    assert!(uploads.uploads().is_empty(), "{uploads:?}");
    assert_eq!(get_bytes(&c, "live", "a").await, a);
    assert_eq!(get_bytes(&c, "live", "b").await, b);
    assert_eq!(get_bytes(&c, "live", "small").await, small);
    let mut whole = p1.clone();
    whole.extend_from_slice(&p2);
    assert_eq!(get_bytes(&c, "live", "mpu").await, whole);
    let versions = c
        .list_object_versions()
        .bucket("vlive")
        .send()
        .await
        .unwrap();
    let kept: Vec<_> = versions
        .versions()
        .iter()
        .filter_map(|v| v.version_id())
        .collect();
    assert_eq!(kept.len(), 2, "{versions:?}");
    for (id, seed) in kept.iter().zip([7, 6]) {
        let o = c
            .get_object()
            .bucket("vlive")
            .key("k")
            .version_id(*id)
            .send()
            .await
            .unwrap();
        assert_eq!(
            o.body.collect().await.unwrap().into_bytes(),
            bytes(1 << 20, seed)
        );
    }
    println!(
        "garbage: {:.1} MiB of junk written (overwrites, deletes, multipart, a cut PUT, a PUT \
         cut by a killed gateway); node data peaked at {:.1} MiB and returned to the {:.1} MiB \
         the live objects need, {:.1} s after the first junk write",
        junk_written as f64 / 1048576.0,
        peak as f64 / 1048576.0,
        live as f64 / 1048576.0,
        settled.as_secs_f64()
    );
}
