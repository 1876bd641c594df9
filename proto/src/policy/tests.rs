#![allow(clippy::unwrap_used)]
use super::*;

fn bucket(text: &str) -> Result<Policy, PolicyError> {
    Policy::parse(text, &PolicyKind::Bucket("b".into()))
}

fn identity(text: &str) -> Result<Policy, PolicyError> {
    Policy::parse(text, &PolicyKind::Identity)
}

fn alice() -> Caller {
    Caller::User {
        name: "alice".into(),
        user_id: "AIDAALICE".into(),
        canonical_id: "a".repeat(64),
    }
}

fn ctx(pairs: &[(&str, &str)]) -> Context {
    let mut c = Context::default();
    for (k, v) in pairs {
        c.add(k, *v);
    }
    c
}

fn decide(p: &Policy, caller: &Caller, action: &str, resource: &str, c: &Context) -> Decision {
    p.evaluate(&Request {
        caller,
        action,
        resource,
        context: c,
    })
}

const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"r","Effect":"Allow",
    "Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;

#[test]
fn refusals_name_the_reason() {
    let cases: &[(&str, &str)] = &[
        (
            "not json",
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        ("{", "This policy contains invalid Json"),
        (
            r#"{"Version":"2012-10-17"}"#,
            "Missing required field Statement",
        ),
        (
            r#"{"Version":"2012-10-18","Statement":[]}"#,
            "The policy must contain a valid version string",
        ),
        (
            r#"{"Statement":{"Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
            "Missing required field Effect",
        ),
        (
            r#"{"Statement":{"Effect":"Permit","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
            "Invalid effect: Permit",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
            "Missing required field Principal",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Resource":"arn:aws:s3:::b/*"}}"#,
            "Missing required field Action",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}}"#,
            "Missing required field Resource",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObjekt","Resource":"arn:aws:s3:::b/*"}}"#,
            "Policy has invalid action: s3:GetObjekt",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}}"#,
            "Policy has invalid resource: arn:aws:s3:::other/*",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:ListBucket"],"Resource":"arn:aws:s3:::b/*"}}"#,
            "Action does not apply to any resource(s) in statement",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123:user/x"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}"#,
            "Invalid principal in policy",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEqualz":{"aws:username":"x"}}}}"#,
            "Invalid Condition type : StringEqualz",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:nonsense":"x"}}}}"#,
            "Policy has an invalid condition key: s3:nonsense",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/99"}}}}"#,
            "Invalid value for condition IpAddress on aws:SourceIp: 10.0.0.0/99",
        ),
        (
            r#"{"Statement":[{"Sid":"a","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},{"Sid":"a","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
            "Statement IDs (SID) must be unique: a",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Extra":1}}"#,
            "Unknown field Extra",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(bucket(text).unwrap_err().0, *want, "{text}");
    }
    let deep = format!("{}{}", "{\"a\":[".repeat(200), "]}".repeat(200));
    assert_eq!(
        bucket(&deep).unwrap_err().0,
        "This policy contains invalid Json"
    );
    let big = format!(
        r#"{{"Statement":{{"Sid":"{}","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}}}"#,
        "x".repeat(MAX_BUCKET_POLICY_BYTES)
    );
    assert_eq!(
        bucket(&big).unwrap_err().0,
        "Policies must be less than 20 KB"
    );
    assert_eq!(
        identity(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#
        )
        .unwrap_err()
        .0,
        "Policy document should not specify a principal."
    );
}

#[test]
fn public_read_allows_anyone_to_get_and_nothing_else() {
    let p = bucket(PUBLIC_READ).unwrap();
    assert!(p.is_public());
    let c = Context::default();
    let anon = Caller::Anonymous;
    assert_eq!(
        decide(&p, &anon, "s3:GetObject", "arn:aws:s3:::b/k", &c),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &anon, "s3:PutObject", "arn:aws:s3:::b/k", &c),
        Decision::NotApplicable
    );
    assert_eq!(
        decide(&p, &anon, "s3:GetObject", "arn:aws:s3:::bb/k", &c),
        Decision::NotApplicable
    );
}

#[test]
fn principals_not_principal_and_explicit_deny() {
    let p = bucket(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/alice"]},"Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]},
        {"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam:::user/alice"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::b/*"},
        {"Effect":"Deny","Principal":"*","NotAction":["s3:Get*","s3:List*","s3:Put*"],"Resource":"arn:aws:s3:::b/locked/*"}]}"#,
    )
    .unwrap();
    let c = Context::default();
    let bob = Caller::User {
        name: "bob".into(),
        user_id: "AIDABOB".into(),
        canonical_id: "b".repeat(64),
    };
    assert_eq!(
        decide(&p, &alice(), "s3:ListBucket", "arn:aws:s3:::b", &c),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &alice(), "s3:DeleteObject", "arn:aws:s3:::b/k", &c),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &bob, "s3:DeleteObject", "arn:aws:s3:::b/k", &c),
        Decision::Deny
    );
    assert_eq!(
        decide(&p, &bob, "s3:GetObject", "arn:aws:s3:::b/k", &c),
        Decision::NotApplicable
    );
    assert_eq!(
        decide(
            &p,
            &alice(),
            "s3:DeleteObject",
            "arn:aws:s3:::b/locked/x",
            &c
        ),
        Decision::Deny
    );
    assert_eq!(
        decide(&p, &alice(), "s3:GetObject", "arn:aws:s3:::b/locked/x", &c),
        Decision::Allow
    );
}

#[test]
fn policy_variables_in_resources_and_conditions() {
    let p = identity(
        r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"},
        {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::home",
         "Condition":{"StringLike":{"s3:prefix":["${aws:username}/*"]}}}]}"#,
    )
    .unwrap();
    let mut c = ctx(&[("aws:username", "alice")]);
    let a = alice();
    assert_eq!(
        decide(&p, &a, "s3:PutObject", "arn:aws:s3:::home/alice/x", &c),
        Decision::Allow
    );
    assert_eq!(
        decide(&p, &a, "s3:PutObject", "arn:aws:s3:::home/bob/x", &c),
        Decision::NotApplicable
    );
    assert_eq!(
        decide(&p, &a, "s3:ListBucket", "arn:aws:s3:::home", &c),
        Decision::NotApplicable
    );
    c.set("s3:prefix", "alice/docs/");
    assert_eq!(
        decide(&p, &a, "s3:ListBucket", "arn:aws:s3:::home", &c),
        Decision::Allow
    );
    // The 2008 version takes `${...}` literally.
    let old = identity(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:username}/*"}}"#,
    )
    .unwrap();
    assert_eq!(
        decide(&old, &a, "s3:PutObject", "arn:aws:s3:::home/alice/x", &c),
        Decision::NotApplicable
    );
    assert_eq!(
        decide(
            &old,
            &a,
            "s3:PutObject",
            "arn:aws:s3:::home/${aws:username}/x",
            &c
        ),
        Decision::Allow
    );
}

fn cond(block: &str) -> Policy {
    bucket(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{block}}}}}"#
    ))
    .unwrap()
}

fn holds(block: &str, pairs: &[(&str, &str)]) -> bool {
    decide(
        &cond(block),
        &alice(),
        "s3:GetObject",
        "arn:aws:s3:::b/k",
        &ctx(pairs),
    ) == Decision::Allow
}

#[test]
fn condition_operators() {
    let ip = r#"{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}"#;
    assert!(holds(ip, &[("aws:SourceIp", "10.1.2.3")]));
    assert!(holds(ip, &[("aws:SourceIp", "2001:db8::1")]));
    assert!(!holds(ip, &[("aws:SourceIp", "11.0.0.1")]));
    assert!(!holds(ip, &[]));
    let not_ip = r#"{"NotIpAddress":{"aws:SourceIp":"127.0.0.0/8"}}"#;
    assert!(holds(not_ip, &[("aws:SourceIp", "10.0.0.1")]));
    assert!(!holds(not_ip, &[("aws:SourceIp", "127.0.0.1")]));

    let secure = r#"{"Bool":{"aws:SecureTransport":"true"}}"#;
    assert!(holds(secure, &[("aws:SecureTransport", "TRUE")]));
    assert!(!holds(secure, &[("aws:SecureTransport", "false")]));

    let num = r#"{"NumericLessThanEquals":{"s3:max-keys":"10"}}"#;
    assert!(holds(num, &[("s3:max-keys", "10")]));
    assert!(!holds(num, &[("s3:max-keys", "11")]));
    assert!(!holds(num, &[("s3:max-keys", "ten")]));

    let date = r#"{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}"#;
    assert!(holds(date, &[("aws:CurrentTime", "2026-12-01T06:00:00Z")]));
    assert!(!holds(date, &[("aws:CurrentTime", "2031-01-01T00:00:00Z")]));
    let epoch = r#"{"DateGreaterThan":{"aws:EpochTime":"2026-01-01"}}"#;
    assert!(holds(epoch, &[("aws:EpochTime", "1800000000")]));

    let ne = r#"{"StringNotEquals":{"s3:x-amz-acl":"public-read"}}"#;
    assert!(holds(ne, &[("s3:x-amz-acl", "private")]));
    assert!(
        holds(ne, &[]),
        "a Not operator holds when the key is absent"
    );
    assert!(!holds(ne, &[("s3:x-amz-acl", "public-read")]));

    let ic = r#"{"StringEqualsIgnoreCase":{"aws:UserAgent":"Boto3"}}"#;
    assert!(holds(ic, &[("aws:useragent", "BOTO3")]));

    let if_exists = r#"{"StringEqualsIfExists":{"s3:x-amz-server-side-encryption":"AES256"}}"#;
    assert!(holds(if_exists, &[]));
    assert!(holds(
        if_exists,
        &[("s3:x-amz-server-side-encryption", "AES256")]
    ));
    assert!(!holds(
        if_exists,
        &[("s3:x-amz-server-side-encryption", "aws:kms")]
    ));

    let null = r#"{"Null":{"s3:x-amz-server-side-encryption":"true"}}"#;
    assert!(holds(null, &[]));
    assert!(!holds(
        null,
        &[("s3:x-amz-server-side-encryption", "AES256")]
    ));

    let arn = r#"{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam:::user/a*"}}"#;
    assert!(holds(
        arn,
        &[("aws:PrincipalArn", "arn:aws:iam:::user/alice")]
    ));
    assert!(!holds(
        arn,
        &[("aws:PrincipalArn", "arn:aws:iam:::user/bob")]
    ));

    let any = r#"{"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":["env","team"]}}"#;
    assert!(holds(
        any,
        &[
            ("s3:RequestObjectTagKeys", "x"),
            ("s3:RequestObjectTagKeys", "env")
        ]
    ));
    assert!(!holds(any, &[("s3:RequestObjectTagKeys", "x")]));
    assert!(!holds(any, &[]));
    let all = r#"{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["env","team"]}}"#;
    assert!(holds(
        all,
        &[
            ("s3:RequestObjectTagKeys", "team"),
            ("s3:RequestObjectTagKeys", "env")
        ]
    ));
    assert!(!holds(
        all,
        &[
            ("s3:RequestObjectTagKeys", "env"),
            ("s3:RequestObjectTagKeys", "x")
        ]
    ));
    assert!(holds(all, &[]), "ForAllValues holds for no values");

    let both = r#"{"StringEquals":{"aws:username":"alice","s3:prefix":"p"},"Bool":{"aws:SecureTransport":"false"}}"#;
    assert!(holds(
        both,
        &[
            ("aws:username", "alice"),
            ("s3:prefix", "p"),
            ("aws:SecureTransport", "false")
        ]
    ));
    assert!(!holds(
        both,
        &[("aws:username", "alice"), ("s3:prefix", "p")]
    ));
}

#[test]
fn decisions_combine_with_deny_first() {
    use Decision::*;
    assert_eq!(Allow.and(Deny), Deny);
    assert_eq!(NotApplicable.and(Allow), Allow);
    assert_eq!(NotApplicable.and(NotApplicable), NotApplicable);
}

#[test]
fn substitution_of_variables() {
    let c = ctx(&[("aws:username", "al")]);
    assert_eq!(
        substitute("a/${aws:username}/b", &c).as_deref(),
        Some("a/al/b")
    );
    assert_eq!(substitute("${aws:userid}", &c), None);
    assert_eq!(substitute("x${$}y", &c).as_deref(), Some("x$y"));
    assert_eq!(substitute("open ${", &c).as_deref(), Some("open ${"));
}

#[test]
fn every_documented_s3_condition_key_is_accepted() {
    for key in [
        "s3:x-amz-server-side-encryption-customer-algorithm",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
        "s3:object-lock-mode",
        "s3:object-lock-retain-until-date",
        "s3:object-lock-remaining-retention-days",
        "s3:object-lock-legal-hold",
        "s3:if-match",
        "s3:if-none-match",
        "s3:ObjectCreationOperation",
        "s3:ResourceAccount",
        "s3:DataAccessPointArn",
        "s3:DataAccessPointAccount",
        "s3:AccessPointNetworkOrigin",
        "s3:AccessGrantsInstanceArn",
        "s3:TlsVersion",
        "s3:signatureAge",
        "s3:BucketTag/team",
        "s3:RequestJobPriority",
        "s3:ExistingJobOperation",
        "s3:IsReplicationPayloadRequest",
        "s3:InventoryAccessibleOptionalFields",
    ] {
        let block = format!(r#"{{"StringEqualsIfExists":{{"{key}":"x"}}}}"#);
        bucket(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{block}}}}}"#
        ))
        .unwrap_or_else(|e| panic!("{key}: {}", e.0));
    }
}

#[test]
fn a_key_this_server_cannot_evaluate_never_grants_more() {
    let statement = |effect: &str, op: &str| {
        bucket(&format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"{effect}","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{{"{op}":{{"s3:ResourceAccount":"111122223333"}}}}}}}}"#
        ))
        .unwrap()
    };
    let c = ctx(&[]);
    let get = |p: &Policy| decide(p, &alice(), "s3:GetObject", "arn:aws:s3:::b/k", &c);
    for op in ["StringEquals", "StringNotEquals", "StringEqualsIfExists"] {
        assert_eq!(
            get(&statement("Allow", op)),
            Decision::NotApplicable,
            "{op}"
        );
        assert_eq!(get(&statement("Deny", op)), Decision::Deny, "{op}");
    }
    // A key that is merely absent (no SSE-C asked for) evaluates as on S3.
    let sse_c = bucket(r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption-customer-algorithm":"AES256"}}}}"#).unwrap();
    assert_eq!(get(&sse_c), Decision::NotApplicable);
    let with = ctx(&[(
        "s3:x-amz-server-side-encryption-customer-algorithm",
        "AES256",
    )]);
    assert_eq!(
        decide(&sse_c, &alice(), "s3:GetObject", "arn:aws:s3:::b/k", &with),
        Decision::Deny
    );
}
