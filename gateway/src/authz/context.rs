//! The condition keys of one request, as AWS defines them: the global `aws:` keys that apply
//! here and the S3 keys taken from the request's headers and query.

use actix_web::dev::RequestHead;
use coffer_proto::policy::{Caller, Context};

use crate::s3::router::Query;

/// S3 condition keys read straight from a request header of the same name.
const HEADER_KEYS: &[&str] = &[
    "x-amz-acl",
    "x-amz-content-sha256",
    "x-amz-copy-source",
    "x-amz-grant-full-control",
    "x-amz-grant-read",
    "x-amz-grant-read-acp",
    "x-amz-grant-write",
    "x-amz-grant-write-acp",
    "x-amz-metadata-directive",
    "x-amz-object-ownership",
    "x-amz-server-side-encryption",
    "x-amz-server-side-encryption-aws-kms-key-id",
    "x-amz-server-side-encryption-customer-algorithm",
    "x-amz-storage-class",
    "x-amz-website-redirect-location",
];

/// S3 condition keys read from a request header of another name.
const RENAMED_HEADER_KEYS: &[(&str, &str)] = &[
    ("if-match", "s3:if-match"),
    ("if-none-match", "s3:if-none-match"),
    ("x-amz-object-lock-mode", "s3:object-lock-mode"),
    (
        "x-amz-object-lock-retain-until-date",
        "s3:object-lock-retain-until-date",
    ),
    ("x-amz-object-lock-legal-hold", "s3:object-lock-legal-hold"),
];

/// Build the context of `req` from `caller` at `now`; `list`: the request lists a bucket (the
/// keys `s3:prefix`, `s3:delimiter` and `s3:max-keys` apply); `secure`: it came over TLS
/// (`crate::tls::secure`).
pub fn build(
    req: &RequestHead,
    query: &Query,
    list: bool,
    caller: &Caller,
    now: chrono::DateTime<chrono::Utc>,
    secure: bool,
) -> Context {
    let mut c = Context::default();
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(peer) = req.peer_addr {
        c.set("aws:SourceIp", peer.ip().to_string());
    }
    c.set("aws:SecureTransport", secure.to_string());
    c.set(
        "aws:CurrentTime",
        now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    c.set("aws:EpochTime", now.timestamp().to_string());
    match caller {
        Caller::Anonymous => {
            c.set("aws:PrincipalType", "Anonymous");
            c.set("aws:userid", "anonymous");
        }
        Caller::Root { .. } => {
            c.set("aws:PrincipalType", "Account");
            c.set("aws:userid", "root");
        }
        // Not a request's caller (the access log's delivery is checked with its own
        // context), named as AWS names a service principal all the same.
        Caller::Service { name } => {
            c.set("aws:PrincipalType", "AWSService");
            c.set("aws:PrincipalServiceName", name.as_str());
        }
        Caller::User { name, user_id, .. } => {
            c.set("aws:PrincipalType", "User");
            c.set("aws:username", name.as_str());
            c.set("aws:userid", user_id.as_str());
        }
    }
    if let Some(arn) = caller.arn() {
        c.set("aws:PrincipalArn", arn);
    }
    for (key, name) in [("aws:Referer", "referer"), ("aws:UserAgent", "user-agent")] {
        if let Some(v) = header(name) {
            c.set(key, v);
        }
    }
    header_keys(&mut c, &req.headers);
    if let Some(until) = header("x-amz-object-lock-retain-until-date")
        .and_then(|d| chrono::DateTime::parse_from_rfc3339(d).ok())
    {
        let days = (until.with_timezone(&chrono::Utc) - now).num_days().max(0);
        c.set("s3:object-lock-remaining-retention-days", days.to_string());
    }
    if let Some(signed) = header("x-amz-date")
        .or_else(|| query.get("X-Amz-Date"))
        .and_then(|d| chrono::NaiveDateTime::parse_from_str(d, "%Y%m%dT%H%M%SZ").ok())
    {
        let age = (now - signed.and_utc()).num_milliseconds().max(0);
        c.set("s3:signatureAge", age.to_string());
    }
    if list {
        for name in ["prefix", "delimiter", "max-keys"] {
            if let Some(v) = query.get(name) {
                c.set(&format!("s3:{name}"), v);
            }
        }
    }
    if let Some(v) = query.get("versionId") {
        c.set("s3:VersionId", v);
    }
    if let Some(tags) = header("x-amz-tagging") {
        request_tags(&mut c, tags);
    }
    if let Some(s) = crate::auth::how_signed(&req.headers, query) {
        let auth_type = if s.in_query {
            "REST-QUERY-STRING"
        } else {
            "REST-HEADER"
        };
        c.set("s3:authType", auth_type);
        c.set(
            "s3:signatureversion",
            if s.v4 { "AWS4-HMAC-SHA256" } else { "AWS" },
        );
    }
    c
}

/// `s3:RequestObjectTagKeys` and `s3:RequestObjectTag/<key>` of an `x-amz-tagging` value.
fn request_tags(c: &mut Context, tags: &str) {
    for (k, v) in Query::parse(tags).0 {
        c.add("s3:RequestObjectTagKeys", k.as_str());
        c.set(&format!("s3:RequestObjectTag/{k}"), v);
    }
}

/// The `s3:x-amz-*` keys of `headers`.
fn header_keys(c: &mut Context, headers: &actix_web::http::header::HeaderMap) {
    for name in HEADER_KEYS {
        if let Some(v) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            c.set(&format!("s3:{name}"), v);
        }
    }
    for (name, key) in RENAMED_HEADER_KEYS {
        if let Some(v) = headers.get(*name).and_then(|v| v.to_str().ok()) {
            c.set(key, v);
        }
    }
}

/// What a POST Object form says in place of headers: its fields as headers (`acl` as
/// `x-amz-acl`, ...) give the `s3:x-amz-*` keys, and a signed form's `s3:authType` is `POST`
/// and its `s3:signatureversion` the one it is signed with (`AWS4-HMAC-SHA256` or `AWS`).
pub fn add_form(
    c: &mut Context,
    form: &actix_web::http::header::HeaderMap,
    signature_version: Option<&str>,
) {
    header_keys(c, form);
    if let Some(tags) = form.get("x-amz-tagging").and_then(|v| v.to_str().ok()) {
        request_tags(c, tags);
    }
    if let Some(version) = signature_version {
        c.set("s3:authType", "POST");
        c.set("s3:signatureversion", version);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn keys_from_the_request_and_the_caller() {
        let req = TestRequest::with_uri("/b?list-type=2&prefix=home%2Fal&max-keys=5")
            .insert_header(("user-agent", "aws-cli/2"))
            .insert_header(("x-amz-acl", "public-read"))
            .insert_header(("x-amz-tagging", "env=prod&team=a"))
            .insert_header(("authorization", "AWS4-HMAC-SHA256 Credential=x"))
            .insert_header(("if-none-match", "*"))
            .insert_header(("x-amz-server-side-encryption-customer-algorithm", "AES256"))
            .insert_header(("x-amz-date", "20270115T075830Z"))
            .insert_header((
                "x-amz-object-lock-retain-until-date",
                "2027-01-17T09:00:00Z",
            ))
            .peer_addr(
                "10.1.2.3:5000"
                    .parse()
                    .unwrap_or(std::net::SocketAddr::from(([0; 4], 0))),
            )
            .to_http_request();
        let q = Query::parse(req.query_string());
        let caller = Caller::User {
            name: "al".into(),
            user_id: "AIDAAL".into(),
            canonical_id: String::new(),
        };
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let c = build(req.head(), &q, true, &caller, now, false);
        let one = |k: &str| c.get(k).and_then(|v| v.first()).map(String::as_str);
        assert_eq!(one("aws:sourceip"), Some("10.1.2.3"));
        assert_eq!(one("aws:SecureTransport"), Some("false"));
        assert_eq!(one("aws:EpochTime"), Some("1800000000"));
        assert_eq!(one("aws:CurrentTime"), Some("2027-01-15T08:00:00Z"));
        assert_eq!(one("aws:username"), Some("al"));
        assert_eq!(one("aws:PrincipalArn"), Some("arn:aws:iam:::user/al"));
        assert_eq!(one("aws:UserAgent"), Some("aws-cli/2"));
        assert_eq!(one("s3:prefix"), Some("home/al"));
        assert_eq!(one("s3:max-keys"), Some("5"));
        assert_eq!(one("s3:x-amz-acl"), Some("public-read"));
        assert_eq!(one("s3:RequestObjectTag/env"), Some("prod"));
        assert_eq!(
            c.get("s3:RequestObjectTagKeys").map(<[String]>::len),
            Some(2)
        );
        assert_eq!(one("s3:authType"), Some("REST-HEADER"));
        assert_eq!(one("s3:signatureversion"), Some("AWS4-HMAC-SHA256"));
        assert_eq!(one("s3:if-none-match"), Some("*"));
        assert_eq!(
            one("s3:x-amz-server-side-encryption-customer-algorithm"),
            Some("AES256")
        );
        assert_eq!(one("s3:signatureAge"), Some("90000"));
        assert_eq!(one("s3:object-lock-remaining-retention-days"), Some("2"));
        assert_eq!(
            build(req.head(), &q, true, &caller, now, true)
                .get("aws:SecureTransport")
                .and_then(|v| v.first())
                .map(String::as_str),
            Some("true")
        );
        let mut anon = build(req.head(), &q, false, &Caller::Anonymous, now, false);
        assert!(anon.get("aws:username").is_none() && anon.get("s3:prefix").is_none());
        // A form's fields stand in for headers.
        let mut form = actix_web::http::header::HeaderMap::new();
        form.insert(
            actix_web::http::header::HeaderName::from_static("x-amz-acl"),
            actix_web::http::header::HeaderValue::from_static("private"),
        );
        add_form(&mut anon, &form, Some("AWS"));
        let one = |k: &str| anon.get(k).and_then(|v| v.first()).map(String::as_str);
        assert_eq!(one("s3:x-amz-acl"), Some("private"));
        assert_eq!(one("s3:authType"), Some("POST"));
        assert_eq!(one("s3:signatureversion"), Some("AWS"));
    }
}
