//! Pacing of background work (scrubbing, rebalancing): a worker that charges what it did to a
//! [`Pacer`] sleeps as long as it takes to stay under its rate on average since it started,
//! so it yields the disks, network and cores to foreground requests. A pacer with a duty
//! cycle also keeps the time the worker spends working under a share of the time since it
//! started: on a machine busy with requests each piece of work takes longer, and so do the
//! pauses after it.

use std::time::{Duration, Instant};

/// Keeps a worker under `rate` units (bytes) per second, averaged since the pacer was made.
#[derive(Debug)]
pub struct Pacer {
    rate: u64,
    started: Instant,
    spent: u64,
    /// Percent of the time the worker may spend working (100: no limit).
    duty: u8,
    worked: Duration,
}

impl Pacer {
    /// A pacer for `rate` units per second (0: unlimited).
    pub fn new(rate: u64) -> Self {
        Pacer {
            rate,
            started: Instant::now(),
            spent: 0,
            duty: 100,
            worked: Duration::ZERO,
        }
    }

    /// The same pacer, also keeping the time spent working under `percent` % of the time
    /// since it started (1 to 100; 100: no limit).
    pub fn with_duty(mut self, percent: u8) -> Self {
        self.duty = percent.clamp(1, 100);
        self
    }

    /// How long to wait after spending `units` more in `took` of work: the longer of what
    /// the rate and the duty cycle ask.
    pub fn charge_work(&mut self, units: u64, took: Duration) -> Duration {
        let by_rate = self.charge(units);
        self.worked = self.worked.saturating_add(took);
        if self.duty >= 100 {
            return by_rate;
        }
        let due = self.worked.mul_f64(100.0 / f64::from(self.duty));
        by_rate.max(due.saturating_sub(self.started.elapsed()))
    }

    /// Spend `units` in `took` of work and sleep until the rate and the duty cycle allow
    /// going on.
    pub async fn spend_work(&mut self, units: u64, took: Duration) {
        let wait = self.charge_work(units, took);
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
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
    fn a_duty_cycle_waits_in_proportion_to_the_work() {
        // 200 ms of work at 25 %: due 800 ms after the start, whatever the bytes.
        let mut p = Pacer::new(0).with_duty(25);
        let w = p.charge_work(1, Duration::from_millis(200));
        assert!(
            w > Duration::from_millis(700) && w <= Duration::from_millis(800),
            "{w:?}"
        );
        // The rate's wait wins where it is longer.
        let mut p = Pacer::new(1000).with_duty(50);
        let w = p.charge_work(2000, Duration::from_millis(100));
        assert!(
            w > Duration::from_millis(1900) && w <= Duration::from_secs(2),
            "{w:?}"
        );
        // 100 %: no limit from the duty cycle.
        let mut p = Pacer::new(0).with_duty(100);
        assert_eq!(p.charge_work(1, Duration::from_secs(5)), Duration::ZERO);
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
