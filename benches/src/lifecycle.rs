//! `coffer-bench --lifecycle`: the lifecycle worker over a bucket whose rules have nothing due
//! (the common case: a pass reads every version and does nothing), on an all-in-one server
//! whose day lasts 24 s so that a pass starts every second: versions scanned per second by a
//! pass at the shipped `--lifecycle-scan-rate`, at 50,000 (the slowest scan the worker must
//! manage) and unlimited, and the p99 of foreground 4 KiB
//! GETs without rules and while passes run back to back.

use std::path::Path;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, ExpirationStatus, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter,
};
use cluster_tests::{free_port, Server};

fn status(data: &Path, admin: &str) -> serde_json::Value {
    cluster_tests::admin_of(data, admin, &["lifecycle", "status"])
}

/// Wait for two more complete passes, then read the last one: (versions, seconds).
async fn next_pass(data: &Path, admin: &str) -> (u64, f64) {
    let first = status(data, admin)["passes"].as_u64().unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let s = status(data, admin);
        if s["passes"].as_u64().unwrap_or(0) >= first + 2 {
            let scanned = s["last_pass"]["scanned"].as_u64().unwrap();
            let secs = s["last_pass_ms"].as_i64().unwrap() as f64 / 1000.0;
            return (scanned, secs);
        }
        assert!(Instant::now() < deadline, "no lifecycle pass: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// p99 and ops/s of 4 KiB GETs at c=32 for `secs`.
async fn gets(c: &aws_sdk_s3::Client, secs: u64) -> (f64, f64, f64) {
    let cg = c.clone();
    super::small(secs, move |w, i| {
        let c = cg.clone();
        async move {
            let o = c
                .get_object()
                .bucket("hot")
                .key(format!("k{}", (w + i) % 10))
                .send()
                .await
                .unwrap();
            o.body.collect().await.unwrap();
        }
    })
    .await
}

/// One server at `--lifecycle-scan-rate rate` (None: the default): the scan rate of a pass and
/// the GET figures without and with rules.
async fn measure(n: usize, secs: u64, rate: Option<&str>) -> serde_json::Value {
    let admin = format!("127.0.0.1:{}", free_port());
    let mut flags = vec![
        "--admin-address",
        admin.as_str(),
        "--lifecycle-day-seconds",
        "24",
    ];
    if let Some(r) = rate {
        flags.extend_from_slice(&["--lifecycle-scan-rate", r]);
    }
    let s = Server::start_with(&flags).await;
    let c = s.client();
    for b in ["lcscan", "hot"] {
        c.create_bucket().bucket(b).send().await.unwrap();
    }
    let body = bytes::Bytes::from(cluster_tests::bytes(4096, 1));
    for i in 0..10 {
        c.put_object()
            .bucket("hot")
            .key(format!("k{i}"))
            .body(body.clone().into())
            .send()
            .await
            .unwrap();
    }
    super::fill(&c, "lcscan", n, n).await;
    let off = gets(&c, secs).await;
    // Nothing is due for a hundred years of 24 s days: every pass reads all and does nothing.
    let conf = BucketLifecycleConfiguration::builder()
        .rules(
            LifecycleRule::builder()
                .id("someday")
                .filter(LifecycleRuleFilter::builder().prefix("").build())
                .status(ExpirationStatus::Enabled)
                .expiration(LifecycleExpiration::builder().days(36500).build())
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    c.put_bucket_lifecycle_configuration()
        .bucket("lcscan")
        .lifecycle_configuration(conf)
        .send()
        .await
        .unwrap();
    let (scanned, pass_secs) = next_pass(&s.data(), &admin).await;
    assert_eq!(scanned, n as u64);
    let before = status(&s.data(), &admin)["passes"].as_u64().unwrap_or(0);
    let on = gets(&c, secs).await;
    let during = status(&s.data(), &admin)["passes"].as_u64().unwrap_or(0) - before;
    serde_json::json!({
        "scan_rate_setting": rate.unwrap_or("default (100000)"),
        "versions": n,
        "pass_seconds": pass_secs,
        "versions_per_s": scanned as f64 / pass_secs,
        "get_4k_ops_without_rules": off.0, "get_4k_p99_ms_without_rules": off.2,
        "get_4k_ops_while_passes_run": on.0, "get_4k_p99_ms_while_passes_run": on.2,
        "passes_during_gets": during,
    })
}

/// The figures, printed and returned.
pub async fn run(_dir: &Path, quick: bool) -> serde_json::Value {
    let (n, secs) = if quick { (20_000, 5) } else { (200_000, 15) };
    let mut out = Vec::new();
    for rate in [None, Some("50000"), Some("0")] {
        let m = measure(n, secs, rate).await;
        println!(
            "  lifecycle (rate {}): a pass over {} versions, nothing due: {:.2} s = {:.0} versions/s",
            m["scan_rate_setting"], n, m["pass_seconds"], m["versions_per_s"]
        );
        println!(
            "  lifecycle (rate {}): GET 4 KiB c=32 p99 {:.2} ms without rules, {:.2} ms with passes running ({} passes)",
            m["scan_rate_setting"],
            m["get_4k_p99_ms_without_rules"].as_f64().unwrap_or(0.0),
            m["get_4k_p99_ms_while_passes_run"].as_f64().unwrap_or(0.0),
            m["passes_during_gets"]
        );
        out.push(m);
    }
    serde_json::json!(out)
}
