//! Durability stories: erasure-coded reads with a drive's shards deleted or corrupted, and
//! acknowledged writes surviving kill -9.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::path::Path;

use cluster_tests::{bytes, get_bytes, Server};

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
