//! `coffer-bench`: starts a `coffer server` (one drive, fsync on) on a free port, measures it
//! with the aws-sdk-s3 client, and prints each figure next to this machine's own limits
//! measured in the same run: md5sum and sha256sum MiB/s and raw disk write/read MiB/s on the
//! same filesystem. Prints a table and one JSON line. Timings are reported, never asserted.
//!
//! Usage: coffer-bench [--quick] [--versioned] [--sse] [--lifecycle] [--transitions] [--dir DIR]
//! (DIR: where data and scratch files go; --versioned: the same figures on buckets with
//! versioning enabled; --sse: every object written with SSE-S3, and the AES-256-GCM MiB/s of
//! one core among the limits; --lifecycle: the lifecycle worker's scan rate and its cost to
//! GETs instead; --transitions: transitions to a remote tier against its PUT rate instead)

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // a benchmark that fails should stop

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};

mod lifecycle;
mod transitions;
use cluster_tests::{bytes, Server};

const MIB: usize = 1 << 20;

struct Sizes {
    large_mib: usize,
    streams: usize,
    small_secs: u64,
    list_keys: usize,
    ref_mib: usize,
}

fn mibps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB as f64 / d.as_secs_f64()
}

/// Time a shell command (for the machine references).
fn timed(cmd: &str) -> Duration {
    let t = Instant::now();
    let ok = Command::new("bash")
        .arg("-c")
        .arg(cmd)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "reference command failed: {cmd}");
    t.elapsed()
}

fn machine_refs(dir: &Path, mib: usize) -> Vec<(String, f64)> {
    let f = dir.join("ref.bin");
    let p = f.display();
    let b = (mib * MIB) as u64;
    let write = timed(&format!(
        "dd if=/dev/zero of={p} bs=1M count={mib} conv=fdatasync status=none"
    ));
    let read = timed(&format!(
        "dd if={p} of=/dev/null bs=1M iflag=direct status=none"
    ));
    timed(&format!(
        "head -c {} /dev/urandom > {p} && cat {p} > /dev/null",
        mib * MIB
    ));
    let md5 = timed(&format!("md5sum {p} > /dev/null"));
    let sha = timed(&format!("sha256sum {p} > /dev/null"));
    let _ = std::fs::remove_file(&f);
    vec![
        ("disk write (dd fdatasync) MiB/s".into(), mibps(b, write)),
        ("disk read (dd O_DIRECT) MiB/s".into(), mibps(b, read)),
        ("md5sum MiB/s".into(), mibps(b, md5)),
        ("sha256sum MiB/s".into(), mibps(b, sha)),
    ]
}

fn peak_rss_mib(pid: u32) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

/// The encryption every write asks for (None: none).
fn sse(on: bool) -> Option<aws_sdk_s3::types::ServerSideEncryption> {
    on.then_some(aws_sdk_s3::types::ServerSideEncryption::Aes256)
}

/// MiB/s of one core sealing 64 KiB packages with the gateway's own cipher (AES-256-GCM): the
/// limit of encrypted transfers beside which the `--sse` figures are read.
fn aes_gcm_one_core(mib: usize) -> f64 {
    let cipher = coffer_gateway::sse::packages::RunCipher::new(&[7; 32], Some(&[1; 16]));
    let plain = bytes(64 << 10, 3);
    let mut out = bytes::BytesMut::with_capacity((64 << 10) + 16);
    let t = Instant::now();
    for i in 0..(mib * 16) as u64 {
        out.clear();
        cipher.seal_into(i, &plain, &mut out);
    }
    mibps((mib * MIB) as u64, t.elapsed())
}

async fn large(c: &aws_sdk_s3::Client, sz: &Sizes, encrypt: bool) -> (f64, f64) {
    let part = bytes::Bytes::from(bytes(16 * MIB, 42));
    let parts_per_obj = sz.large_mib / 16;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..sz.streams {
        let (c, part) = (c.clone(), part.clone());
        tasks.push(tokio::spawn(async move {
            let key = format!("large-{s}");
            let id = c
                .create_multipart_upload()
                .bucket("bench")
                .key(&key)
                .set_server_side_encryption(sse(encrypt))
                .send()
                .await
                .unwrap()
                .upload_id()
                .unwrap()
                .to_owned();
            let mut done = Vec::new();
            for n in 1..=parts_per_obj as i32 {
                let r = c
                    .upload_part()
                    .bucket("bench")
                    .key(&key)
                    .upload_id(&id)
                    .part_number(n)
                    .body(part.clone().into())
                    .send()
                    .await
                    .unwrap();
                done.push(
                    CompletedPart::builder()
                        .part_number(n)
                        .e_tag(r.e_tag().unwrap())
                        .build(),
                );
            }
            let mp = CompletedMultipartUpload::builder()
                .set_parts(Some(done))
                .build();
            c.complete_multipart_upload()
                .bucket("bench")
                .key(&key)
                .upload_id(&id)
                .multipart_upload(mp)
                .send()
                .await
                .unwrap();
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = (sz.streams * parts_per_obj * 16 * MIB) as u64;
    let put = mibps(total, t.elapsed());
    let t = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..sz.streams {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            let mut body = c
                .get_object()
                .bucket("bench")
                .key(format!("large-{s}"))
                .send()
                .await
                .unwrap()
                .body;
            let mut n = 0u64;
            while let Some(chunk) = body.next().await {
                n += chunk.unwrap().len() as u64;
            }
            n
        }));
    }
    let mut got = 0;
    for t in tasks {
        got += t.await.unwrap();
    }
    assert_eq!(got, total);
    (put, mibps(total, t.elapsed()))
}

/// Run `op` from 32 concurrent workers for `secs`; returns (ops/s, p50 ms, p99 ms).
async fn small<F, Fut>(secs: u64, op: F) -> (f64, f64, f64)
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..32 {
        let op = op.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let s = Instant::now();
                op(w, i).await;
                lat.push(s.elapsed());
                i += 1;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let el = t.elapsed();
    all.sort();
    (
        all.len() as f64 / el.as_secs_f64(),
        percentile(&all, 0.5),
        percentile(&all, 0.99),
    )
}

/// `writes` PUTs of empty objects to `bucket` from 32 workers, over `n` keys
/// (`dirNN/key-NNNNNNN`): `writes / n` versions of each.
async fn fill(c: &aws_sdk_s3::Client, bucket: &str, writes: usize, n: usize) {
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (c, next, bucket) = (c.clone(), next.clone(), bucket.to_owned());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= writes {
                    break;
                }
                let i = i % n;
                c.put_object()
                    .bucket(&bucket)
                    .key(format!("dir{:02}/key-{i:07}", i % 50))
                    .body(Vec::new().into())
                    .send()
                    .await
                    .unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// Fill bucket `list` with `n` keys of `versions` versions each (empty objects, from 32
/// workers), then time a full ListObjectsV2 walk.
async fn list_time(c: &aws_sdk_s3::Client, n: usize, versions: usize) -> f64 {
    fill(c, "list", n * versions, n).await;
    let t = Instant::now();
    let mut seen = 0;
    let mut token = None;
    loop {
        let r = c
            .list_objects_v2()
            .bucket("list")
            .set_continuation_token(token)
            .send()
            .await
            .unwrap();
        seen += r.contents().len();
        if !r.is_truncated().unwrap_or(false) {
            break;
        }
        token = r.next_continuation_token().map(str::to_owned);
    }
    assert_eq!(seen, n);
    t.elapsed().as_secs_f64()
}

/// Time a full ListObjectVersions walk of bucket `list` (pages of 1000): (seconds, entries).
async fn list_versions_time(c: &aws_sdk_s3::Client) -> (f64, usize) {
    let t = Instant::now();
    let mut seen = 0;
    let (mut key_marker, mut version_marker) = (None, None);
    loop {
        let r = c
            .list_object_versions()
            .bucket("list")
            .set_key_marker(key_marker)
            .set_version_id_marker(version_marker)
            .send()
            .await
            .unwrap();
        seen += r.versions().len() + r.delete_markers().len();
        if !r.is_truncated().unwrap_or(false) {
            break;
        }
        key_marker = r.next_key_marker().map(str::to_owned);
        version_marker = r.next_version_id_marker().map(str::to_owned);
    }
    (t.elapsed().as_secs_f64(), seen)
}

/// The same walk as [`list_versions_time`] with raw signed requests whose answers are not
/// parsed beyond their markers: the server's own rate, without the SDK's XML parsing (which
/// shares this machine's two cores with the server). (seconds, entries).
async fn list_versions_raw(endpoint: &str) -> (f64, usize) {
    let t = Instant::now();
    let mut seen = 0;
    let mut markers = String::new();
    loop {
        let path = format!("/list?{markers}versions");
        let r = cluster_tests::signed(reqwest::Method::GET, endpoint, &path, &[])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = r.text().await.unwrap();
        seen += body.matches("<Version>").count() + body.matches("<DeleteMarker>").count();
        let field = |name: &str| {
            let open = format!("<{name}>");
            let start = body.find(&open)? + open.len();
            let len = body[start..].find('<')?;
            Some(body[start..start + len].to_owned())
        };
        if !body.contains("<IsTruncated>true</IsTruncated>") {
            break;
        }
        // SigV4's canonical query: every byte but the unreserved ones encoded.
        const QUERY: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'_')
            .remove(b'.')
            .remove(b'~');
        let enc = |v: String| percent_encoding::utf8_percent_encode(&v, QUERY).to_string();
        let key = field("NextKeyMarker").map(enc).unwrap_or_default();
        let version = field("NextVersionIdMarker").map(enc).unwrap_or_default();
        markers = format!("key-marker={key}&version-id-marker={version}&");
    }
    (t.elapsed().as_secs_f64(), seen)
}

/// Starts a `coffer server` (one drive, fsync on) on a free port, measures it with the
/// aws-sdk-s3 client, and prints each figure next to this machine's own limits.
#[derive(clap::Parser)]
#[command(name = "coffer-bench")]
struct Args {
    /// A short run (64 MiB objects, 3 s of small requests, 5,000 keys) to check the set-up.
    #[arg(long)]
    quick: bool,
    /// Where the server's data folder and the scratch files go (default: the temp folder).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Run on buckets with versioning enabled: every write keeps a version, the listing
    /// bucket holds 10 versions of each key, and ListObjectVersions is timed over them all.
    #[arg(long)]
    versioned: bool,
    /// Write every object with SSE-S3 (`x-amz-server-side-encryption: AES256`), and measure
    /// AES-256-GCM on one core as the limit beside the figures.
    #[arg(long)]
    sse: bool,
    /// Measure the lifecycle worker instead: versions scanned per second by a pass with nothing
    /// due, and the p99 of 4 KiB GETs without rules and while passes run.
    #[arg(long)]
    lifecycle: bool,
    /// Measure lifecycle transitions to a remote tier (a second server) instead, against the
    /// tier's own PUT MiB/s with one stream and four.
    #[arg(long)]
    transitions: bool,
}

#[tokio::main]
async fn main() {
    let args = <Args as clap::Parser>::parse();
    let quick = args.quick;
    let dir = args.dir.unwrap_or_else(std::env::temp_dir);
    std::env::set_var("TMPDIR", &dir);
    let sz = if quick {
        Sizes {
            large_mib: 64,
            streams: 4,
            small_secs: 3,
            list_keys: 5_000,
            ref_mib: 256,
        }
    } else {
        Sizes {
            large_mib: 1024,
            streams: 4,
            small_secs: 15,
            list_keys: 100_000,
            ref_mib: 1024,
        }
    };
    let mut refs = machine_refs(&dir, sz.ref_mib);
    if args.sse {
        refs.push((
            "AES-256-GCM one core (64 KiB packages) MiB/s".into(),
            aes_gcm_one_core(sz.ref_mib),
        ));
    }
    if args.transitions {
        println!(
            "coffer-bench --transitions ({})",
            if quick { "quick" } else { "full" }
        );
        for (k, v) in &refs {
            println!("  machine  {k:<40} {v:>10.1}");
        }
        let figures = transitions::run(quick).await;
        println!("{}", serde_json::json!({ "transitions": figures }));
        return;
    }
    if args.lifecycle {
        println!(
            "coffer-bench --lifecycle ({})",
            if quick { "quick" } else { "full" }
        );
        for (k, v) in &refs {
            println!("  machine  {k:<40} {v:>10.1}");
        }
        let figures = lifecycle::run(&dir, quick).await;
        println!("{}", serde_json::json!({ "lifecycle": figures }));
        return;
    }
    let encrypt = args.sse;
    let s = Server::start().await;
    let pid = s.process.pid();
    let c = s.client();
    c.create_bucket().bucket("bench").send().await.unwrap();
    c.create_bucket().bucket("list").send().await.unwrap();
    let versions_each = if args.versioned {
        for b in ["bench", "list"] {
            c.put_bucket_versioning()
                .bucket(b)
                .versioning_configuration(
                    aws_sdk_s3::types::VersioningConfiguration::builder()
                        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap();
        }
        10
    } else {
        1
    };

    let (put, get) = large(&c, &sz, encrypt).await;
    let body = bytes::Bytes::from(bytes(4096, 1));
    let (cp, b) = (c.clone(), body.clone());
    let sput = small(sz.small_secs, move |w, i| {
        let (c, b) = (cp.clone(), b.clone());
        async move {
            c.put_object()
                .bucket("bench")
                .key(format!("small/{w}/{}", i % 1000))
                .set_server_side_encryption(sse(encrypt))
                .body(b.into())
                .send()
                .await
                .unwrap();
        }
    })
    .await;
    let cg = c.clone();
    let sget = small(sz.small_secs, move |w, i| {
        let c = cg.clone();
        async move {
            let o = c
                .get_object()
                .bucket("bench")
                .key(format!("small/{w}/{}", i % 10))
                .send()
                .await
                .unwrap();
            o.body.collect().await.unwrap();
        }
    })
    .await;
    let list = list_time(&c, sz.list_keys, versions_each).await;
    let (versions_secs, versions_seen) = list_versions_time(&c).await;
    let (raw_secs, raw_seen) = list_versions_raw(&s.endpoint).await;
    assert_eq!(raw_seen, versions_seen);
    let rss = peak_rss_mib(pid);

    println!(
        "coffer-bench ({}{}; data in {})",
        if quick { "quick" } else { "full" },
        match (args.versioned, args.sse) {
            (true, true) => ", versioned buckets, SSE-S3",
            (true, false) => ", versioned buckets",
            (false, true) => ", SSE-S3",
            (false, false) => "",
        },
        dir.display()
    );
    for (k, v) in &refs {
        println!("  machine  {k:<40} {v:>10.1}");
    }
    let large_label = format!("{}x{} MiB", sz.streams, sz.large_mib);
    println!("  coffer   PUT large ({large_label}, multipart 16 MiB) MiB/s {put:>10.1}");
    println!("  coffer   GET large ({large_label}) MiB/s {get:>10.1}");
    println!(
        "  coffer   PUT 4 KiB c=32 ops/s {:>10.0}  p50 {:.2} ms  p99 {:.2} ms",
        sput.0, sput.1, sput.2
    );
    println!(
        "  coffer   GET 4 KiB c=32 ops/s {:>10.0}  p50 {:.2} ms  p99 {:.2} ms",
        sget.0, sget.1, sget.2
    );
    println!(
        "  coffer   list {} keys of {versions_each} version(s) (ListObjectsV2 pages of 1000) {list:.2} s",
        sz.list_keys
    );
    let entries_per_s = versions_seen as f64 / versions_secs;
    println!(
        "  coffer   ListObjectVersions {versions_seen} entries (pages of 1000) {versions_secs:.2} s = {entries_per_s:.0} entries/s"
    );
    let raw_per_s = raw_seen as f64 / raw_secs;
    println!(
        "  coffer   ListObjectVersions {raw_seen} entries, raw requests (answers not parsed) {raw_secs:.2} s = {raw_per_s:.0} entries/s"
    );
    println!("  coffer   server peak RSS {rss:.1} MiB");
    let json = serde_json::json!({
        "machine": refs.iter().map(|(k, v)| (k.clone(), serde_json::json!((v * 10.0).round() / 10.0))).collect::<serde_json::Map<_, _>>(),
        "put_large_mibps": put, "get_large_mibps": get,
        "put_4k_ops": sput.0, "put_4k_p50_ms": sput.1, "put_4k_p99_ms": sput.2,
        "get_4k_ops": sget.0, "get_4k_p50_ms": sget.1, "get_4k_p99_ms": sget.2,
        "list_keys": sz.list_keys, "list_versions_each": versions_each, "list_seconds": list,
        "list_versions_entries": versions_seen, "list_versions_seconds": versions_secs,
        "list_versions_entries_per_s": entries_per_s,
        "list_versions_raw_seconds": raw_secs, "list_versions_raw_entries_per_s": raw_per_s, "versioned": args.versioned, "sse": args.sse,
        "peak_rss_mib": rss,
    });
    println!("{json}");
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::Args;

    #[test]
    fn help_and_unknown_flags_do_not_start_a_run() {
        let help = Args::try_parse_from(["coffer-bench", "--help"]).map(|_| ());
        assert_eq!(
            help.map_err(|e| e.kind()),
            Err(clap::error::ErrorKind::DisplayHelp)
        );
        let bogus = Args::try_parse_from(["coffer-bench", "--bogus"]).map(|_| ());
        assert_eq!(
            bogus.map_err(|e| e.kind()),
            Err(clap::error::ErrorKind::UnknownArgument)
        );
        let a = Args::try_parse_from(["coffer-bench", "--quick", "--dir", "/x"]).unwrap();
        assert!(a.quick);
        assert_eq!(a.dir.as_deref(), Some(std::path::Path::new("/x")));
    }
}
