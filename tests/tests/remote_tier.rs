//! A remote tier: a second Coffer process plays the remote S3. Three nodes and a gateway whose
//! lifecycle day lasts two seconds map GLACIER_IR to tier `cold` (that process's bucket
//! `archive`, prefix `coffer/`). While the remote is down, the transition fails, is counted and
//! retried, and the object stays where it is; once it is up, the object moves: one object per
//! blob appears there, the local shards go, reads (whole and ranged) come from the remote,
//! byte for byte, an SSE-S3 object's bytes stay sealed there; a PUT naming the class goes
//! there too; the tier cannot be removed while it holds data; deleting an object deletes its
//! remote copy; an object there that no record names is swept.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter,
    ServerSideEncryption, StorageClass, Transition, TransitionStorageClass,
};
use cluster_tests::{bytes, get_bytes, LocalCluster, Server, ACCESS_KEY, SECRET_KEY};

#[tokio::test]
async fn lifecycle_moves_objects_to_a_remote_tier_and_reads_them_there() {
    tokio::time::timeout(Duration::from_secs(300), remote())
        .await
        .expect("test timed out");
}

/// The keys under `coffer/` in the remote's bucket.
async fn remote_keys(remote: &aws_sdk_s3::Client) -> Vec<String> {
    let l = remote
        .list_objects_v2()
        .bucket("archive")
        .prefix("coffer/")
        .send()
        .await
        .unwrap();
    l.contents()
        .iter()
        .map(|o| o.key().unwrap().to_owned())
        .collect()
}

async fn class_of(c: &aws_sdk_s3::Client, key: &str) -> StorageClass {
    let h = c.head_object().bucket("bkt").key(key).send().await.unwrap();
    h.storage_class().cloned().unwrap_or(StorageClass::Standard)
}

fn lifecycle(cluster: &LocalCluster) -> serde_json::Value {
    cluster.admin_json(1, &["lifecycle", "status"])
}

fn count(status: &serde_json::Value, what: &str) -> u64 {
    status["total"][what].as_u64().unwrap_or(0) + status["pass"][what].as_u64().unwrap_or(0)
}

async fn remote() {
    let mut far = Server::start().await;
    let rc = far.client();
    rc.create_bucket().bucket("archive").send().await.unwrap();
    let cluster = LocalCluster::start_with_gateway(
        3,
        &["--orphan-grace", "2"],
        |_| Vec::new(),
        &["--lifecycle-day-seconds", "2"],
    )
    .await;
    // The secret goes in through the environment, and is sealed by the node.
    let sf = cluster.dir.path().join("cluster.secret");
    let out = std::process::Command::new(cluster_tests::coffer_bin())
        .args([
            "admin",
            "--json",
            "--node",
            &cluster.admin[0],
            "--cluster-secret-file",
        ])
        .arg(&sf)
        .args([
            "tier",
            "add",
            "cold",
            "--endpoint",
            &far.endpoint,
            "--bucket",
            "archive",
            "--prefix",
            "coffer/",
            "--access-key-id",
            ACCESS_KEY,
            "--class",
            "GLACIER_IR",
        ])
        .env("COFFER_TIER_SECRET_ACCESS_KEY", SECRET_KEY)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let c = cluster.client();
    c.create_bucket().bucket("bkt").send().await.unwrap();
    let body = bytes(3 << 20, 11);
    for (key, sse) in [("old/a", false), ("old/enc", true)] {
        let mut p = c
            .put_object()
            .bucket("bkt")
            .key(key)
            .body(ByteStream::from(body.clone()));
        if sse {
            p = p.server_side_encryption(ServerSideEncryption::Aes256);
        }
        p.send().await.unwrap();
    }
    let local = |c: &LocalCluster| (1..=3).map(|i| c.shard_files(i).len()).sum::<usize>();
    let before = local(&cluster);
    assert!(before > 0);

    // The remote goes away before the rule is set: the transitions fail and are counted.
    far.process.kill9();
    let rule = LifecycleRule::builder()
        .id("to-cold")
        .filter(LifecycleRuleFilter::builder().prefix("old/").build())
        .status(ExpirationStatus::Enabled)
        .transitions(
            Transition::builder()
                .days(1)
                .storage_class(TransitionStorageClass::GlacierIr)
                .build(),
        )
        .build()
        .unwrap();
    let conf = BucketLifecycleConfiguration::builder()
        .rules(rule)
        .build()
        .unwrap();
    c.put_bucket_lifecycle_configuration()
        .bucket("bkt")
        .lifecycle_configuration(conf)
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while count(&lifecycle(&cluster), "failed") < 2 {
        assert!(
            Instant::now() < deadline,
            "no failure counted: {}",
            lifecycle(&cluster)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(class_of(&c, "old/a").await, StorageClass::Standard);
    assert_eq!(get_bytes(&c, "bkt", "old/a").await, body);
    assert_eq!(local(&cluster), before);

    // Back: the next passes move both.
    far.process.restart();
    far.wait_ready().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    for key in ["old/a", "old/enc"] {
        while class_of(&c, key).await != StorageClass::GlacierIr {
            assert!(
                Instant::now() < deadline,
                "{key} did not move:\n{}",
                cluster.logs()
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
    let keys = remote_keys(&rc).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.iter().all(|k| k.len() == "coffer/".len() + 32),
        "{keys:?}"
    );
    // The encrypted object's bytes are sealed there: neither copy equals what was written
    // but the plain one.
    let mut plain = 0;
    for k in &keys {
        let got = rc
            .get_object()
            .bucket("archive")
            .key(k)
            .send()
            .await
            .unwrap();
        let got = got.body.collect().await.unwrap().into_bytes();
        plain += usize::from(got[..] == body[..]);
    }
    assert_eq!(plain, 1, "one copy in clear (old/a), one sealed (old/enc)");
    // Local shards are deleted once the swap is committed.
    let deadline = Instant::now() + Duration::from_secs(30);
    while local(&cluster) != 0 {
        assert!(
            Instant::now() < deadline,
            "{} local shard files left",
            local(&cluster)
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(get_bytes(&c, "bkt", "old/a").await, body);
    assert_eq!(get_bytes(&c, "bkt", "old/enc").await, body);
    let ranged = c
        .get_object()
        .bucket("bkt")
        .key("old/enc")
        .range("bytes=1000000-1000999")
        .send()
        .await
        .unwrap();
    let got = ranged.body.collect().await.unwrap().into_bytes();
    assert_eq!(&got[..], &body[1_000_000..1_001_000]);
    let status = lifecycle(&cluster);
    assert!(count(&status, "transitioned") >= 2, "{status}");
    assert!(
        count(&status, "bytes_transitioned") >= 2 * (3 << 20),
        "{status}"
    );

    // A PUT naming the class goes to the tier too (through the default pool).
    let files = local(&cluster);
    c.put_object()
        .bucket("bkt")
        .key("direct")
        .storage_class(StorageClass::GlacierIr)
        .body(ByteStream::from(body.clone()))
        .send()
        .await
        .unwrap();
    assert_eq!(remote_keys(&rc).await.len(), 3);
    assert_eq!(class_of(&c, "direct").await, StorageClass::GlacierIr);
    assert_eq!(get_bytes(&c, "bkt", "direct").await, body);
    let deadline = Instant::now() + Duration::from_secs(30);
    while local(&cluster) != files {
        assert!(
            Instant::now() < deadline,
            "local shards of the direct PUT left"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    c.delete_object()
        .bucket("bkt")
        .key("direct")
        .send()
        .await
        .unwrap();

    // A tier holding data is not removed, even once no class writes to it.
    let admin = |args: &[&str]| cluster.admin_output(1, args);
    assert!(admin(&["tier", "class", "GLACIER_IR", "--default"])
        .status
        .success());
    let out = admin(&["tier", "remove", "cold"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("2 blobs"), "{err}");
    assert_eq!(get_bytes(&c, "bkt", "old/a").await, body);

    // Deleting an object deletes its remote copy.
    c.delete_object()
        .bucket("bkt")
        .key("old/a")
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while remote_keys(&rc).await.len() != 1 {
        assert!(
            Instant::now() < deadline,
            "the remote copy of old/a is still there"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(get_bytes(&c, "bkt", "old/enc").await, body);

    // An object named like a blob that no record names (sent by a copy whose commit never
    // happened) is swept once older than the grace; a name that is no blob's is not Coffer's,
    // and stays.
    let left = "coffer/00112233445566778899aabbccddeeff";
    for key in [left, "coffer/notes.txt"] {
        rc.put_object()
            .bucket("archive")
            .key(key)
            .body(ByteStream::from_static(b"left over"))
            .send()
            .await
            .unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while remote_keys(&rc).await.iter().any(|k| k == left) {
        assert!(Instant::now() < deadline, "{left} was not swept");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let keys = remote_keys(&rc).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(keys.iter().any(|k| k == "coffer/notes.txt"), "{keys:?}");
    assert_eq!(get_bytes(&c, "bkt", "old/enc").await, body);
}
