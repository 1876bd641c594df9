//! Transitions: the storage class a version is due to move to, as S3 decides it.
//!
//! - A current version moves at `Transition` `Days` after its creation (or at a `Date`); a
//!   noncurrent one `NoncurrentDays` after its successor was written, unless it is among the
//!   `NewerNoncurrentVersions` newest noncurrent versions.
//! - Of several transitions due for a version (several rules, or one rule's waterfall), the
//!   one furthest down S3's waterfall wins ([`rank`]); a version never moves up it, nor to the
//!   class it is in.
//! - Objects under the configuration's minimum size ([`super::MinSize`]) stay, unless the
//!   rule selects objects by size itself: its `ObjectSizeGreaterThan` and
//!   `ObjectSizeLessThan` then say which.
//! - Removal wins: a version that expires (or goes for good) is not moved first.

use super::{due_at, Lifecycle, MinSize, Rule, Seen, When};

/// Where `class` is on S3's transition waterfall (Standard, Standard-IA,
/// Intelligent-Tiering, One Zone-IA, Glacier Instant Retrieval, Glacier Flexible Retrieval,
/// Deep Archive); None for a class lifecycle never moves objects out of or into.
pub fn rank(class: &str) -> Option<u8> {
    Some(match class {
        "STANDARD" | "REDUCED_REDUNDANCY" => 0,
        "STANDARD_IA" => 1,
        "INTELLIGENT_TIERING" => 2,
        "ONEZONE_IA" => 3,
        "GLACIER_IR" => 4,
        "GLACIER" => 5,
        "DEEP_ARCHIVE" => 6,
        _ => return None,
    })
}

/// Whether an object of `size` bytes may move to `class` under rule `r` of `l`.
fn big_enough(l: &Lifecycle, r: &Rule, size: u64, class: &str) -> bool {
    if r.filter.has_size() {
        // The rule's own size filter selected it.
        return true;
    }
    let smallest = match l.min_size {
        MinSize::VariesByStorageClass if matches!(class, "GLACIER" | "DEEP_ARCHIVE") => 1,
        MinSize::VariesByStorageClass => 128 << 10,
        m => m.smallest(),
    };
    size >= smallest
}

/// The best of `due` (class, due time, rule id) for a version now in `current`: the class
/// furthest down the waterfall, if that is further than where it is.
fn best<'l>(
    current: &str,
    due: impl Iterator<Item = (&'l str, &'l str)>,
) -> Option<(String, &'l str)> {
    let here = rank(current)?;
    due.filter_map(|(class, rule)| Some((rank(class)?, class, rule)))
        .filter(|(r, _, _)| *r > here)
        .max_by_key(|(r, _, _)| *r)
        .map(|(_, class, rule)| (class.to_owned(), rule))
}

/// The class current version `v` of `key` is due to move to at `now`, and by which rule.
pub fn current<'l>(
    l: &'l Lifecycle,
    key: &str,
    v: &Seen<'_>,
    now: i64,
    day: i64,
) -> Option<(String, &'l str)> {
    let due = l
        .rules
        .iter()
        .filter(|r| r.enabled && r.filter.matches(key, v.size, v.tags))
        .flat_map(|r| r.transitions.iter().map(move |t| (r, t)))
        .filter(|(r, t)| {
            due_at(v.created, t.when, day) <= now && big_enough(l, r, v.size, &t.storage_class)
        })
        .map(|(r, t)| (t.storage_class.as_str(), r.id.as_str()));
    best(v.class, due)
}

/// The class noncurrent version `v` of `key` is due to move to at `now`: it became
/// noncurrent at `since` and `newer` noncurrent versions are newer than it.
pub fn noncurrent<'l>(
    l: &'l Lifecycle,
    key: &str,
    v: &Seen<'_>,
    (since, newer): (i64, usize),
    now: i64,
    day: i64,
) -> Option<(String, &'l str)> {
    let due = l
        .rules
        .iter()
        .filter(|r| r.enabled && r.filter.matches(key, v.size, v.tags))
        .flat_map(|r| r.noncurrent_transitions.iter().map(move |n| (r, n)))
        .filter(|(r, n)| {
            n.newer.is_none_or(|keep| newer >= keep as usize)
                && due_at(since, When::Days(n.days), day) <= now
                && n.storage_class
                    .as_deref()
                    .is_some_and(|c| big_enough(l, r, v.size, c))
        })
        .filter_map(|(r, n)| Some((n.storage_class.as_deref()?, r.id.as_str())));
    best(v.class, due)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::model::lifecycle::{Filter, Noncurrent, Transition};

    const D: i64 = 100;
    const BIG: u64 = 1 << 20;

    fn rule(id: &str, filter: Filter, transitions: &[(u32, &str)]) -> Rule {
        Rule {
            id: id.into(),
            enabled: true,
            filter,
            expiration: None,
            transitions: transitions
                .iter()
                .map(|(days, c)| Transition {
                    when: When::Days(*days),
                    storage_class: (*c).into(),
                })
                .collect(),
            noncurrent_expiration: None,
            noncurrent_transitions: Vec::new(),
            abort_incomplete_days: None,
        }
    }

    fn seen(size: u64, created: i64, class: &'static str) -> Seen<'static> {
        Seen {
            version_id: "v",
            delete_marker: false,
            created,
            size,
            tags: &[],
            class,
        }
    }

    fn config(rules: Vec<Rule>) -> Lifecycle {
        Lifecycle {
            rules,
            ..Default::default()
        }
    }

    #[test]
    fn a_waterfall_moves_down_one_step_at_a_time_and_never_up() {
        let l = config(vec![rule(
            "fall",
            Filter::All,
            &[(30, "STANDARD_IA"), (60, "GLACIER")],
        )]);
        let at = |now, class| current(&l, "k", &seen(BIG, 0, class), now, D);
        // Due at the midnight after 30 days (3000) and after 60 (6000).
        assert_eq!(at(2999, "STANDARD"), None);
        assert_eq!(at(3000, "STANDARD"), Some(("STANDARD_IA".into(), "fall")));
        assert_eq!(at(5999, "STANDARD_IA"), None);
        assert_eq!(at(6000, "STANDARD_IA"), Some(("GLACIER".into(), "fall")));
        // Late: straight to the furthest class due.
        assert_eq!(at(9000, "STANDARD"), Some(("GLACIER".into(), "fall")));
        // Already there, or further: nothing.
        assert_eq!(at(9000, "GLACIER"), None);
        assert_eq!(at(9000, "DEEP_ARCHIVE"), None);
        // A class lifecycle does not move objects out of.
        assert_eq!(at(9000, "OUTPOSTS"), None);
    }

    #[test]
    fn small_objects_stay_unless_the_rule_selects_by_size() {
        let l = config(vec![rule("r", Filter::All, &[(1, "GLACIER")])]);
        assert_eq!(
            current(&l, "k", &seen((128 << 10) - 1, 0, "STANDARD"), D, D),
            None
        );
        assert!(current(&l, "k", &seen(128 << 10, 0, "STANDARD"), D, D).is_some());
        // varies_by_storage_class: Glacier takes any size, the others 128 KiB.
        let mut varies = l.clone();
        varies.min_size = MinSize::VariesByStorageClass;
        assert!(current(&varies, "k", &seen(10, 0, "STANDARD"), D, D).is_some());
        varies.rules[0].transitions[0].storage_class = "STANDARD_IA".into();
        assert_eq!(current(&varies, "k", &seen(10, 0, "STANDARD"), D, D), None);
        // A size filter of the rule's own decides.
        let sized = config(vec![rule("s", Filter::GreaterThan(5), &[(1, "GLACIER")])]);
        assert!(current(&sized, "k", &seen(10, 0, "STANDARD"), D, D).is_some());
        assert_eq!(current(&sized, "k", &seen(5, 0, "STANDARD"), D, D), None);
    }

    #[test]
    fn noncurrent_versions_move_days_after_their_successor_keeping_the_newest() {
        let mut r = rule("nc", Filter::All, &[]);
        r.noncurrent_transitions = vec![Noncurrent {
            days: 2,
            newer: Some(1),
            storage_class: Some("GLACIER".into()),
        }];
        let l = config(vec![r]);
        let v = seen(BIG, 50, "STANDARD");
        let at = |newer, now| noncurrent(&l, "k", &v, (150, newer), now, D);
        // Noncurrent since 150: due at 400, unless it is the newest noncurrent one.
        assert_eq!(at(1, 399), None);
        assert_eq!(at(1, 400), Some(("GLACIER".into(), "nc")));
        assert_eq!(at(0, 10_000), None);
    }
}
