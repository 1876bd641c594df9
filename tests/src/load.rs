//! A continuous PUT/GET load through the S3 API for fault tests: writers PUT objects of mixed
//! sizes and remember the acknowledged ones; readers GET acknowledged objects at random and
//! check every byte. What a failure is depends on the [`Phase`] the test says the cluster is in.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{bytes, status};

/// Objects up to this size are stored inline in their metadata record (no shards).
pub const INLINE_MAX: usize = 64 << 10;

/// What the cluster is expected to do right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Every PUT and GET succeeds.
    Steady = 0,
    /// Too few nodes for the write quorum: PUTs of objects with shards are refused with 503
    /// (and leave nothing visible); inline PUTs and every GET succeed.
    WritesRefused = 1,
    /// A fault is being injected or lifted: requests may fail (but never return wrong bytes,
    /// and whatever was acknowledged must read back later).
    Transition = 2,
}

impl Phase {
    fn from_u8(v: u8) -> Phase {
        match v {
            0 => Phase::Steady,
            1 => Phase::WritesRefused,
            _ => Phase::Transition,
        }
    }
}

/// An acknowledged object: its key, and the length and seed of its bytes.
#[derive(Debug, Clone)]
pub struct Obj {
    /// Object key.
    pub key: String,
    /// Length in bytes.
    pub len: usize,
    /// Seed of [`bytes`].
    pub seed: u64,
}

impl Obj {
    /// The object's bytes.
    pub fn body(&self) -> Vec<u8> {
        bytes(self.len, self.seed)
    }
}

/// Counters of a load run.
#[derive(Debug, Default, Clone)]
pub struct LoadReport {
    /// PUTs acknowledged, and their bytes.
    pub puts: u64,
    /// Bytes of acknowledged PUTs.
    pub put_bytes: u64,
    /// PUTs refused with 503 while the write quorum could not be met.
    pub refused: u64,
    /// GETs that returned the right bytes.
    pub gets: u64,
    /// Bytes of those GETs.
    pub get_bytes: u64,
    /// Requests that failed during a [`Phase::Transition`].
    pub interrupted: u64,
    /// Requests that failed when they should have succeeded (or succeeded when they should
    /// have been refused), and wrong bytes.
    pub failures: u64,
    /// The first failures, described.
    pub errors: Vec<String>,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PUT {} objects ({:.1} MiB), {} refused at quorum; GET {} objects ({:.1} MiB); \
             {} interrupted during transitions; failures = {}",
            self.puts,
            self.put_bytes as f64 / 1048576.0,
            self.refused,
            self.gets,
            self.get_bytes as f64 / 1048576.0,
            self.interrupted,
            self.failures
        )
    }
}

#[derive(Default)]
struct Counters {
    puts: AtomicU64,
    put_bytes: AtomicU64,
    refused: AtomicU64,
    gets: AtomicU64,
    get_bytes: AtomicU64,
    interrupted: AtomicU64,
    failures: AtomicU64,
}

struct Shared {
    client: aws_sdk_s3::Client,
    bucket: String,
    sizes: Vec<usize>,
    stop: AtomicBool,
    /// Writers hold off while set.
    paused: AtomicBool,
    /// Writers with a PUT in flight.
    writing: AtomicU64,
    phase: AtomicU8,
    next: AtomicU64,
    acked: Mutex<Vec<Obj>>,
    counters: Counters,
    errors: Mutex<Vec<String>>,
    last_put: Mutex<Option<Instant>>,
}

impl Shared {
    fn phase(&self) -> Phase {
        Phase::from_u8(self.phase.load(Ordering::SeqCst))
    }

    fn fail(&self, what: String) {
        self.counters.failures.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut e) = self.errors.lock() {
            if e.len() < 20 {
                e.push(what);
            }
        }
    }

    /// The phase that judges a request: the one it started and ended in, or a transition if
    /// the phase changed meanwhile.
    fn judge(&self, before: Phase) -> Phase {
        let after = self.phase();
        if before == after {
            before
        } else {
            Phase::Transition
        }
    }

    async fn write_one(&self) {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let len = self.sizes[(i as usize) % self.sizes.len()];
        let obj = Obj {
            key: format!("load-{i:06}"),
            len,
            seed: i ^ 0x5eed,
        };
        let before = self.phase();
        let r = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&obj.key)
            .body(obj.body().into())
            .send()
            .await;
        let phase = self.judge(before);
        let c = &self.counters;
        match r {
            Ok(_) => {
                if phase == Phase::WritesRefused && len > INLINE_MAX {
                    self.fail(format!(
                        "PUT {} ({len} bytes) acknowledged below the write quorum",
                        obj.key
                    ));
                }
                c.puts.fetch_add(1, Ordering::Relaxed);
                c.put_bytes.fetch_add(len as u64, Ordering::Relaxed);
                if let Ok(mut t) = self.last_put.lock() {
                    *t = Some(Instant::now());
                }
                if let Ok(mut a) = self.acked.lock() {
                    a.push(obj);
                }
            }
            Err(e) if phase == Phase::Transition => {
                let _ = e;
                c.interrupted.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) if phase == Phase::WritesRefused && len > INLINE_MAX && status(&e) == 503 => {
                c.refused.fetch_add(1, Ordering::Relaxed);
                // Nothing of a refused object is visible.
                let head = self
                    .client
                    .head_object()
                    .bucket(&self.bucket)
                    .key(&obj.key)
                    .send()
                    .await;
                match head {
                    Err(e) if status(&e) == 404 => {}
                    Err(e) if self.phase() == Phase::Transition => {
                        let _ = e;
                    }
                    other => self.fail(format!(
                        "HEAD of refused {}: {:?}",
                        obj.key,
                        other.map(|o| o.content_length)
                    )),
                }
            }
            Err(e) => self.fail(format!("PUT {} ({len} bytes) in {phase:?}: {e:?}", obj.key)),
        }
    }

    async fn read_one(&self, pick: u64) {
        let picked = match self.acked.lock() {
            Ok(a) if !a.is_empty() => Some(a[(pick as usize) % a.len()].clone()),
            _ => None,
        };
        let Some(obj) = picked else {
            tokio::time::sleep(Duration::from_millis(20)).await;
            return;
        };
        let before = self.phase();
        let got = async {
            let o = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&obj.key)
                .send()
                .await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(o.body.collect().await?.into_bytes())
        }
        .await;
        let phase = self.judge(before);
        let c = &self.counters;
        match got {
            Ok(b) if b[..] == obj.body()[..] => {
                c.gets.fetch_add(1, Ordering::Relaxed);
                c.get_bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
            }
            Ok(b) => self.fail(format!(
                "GET {}: wrong bytes ({} bytes, {} expected)",
                obj.key,
                b.len(),
                obj.len
            )),
            Err(e) if phase == Phase::Transition => {
                let _ = e;
                c.interrupted.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => self.fail(format!("GET {} in {phase:?}: {e:?}", obj.key)),
        }
    }
}

/// A running load.
pub struct Load {
    shared: Arc<Shared>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    /// Start `writers` PUT loops and `readers` GET loops on `bucket` (which must exist),
    /// cycling through object sizes `sizes`.
    pub fn start(
        client: aws_sdk_s3::Client,
        bucket: &str,
        writers: usize,
        readers: usize,
        sizes: &[usize],
    ) -> Load {
        let shared = Arc::new(Shared {
            client,
            bucket: bucket.to_owned(),
            sizes: sizes.to_vec(),
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            writing: AtomicU64::new(0),
            phase: AtomicU8::new(Phase::Steady as u8),
            next: AtomicU64::new(0),
            acked: Mutex::default(),
            counters: Counters::default(),
            errors: Mutex::default(),
            last_put: Mutex::default(),
        });
        let mut tasks = Vec::new();
        for _ in 0..writers {
            let s = shared.clone();
            tasks.push(tokio::spawn(async move {
                while !s.stop.load(Ordering::SeqCst) {
                    s.writing.fetch_add(1, Ordering::SeqCst);
                    if s.paused.load(Ordering::SeqCst) {
                        s.writing.fetch_sub(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                    s.write_one().await;
                    s.writing.fetch_sub(1, Ordering::SeqCst);
                }
            }));
        }
        for r in 0..readers {
            let s = shared.clone();
            tasks.push(tokio::spawn(async move {
                let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ (r as u64 + 1);
                while !s.stop.load(Ordering::SeqCst) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    s.read_one(x).await;
                }
            }));
        }
        Load { shared, tasks }
    }

    /// Tell the load what the cluster is expected to do from now on.
    pub fn set_phase(&self, phase: Phase) {
        self.shared.phase.store(phase as u8, Ordering::SeqCst);
    }

    /// Hold the writers and wait until no PUT is in flight (reads go on): a moment when the
    /// shard files on disk are those of acknowledged objects.
    pub async fn pause_writes(&self) {
        self.shared.paused.store(true, Ordering::SeqCst);
        while self.shared.writing.load(Ordering::SeqCst) > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Let the writers go on.
    pub fn resume_writes(&self) {
        self.shared.paused.store(false, Ordering::SeqCst);
    }

    /// The objects acknowledged so far.
    pub fn acked(&self) -> Vec<Obj> {
        self.shared
            .acked
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }

    /// When the last PUT was acknowledged.
    pub fn last_put(&self) -> Option<Instant> {
        self.shared.last_put.lock().ok().and_then(|t| *t)
    }

    /// The counters so far.
    pub fn report(&self) -> LoadReport {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        LoadReport {
            puts: get(&c.puts),
            put_bytes: get(&c.put_bytes),
            refused: get(&c.refused),
            gets: get(&c.gets),
            get_bytes: get(&c.get_bytes),
            interrupted: get(&c.interrupted),
            failures: get(&c.failures),
            errors: self
                .shared
                .errors
                .lock()
                .map(|e| e.clone())
                .unwrap_or_default(),
        }
    }

    /// Wait until `n` more PUTs and GETs each have succeeded (panics after `secs`).
    pub async fn progress(&self, n: u64, secs: u64) {
        let start = self.report();
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let now = self.report();
            if now.puts >= start.puts + n && now.gets >= start.gets + n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the load made no progress in {secs} s: {now}\n{:#?}",
                now.errors
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stop every loop (letting requests in flight finish) and return the counters.
    pub async fn stop(self) -> (LoadReport, Vec<Obj>) {
        let Load { shared, tasks } = self;
        shared.stop.store(true, Ordering::SeqCst);
        for t in tasks {
            let _ = t.await;
        }
        let rest = Load {
            shared,
            tasks: Vec::new(),
        };
        (rest.report(), rest.acked())
    }
}
