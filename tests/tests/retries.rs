//! Retry safety: a completed multipart upload answers its completion again (a retry after a
//! lost answer), on one server and on a cluster after its leader dies; deleting a bucket
//! takes its incomplete uploads with it.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{BucketVersioningStatus, ChecksumAlgorithm};
use cluster_tests::{
    bytes, client_for, code, completed, completion, set_versioning, upload_parts, LocalCluster,
    Server,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const MIB: usize = 1 << 20;

/// Start an upload of `key` with two parts (CRC32 checksums); its id and the parts.
async fn two_parts(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> (String, Vec<(i32, String)>, Vec<u8>) {
    let up = c
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_owned();
    let data = [bytes(5 * MIB, 1), bytes(1000, 2)];
    let parts = upload_parts(c, bucket, key, &id, &data).await;
    (id, parts, data.concat())
}

#[tokio::test]
async fn a_completed_upload_answers_the_same_completion_again() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("again").send().await.unwrap();
    let (id, parts, whole) = two_parts(&c, "again", "k").await;
    let complete = |parts: &[(i32, String)]| completion(&c, "again", "k", &id, parts).send();
    let first = complete(&parts).await.unwrap();
    let second = complete(&parts)
        .await
        .unwrap_or_else(|e| panic!("the same completion again: {e:?}"));
    assert_eq!(second.e_tag(), first.e_tag());
    assert!(first.e_tag().unwrap().ends_with("-2\""), "{first:?}");
    assert_eq!(second.checksum_crc32(), first.checksum_crc32());
    assert_eq!(second.key(), Some("k"));
    assert_eq!(second.bucket(), Some("again"));
    // Other parts than those it was completed from: the upload is gone.
    let e = complete(&parts[..1]).await.unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    // Neither an abort nor a part upload brings it back.
    let e = c
        .abort_multipart_upload()
        .bucket("again")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    // An upload id never completed is NoSuchUpload whatever the parts.
    let e = c
        .complete_multipart_upload()
        .bucket("again")
        .key("k")
        .upload_id("never-created")
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    let got = c
        .get_object()
        .bucket("again")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        whole
    );
    // The record goes with its bucket.
    c.delete_object()
        .bucket("again")
        .key("k")
        .send()
        .await
        .unwrap();
    c.delete_bucket().bucket("again").send().await.unwrap();
    c.create_bucket().bucket("again").send().await.unwrap();
    let e = complete(&parts).await.unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");

    // With versioning on, the answer again names the version it made: its id (Enabled), or
    // `null` (Suspended), as the first answer did.
    for (status, bucket) in [
        (BucketVersioningStatus::Enabled, "again-on"),
        (BucketVersioningStatus::Suspended, "again-paused"),
    ] {
        c.create_bucket().bucket(bucket).send().await.unwrap();
        set_versioning(&c, bucket, status).await;
        let (id, parts, _) = two_parts(&c, bucket, "k").await;
        let complete = || completion(&c, bucket, "k", &id, &parts).send();
        let first = complete().await.unwrap();
        let second = complete().await.unwrap();
        assert!(first.version_id().is_some(), "{bucket}: {first:?}");
        assert_eq!(second.version_id(), first.version_id(), "{bucket}");
    }
}

#[tokio::test]
async fn deleting_a_bucket_aborts_its_incomplete_uploads() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("pending").send().await.unwrap();
    let (id, _, _) = two_parts(&c, "pending", "k").await;
    c.put_object()
        .bucket("pending")
        .key("obj")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    // An object still keeps it.
    let e = c
        .delete_bucket()
        .bucket("pending")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "BucketNotEmpty");
    c.delete_object()
        .bucket("pending")
        .key("obj")
        .send()
        .await
        .unwrap();
    c.delete_bucket()
        .bucket("pending")
        .send()
        .await
        .unwrap_or_else(|e| panic!("a bucket with only an incomplete upload: {e:?}"));
    // Recreated, the bucket has no trace of the upload.
    c.create_bucket().bucket("pending").send().await.unwrap();
    let ups = c
        .list_multipart_uploads()
        .bucket("pending")
        .send()
        .await
        .unwrap();
    assert!(ups.uploads().is_empty(), "{ups:?}");
    let e = c
        .list_parts()
        .bucket("pending")
        .key("k")
        .upload_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
}

/// Read one HTTP/1.1 message (head and a `content-length` body) from `s` into `buf`.
async fn read_message(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 64 * 1024];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + len {
                return Ok(());
            }
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A proxy to `target` that loses the answer of the first CompleteMultipartUpload: it
/// forwards the request, waits for the server's whole answer, and hangs up on the client.
/// Every other connection is piped both ways. Returns its address and how many answers it
/// lost.
async fn losing_proxy(target: String) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let lost = Arc::new(AtomicUsize::new(0));
    let counter = lost.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let target = target.clone();
            let lost = counter.clone();
            tokio::spawn(async move {
                let mut server = TcpStream::connect(&target).await.unwrap();
                let mut req = Vec::new();
                if read_message(&mut client, &mut req).await.is_err() {
                    return;
                }
                let completing = req.starts_with(b"POST ")
                    && String::from_utf8_lossy(&req[..req.len().min(2048)])
                        .lines()
                        .next()
                        .is_some_and(|l| l.contains("uploadId="));
                server.write_all(&req).await.unwrap();
                if completing && lost.fetch_add(1, Ordering::SeqCst) == 0 {
                    let mut answer = Vec::new();
                    read_message(&mut server, &mut answer).await.unwrap();
                    assert!(answer.starts_with(b"HTTP/1.1 200"), "{answer:?}");
                    // Dropped unsent: the client sees its connection closed.
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (format!("http://{addr}"), lost)
}

#[tokio::test]
async fn an_sdk_retry_after_a_lost_completion_answer_succeeds() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("lossy").send().await.unwrap();
    let (id, parts, whole) = two_parts(&c, "lossy", "k").await;
    let (proxy, lost) = losing_proxy(s.endpoint.trim_start_matches("http://").to_owned()).await;
    // A client of its own: its first connection is the completion's.
    let through = client_for(&proxy, cluster_tests::ACCESS_KEY, cluster_tests::SECRET_KEY);
    let done = through
        .complete_multipart_upload()
        .bucket("lossy")
        .key("k")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap_or_else(|e| panic!("the SDK's retry of CompleteMultipartUpload: {e:?}"));
    assert_eq!(
        lost.load(Ordering::SeqCst),
        2,
        "one answer lost, then the retry"
    );
    assert!(done.e_tag().unwrap().ends_with("-2\""), "{done:?}");
    let listed = c.list_objects_v2().bucket("lossy").send().await.unwrap();
    let keys: Vec<&str> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["k"]);
    let got = c
        .get_object()
        .bucket("lossy")
        .key("k")
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), done.e_tag());
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        whole
    );
}

#[tokio::test]
async fn a_cluster_answers_a_completion_again_after_its_leader_dies() {
    tokio::time::timeout(Duration::from_secs(240), cluster_retry())
        .await
        .expect("test timed out");
}

async fn cluster_retry() {
    let mut cluster = LocalCluster::start(3, &[]).await;
    let c = cluster.client();
    c.create_bucket().bucket("kept").send().await.unwrap();
    let (id, parts, whole) = two_parts(&c, "kept", "k").await;
    let complete = |parts: &[(i32, String)]| completion(&c, "kept", "k", &id, parts).send();
    let first = complete(&parts).await.unwrap();
    // Node 1 bootstrapped the cluster and leads unless an election moved it.
    cluster.nodes[0].kill9();
    let deadline = Instant::now() + Duration::from_secs(60);
    let again = loop {
        match complete(&parts).await {
            Ok(a) => break a,
            Err(e) if Instant::now() < deadline && code(&e) != "NoSuchUpload" => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!(
                "the completion again, node 1 down: {e:?}\n{}",
                cluster.logs()
            ),
        }
    };
    assert_eq!(again.e_tag(), first.e_tag());
    let e = complete(&parts[..1]).await.unwrap_err();
    assert_eq!(code(&e), "NoSuchUpload");
    let got = c.get_object().bucket("kept").key("k").send().await.unwrap();
    assert_eq!(
        got.body.collect().await.unwrap().into_bytes().to_vec(),
        whole
    );
}
