//! `coffer-bench --transitions`: lifecycle transitions to a remote tier, against that tier's
//! own PUT throughput measured in the same run. A second all-in-one server plays the remote
//! S3. First, objects of the same size are PUT straight into its bucket, one stream at a time
//! and four at once. Then an all-in-one server whose lifecycle day lasts two seconds moves the
//! same number of objects there by a `Transition` rule dated in the past (all are due at the
//! same pass); its rate is read from the remote's listing, polled every 50 ms, between the
//! first and the last object to arrive.

use std::time::{Duration, Instant};

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleRule, LifecycleRuleFilter, Transition,
    TransitionStorageClass,
};
use bytes::Bytes;
use cluster_tests::{free_port, Server, ACCESS_KEY, SECRET_KEY};

const MIB: u64 = 1 << 20;

/// PUT `n` copies of `body` under `prefix`, `streams` at a time: MiB/s.
async fn put_rate(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    n: usize,
    body: &Bytes,
    streams: usize,
) -> f64 {
    let started = Instant::now();
    futures::future::join_all((0..streams).map(|w| {
        let (c, body) = (c.clone(), body.clone());
        let (bucket, prefix) = (bucket.to_owned(), prefix.to_owned());
        async move {
            for i in (w..n).step_by(streams) {
                c.put_object()
                    .bucket(&bucket)
                    .key(format!("{prefix}{i:04}"))
                    .body(body.clone().into())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }))
    .await;
    (n as u64 * body.len() as u64) as f64 / MIB as f64 / started.elapsed().as_secs_f64()
}

/// How many objects the remote holds under `prefix`.
async fn count(c: &aws_sdk_s3::Client, prefix: &str) -> usize {
    let l = c
        .list_objects_v2()
        .bucket("archive")
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    l.key_count().unwrap_or(0) as usize
}

/// The figures, printed and returned.
pub async fn run(quick: bool) -> serde_json::Value {
    let (n, mib) = if quick { (8, 8) } else { (32, 16) };
    let body = Bytes::from(cluster_tests::bytes(mib * MIB as usize, 5));
    let far = Server::start().await;
    let rc = far.client();
    rc.create_bucket().bucket("archive").send().await.unwrap();
    let one = put_rate(&rc, "archive", "direct1/", n, &body, 1).await;
    let four = put_rate(&rc, "archive", "direct4/", n, &body, 4).await;

    let admin = format!("127.0.0.1:{}", free_port());
    let s = Server::start_with(&[
        "--admin-address",
        admin.as_str(),
        "--lifecycle-day-seconds",
        "2",
    ])
    .await;
    let out = std::process::Command::new(cluster_tests::coffer_bin())
        .args(["admin", "--json", "--node", &admin, "--cluster-secret-file"])
        .arg(s.data().join("cluster.secret"))
        .args([
            "tier",
            "add",
            "far",
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
    let c = s.client();
    c.create_bucket().bucket("src").send().await.unwrap();
    put_rate(&c, "src", "obj/", n, &body, 4).await;
    let rule = LifecycleRule::builder()
        .id("away")
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .status(ExpirationStatus::Enabled)
        .transitions(
            // A date in the past: every object is due at once, at the next pass.
            Transition::builder()
                .date(aws_sdk_s3::primitives::DateTime::from_secs(1_577_836_800))
                .storage_class(TransitionStorageClass::GlacierIr)
                .build(),
        )
        .build()
        .unwrap();
    c.put_bucket_lifecycle_configuration()
        .bucket("src")
        .lifecycle_configuration(
            BucketLifecycleConfiguration::builder()
                .rules(rule)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut first: Option<(Instant, usize)> = None;
    let last = loop {
        let k = count(&rc, "coffer/").await;
        if k > 0 && first.is_none() {
            first = Some((Instant::now(), k));
        }
        if k >= n {
            break Instant::now();
        }
        assert!(Instant::now() < deadline, "{k} of {n} objects moved");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let (t0, k0) = first.unwrap();
    let moved = ((n - k0) as u64 * body.len() as u64) as f64 / MIB as f64;
    let rate = moved / last.duration_since(t0).as_secs_f64().max(0.001);
    println!("  remote tier PUT {n} x {mib} MiB, 1 stream:  {one:>8.1} MiB/s");
    println!("  remote tier PUT {n} x {mib} MiB, 4 streams: {four:>8.1} MiB/s");
    println!(
        "  transitions to it ({n} x {mib} MiB):   {rate:>8.1} MiB/s = {:.0} % of 1 stream, {:.0} % of 4",
        100.0 * rate / one,
        100.0 * rate / four
    );
    serde_json::json!({
        "objects": n, "object_mib": mib,
        "tier_put_mibps_1_stream": one, "tier_put_mibps_4_streams": four,
        "transition_mibps": rate,
    })
}
