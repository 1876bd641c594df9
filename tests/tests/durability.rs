//! Durability stories: erasure-coded reads with a drive's shards deleted or corrupted, and
//! acknowledged writes surviving kill -9.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::path::Path;

use cluster_tests::{bytes, completed, get_bytes, upload_parts, Server};

fn shard_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn four_drives_survive_two_lost_or_corrupt_shards() {
    let s = Server::start_with(&["--drives", "4"]).await;
    let c = s.client();
    c.create_bucket().bucket("ecb").send().await.unwrap();
    let objects: Vec<(String, Vec<u8>)> = (0..6)
        .map(|i| (format!("o{i}"), bytes(300_000 + i * 700_001, i as u64)))
        .collect();
    for (k, d) in &objects {
        c.put_object()
            .bucket("ecb")
            .key(k)
            .body(d.clone().into())
            .send()
            .await
            .unwrap();
    }
    let drives: Vec<_> = (1..=4)
        .map(|i| s.data().join(format!("drive{i}")).join("shards"))
        .collect();
    let per_drive: Vec<usize> = drives.iter().map(|d| shard_files(d).len()).collect();
    assert_eq!(
        per_drive,
        [6, 6, 6, 6],
        "2+2: every object has one shard on each drive"
    );

    // Lose drive 1 entirely and flip bytes in every shard on drive 3: two of four shards per
    // object gone, which 2+2 tolerates.
    std::fs::remove_dir_all(&drives[0]).unwrap();
    for f in shard_files(&drives[2]) {
        let mut b = std::fs::read(&f).unwrap();
        let n = b.len();
        for i in (40..n).step_by(4099) {
            b[i] ^= 0x5a;
        }
        std::fs::write(&f, b).unwrap();
    }
    for (k, d) in &objects {
        assert_eq!(&get_bytes(&c, "ecb", k).await, d, "{k}");
    }
    // Ranges read only their stripes and still reconstruct.
    let (k, d) = &objects[5];
    let r = c
        .get_object()
        .bucket("ecb")
        .key(k)
        .range("bytes=1048570-2097200")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.body.collect().await.unwrap().into_bytes().to_vec(),
        &d[1048570..=2097200]
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_kill_9() {
    let mut s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("crash").send().await.unwrap();
    let objects: Vec<(String, Vec<u8>)> = (0..40)
        .map(|i| {
            (
                format!("k{i}"),
                bytes(if i % 4 == 0 { 1 << 20 } else { 1000 + i }, i as u64),
            )
        })
        .collect();
    for (k, d) in &objects {
        c.put_object()
            .bucket("crash")
            .key(k)
            .body(d.clone().into())
            .send()
            .await
            .unwrap();
    }
    c.delete_object()
        .bucket("crash")
        .key("k1")
        .send()
        .await
        .unwrap();
    s.crash_and_restart().await;
    let c = s.client();
    for (k, d) in &objects {
        if k == "k1" {
            assert!(c.head_object().bucket("crash").key(k).send().await.is_err());
            continue;
        }
        assert_eq!(&get_bytes(&c, "crash", k).await, d, "{k}");
    }
    let listed = c.list_objects_v2().bucket("crash").send().await.unwrap();
    assert_eq!(listed.key_count(), Some(39));
}

/// Shard files of one drive's `shards` folder.
fn count_shards(s: &Server) -> usize {
    shard_files(&s.data().join("shards")).len()
}

#[tokio::test]
async fn orphaned_shards_are_swept_and_live_ones_kept() {
    let mut s = Server::start_with(&["--orphan-grace", "2"]).await;
    let c = s.client();
    c.create_bucket().bucket("orph").send().await.unwrap();
    c.create_bucket().bucket("mpu").send().await.unwrap();

    // A completed multipart object (two part blobs) and an upload still in progress (one).
    let part1 = bytes(5 << 20, 1);
    let part2 = bytes(70_000, 2);
    let up = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("done")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap().to_string();
    let parts = upload_parts(&c, "mpu", "done", &id, &[part1.clone(), part2.clone()]).await;
    c.complete_multipart_upload()
        .bucket("mpu")
        .key("done")
        .upload_id(&id)
        .multipart_upload(completed(&parts))
        .send()
        .await
        .unwrap();
    let pending = c
        .create_multipart_upload()
        .bucket("mpu")
        .key("pending")
        .send()
        .await
        .unwrap();
    let pending_id = pending.upload_id().unwrap().to_string();
    let pending_parts = upload_parts(
        &c,
        "mpu",
        "pending",
        &pending_id,
        std::slice::from_ref(&part2),
    )
    .await;

    // A stream of 1 MiB PUTs cut by kill -9: the ones acknowledged must survive; the ones cut
    // after writing their shards leave orphans.
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut writers = Vec::new();
    for w in 0..4u64 {
        let (c, acked) = (c.clone(), acked.clone());
        writers.push(tokio::spawn(async move {
            for i in 0.. {
                let key = format!("w{w}-{i}");
                let data = bytes(1 << 20, w * 1000 + i);
                let put = c.put_object().bucket("orph").key(&key);
                if put.body(data.clone().into()).send().await.is_err() {
                    return;
                }
                acked.lock().unwrap().push((key, data));
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    s.process.kill9();
    for w in writers {
        w.await.unwrap();
    }
    // And one orphan planted by hand, as a write that died between its shards and its commit.
    let planted = s
        .data()
        .join("shards/ab/cd")
        .join(format!("abcd{}.0", "5".repeat(28)));
    std::fs::create_dir_all(planted.parent().unwrap()).unwrap();
    std::fs::write(&planted, vec![7u8; 4096]).unwrap();

    s.crash_and_restart().await;
    let c = s.client();
    let acked = acked.lock().unwrap().clone();
    assert!(
        !acked.is_empty(),
        "some PUTs were acknowledged before the kill"
    );
    // One blob per object in `orph` (all 1 MiB, single PUT), two for `done`, one pending part.
    let listed = c.list_objects_v2().bucket("orph").send().await.unwrap();
    let live = listed.key_count().unwrap() as usize + 3;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while count_shards(&s) != live && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(!planted.exists(), "the planted orphan is removed");
    assert_eq!(count_shards(&s), live, "only live blobs keep shard files");

    for (k, d) in &acked {
        assert_eq!(&get_bytes(&c, "orph", k).await, d, "{k}");
    }
    let mut whole = part1.clone();
    whole.extend_from_slice(&part2);
    assert_eq!(get_bytes(&c, "mpu", "done").await, whole);
    // The upload in progress still completes with its old part.
    c.complete_multipart_upload()
        .bucket("mpu")
        .key("pending")
        .upload_id(&pending_id)
        .multipart_upload(completed(&pending_parts))
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&c, "mpu", "pending").await, part2);
}

/// PUT `count` objects of `size` bytes named `{prefix}{i}`, 32 at a time.
async fn put_many(c: &aws_sdk_s3::Client, prefix: &str, count: usize, size: usize) {
    let body = bytes(size, 7);
    let objects = (0..count).map(|i| (format!("{prefix}{i}"), body.clone()));
    cluster_tests::put_all(c, "snap", objects, 32).await;
}

/// The snapshot header (magic, version, length-prefixed metadata with the snapshot id).
fn snapshot_header(data: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(data.join("meta/snapshots/current.snap")).ok()?;
    let mut head = vec![0; 256];
    let n = f.read(&mut head).ok()?;
    head.truncate(n);
    Some(head)
}

#[tokio::test]
async fn snapshots_follow_log_growth_not_entry_count() {
    let mut s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("snap").send().await.unwrap();
    // A state of about 72 MB (objects under 64 KiB are stored inline in their records): the
    // log grew by more than 64 MiB, so the first snapshot is due (concurrent PUTs share
    // entries, so these are far fewer than 20,000 entries).
    put_many(&c, "big/", 1_200, 60_000).await;
    put_many(&c, "a/", 100, 0).await;
    let mut first = None;
    for _ in 0..100 {
        first = snapshot_header(&s.data());
        if first.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let first = first.expect("no snapshot after 72 MB of log");
    // Then 21,000 small writes that are each their own log entry (bucket configuration is
    // never batched) add a few MB of log: far less than half of the snapshot, so it would
    // be wasteful to copy the whole state again (a fixed every-20,000-entries policy would).
    configure_many(&c, 21_000).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert!(
        snapshot_header(&s.data()) == Some(first),
        "the whole state was copied again after 21,000 small writes"
    );
    // The snapshot and the log after it restore everything.
    s.crash_and_restart().await;
    let c = s.client();
    assert_eq!(get_bytes(&c, "snap", "big/999").await, bytes(60_000, 7));
    for k in ["a/0", "a/99", "big/0"] {
        c.head_object().bucket("snap").key(k).send().await.unwrap();
    }
    let cors = c.get_bucket_cors().bucket("snap").send().await.unwrap();
    assert_eq!(
        cors.cors_rules()[0].allowed_origins(),
        ["https://site-20999.example"]
    );
}

/// Set the bucket's CORS rules `count` times (a different origin each time), 32 at a time
/// and in order of completion; the last one sent is applied last.
async fn configure_many(c: &aws_sdk_s3::Client, count: usize) {
    use aws_sdk_s3::types::{CorsConfiguration, CorsRule};
    use futures::StreamExt;
    let put = |i: usize| {
        let c = c.clone();
        async move {
            let rule = CorsRule::builder()
                .allowed_methods("GET")
                .allowed_origins(format!("https://site-{i}.example"))
                .build()
                .unwrap();
            c.put_bucket_cors()
                .bucket("snap")
                .cors_configuration(
                    CorsConfiguration::builder()
                        .cors_rules(rule)
                        .build()
                        .unwrap(),
                )
                .send()
                .await
                .unwrap();
        }
    };
    futures::stream::iter(0..count - 1)
        .map(put)
        .buffer_unordered(32)
        .collect::<Vec<()>>()
        .await;
    put(count - 1).await;
}
