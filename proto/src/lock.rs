//! Object Lock: a bucket's lock configuration (its default retention) and a version's lock
//! (retention mode and date, legal hold), both kept as JSON documents beside the records they
//! belong to, and the rules that decide what a lock forbids. The rules live here, in one
//! place, for every path that removes or changes a version: deletes now, lifecycle later.

use serde::{Deserialize, Serialize};

/// A retention mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LockMode {
    /// Removable before its date by a caller allowed `s3:BypassGovernanceRetention` who asks
    /// to bypass it.
    Governance,
    /// Removable by nobody before its date; the date can only move later.
    Compliance,
}

impl LockMode {
    /// The name S3 uses.
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Governance => "GOVERNANCE",
            LockMode::Compliance => "COMPLIANCE",
        }
    }

    /// The mode S3 names `s` (exactly, in capitals).
    pub fn parse(s: &str) -> Option<LockMode> {
        match s {
            "GOVERNANCE" => Some(LockMode::Governance),
            "COMPLIANCE" => Some(LockMode::Compliance),
            _ => None,
        }
    }
}

/// A retention: a mode until a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// The mode.
    pub mode: LockMode,
    /// Until when, ms since the epoch.
    pub until_ms: i64,
}

/// The lock of one object version (or of an upload, for the object it becomes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct VersionLock {
    /// Its retention, if any.
    #[serde(default)]
    pub retention: Option<Retention>,
    /// Whether a legal hold is on.
    #[serde(default)]
    pub legal_hold: bool,
}

impl VersionLock {
    /// Whether this lock forbids removing its version at `now_ms` (`bypass`: the caller asked
    /// to bypass governance retention and may).
    pub fn forbids_removal(&self, now_ms: i64, bypass: bool) -> bool {
        self.legal_hold
            || match self.retention {
                Some(r) if r.until_ms > now_ms => r.mode == LockMode::Compliance || !bypass,
                _ => false,
            }
    }

    /// Whether the retention may change from this lock's to `new` at `now_ms`: a retention
    /// that has expired, or none, may become anything; COMPLIANCE may only be extended;
    /// GOVERNANCE may be extended (same mode, later date) by anyone allowed to set it, and
    /// otherwise changed only with `bypass`.
    pub fn may_become(&self, new: Option<Retention>, now_ms: i64, bypass: bool) -> bool {
        let Some(old) = self.retention.filter(|r| r.until_ms > now_ms) else {
            return true;
        };
        let extends = new.is_some_and(|n| n.mode == old.mode && n.until_ms >= old.until_ms);
        match old.mode {
            LockMode::Compliance => extends,
            LockMode::Governance => extends || bypass,
        }
    }
}

/// A bucket's Object Lock configuration (its presence means Object Lock is enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LockConfig {
    /// The default retention of new versions, if any.
    #[serde(default)]
    pub default: Option<DefaultRetention>,
}

/// A default retention: a mode for a number of days or years.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DefaultRetention {
    /// The mode.
    pub mode: LockMode,
    /// Its length, in days or in years.
    pub period: Period,
}

/// How long a default retention lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    /// Days.
    Days(u32),
    /// Years (365 days each, as S3 counts them).
    Years(u32),
}

impl DefaultRetention {
    /// The retention a version written at `now_ms` gets.
    pub fn from(&self, now_ms: i64) -> Retention {
        let days = match self.period {
            Period::Days(d) => i64::from(d),
            Period::Years(y) => i64::from(y) * 365,
        };
        Retention {
            mode: self.mode,
            until_ms: now_ms.saturating_add(days.saturating_mul(86_400_000)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(mode: LockMode, until_ms: i64) -> VersionLock {
        VersionLock {
            retention: Some(Retention { mode, until_ms }),
            legal_hold: false,
        }
    }

    #[test]
    fn what_a_lock_forbids() {
        let now = 1_000;
        let gov = lock(LockMode::Governance, 2_000);
        let comp = lock(LockMode::Compliance, 2_000);
        assert!(gov.forbids_removal(now, false));
        assert!(!gov.forbids_removal(now, true));
        assert!(comp.forbids_removal(now, true));
        // Expired: nothing.
        assert!(!comp.forbids_removal(3_000, false));
        let held = VersionLock {
            legal_hold: true,
            ..Default::default()
        };
        assert!(held.forbids_removal(now, true));
        assert!(!VersionLock::default().forbids_removal(now, false));
    }

    #[test]
    fn how_a_retention_may_change() {
        let now = 1_000;
        let r = |mode, until_ms| Some(Retention { mode, until_ms });
        let comp = lock(LockMode::Compliance, 2_000);
        assert!(comp.may_become(r(LockMode::Compliance, 5_000), now, false));
        assert!(!comp.may_become(r(LockMode::Compliance, 1_500), now, true));
        assert!(!comp.may_become(r(LockMode::Governance, 5_000), now, true));
        assert!(!comp.may_become(None, now, true));
        assert!(comp.may_become(None, 2_500, false), "expired");
        let gov = lock(LockMode::Governance, 2_000);
        assert!(gov.may_become(r(LockMode::Governance, 3_000), now, false));
        assert!(!gov.may_become(r(LockMode::Governance, 1_500), now, false));
        assert!(gov.may_become(r(LockMode::Governance, 1_500), now, true));
        assert!(gov.may_become(None, now, true));
        assert!(!gov.may_become(r(LockMode::Compliance, 3_000), now, false));
        assert!(VersionLock::default().may_become(r(LockMode::Compliance, 9), now, false));
    }

    #[test]
    fn default_retention_counts_days_and_years() {
        let d = DefaultRetention {
            mode: LockMode::Governance,
            period: Period::Days(2),
        };
        assert_eq!(d.from(10).until_ms, 10 + 2 * 86_400_000);
        let y = DefaultRetention {
            mode: LockMode::Compliance,
            period: Period::Years(1),
        };
        assert_eq!(y.from(0).until_ms, 365 * 86_400_000);
    }
}
