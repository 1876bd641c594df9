//! Tests of the lifecycle configuration's parsing, validation, round trip and clock.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::s3::error::{S3ErrorCode, S3Result};

fn conf(rules: &str) -> String {
    format!(
        r#"<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{rules}</LifecycleConfiguration>"#
    )
}

fn parse_rules(rules: &str) -> S3Result<Lifecycle> {
    parse(conf(rules).as_bytes(), MinSize::default())
}

fn err(rules: &str) -> (S3ErrorCode, String) {
    let e = parse_rules(rules).unwrap_err();
    (e.code, e.message.as_deref().unwrap_or_default().to_owned())
}

fn rule_with(filter: &str, actions: &str) -> String {
    format!("<Rule><ID>r</ID>{filter}<Status>Enabled</Status>{actions}</Rule>")
}

#[test]
fn a_full_configuration_parses_and_comes_back_in_its_shape() {
    let body = conf(
        "<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
         <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>\
         <Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>\
         <Expiration><Days>365</Days></Expiration>\
         <NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays>\
         <StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>\
         <NoncurrentVersionExpiration><NoncurrentDays>60</NoncurrentDays>\
         <NewerNoncurrentVersions>3</NewerNoncurrentVersions></NoncurrentVersionExpiration>\
         <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation>\
         </AbortIncompleteMultipartUpload></Rule>\
         <Rule><ID>tagged</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value>\
         </Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>100\
         </ObjectSizeLessThan></And></Filter><Status>Disabled</Status>\
         <Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>\
         <Rule><ID>old</ID><Prefix>tmp/</Prefix><Status>Enabled</Status>\
         <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>\
         <Rule><ID>all</ID><Filter></Filter><Status>Enabled</Status>\
         <Expiration><Days>1</Days></Expiration></Rule>",
    );
    let l = parse(body.as_bytes(), MinSize::VariesByStorageClass).unwrap();
    assert_eq!(l.rules.len(), 4);
    let r = &l.rules[0];
    assert_eq!(r.filter, Filter::Prefix("logs/".into()));
    assert_eq!(r.expiration, Some(Expiration::At(When::Days(365))));
    assert_eq!(r.transitions.len(), 2);
    assert_eq!(r.noncurrent_expiration.as_ref().unwrap().newer, Some(3));
    assert_eq!(r.abort_incomplete_days, Some(7));
    assert!(!l.rules[1].enabled);
    assert_eq!(
        l.rules[1].expiration,
        Some(Expiration::At(When::Date(1_893_456_000)))
    );
    assert_eq!(l.rules[2].filter, Filter::Legacy("tmp/".into()));
    assert_eq!(l.rules[3].filter, Filter::All);

    // Stored and read back unchanged; written back in the shape it came in.
    assert_eq!(decode(&encode(&l)).unwrap(), l);
    let out = to_xml(&l);
    assert!(
        out.contains("<Filter><Prefix>logs/</Prefix></Filter>"),
        "{out}"
    );
    assert!(
        out.contains("<ID>old</ID><Prefix>tmp/</Prefix><Status>"),
        "{out}"
    );
    assert!(
        out.contains("<Filter></Filter>") || out.contains("<Filter/>"),
        "{out}"
    );
    assert!(
        out.contains("<Date>2030-01-01T00:00:00.000Z</Date>"),
        "{out}"
    );
    assert!(
        out.contains("<NewerNoncurrentVersions>3</NewerNoncurrentVersions>"),
        "{out}"
    );
    // What comes out parses to the same configuration.
    assert_eq!(parse(out.as_bytes(), l.min_size).unwrap(), l);
}

#[test]
fn a_rule_without_an_id_gets_one() {
    let l = parse_rules(
        "<Rule><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>\
         <Expiration><Days>1</Days></Expiration></Rule>",
    )
    .unwrap();
    assert!(!l.rules[0].id.is_empty() && l.rules[0].id.len() <= MAX_ID);
}

#[test]
fn the_schema_is_enforced_with_malformed_xml() {
    let exp = "<Expiration><Days>1</Days></Expiration>";
    for bad in [
        // No rules at all.
        String::new(),
        // No status, or one S3 does not know.
        format!("<Rule><ID>r</ID><Filter/>{exp}</Rule>"),
        rule_with("<Filter/>", exp).replace("Enabled", "enabled"),
        // Neither Filter nor Prefix, and both.
        rule_with("", exp),
        rule_with("<Prefix>a</Prefix><Filter/>", exp),
        // Two predicates in one filter.
        rule_with("<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>", exp),
        // An empty And.
        rule_with("<Filter><And></And></Filter>", exp),
        // Days and Date together, an empty Expiration, a delete-marker flag with days.
        rule_with("<Filter/>", "<Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>"),
        rule_with("<Filter/>", "<Expiration></Expiration>"),
        rule_with("<Filter/>", "<Expiration><Days>1</Days><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"),
        // Not a number, not a date.
        rule_with("<Filter/>", "<Expiration><Days>one</Days></Expiration>"),
        rule_with("<Filter/>", "<Expiration><Date>tomorrow</Date></Expiration>"),
        // A transition to a class S3 does not transition to, or to none.
        rule_with("<Filter/>", "<Transition><Days>1</Days><StorageClass>STANDARD</StorageClass></Transition>"),
        rule_with("<Filter/>", "<Transition><Days>1</Days></Transition>"),
        // NoncurrentDays missing.
        rule_with("<Filter/>", "<NoncurrentVersionExpiration></NoncurrentVersionExpiration>"),
    ] {
        assert_eq!(err(&bad).0, S3ErrorCode::MalformedXML, "{bad}");
    }
    assert_eq!(
        parse(b"<LifecycleConfiguration><Rule>", MinSize::default())
            .unwrap_err()
            .code,
        S3ErrorCode::MalformedXML
    );
}

#[test]
fn values_are_checked_with_s3s_errors() {
    let cases: &[(String, S3ErrorCode, &str)] = &[
        (
            rule_with("<Filter/>", "<Expiration><Days>0</Days></Expiration>"),
            S3ErrorCode::InvalidArgument,
            "'Days' for Expiration action must be a positive integer",
        ),
        (
            rule_with("<Filter/>", "<Expiration><Days>-3</Days></Expiration>"),
            S3ErrorCode::InvalidArgument,
            "'Days' for Expiration action must be a positive integer",
        ),
        (
            rule_with("<Filter/>", "<Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>"),
            S3ErrorCode::InvalidArgument,
            "'Date' must be at midnight GMT",
        ),
        (
            rule_with("<Filter/>", "<Transition><Days>29</Days><StorageClass>STANDARD_IA</StorageClass></Transition>"),
            S3ErrorCode::InvalidArgument,
            "'Days' in Transition action must be greater than or equal to 30 for storageClass 'STANDARD_IA'",
        ),
        (
            rule_with("<Filter/>", "<NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>"),
            S3ErrorCode::InvalidArgument,
            "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer",
        ),
        (
            rule_with("<Filter/>", "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>101</NewerNoncurrentVersions></NoncurrentVersionExpiration>"),
            S3ErrorCode::InvalidArgument,
            "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100",
        ),
        (
            rule_with("<Filter/>", "<AbortIncompleteMultipartUpload><DaysAfterInitiation>0</DaysAfterInitiation></AbortIncompleteMultipartUpload>"),
            S3ErrorCode::InvalidArgument,
            "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer",
        ),
        (
            rule_with("<Filter/>", ""),
            S3ErrorCode::InvalidRequest,
            "At least one action needs to be specified in a rule",
        ),
        (
            format!("<Rule><ID>{}</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>", "x".repeat(256)),
            S3ErrorCode::InvalidArgument,
            "ID length should not exceed allowed limit of 255",
        ),
        (
            format!("{0}{0}", rule_with("<Filter/>", "<Expiration><Days>1</Days></Expiration>")),
            S3ErrorCode::InvalidArgument,
            "Rule ID must be unique. Found same ID for more than one rule",
        ),
        (
            rule_with("<Filter><Prefix>a/</Prefix></Filter>", "<Transition><Days>40</Days><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>40</Days></Expiration>"),
            S3ErrorCode::InvalidArgument,
            "'Days' in the Expiration action for prefix 'a/' must be greater than 'Days' in the Transition action",
        ),
        (
            rule_with("<Filter/>", "<Transition><Days>40</Days><StorageClass>GLACIER</StorageClass></Transition><Transition><Days>50</Days><StorageClass>GLACIER</StorageClass></Transition>"),
            S3ErrorCode::InvalidRequest,
            "'StorageClass' must be different for 'Transition' actions in same 'Rule' with prefix ''",
        ),
        (
            rule_with("<Filter/>", "<Transition><Date>2030-01-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition><Expiration><Days>50</Days></Expiration>"),
            S3ErrorCode::InvalidRequest,
            "Found mixed 'Date' and 'Days' based Expiration and Transition actions in lifecycle rule for prefix ''",
        ),
        (
            rule_with("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>", "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"),
            S3ErrorCode::InvalidRequest,
            "ExpiredObjectDeleteMarker cannot be specified with Tags in a rule's filter",
        ),
        (
            rule_with("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>", "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>"),
            S3ErrorCode::InvalidRequest,
            "AbortIncompleteMultipartUpload cannot be specified with Tags or object size filters",
        ),
        (
            rule_with("<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag><Key>k</Key><Value>2</Value></Tag></And></Filter>", "<Expiration><Days>1</Days></Expiration>"),
            S3ErrorCode::InvalidRequest,
            "Duplicate Tag Keys are not allowed.",
        ),
        (
            rule_with("<Filter><And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter>", "<Expiration><Days>1</Days></Expiration>"),
            S3ErrorCode::InvalidArgument,
            "ObjectSizeGreaterThan (100) must be less than ObjectSizeLessThan (100)",
        ),
        (
            rule_with("<Filter/>", "<NoncurrentVersionTransition><NoncurrentDays>10</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition><NoncurrentVersionExpiration><NoncurrentDays>10</NoncurrentDays></NoncurrentVersionExpiration>"),
            S3ErrorCode::InvalidArgument,
            "'NoncurrentDays' in the NoncurrentVersionExpiration action for prefix '' must be greater than 'NoncurrentDays' in the NoncurrentVersionTransition action",
        ),
    ];
    for (rules, code, message) in cases {
        let (c, m) = err(rules);
        assert_eq!((c, m.as_str()), (*code, *message), "{rules}");
    }
    // More than 1,000 rules.
    let many: String = (0..=MAX_RULES)
        .map(|i| {
            format!("<Rule><ID>{i}</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>")
        })
        .collect();
    assert_eq!(err(&many).0, S3ErrorCode::InvalidRequest);
    // Exactly 1,000 are fine.
    let most: String = (0..MAX_RULES)
        .map(|i| {
            format!("<Rule><ID>{i}</ID><Filter/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>")
        })
        .collect();
    assert_eq!(parse_rules(&most).unwrap().rules.len(), MAX_RULES);
}

#[test]
fn filters_select_by_prefix_tags_and_size() {
    let tags = vec![
        ("k".to_owned(), "v".to_owned()),
        ("x".to_owned(), "y".to_owned()),
    ];
    let t = |k: &str, v: &str| Tag {
        key: k.into(),
        value: v.into(),
    };
    assert!(Filter::All.matches("any", 0, &[]));
    assert!(Filter::Legacy("a/".into()).matches("a/b", 0, &[]));
    assert!(!Filter::Prefix("a/".into()).matches("b/a", 0, &[]));
    assert!(Filter::Tag(t("k", "v")).matches("z", 0, &tags));
    assert!(!Filter::Tag(t("k", "w")).matches("z", 0, &tags));
    assert!(Filter::GreaterThan(10).matches("z", 11, &[]));
    assert!(!Filter::GreaterThan(10).matches("z", 10, &[]));
    assert!(Filter::LessThan(10).matches("z", 9, &[]));
    assert!(!Filter::LessThan(10).matches("z", 10, &[]));
    let and = Filter::And {
        prefix: Some("a/".into()),
        tags: vec![t("k", "v"), t("x", "y")],
        greater_than: Some(1),
        less_than: Some(100),
    };
    assert!(and.matches("a/1", 50, &tags));
    assert!(!and.matches("b/1", 50, &tags));
    assert!(!and.matches("a/1", 500, &tags));
    assert!(!and.matches("a/1", 50, &tags[..1]));
}

#[test]
fn the_clock_rounds_up_to_midnight_utc() {
    // The user guide's example: written 2014-01-15 10:30 UTC, expiring after 3 days, is due
    // 2014-01-19 00:00 UTC.
    let written = 1_389_781_800; // 2014-01-15T10:30:00Z
    assert_eq!(due_at(written, When::Days(3), DAY), 1_390_089_600); // 2014-01-19T00:00:00Z
                                                                    // Written at midnight: exactly the days later.
    assert_eq!(
        due_at(1_389_744_000, When::Days(1), DAY),
        1_389_744_000 + DAY
    );
    // A transition after 0 days happens at the next midnight.
    assert_eq!(due_at(written, When::Days(0), DAY), 1_389_830_400);
    // A date is a date.
    assert_eq!(
        due_at(written, When::Date(1_893_456_000), DAY),
        1_893_456_000
    );
    // With a 10-second day, "midnights" are the multiples of 10.
    assert_eq!(due_at(1003, When::Days(2), 10), 1030);
}

#[test]
fn the_minimum_size_header_has_two_values() {
    for m in [
        MinSize::AllStorageClasses128K,
        MinSize::VariesByStorageClass,
    ] {
        assert_eq!(MinSize::parse(m.as_str()), Some(m));
    }
    assert_eq!(MinSize::parse("128K"), None);
    assert_eq!(MinSize::default().smallest(), 128 << 10);
}

#[test]
fn the_earliest_enabled_rule_that_selects_an_object_expires_it() {
    let l = parse_rules(
        "<Rule><ID>late</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
         <Expiration><Days>30</Days></Expiration></Rule>\
         <Rule><ID>soon</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status>\
         <Expiration><Days>7</Days></Expiration></Rule>\
         <Rule><ID>off</ID><Filter><Prefix></Prefix></Filter><Status>Disabled</Status>\
         <Expiration><Days>1</Days></Expiration></Rule>\
         <Rule><ID>tagged</ID><Filter><Tag><Key>class</Key><Value>tmp</Value></Tag></Filter>\
         <Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>\
         <Rule><ID>markers</ID><Filter/><Status>Enabled</Status>\
         <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>",
    )
    .unwrap();
    assert!(l.expires_anything() && l.filters_on_tags());
    let t0 = 1_389_781_800; // 2014-01-15T10:30:00Z
    assert_eq!(
        l.expiration("logs/a", 1, &[], t0, DAY),
        Some((due_at(t0, When::Days(7), DAY), "soon"))
    );
    assert_eq!(l.expiration("other", 1, &[], t0, DAY), None);
    let tags = [("class".to_owned(), "tmp".to_owned())];
    assert_eq!(
        l.expiration("other", 1, &tags, t0, DAY),
        Some((due_at(t0, When::Days(2), DAY), "tagged"))
    );
    assert_eq!(
        expiration_header(1_390_089_600, "soon").unwrap(),
        "expiry-date=\"Sun, 19 Jan 2014 00:00:00 GMT\", rule-id=\"soon\""
    );
    // A rule ID a header cannot carry: no header rather than a broken one.
    assert_eq!(expiration_header(1_390_089_600, "a\nb"), None);
}
