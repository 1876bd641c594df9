//! The lifecycle worker, end to end on an all-in-one server whose lifecycle day lasts a few
//! seconds (`--lifecycle-day-seconds`): objects expire (removed when unversioned, hidden under
//! one delete marker when versioned), noncurrent versions go keeping the newest, lone delete
//! markers vanish, incomplete uploads are aborted (with `x-amz-abort-date` announced), Object
//! Lock wins, and `coffer admin lifecycle status` counts it all.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketVersioningStatus,
    ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, ObjectLockLegalHoldStatus, ObjectLockMode,
};
use cluster_tests::{free_port, set_versioning, LocalCluster, Server};

/// Seconds in a lifecycle day in these tests.
const DAY: u64 = 3;

async fn start() -> (Server, String) {
    let admin = format!("127.0.0.1:{}", free_port());
    let day = DAY.to_string();
    let server =
        Server::start_with(&["--admin-address", &admin, "--lifecycle-day-seconds", &day]).await;
    (server, admin)
}

fn status(server: &Server, admin: &str) -> serde_json::Value {
    cluster_tests::admin_of(&server.data(), admin, &["lifecycle", "status"])
}

/// Put `rules` as the lifecycle configuration of `bucket`.
async fn set_rules(c: &aws_sdk_s3::Client, bucket: &str, rules: Vec<LifecycleRule>) {
    let conf = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .unwrap();
    c.put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(conf)
        .send()
        .await
        .unwrap();
}

fn rule(id: &str, prefix: &str) -> aws_sdk_s3::types::builders::LifecycleRuleBuilder {
    LifecycleRule::builder()
        .id(id)
        .filter(LifecycleRuleFilter::builder().prefix(prefix).build())
        .status(ExpirationStatus::Enabled)
}

async fn put(c: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) -> Option<String> {
    let r = c
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
    r.expiration().map(str::to_owned)
}

/// (key, version id, is delete marker), newest first per key.
async fn versions(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Vec<(String, String, bool)> {
    let r = c
        .list_object_versions()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    let mut out: Vec<(String, String, bool, i64)> = Vec::new();
    for v in r.versions() {
        out.push((
            v.key().unwrap().into(),
            v.version_id().unwrap().into(),
            false,
            v.last_modified().unwrap().to_millis().unwrap(),
        ));
    }
    for m in r.delete_markers() {
        out.push((
            m.key().unwrap().into(),
            m.version_id().unwrap().into(),
            true,
            m.last_modified().unwrap().to_millis().unwrap(),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0).then(b.3.cmp(&a.3)));
    out.into_iter().map(|(k, v, m, _)| (k, v, m)).collect()
}

/// Poll `check` every 250 ms until it holds, at most `secs` seconds.
async fn until<F, Fut>(what: &str, secs: u64, server: &Server, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !check().await {
        assert!(
            Instant::now() < deadline,
            "{what}: not after {secs} s\n{}",
            server.process.log()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn objects_expire_in_unversioned_buckets() {
    tokio::time::timeout(Duration::from_secs(120), unversioned())
        .await
        .expect("test timed out");
}

async fn unversioned() {
    let (server, admin) = start().await;
    let c = server.client();
    c.create_bucket().bucket("exp").send().await.unwrap();
    set_rules(
        &c,
        "exp",
        vec![rule("logs-go", "logs/")
            .expiration(LifecycleExpiration::builder().days(1).build())
            .build()
            .unwrap()],
    )
    .await;
    let written = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = put(&c, "exp", "logs/a", "a").await.unwrap();
    put(&c, "exp", "logs/b", "b").await;
    assert_eq!(put(&c, "exp", "data/c", "c").await, None);
    // The expiry date is the first "midnight" (multiple of the day) after a day has passed.
    let due = (written + DAY).div_ceil(DAY) * DAY;
    let http_date = |t: u64| {
        chrono::DateTime::from_timestamp(t as i64, 0)
            .unwrap()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    };
    let (date, later) = (http_date(due), http_date(due + DAY));
    assert!(
        header == format!("expiry-date=\"{date}\", rule-id=\"logs-go\"")
            || header == format!("expiry-date=\"{later}\", rule-id=\"logs-go\""),
        "{header} (written at {written})"
    );

    until("logs/ expired", 30, &server, || async {
        c.list_objects_v2()
            .bucket("exp")
            .send()
            .await
            .unwrap()
            .contents()
            .iter()
            .map(|o| o.key().unwrap().to_owned())
            .collect::<Vec<_>>()
            == ["data/c"]
    })
    .await;
    let e = c
        .get_object()
        .bucket("exp")
        .key("logs/a")
        .send()
        .await
        .unwrap_err();
    assert_eq!(cluster_tests::status(&e), 404);
    let s = status(&server, &admin);
    assert_eq!(s["total"]["expired"], 2, "{s}");
    assert!(s["holder"].as_str().unwrap().len() > 1, "{s}");
    println!("lifecycle status: {s}");
}

#[tokio::test]
async fn versions_markers_and_uploads_in_a_versioned_bucket() {
    tokio::time::timeout(Duration::from_secs(180), versioned())
        .await
        .expect("test timed out");
}

async fn versioned() {
    let (server, admin) = start().await;
    let c = server.client();
    c.create_bucket().bucket("ver").send().await.unwrap();
    set_versioning(&c, "ver", BucketVersioningStatus::Enabled).await;
    set_rules(
        &c,
        "ver",
        vec![
            rule("current", "cur/")
                .expiration(LifecycleExpiration::builder().days(1).build())
                .build()
                .unwrap(),
            rule("noncurrent", "nc/")
                .noncurrent_version_expiration(
                    NoncurrentVersionExpiration::builder()
                        .noncurrent_days(1)
                        .newer_noncurrent_versions(1)
                        .build(),
                )
                .build()
                .unwrap(),
            rule("markers", "dm/")
                .expiration(
                    LifecycleExpiration::builder()
                        .expired_object_delete_marker(true)
                        .build(),
                )
                .build()
                .unwrap(),
            rule("uploads", "up/")
                .abort_incomplete_multipart_upload(
                    AbortIncompleteMultipartUpload::builder()
                        .days_after_initiation(1)
                        .build(),
                )
                .build()
                .unwrap(),
        ],
    )
    .await;

    put(&c, "ver", "cur/x", "x").await;
    for body in ["1", "2", "3", "4"] {
        put(&c, "ver", "nc/y", body).await;
    }
    let nc_before = versions(&c, "ver", "nc/").await;
    put(&c, "ver", "dm/z", "z").await;
    c.delete_object()
        .bucket("ver")
        .key("dm/z")
        .send()
        .await
        .unwrap();
    let under = versions(&c, "ver", "dm/").await;
    let (_, data_version, _) = under.iter().find(|v| !v.2).unwrap().clone();
    c.delete_object()
        .bucket("ver")
        .key("dm/z")
        .version_id(&data_version)
        .send()
        .await
        .unwrap();
    // A marker with a version under it stays.
    put(&c, "ver", "dm/kept", "k").await;
    c.delete_object()
        .bucket("ver")
        .key("dm/kept")
        .send()
        .await
        .unwrap();

    let up = c
        .create_multipart_upload()
        .bucket("ver")
        .key("up/big")
        .send()
        .await
        .unwrap();
    assert!(up.abort_date().is_some(), "{up:?}");
    assert_eq!(up.abort_rule_id(), Some("uploads"));
    let upload_id = up.upload_id().unwrap().to_owned();
    let parts = c
        .list_parts()
        .bucket("ver")
        .key("up/big")
        .upload_id(&upload_id)
        .send()
        .await
        .unwrap();
    assert_eq!(parts.abort_date(), up.abort_date());
    assert_eq!(parts.abort_rule_id(), Some("uploads"));
    // An upload outside the rule's prefix: no abort date, never aborted.
    let kept = c
        .create_multipart_upload()
        .bucket("ver")
        .key("keep/big")
        .send()
        .await
        .unwrap();
    assert_eq!(kept.abort_date(), None);

    // cur/x: one delete marker on top of it, never a second.
    until("cur/x hidden", 30, &server, || async {
        versions(&c, "ver", "cur/")
            .await
            .first()
            .is_some_and(|v| v.2)
    })
    .await;
    // nc/y: the current version and the newest noncurrent one are kept.
    until("nc/y trimmed", 30, &server, || async {
        versions(&c, "ver", "nc/").await.len() == 2
    })
    .await;
    assert_eq!(versions(&c, "ver", "nc/").await[..], nc_before[..2]);
    // dm/z: the lone marker is gone; dm/kept keeps its marker and version.
    until("dm/z's marker removed", 30, &server, || async {
        !versions(&c, "ver", "dm/")
            .await
            .iter()
            .any(|v| v.0 == "dm/z")
    })
    .await;
    // The upload under up/ is aborted; the other is not.
    until("up/big aborted", 30, &server, || async {
        let r = c
            .list_multipart_uploads()
            .bucket("ver")
            .send()
            .await
            .unwrap();
        r.uploads()
            .iter()
            .map(|u| u.key().unwrap())
            .collect::<Vec<_>>()
            == ["keep/big"]
    })
    .await;

    // Two more days: nothing else changes.
    let s = status(&server, &admin);
    let passes = s["passes"].as_u64().unwrap();
    until("two more passes", 30, &server, || async {
        status(&server, &admin)["passes"].as_u64().unwrap() >= passes + 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2 * DAY)).await;
    let cur = versions(&c, "ver", "cur/").await;
    assert_eq!(cur.len(), 2, "{cur:?}");
    assert!(cur[0].2 && !cur[1].2, "{cur:?}");
    assert_eq!(versions(&c, "ver", "nc/").await[..], nc_before[..2]);
    let dm = versions(&c, "ver", "dm/").await;
    assert_eq!(dm.len(), 2, "{dm:?}");
    assert!(dm.iter().all(|v| v.0 == "dm/kept"), "{dm:?}");
    let s = status(&server, &admin);
    let t = &s["total"];
    assert_eq!(
        (
            &t["expired"],
            &t["noncurrent_removed"],
            &t["markers_removed"],
            &t["uploads_aborted"],
            &t["failed"]
        ),
        (&1.into(), &2.into(), &1.into(), &1.into(), &0.into()),
        "{s}"
    );
    println!("lifecycle status: {s}");
}

#[tokio::test]
async fn object_lock_wins_over_lifecycle() {
    tokio::time::timeout(Duration::from_secs(120), locked())
        .await
        .expect("test timed out");
}

async fn locked() {
    let (server, admin) = start().await;
    let c = server.client();
    c.create_bucket()
        .bucket("vault")
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .unwrap();
    set_rules(
        &c,
        "vault",
        vec![rule("everything", "")
            .expiration(LifecycleExpiration::builder().days(1).build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(1)
                    .build(),
            )
            .build()
            .unwrap()],
    )
    .await;
    let far = aws_sdk_s3::primitives::DateTime::from_secs(4_000_000_000);
    // A retained version and a held one, each overwritten: noncurrent, due, and kept.
    let retained = c
        .put_object()
        .bucket("vault")
        .key("retained")
        .object_lock_mode(ObjectLockMode::Governance)
        .object_lock_retain_until_date(far)
        .body(ByteStream::from_static(b"r1"))
        .send()
        .await
        .unwrap();
    let held = c
        .put_object()
        .bucket("vault")
        .key("held")
        .object_lock_legal_hold_status(ObjectLockLegalHoldStatus::On)
        .body(ByteStream::from_static(b"h1"))
        .send()
        .await
        .unwrap();
    let free = c
        .put_object()
        .bucket("vault")
        .key("free")
        .body(ByteStream::from_static(b"f1"))
        .send()
        .await
        .unwrap();
    for key in ["retained", "held", "free"] {
        put(&c, "vault", key, "newer").await;
    }
    let id =
        |o: &aws_sdk_s3::operation::put_object::PutObjectOutput| o.version_id().unwrap().to_owned();
    let (retained, held, free) = (id(&retained), id(&held), id(&free));

    // The free key's first version goes; the locked ones stay, counted as kept by the lock;
    // current versions expire under delete markers (Object Lock allows markers).
    until("noncurrent versions handled", 40, &server, || async {
        let s = status(&server, &admin);
        let all = versions(&c, "vault", "").await;
        s["total"]["locked"].as_u64().unwrap_or(0) >= 2 && !all.iter().any(|v| v.1 == free)
    })
    .await;
    let all = versions(&c, "vault", "").await;
    for (key, kept) in [("retained", &retained), ("held", &held)] {
        assert!(all.iter().any(|v| v.1 == *kept), "{key}: {all:?}");
    }
    for key in ["retained", "held", "free"] {
        assert!(all.iter().any(|v| v.0 == key && v.2), "{key}: {all:?}");
    }
    println!("lifecycle status: {}", status(&server, &admin));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_second_gateway_takes_over_the_pass_where_a_killed_one_was() {
    tokio::time::timeout(Duration::from_secs(240), failover())
        .await
        .expect("test timed out");
}

/// `coffer admin lifecycle status` of a cluster, through node 1.
fn cluster_status(cluster: &LocalCluster) -> serde_json::Value {
    cluster.admin_json(1, &["lifecycle", "status"])
}

async fn failover() {
    // Passes slowed to 400 versions a second, so that one is under way when its gateway dies.
    let day = DAY.to_string();
    let flags = [
        "--lifecycle-day-seconds",
        day.as_str(),
        "--lifecycle-scan-rate",
        "400",
    ];
    let mut cluster = LocalCluster::start_with_gateway(3, &[], |_| Vec::new(), &flags).await;
    let (mut second, second_endpoint) = cluster.add_gateway("gateway2", &flags).await;
    let c = cluster.client();
    c.create_bucket().bucket("many").send().await.unwrap();
    set_rules(
        &c,
        "many",
        vec![rule("all", "")
            .expiration(LifecycleExpiration::builder().days(1).build())
            .build()
            .unwrap()],
    )
    .await;
    const N: usize = 3000;
    let keys: Vec<String> = (0..N).map(|i| format!("k{i:05}")).collect();
    futures::future::join_all(keys.chunks(N / 30).map(|chunk| {
        let c = c.clone();
        async move {
            for k in chunk {
                put(&c, "many", k, "x").await;
            }
        }
    }))
    .await;

    // A pass is expiring keys: stop its gateway with kill -9.
    let deadline = Instant::now() + Duration::from_secs(90);
    let before = loop {
        let s = cluster_status(&cluster);
        // Early enough in the pass that it is still under way when the kill lands.
        let early = s["cursor"]["key"].as_str().is_some_and(|k| k < "k02000");
        if s["pass"]["expired"].as_u64().unwrap_or(0) >= 200 && early {
            break s;
        }
        assert!(Instant::now() < deadline, "no pass expiring keys: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let holder = before["holder"].as_str().unwrap().to_owned();
    let first_holds = cluster.gateway.log().contains(&holder);
    if first_holds {
        cluster.gateway.kill9();
    } else {
        second.kill9();
    }
    let stopped_at = before["cursor"]["key"].as_str().unwrap().to_owned();

    // The survivor takes the lease once it runs out and goes on from the saved cursor: the same
    // pass, never from the start.
    let deadline = Instant::now() + Duration::from_secs(60);
    let after = loop {
        let s = cluster_status(&cluster);
        if s["holder"].as_str() != Some(holder.as_str()) {
            break s;
        }
        assert!(Instant::now() < deadline, "no takeover: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let survivor = if first_holds {
        &second
    } else {
        &cluster.gateway
    };
    assert!(
        survivor.log().contains(after["holder"].as_str().unwrap()),
        "{after}"
    );
    assert_eq!(after["passes"], before["passes"], "{before}\n{after}");
    let c = if first_holds {
        cluster_tests::client_for(
            &second_endpoint,
            cluster_tests::ACCESS_KEY,
            cluster_tests::SECRET_KEY,
        )
    } else {
        c
    };
    let resumed_at = after["cursor"]["key"].as_str().unwrap_or("").to_owned();
    assert!(resumed_at >= stopped_at, "{stopped_at} -> {after}");
    println!(
        "holder {holder} killed at key {stopped_at} ({} expired in its pass); {} took over at \
         key {resumed_at:?}",
        before["pass"]["expired"], after["holder"]
    );

    // Every object expires; none twice.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let left = c
            .list_objects_v2()
            .bucket("many")
            .send()
            .await
            .unwrap()
            .key_count()
            .unwrap_or(0);
        if left == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{left} objects left");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let s = cluster_status(&cluster);
    let expired = s["total"]["expired"].as_u64().unwrap();
    assert!(expired <= N as u64, "{s}");
    println!("all {N} objects expired; the document counts {expired} (a crash loses at most a second of counts)");
}
