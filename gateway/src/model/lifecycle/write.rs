//! The configuration as GetBucketLifecycleConfiguration answers it, in the shape each rule
//! was given.

use chrono::DateTime;

use super::{Expiration, Filter, Lifecycle, Noncurrent, Tag, When};
use crate::s3::xml::XmlWriter;

/// A midnight as S3 writes lifecycle dates.
fn iso_date(secs: i64) -> String {
    DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_default()
}

fn write_when(x: &mut XmlWriter, w: When) {
    match w {
        When::Days(d) => x.elem("Days", &d.to_string()),
        When::Date(s) => x.elem("Date", &iso_date(s)),
    }
}

fn write_tag(x: &mut XmlWriter, t: &Tag) {
    x.open("Tag");
    x.elem("Key", &t.key);
    x.elem("Value", &t.value);
    x.close("Tag");
}

fn write_filter(x: &mut XmlWriter, f: &Filter) {
    match f {
        Filter::Legacy(p) => {
            x.elem("Prefix", p);
            return;
        }
        Filter::All => {
            x.open("Filter");
            x.close("Filter");
            return;
        }
        _ => {}
    }
    x.open("Filter");
    match f {
        Filter::Prefix(p) => x.elem("Prefix", p),
        Filter::Tag(t) => write_tag(x, t),
        Filter::GreaterThan(g) => x.elem("ObjectSizeGreaterThan", &g.to_string()),
        Filter::LessThan(l) => x.elem("ObjectSizeLessThan", &l.to_string()),
        Filter::And {
            prefix,
            tags,
            greater_than,
            less_than,
        } => {
            x.open("And");
            if let Some(p) = prefix {
                x.elem("Prefix", p);
            }
            for t in tags {
                write_tag(x, t);
            }
            if let Some(g) = greater_than {
                x.elem("ObjectSizeGreaterThan", &g.to_string());
            }
            if let Some(l) = less_than {
                x.elem("ObjectSizeLessThan", &l.to_string());
            }
            x.close("And");
        }
        Filter::Legacy(_) | Filter::All => {}
    }
    x.close("Filter");
}

fn write_noncurrent(x: &mut XmlWriter, name: &str, n: &Noncurrent) {
    x.open(name);
    x.elem("NoncurrentDays", &n.days.to_string());
    if let Some(c) = &n.storage_class {
        x.elem("StorageClass", c);
    }
    if let Some(k) = n.newer {
        x.elem("NewerNoncurrentVersions", &k.to_string());
    }
    x.close(name);
}

/// The configuration as GetBucketLifecycleConfiguration answers it.
pub fn to_xml(l: &Lifecycle) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("LifecycleConfiguration");
    for r in &l.rules {
        x.open("Rule");
        x.elem("ID", &r.id);
        write_filter(&mut x, &r.filter);
        x.elem("Status", if r.enabled { "Enabled" } else { "Disabled" });
        for t in &r.transitions {
            x.open("Transition");
            write_when(&mut x, t.when);
            x.elem("StorageClass", &t.storage_class);
            x.close("Transition");
        }
        match r.expiration {
            Some(Expiration::At(w)) => {
                x.open("Expiration");
                write_when(&mut x, w);
                x.close("Expiration");
            }
            Some(Expiration::DeleteMarker(m)) => {
                x.open("Expiration");
                x.elem(
                    "ExpiredObjectDeleteMarker",
                    if m { "true" } else { "false" },
                );
                x.close("Expiration");
            }
            None => {}
        }
        for n in &r.noncurrent_transitions {
            write_noncurrent(&mut x, "NoncurrentVersionTransition", n);
        }
        if let Some(n) = &r.noncurrent_expiration {
            write_noncurrent(&mut x, "NoncurrentVersionExpiration", n);
        }
        if let Some(d) = r.abort_incomplete_days {
            x.open("AbortIncompleteMultipartUpload");
            x.elem("DaysAfterInitiation", &d.to_string());
            x.close("AbortIncompleteMultipartUpload");
        }
        x.close("Rule");
    }
    x.close("LifecycleConfiguration");
    x.finish()
}
