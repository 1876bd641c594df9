//! What the S3 listener and the website endpoint served, for `/_coffer/metrics`: requests by
//! status class, bytes in and out (as their Content-Length says), and a histogram of the time
//! to each response's head (the whole request for small objects; the first byte for large
//! GETs).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// Upper bounds, in seconds, of the latency histogram's buckets (then +Inf).
const BOUNDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

static REQUESTS: [AtomicU64; 5] = [const { AtomicU64::new(0) }; 5];
static BYTES_IN: AtomicU64 = AtomicU64::new(0);
static BYTES_OUT: AtomicU64 = AtomicU64::new(0);
static LATENCY: [AtomicU64; BOUNDS.len() + 1] = [const { AtomicU64::new(0) }; BOUNDS.len() + 1];
static LATENCY_MICROS: AtomicU64 = AtomicU64::new(0);

/// Count one answered request.
pub fn record(status: u16, started: Instant, bytes_in: u64, bytes_out: u64) {
    let class = usize::from(status / 100).clamp(1, 5) - 1;
    REQUESTS[class].fetch_add(1, Relaxed);
    BYTES_IN.fetch_add(bytes_in, Relaxed);
    BYTES_OUT.fetch_add(bytes_out, Relaxed);
    let took = started.elapsed();
    let secs = took.as_secs_f64();
    let bucket = BOUNDS
        .iter()
        .position(|b| secs <= *b)
        .unwrap_or(BOUNDS.len());
    LATENCY[bucket].fetch_add(1, Relaxed);
    LATENCY_MICROS.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
}

/// The counters in Prometheus' text format.
pub fn render(out: &mut String) {
    let _ = writeln!(
        out,
        "# HELP coffer_http_requests_total Requests answered, by status class.\n\
         # TYPE coffer_http_requests_total counter"
    );
    for (i, n) in REQUESTS.iter().enumerate() {
        let _ = writeln!(
            out,
            "coffer_http_requests_total{{code=\"{}xx\"}} {}",
            i + 1,
            n.load(Relaxed)
        );
    }
    for (name, help, v) in [
        (
            "coffer_http_received_bytes_total",
            "Bytes of request bodies (their Content-Length).",
            &BYTES_IN,
        ),
        (
            "coffer_http_sent_bytes_total",
            "Bytes of response bodies (their length).",
            &BYTES_OUT,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            v.load(Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP coffer_http_request_duration_seconds Time from a request to its response's head.\n\
         # TYPE coffer_http_request_duration_seconds histogram"
    );
    let mut cumulative = 0;
    for (i, n) in LATENCY.iter().enumerate() {
        cumulative += n.load(Relaxed);
        let le = BOUNDS.get(i).map_or("+Inf".to_owned(), |b| b.to_string());
        let _ = writeln!(
            out,
            "coffer_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
        );
    }
    let _ = writeln!(
        out,
        "coffer_http_request_duration_seconds_sum {}\ncoffer_http_request_duration_seconds_count {cumulative}",
        LATENCY_MICROS.load(Relaxed) as f64 / 1e6
    );
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_classes_counted() {
        let before = {
            let mut s = String::new();
            render(&mut s);
            s
        };
        let count = |text: &str, line: &str| -> u64 {
            text.lines()
                .find_map(|l| l.strip_prefix(line))
                .unwrap()
                .trim()
                .parse()
                .unwrap()
        };
        record(404, Instant::now(), 0, 120);
        record(200, Instant::now(), 4096, 0);
        let mut after = String::new();
        render(&mut after);
        for line in [
            "coffer_http_requests_total{code=\"4xx\"}",
            "coffer_http_requests_total{code=\"2xx\"}",
        ] {
            assert_eq!(count(&after, line), count(&before, line) + 1, "{line}");
        }
        let inf = "coffer_http_request_duration_seconds_bucket{le=\"+Inf\"}";
        assert_eq!(count(&after, inf), count(&before, inf) + 2);
        assert!(
            count(&after, "coffer_http_received_bytes_total") >= 4096,
            "{after}"
        );
        assert_eq!(
            count(&after, inf),
            count(&after, "coffer_http_request_duration_seconds_count")
        );
    }
}
