//! The page cache: a write leaves a blob's first MiB cached and writes the rest around the
//! cache; a GET or a scrub of a large blob leaves none of it cached, one of a small blob
//! leaves it cached for the next read.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;
use cluster_tests::{bytes, get_bytes, Server};

/// Bytes of `path` in the page cache, as util-linux's `fincore` counts them (whole pages).
fn resident(path: &Path) -> u64 {
    let out = std::process::Command::new("fincore")
        .args(["--bytes", "--noheadings", "--output", "RES"])
        .arg(path)
        .output()
        .expect("fincore (util-linux) runs");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

/// Every shard file under `dir`, with its length.
fn shard_files(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.push((p, e.metadata().unwrap().len()));
            }
        }
    }
    out
}

#[tokio::test]
async fn large_blobs_pass_through_the_cache_small_ones_stay() {
    let s = Server::start().await;
    let c = s.client();
    c.create_bucket().bucket("cache").send().await.unwrap();
    // 12 MiB and 8 MiB are read once (8 MiB is an aws CLI multipart part); 2 MiB stays.
    let sizes = [
        ("big", 12usize << 20),
        ("part-sized", 8 << 20),
        ("small", 2 << 20),
    ];
    for (key, len) in sizes {
        let body = ByteStream::from(bytes(len, len as u64));
        c.put_object()
            .bucket("cache")
            .key(key)
            .body(body)
            .send()
            .await
            .unwrap();
    }
    let files = shard_files(&s.data().join("shards"));
    assert_eq!(files.len(), 3, "one shard file per object: {files:?}");
    let file_of = |len: usize| {
        let f = files
            .iter()
            .find(|(_, n)| n.abs_diff(len as u64) < 4096)
            .unwrap();
        (f.0.clone(), f.1.div_ceil(4096) * 4096)
    };
    // The shard header and the first MiB (the node's `WRITE_CACHED_UPTO`), to a whole page,
    // and at most the page of the last bytes.
    let head = ((1u64 << 20) + 32).div_ceil(4096) * 4096;
    for (key, len) in sizes {
        let (path, _) = file_of(len);
        let r = resident(&path);
        assert!(
            (1 << 20..=head + 4096).contains(&r),
            "{key}: {r} bytes cached once written, not just the first MiB"
        );
        assert_eq!(
            get_bytes(&c, "cache", key).await,
            bytes(len, len as u64),
            "{key}"
        );
    }
    for (key, len, left) in [("big", 12 << 20, 0), ("part-sized", 8 << 20, 0)] {
        assert_eq!(
            resident(&file_of(len).0),
            left,
            "{key}: none left after a GET"
        );
    }
    let (path, cached) = file_of(2 << 20);
    assert_eq!(
        resident(&path),
        cached,
        "small: all still cached after a GET"
    );

    // Read again (from the disk now): the same bytes, and again nothing stays.
    assert_eq!(
        get_bytes(&c, "cache", "big").await,
        bytes(12 << 20, 12 << 20)
    );
    assert_eq!(
        resident(&file_of(12 << 20).0),
        0,
        "big: none left after a GET from disk"
    );
}

#[tokio::test]
async fn a_scrub_follows_the_same_rule() {
    let s = Server::start_with(&["--scrub-interval", "1"]).await;
    let c = s.client();
    c.create_bucket().bucket("scrubbed").send().await.unwrap();
    for len in [12usize << 20, 2 << 20] {
        let body = ByteStream::from(bytes(len, len as u64));
        let key = format!("k{len}");
        c.put_object()
            .bucket("scrubbed")
            .key(key)
            .body(body)
            .send()
            .await
            .unwrap();
    }
    // A pass that found both blobs has read every record of both.
    cluster_tests::wait_for_log(&s.process, "scrub pass done blobs=2", 30).await;
    for (path, len) in shard_files(&s.data().join("shards")) {
        let left = resident(&path);
        if len > 8 << 20 {
            assert_eq!(left, 0, "a large blob leaves the cache");
        } else {
            assert_eq!(left, len.div_ceil(4096) * 4096, "a small one stays cached");
        }
    }
}
