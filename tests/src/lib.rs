//! The end-to-end test harness: starts real `coffer` processes on free loopback ports with
//! temporary data folders and hands out `aws-sdk-s3` clients pointed at them. Tests live in
//! `tests/tests/`, one file per area.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

pub mod cluster;
pub mod load;

pub use cluster::LocalCluster;

/// Access key every test server accepts.
pub const ACCESS_KEY: &str = "testaccesskey";
/// Its secret.
pub const SECRET_KEY: &str = "testsecretkey0123456789";

/// The `coffer` binary: `COFFER_BIN`, else next to this test's target directory.
pub fn coffer_bin() -> PathBuf {
    if let Ok(p) = std::env::var("COFFER_BIN") {
        return PathBuf::from(p);
    }
    // Tests run from target/<profile>/deps/, the bench binary from target/<profile>/.
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors()
        .skip(1)
        .take(2)
        .map(|d| d.join("coffer"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from("coffer"))
}

/// A free TCP port on 127.0.0.1, below Linux's ephemeral range (32768 and up): a port the
/// kernel just handed out is free to be handed out again as the source port of some outgoing
/// connection before the process meant to listen on it binds it.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    // Test binaries start from different places (by process id), then count up.
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let _ = NEXT.compare_exchange(
        0,
        std::process::id() % 600 * 20 + 1,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    loop {
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = u16::try_from(20_000 + n % 12_000).unwrap_or(20_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// A running `coffer` process.
pub struct Process {
    child: Option<Child>,
    args: Vec<String>,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Process {
    /// Spawn `coffer ARGS...`, logging to `log`.
    pub fn spawn(args: &[&str], env: &[(&str, &str)], log: &Path) -> Self {
        let mut p = Process {
            child: None,
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            log: log.to_path_buf(),
        };
        p.start();
        p
    }

    fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap_or_else(|e| panic!("log: {e}"));
        let err = log.try_clone().unwrap_or_else(|e| panic!("log: {e}"));
        let child = Command::new(coffer_bin())
            .args(&self.args)
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {}: {e}", coffer_bin().display()));
        self.child = Some(child);
    }

    /// kill -9 and reap.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start again with the same arguments.
    pub fn restart(&mut self) {
        self.kill9();
        self.start();
    }

    /// Ask the process to stop (SIGTERM) and wait up to `secs` for it to exit; whether it did.
    pub fn terminate(&mut self, secs: u64) -> bool {
        let Some(child) = self.child.as_mut() else {
            return true;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// The process id (0 if not running).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, Child::id)
    }

    /// The process log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// An all-in-one `coffer server` with its data folder and a client.
pub struct Server {
    /// The process.
    pub process: Process,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Data folder (removed on drop).
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Start a server with one drive.
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Start a server with extra flags.
    pub async fn start_with(extra: &[&str]) -> Self {
        Self::start_with_env(extra, &[]).await
    }

    /// Start a server with extra flags and environment (e.g. `RUST_LOG`, info by default).
    pub async fn start_with_env(extra: &[&str], more_env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let data = dir.path().join("data");
        let data = data.to_string_lossy().into_owned();
        let mut args = vec!["server", "--data", &data, "--address", &addr];
        args.extend_from_slice(extra);
        let mut env = vec![
            ("COFFER_ACCESS_KEY_ID", ACCESS_KEY),
            ("COFFER_SECRET_ACCESS_KEY", SECRET_KEY),
        ];
        env.extend_from_slice(more_env);
        let process = Process::spawn(&args, &env, &dir.path().join("server.log"));
        let s = Server {
            process,
            endpoint: format!("http://{addr}"),
            dir,
        };
        s.wait_ready().await;
        s
    }

    /// Wait until the health endpoint answers (panics with the log after 30 s).
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}/_coffer/health", self.endpoint);
        while Instant::now() < deadline {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("server did not become ready:\n{}", self.process.log());
    }

    /// kill -9, start again, wait until ready.
    pub async fn crash_and_restart(&mut self) {
        self.process.restart();
        self.wait_ready().await;
    }

    /// The data folder.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A client with the test key.
    pub fn client(&self) -> aws_sdk_s3::Client {
        client_for(&self.endpoint, ACCESS_KEY, SECRET_KEY)
    }
}

/// An S3 client for an endpoint and key (path-style addressing).
pub fn client_for(endpoint: &str, access_key: &str, secret: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new(access_key, secret, None, None, "test"))
        .force_path_style(true)
        // A hung server fails the test instead of stalling the run.
        .timeout_config(
            aws_sdk_s3::config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(120))
                .connect_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// The S3 error code of a failed SDK call.
pub fn code<E, R>(e: &aws_sdk_s3::error::SdkError<E, R>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match e.as_service_error() {
        Some(s) => s.code().unwrap_or("<none>").to_owned(),
        None => format!("<not a service error: {e:?}>"),
    }
}

/// The HTTP status of a failed SDK call.
pub fn status<E>(
    e: &aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>,
) -> u16 {
    e.raw_response().map(|r| r.status().as_u16()).unwrap_or(0)
}

/// Deterministic pseudo-random bytes.
pub fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// "ok" or the error code of an SDK call.
pub fn outcome<T, E, R>(r: Result<T, aws_sdk_s3::error::SdkError<E, R>>) -> String
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    r.map_or_else(|e| code(&e), |_| "ok".into())
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut m =
        <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap_or_else(|e| panic!("hmac: {e}"));
    m.update(data.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// The SigV4 signing key of `secret` for `date` (YYYYMMDD) in us-east-1, service s3.
pub fn signing_key(secret: &str, date: &str) -> Vec<u8> {
    let mut k = hmac_sha256(format!("AWS4{secret}").as_bytes(), date);
    for part in ["us-east-1", "s3", "aws4_request"] {
        k = hmac_sha256(&k, part);
    }
    k
}

/// A raw request signed with SigV4 in the Authorization header (payload UNSIGNED-PAYLOAD), for
/// sending bodies and headers the SDK would never produce. `path_and_query` must already be
/// in canonical form (query parameters sorted, values URI-encoded).
pub fn signed(
    method: reqwest::Method,
    endpoint: &str,
    path_and_query: &str,
    extra: &[(&str, &str)],
) -> reqwest::RequestBuilder {
    use sha2::{Digest, Sha256};
    let now = chrono::Utc::now();
    let date = now.format("%Y%m%d").to_string();
    let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
    let host = endpoint.trim_start_matches("http://").to_owned();
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let query = query
        .split('&')
        .filter(|q| !q.is_empty())
        .map(|q| {
            if q.contains('=') {
                q.to_owned()
            } else {
                format!("{q}=")
            }
        })
        .collect::<Vec<_>>()
        .join("&");
    let canonical = format!(
        "{}\n{path}\n{query}\nhost:{host}\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:{amz_date}\n\nhost;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
        method.as_str()
    );
    let scope = format!("{date}/us-east-1/s3/aws4_request");
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    );
    let sig = hex::encode(hmac_sha256(&signing_key(SECRET_KEY, &date), &sts));
    let mut rb = reqwest::Client::new()
        .request(method, format!("{endpoint}{path_and_query}"))
        .header("x-amz-date", amz_date)
        .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        .header(
            "authorization",
            format!("AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={sig}"),
        );
    for (k, v) in extra {
        rb = rb.header(*k, *v);
    }
    rb
}

/// Set a bucket's versioning state (panics on failure, as a failed test should).
pub async fn set_versioning(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    status: aws_sdk_s3::types::BucketVersioningStatus,
) {
    c.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(status)
                .build(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutBucketVersioning {bucket}: {e:?}"));
}

/// GET an object's bytes (panics with the error, as a failed test should).
pub async fn get_bytes(c: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let o = c
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {bucket}/{key}: {e:?}"));
    let body = o
        .body
        .collect()
        .await
        .unwrap_or_else(|e| panic!("GET {bucket}/{key} body: {e:?}"));
    body.into_bytes().to_vec()
}

/// Upload `parts` (numbered from 1) to a multipart upload; returns (part number, ETag) pairs.
pub async fn upload_parts(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[Vec<u8>],
) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    for (n, d) in (1..).zip(parts) {
        let r = c
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(n)
            .body(d.clone().into())
            .send()
            .await
            .unwrap_or_else(|e| panic!("upload part {n}: {e:?}"));
        out.push((n, r.e_tag().unwrap_or_default().to_owned()));
    }
    out
}

/// Upload `parts` to upload `upload_id` of `key` and complete it.
pub async fn upload_and_complete(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[Vec<u8>],
) {
    let done = upload_parts(c, bucket, key, upload_id, parts).await;
    c.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(completed(&done))
        .send()
        .await
        .unwrap_or_else(|e| panic!("complete {key}: {e:?}"));
}

/// The CompleteMultipartUpload body for (part number, ETag) pairs.
pub fn completed(parts: &[(i32, String)]) -> aws_sdk_s3::types::CompletedMultipartUpload {
    aws_sdk_s3::types::CompletedMultipartUpload::builder()
        .set_parts(Some(
            parts
                .iter()
                .map(|(n, e)| {
                    aws_sdk_s3::types::CompletedPart::builder()
                        .part_number(*n)
                        .e_tag(e)
                        .build()
                })
                .collect(),
        ))
        .build()
}

/// A CompleteMultipartUpload of `upload_id` of `bucket`/`key` from (part number, ETag) pairs,
/// to send (or to add conditions to first).
pub fn completion(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    upload_id: &str,
    parts: &[(i32, String)],
) -> aws_sdk_s3::operation::complete_multipart_upload::builders::CompleteMultipartUploadFluentBuilder
{
    c.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(upload_id)
        .multipart_upload(completed(parts))
}

/// PUT every `(key, body)` of `objects` into `bucket`, `at_once` at a time; any failure fails
/// the test.
pub async fn put_all(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    objects: impl Iterator<Item = (String, Vec<u8>)>,
    at_once: usize,
) {
    use futures::StreamExt;
    futures::stream::iter(objects)
        .map(|(key, body)| {
            let c = c.clone();
            async move {
                c.put_object()
                    .bucket(bucket)
                    .key(&key)
                    .body(body.into())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("PUT {bucket}/{key}: {e:?}"));
            }
        })
        .buffer_unordered(at_once)
        .collect::<Vec<()>>()
        .await;
}

/// Wait until a process's log contains `pattern` (panics with the log after `secs`).
pub async fn wait_for_log(p: &Process, pattern: &str, secs: u64) {
    wait_for_log_count(p, pattern, 1, secs).await;
}

/// Wait until a process's log contains `pattern` at least `times` times (a restarted process
/// appends to the same log).
pub async fn wait_for_log_count(p: &Process, pattern: &str, times: usize, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if p.log().matches(pattern).count() >= times {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {pattern:?} after {secs} s; log:\n{}", p.log());
}

/// Every file under `dir`.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .flatten()
    {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The files under `dir` that hold any of `needles`.
pub fn files_holding(dir: &std::path::Path, needles: &[Vec<u8>]) -> Vec<String> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            let data = std::fs::read(f).unwrap_or_default();
            needles
                .iter()
                .any(|n| data.windows(n.len()).any(|w| w == n.as_slice()))
        })
        .map(|f| f.display().to_string())
        .collect()
}

/// Windows of `data` a scan looks for: 32 bytes at its start, middle and end.
pub fn windows_of(data: &[u8]) -> Vec<Vec<u8>> {
    let n = data.len();
    [0, n / 2, n.saturating_sub(32)]
        .into_iter()
        .map(|at| data[at..(at + 32).min(n)].to_vec())
        .collect()
}

/// Wait (up to `secs`) until a PUT of a 2 MiB object (one with shards) into `bucket` goes
/// through again, as after a fault is lifted.
pub async fn await_writes(c: &aws_sdk_s3::Client, bucket: &str, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let r = c
            .put_object()
            .bucket(bucket)
            .key("probe")
            .body(bytes(2 << 20, 99).into())
            .send()
            .await;
        match r {
            Ok(_) => return,
            Err(e) => assert!(Instant::now() < deadline, "no write after {secs} s: {e:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `coffer admin --json ARGS...` against the admin address `admin` of a node or server whose
/// data folder `data` holds the cluster secret; its answer, parsed.
pub fn admin_of(data: &Path, admin: &str, args: &[&str]) -> serde_json::Value {
    let out = std::process::Command::new(coffer_bin())
        .args(["admin", "--json", "--node", admin, "--cluster-secret-file"])
        .arg(data.join("cluster.secret"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("coffer admin: {e}"));
    assert!(
        out.status.success(),
        "coffer admin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("admin output: {e}"))
}
