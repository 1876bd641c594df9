//! Pacing of background work (scrubbing, rebalancing): a worker that charges what it did to a
//! [`Pacer`] sleeps as long as it takes to stay under its rate on average since it started,
//! so it yields the disks, network and cores to foreground requests.

use std::time::{Duration, Instant};

/// Keeps a worker under `rate` units (bytes) per second, averaged since the pacer was made.
#[derive(Debug)]
pub struct Pacer {
    rate: u64,
    started: Instant,
    spent: u64,
}

impl Pacer {
    /// A pacer for `rate` units per second (0: unlimited).
    pub fn new(rate: u64) -> Self {
        Pacer {
            rate,
            started: Instant::now(),
            spent: 0,
        }
    }

    /// How long to wait after spending `units` more.
    pub fn charge(&mut self, units: u64) -> Duration {
        self.spent = self.spent.saturating_add(units);
        if self.rate == 0 {
            return Duration::ZERO;
        }
        let due = Duration::from_secs_f64(self.spent as f64 / self.rate as f64);
        due.saturating_sub(self.started.elapsed())
    }

    /// Spend `units` and sleep until the rate allows going on.
    pub async fn spend(&mut self, units: u64) {
        let wait = self.charge(units);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_waits() {
        let mut p = Pacer::new(0);
        assert_eq!(p.charge(u64::MAX), Duration::ZERO);
    }

    #[test]
    fn waits_in_proportion_to_what_was_spent() {
        let mut p = Pacer::new(1000);
        // 500 units at 1000/s are due half a second after the start.
        let w = p.charge(500);
        assert!(
            w > Duration::from_millis(400) && w <= Duration::from_millis(500),
            "{w:?}"
        );
        // Another 1500: two seconds in all.
        let w = p.charge(1500);
        assert!(
            w > Duration::from_millis(1900) && w <= Duration::from_secs(2),
            "{w:?}"
        );
    }
}
