//! What a bucket's rules make due, now, for one key's versions or one incomplete upload, as S3
//! applies its lifecycle actions:
//!
//! - **Expiration** of the current version (`Days`, `Date`) when it is not a delete marker: the
//!   object is removed (unversioned bucket) or hidden under a new delete marker (versioned).
//! - **Expired object delete markers**: a delete marker that is the only version of its key is
//!   removed when a rule says `ExpiredObjectDeleteMarker`, or when a rule expiring current
//!   versions after `Days` selects it and it is that many days old.
//! - **NoncurrentVersionExpiration**: a noncurrent version (delete markers too) is removed
//!   `NoncurrentDays` after its successor was written, unless it is among the
//!   `NewerNoncurrentVersions` newest noncurrent versions.
//! - **Transitions** of current and noncurrent versions to another storage class
//!   ([`transition`]), when nothing removes them.
//! - **AbortIncompleteMultipartUpload**: an upload `DaysAfterInitiation` after it began.
//!
//! Each action is due at [`super::due_at`] of its start; the earliest rule wins when several
//! select the same object. Object Lock is left to the metadata: a locked version's removal is
//! refused there, and skipped.

use super::{due_at, transition, Expiration, Lifecycle, Seen, When};

/// What is due for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// The current version (this id) expires.
    Expire(String),
    /// The delete marker (this id), alone, goes.
    RemoveMarker(String),
    /// The noncurrent version (this id) goes for good.
    RemoveNoncurrent(String),
    /// The version (this id) moves to this storage class.
    Transition(String, String),
}

/// What is due at `now` for `key` of `versions` (newest first, as listed: the first is the
/// current one), with a day of `day` seconds; each with the ID of the rule that made it due.
pub fn key_actions<'l>(
    l: &'l Lifecycle,
    key: &str,
    versions: &[Seen<'_>],
    now: i64,
    day: i64,
) -> Vec<(Action, &'l str)> {
    let mut out = Vec::new();
    let Some(latest) = versions.first() else {
        return out;
    };
    let enabled = || l.rules.iter().filter(|r| r.enabled);
    if !latest.delete_marker {
        let expiry = l.expiration(key, latest.size, latest.tags, latest.created, day);
        match expiry {
            Some((due, rule)) if due <= now => {
                out.push((Action::Expire(latest.version_id.to_owned()), rule));
            }
            _ => {
                if let Some((class, rule)) = transition::current(l, key, latest, now, day) {
                    out.push((
                        Action::Transition(latest.version_id.to_owned(), class),
                        rule,
                    ));
                }
            }
        }
    } else if versions.len() == 1 {
        let rule = enabled()
            .filter(|r| r.filter.matches(key, 0, &[]))
            .find(|r| match r.expiration {
                Some(Expiration::DeleteMarker(on)) => on,
                Some(Expiration::At(w @ When::Days(_))) => due_at(latest.created, w, day) <= now,
                _ => false,
            });
        if let Some(r) = rule {
            out.push((Action::RemoveMarker(latest.version_id.to_owned()), &r.id));
        }
    }
    // Version i became noncurrent when version i - 1 was written; i - 1 noncurrent versions
    // are newer than it.
    for (i, pair) in versions.windows(2).enumerate() {
        let [successor, v] = pair else { continue };
        let rule = enabled()
            .filter(|r| r.filter.matches(key, v.size, v.tags))
            .filter_map(|r| Some((r, r.noncurrent_expiration.as_ref()?)))
            .filter(|(_, n)| n.newer.is_none_or(|keep| i >= keep as usize))
            .map(|(r, n)| (due_at(successor.created, When::Days(n.days), day), r))
            .filter(|(due, _)| *due <= now)
            .min_by_key(|(due, _)| *due);
        if let Some((_, r)) = rule {
            out.push((Action::RemoveNoncurrent(v.version_id.to_owned()), &r.id));
        } else if !v.delete_marker {
            let moved = transition::noncurrent(l, key, v, (successor.created, i), now, day);
            if let Some((class, rule)) = moved {
                out.push((Action::Transition(v.version_id.to_owned(), class), rule));
            }
        }
    }
    out
}

/// When an upload of `key` begun at `initiated` is due to be aborted, and by which rule: the
/// worker aborts it then, and CreateMultipartUpload and ListParts answer it
/// (`x-amz-abort-date`, `x-amz-abort-rule-id`).
pub fn abort_at<'l>(
    l: &'l Lifecycle,
    key: &str,
    initiated: i64,
    day: i64,
) -> Option<(i64, &'l str)> {
    // Rules that abort uploads filter on the key prefix alone (S3 refuses tags with them,
    // and an upload has no size yet).
    l.rules
        .iter()
        .filter(|r| r.enabled && key.starts_with(r.filter.prefix()))
        .filter_map(|r| {
            let days = r.abort_incomplete_days?;
            Some((due_at(initiated, When::Days(days), day), r.id.as_str()))
        })
        .min_by_key(|(due, _)| *due)
}

impl Lifecycle {
    /// Whether any enabled rule acts on incomplete uploads.
    pub fn aborts_uploads(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.enabled && r.abort_incomplete_days.is_some())
    }

    /// Whether any enabled rule acts on versions (current, noncurrent or delete markers).
    pub fn acts_on_versions(&self) -> bool {
        self.rules.iter().any(|r| r.enabled && r.acts_on_versions())
    }

    /// Whether any enabled rule that acts on versions filters on tags (every version's tags
    /// must then be read).
    pub fn reads_tags(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.enabled && r.acts_on_versions() && !r.filter.tags().is_empty())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::model::lifecycle::{Filter, Noncurrent, Rule, Tag};

    const D: i64 = 100;

    fn rule(id: &str, filter: Filter) -> Rule {
        Rule {
            id: id.into(),
            enabled: true,
            filter,
            expiration: None,
            transitions: Vec::new(),
            noncurrent_expiration: None,
            noncurrent_transitions: Vec::new(),
            abort_incomplete_days: None,
        }
    }

    fn v(id: &str, created: i64) -> Seen<'static> {
        Seen {
            version_id: Box::leak(id.to_owned().into_boxed_str()),
            delete_marker: false,
            created,
            size: 10,
            tags: &[],
            class: "STANDARD",
        }
    }

    fn marker(id: &str, created: i64) -> Seen<'static> {
        Seen {
            delete_marker: true,
            size: 0,
            ..v(id, created)
        }
    }

    fn expire_after(days: u32) -> Lifecycle {
        let mut r = rule("exp", Filter::Prefix("logs/".into()));
        r.expiration = Some(Expiration::At(When::Days(days)));
        Lifecycle {
            rules: vec![r],
            ..Default::default()
        }
    }

    #[test]
    fn a_current_version_expires_at_the_midnight_after_its_days() {
        let l = expire_after(2);
        let vs = [v("a", 150)];
        // 150 + 2 days = 350, rounded up to the next midnight: 400.
        assert!(key_actions(&l, "logs/x", &vs, 399, D).is_empty());
        assert_eq!(
            key_actions(&l, "logs/x", &vs, 400, D),
            vec![(Action::Expire("a".into()), "exp")]
        );
        // Another prefix, a disabled rule: nothing.
        assert!(key_actions(&l, "data/x", &vs, 10_000, D).is_empty());
        let mut off = l.clone();
        off.rules[0].enabled = false;
        assert!(key_actions(&off, "logs/x", &vs, 10_000, D).is_empty());
        // A delete marker on top of versions is never expired again.
        let hidden = [marker("m", 150), v("a", 100)];
        assert!(key_actions(&l, "logs/x", &hidden, 10_000, D).is_empty());
    }

    #[test]
    fn a_date_expires_everything_selected_from_that_midnight() {
        let mut l = expire_after(1);
        l.rules[0].expiration = Some(Expiration::At(When::Date(1000)));
        assert!(key_actions(&l, "logs/x", &[v("a", 5)], 999, D).is_empty());
        assert_eq!(key_actions(&l, "logs/x", &[v("a", 5)], 1000, D).len(), 1);
        // A lone delete marker is not removed by a Date rule.
        assert!(key_actions(&l, "logs/x", &[marker("m", 5)], 5000, D).is_empty());
    }

    #[test]
    fn tags_and_sizes_select_as_the_filter_says() {
        let mut r = rule(
            "tagged",
            Filter::Tag(Tag {
                key: "t".into(),
                value: "1".into(),
            }),
        );
        r.expiration = Some(Expiration::At(When::Days(1)));
        let mut big = rule("big", Filter::GreaterThan(100));
        big.expiration = Some(Expiration::At(When::Days(5)));
        let l = Lifecycle {
            rules: vec![r, big],
            ..Default::default()
        };
        let tags = vec![("t".to_owned(), "1".to_owned())];
        let tagged = Seen {
            tags: &tags,
            ..v("a", 0)
        };
        assert_eq!(
            key_actions(&l, "k", &[tagged], D, D),
            vec![(Action::Expire("a".into()), "tagged")]
        );
        assert!(key_actions(&l, "k", &[v("a", 0)], 4 * D, D).is_empty());
        let large = Seen {
            size: 101,
            ..v("a", 0)
        };
        assert_eq!(
            key_actions(&l, "k", &[large], 5 * D, D),
            vec![(Action::Expire("a".into()), "big")]
        );
        // Both select it: the earlier one says.
        let both = Seen {
            size: 101,
            tags: &tags,
            ..v("a", 0)
        };
        assert_eq!(key_actions(&l, "k", &[both], 5 * D, D)[0].1, "tagged");
    }

    #[test]
    fn a_lone_delete_marker_goes_when_a_rule_says_so() {
        let mut r = rule("markers", Filter::All);
        r.expiration = Some(Expiration::DeleteMarker(true));
        let l = Lifecycle {
            rules: vec![r],
            ..Default::default()
        };
        assert_eq!(
            key_actions(&l, "k", &[marker("m", 0)], 1, D),
            vec![(Action::RemoveMarker("m".into()), "markers")]
        );
        // Not while a version is under it.
        assert!(key_actions(&l, "k", &[marker("m", 0), v("a", 0)], 1, D).is_empty());
        // `false`: never.
        let mut no = l.clone();
        no.rules[0].expiration = Some(Expiration::DeleteMarker(false));
        assert!(key_actions(&no, "k", &[marker("m", 0)], 10_000, D).is_empty());
        // A Days rule removes it once it is that many days old.
        let days = expire_after(3);
        assert!(key_actions(&days, "logs/k", &[marker("m", 0)], 299, D).is_empty());
        assert_eq!(
            key_actions(&days, "logs/k", &[marker("m", 0)], 300, D),
            vec![(Action::RemoveMarker("m".into()), "exp")]
        );
    }

    #[test]
    fn noncurrent_versions_go_days_after_their_successor_keeping_the_newest() {
        let mut r = rule("old", Filter::All);
        r.noncurrent_expiration = Some(Noncurrent {
            days: 1,
            newer: Some(2),
            storage_class: None,
        });
        let l = Lifecycle {
            rules: vec![r],
            ..Default::default()
        };
        // Newest first: e is current; d, c, b, a noncurrent since 450, 350, 250, 150.
        let vs = [
            v("e", 450),
            v("d", 350),
            v("c", 250),
            v("b", 150),
            v("a", 50),
        ];
        // d and c are the two newest noncurrent: kept whatever their age.
        assert!(key_actions(&l, "k", &vs, 299, D).is_empty());
        // b's successor c was written at 250: due at 400. a's (b, at 150): due at 300.
        assert_eq!(
            key_actions(&l, "k", &vs, 399, D),
            vec![(Action::RemoveNoncurrent("a".into()), "old")]
        );
        assert_eq!(
            key_actions(&l, "k", &vs, 400, D),
            vec![
                (Action::RemoveNoncurrent("b".into()), "old"),
                (Action::RemoveNoncurrent("a".into()), "old")
            ]
        );
        // Without NewerNoncurrentVersions every old enough noncurrent version goes, delete
        // markers too; the current one stays.
        let mut all = l.clone();
        all.rules[0].noncurrent_expiration.as_mut().unwrap().newer = None;
        let vs = [v("c", 450), marker("b", 350), v("a", 50)];
        assert_eq!(
            key_actions(&all, "k", &vs, 10_000, D),
            vec![
                (Action::RemoveNoncurrent("b".into()), "old"),
                (Action::RemoveNoncurrent("a".into()), "old")
            ]
        );
    }

    #[test]
    fn uploads_are_aborted_days_after_they_began() {
        let mut r = rule("abort", Filter::Prefix("tmp/".into()));
        r.abort_incomplete_days = Some(2);
        let l = Lifecycle {
            rules: vec![r],
            ..Default::default()
        };
        assert!(l.aborts_uploads());
        assert_eq!(abort_at(&l, "tmp/x", 150, D), Some((400, "abort")));
        assert_eq!(abort_at(&l, "keep/x", 150, D), None);
        assert!(!expire_after(1).aborts_uploads());
    }
}
