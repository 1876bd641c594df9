//! Lifecycle rules: the `<LifecycleConfiguration>` document (parsed and validated with S3's
//! errors, written back in the shape it was given), its stored form (JSON in the bucket's
//! `Lifecycle` document), which rules apply to an object, and S3's clock for when an action is
//! due ([`due_at`]).

use serde::{Deserialize, Serialize};

pub mod due;
mod parse;
pub mod transition;
mod write;

pub use parse::parse;
pub use write::to_xml;

/// Most rules a configuration may have, as on S3.
pub const MAX_RULES: usize = 1000;

/// Longest rule ID.
pub const MAX_ID: usize = 255;

/// Most noncurrent versions a rule may keep (`NewerNoncurrentVersions`).
pub const MAX_NEWER_NONCURRENT: u32 = 100;

/// Seconds in a day of the lifecycle clock.
pub const DAY: i64 = 86_400;

/// Storage classes a transition may go to (S3's list: STANDARD and the others are not).
pub const TRANSITION_CLASSES: &[&str] = &[
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
];

/// Classes whose transitions wait at least 30 days after creation.
pub(crate) const THIRTY_DAY_CLASSES: &[&str] = &["STANDARD_IA", "ONEZONE_IA"];

/// The `x-amz-transition-default-minimum-object-size` header.
pub const MIN_SIZE_HEADER: &str = "x-amz-transition-default-minimum-object-size";

/// Which objects are too small to transition by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum MinSize {
    /// `all_storage_classes_128K`: objects under 128 KiB stay (S3's default since 2024).
    #[default]
    AllStorageClasses128K,
    /// `varies_by_storage_class`: any object of at least 1 byte may transition.
    VariesByStorageClass,
}

impl MinSize {
    /// The header's value.
    pub fn as_str(self) -> &'static str {
        match self {
            MinSize::AllStorageClasses128K => "all_storage_classes_128K",
            MinSize::VariesByStorageClass => "varies_by_storage_class",
        }
    }

    /// The header's value parsed (None: not one S3 knows).
    pub fn parse(v: &str) -> Option<MinSize> {
        match v {
            "all_storage_classes_128K" => Some(MinSize::AllStorageClasses128K),
            "varies_by_storage_class" => Some(MinSize::VariesByStorageClass),
            _ => None,
        }
    }

    /// Objects smaller than this are not transitioned unless a rule's size filter says so.
    pub fn smallest(self) -> u64 {
        match self {
            MinSize::AllStorageClasses128K => 128 << 10,
            MinSize::VariesByStorageClass => 1,
        }
    }
}

/// One version of a key, as the rules need to see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen<'a> {
    /// Its version id (`null` for the null version).
    pub version_id: &'a str,
    /// Whether it is a delete marker.
    pub delete_marker: bool,
    /// Seconds since the epoch it was written at.
    pub created: i64,
    /// Bytes.
    pub size: u64,
    /// Its tags (empty when it has none, or when no rule asks for tags).
    pub tags: &'a [(String, String)],
    /// Its storage class.
    pub class: &'a str,
}

/// A bucket's lifecycle configuration, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Lifecycle {
    /// The rules, in the order given.
    pub rules: Vec<Rule>,
    /// The default minimum size of objects that transition.
    #[serde(default)]
    pub min_size: MinSize,
}

/// When an action is due: days after the object's creation (or, for noncurrent versions,
/// after it became noncurrent), rounded up to the next midnight UTC, or a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum When {
    /// Days.
    Days(u32),
    /// A midnight UTC, as seconds since the epoch.
    Date(i64),
}

/// A tag a filter asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tag {
    /// Key.
    pub key: String,
    /// Value.
    pub value: String,
}

/// Which objects a rule applies to, in the shape the configuration gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Filter {
    /// The old form: `<Prefix>` directly in the rule.
    Legacy(String),
    /// `<Filter/>`: every object.
    All,
    /// `<Filter><Prefix>`.
    Prefix(String),
    /// `<Filter><Tag>`.
    Tag(Tag),
    /// `<Filter><ObjectSizeGreaterThan>`.
    GreaterThan(u64),
    /// `<Filter><ObjectSizeLessThan>`.
    LessThan(u64),
    /// `<Filter><And>`: every part given must hold.
    And {
        /// Key prefix.
        prefix: Option<String>,
        /// Tags the object must all have.
        tags: Vec<Tag>,
        /// Size above.
        greater_than: Option<u64>,
        /// Size below.
        less_than: Option<u64>,
    },
}

/// `Expiration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Expiration {
    /// Current versions expire (a delete marker on versioned buckets).
    At(When),
    /// `ExpiredObjectDeleteMarker`: a delete marker that is the only version left is
    /// removed (true), or the element was given as false.
    DeleteMarker(bool),
}

/// `Transition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    /// When.
    pub when: When,
    /// To which class.
    pub storage_class: String,
}

/// `NoncurrentVersionExpiration` or `NoncurrentVersionTransition`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Noncurrent {
    /// Days after the version became noncurrent.
    pub days: u32,
    /// The newest this many noncurrent versions are kept.
    #[serde(default)]
    pub newer: Option<u32>,
    /// For a transition: to which class.
    #[serde(default)]
    pub storage_class: Option<String>,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// ID (generated when the configuration gave none).
    pub id: String,
    /// `Status` is `Enabled`.
    pub enabled: bool,
    /// Which objects.
    pub filter: Filter,
    /// `Expiration`.
    #[serde(default)]
    pub expiration: Option<Expiration>,
    /// `Transition`s.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// `NoncurrentVersionExpiration`.
    #[serde(default)]
    pub noncurrent_expiration: Option<Noncurrent>,
    /// `NoncurrentVersionTransition`s.
    #[serde(default)]
    pub noncurrent_transitions: Vec<Noncurrent>,
    /// `AbortIncompleteMultipartUpload`'s `DaysAfterInitiation`.
    #[serde(default)]
    pub abort_incomplete_days: Option<u32>,
}

impl Rule {
    /// Whether it acts on versions: expires, removes or moves them.
    pub fn acts_on_versions(&self) -> bool {
        self.expiration.is_some()
            || self.noncurrent_expiration.is_some()
            || !self.transitions.is_empty()
            || !self.noncurrent_transitions.is_empty()
    }
}

impl Filter {
    /// The key prefix the filter asks for ("" when none).
    pub fn prefix(&self) -> &str {
        match self {
            Filter::Legacy(p) | Filter::Prefix(p) => p,
            Filter::And {
                prefix: Some(p), ..
            } => p,
            _ => "",
        }
    }

    /// Tags the filter asks for.
    pub fn tags(&self) -> &[Tag] {
        match self {
            Filter::Tag(t) => std::slice::from_ref(t),
            Filter::And { tags, .. } => tags,
            _ => &[],
        }
    }

    /// Whether the filter names a size bound.
    pub fn has_size(&self) -> bool {
        match self {
            Filter::GreaterThan(_) | Filter::LessThan(_) => true,
            Filter::And {
                greater_than,
                less_than,
                ..
            } => greater_than.is_some() || less_than.is_some(),
            _ => false,
        }
    }

    /// Whether an object of this key, size and tags is one the filter selects.
    pub fn matches(&self, key: &str, size: u64, tags: &[(String, String)]) -> bool {
        let has = |t: &Tag| tags.iter().any(|(k, v)| *k == t.key && *v == t.value);
        match self {
            Filter::Legacy(p) | Filter::Prefix(p) => key.starts_with(p.as_str()),
            Filter::All => true,
            Filter::Tag(t) => has(t),
            Filter::GreaterThan(g) => size > *g,
            Filter::LessThan(l) => size < *l,
            Filter::And {
                prefix,
                tags: wanted,
                greater_than,
                less_than,
            } => {
                prefix.as_deref().is_none_or(|p| key.starts_with(p))
                    && wanted.iter().all(has)
                    && greater_than.is_none_or(|g| size > g)
                    && less_than.is_none_or(|l| size < l)
            }
        }
    }

    /// How S3's messages name the filter.
    fn describe(&self) -> String {
        format!("prefix '{}'", self.prefix())
    }
}

/// The stored form.
pub fn encode(l: &Lifecycle) -> String {
    // Strings, numbers, enums and options always serialize.
    serde_json::to_string(l).unwrap_or_default()
}

/// A stored document (None: it does not decode; it did when stored).
pub fn decode(doc: &str) -> Option<Lifecycle> {
    serde_json::from_str(doc).ok()
}

impl Lifecycle {
    /// Whether an enabled rule expires current versions at all.
    pub fn expires_anything(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.enabled && matches!(r.expiration, Some(Expiration::At(_))))
    }

    /// Whether a rule that expires current versions filters on tags (the object's tags must
    /// then be read to tell).
    pub fn filters_on_tags(&self) -> bool {
        self.rules.iter().any(|r| {
            r.enabled
                && matches!(r.expiration, Some(Expiration::At(_)))
                && !r.filter.tags().is_empty()
        })
    }

    /// When the current version of `key` (`size` bytes, these tags, written at `created`)
    /// expires, and by which rule: the earliest of the enabled rules that select it (S3
    /// applies the earliest when rules overlap).
    pub fn expiration(
        &self,
        key: &str,
        size: u64,
        tags: &[(String, String)],
        created: i64,
        day: i64,
    ) -> Option<(i64, &str)> {
        self.rules
            .iter()
            .filter(|r| r.enabled && r.filter.matches(key, size, tags))
            .filter_map(|r| match r.expiration {
                Some(Expiration::At(w)) => Some((due_at(created, w, day), r.id.as_str())),
                _ => None,
            })
            .min_by_key(|(due, _)| *due)
    }
}

/// The `x-amz-expiration` value for an expiry at `due` by rule `rule` (None when the rule's ID
/// cannot travel in a header).
pub fn expiration_header(due: i64, rule: &str) -> Option<String> {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(due).ok()?);
    let v = format!(
        "expiry-date=\"{}\", rule-id=\"{}\"",
        httpdate::fmt_http_date(at),
        rule
    );
    actix_web::http::header::HeaderValue::from_str(&v).ok()?;
    Some(v)
}

/// S3's clock: an action `days` after `since` (seconds since the epoch) is due when that
/// many days have passed, rounded up to the next midnight UTC (an object written on the 15th
/// at 10:30 expires after 3 days on the 19th at 00:00). A day lasts `day` seconds: 86,400,
/// shorter only under the tests' knob, whose midnights are the multiples of `day`.
pub fn due_at(since: i64, when: When, day: i64) -> i64 {
    match when {
        When::Date(d) => d,
        When::Days(n) => {
            let day = day.max(1);
            let t = since.saturating_add(i64::from(n).saturating_mul(day));
            if t.rem_euclid(day) == 0 {
                t
            } else {
                (t.div_euclid(day) + 1).saturating_mul(day)
            }
        }
    }
}

#[cfg(test)]
mod tests;
