//! Server access logs: Put/GetBucketLogging with AWS's checks of the target (it exists, its
//! policy grants the logging service, TargetGrants need ACLs), and the records of real
//! requests (signed, presigned, anonymous, failed) delivered as log objects into the target
//! bucket, parsed by a parser written to AWS's documented format.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::{Duration, Instant};

use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{
    BucketLoggingStatus, Grantee, LoggingEnabled, PartitionDateSource, PartitionedPrefix,
    TargetGrant, TargetObjectKeyFormat,
};
use cluster_tests::{code, get_bytes, status, Server};

/// A bucket policy of `target` that lets the logging service write logs of `source` under
/// `prefix`, as AWS's documentation writes it.
fn log_policy(target: &str, prefix: &str, source: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"S3ServerAccessLogsPolicy","Effect":"Allow","Principal":{{"Service":"logging.s3.amazonaws.com"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::{target}/{prefix}*","Condition":{{"ArnLike":{{"aws:SourceArn":"arn:aws:s3:::{source}"}}}}}}]}}"#
    )
}

fn enabled(target: &str, prefix: &str) -> LoggingEnabled {
    LoggingEnabled::builder()
        .target_bucket(target)
        .target_prefix(prefix)
        .build()
        .unwrap()
}

async fn put_logging(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    e: Option<LoggingEnabled>,
) -> Result<(), String> {
    let mut doc = BucketLoggingStatus::builder();
    if let Some(e) = e {
        doc = doc.logging_enabled(e);
    }
    c.put_bucket_logging()
        .bucket(bucket)
        .bucket_logging_status(doc.build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| format!("{} {}", status(&e), code(&e)))
}

#[tokio::test]
async fn logging_status_is_checked_against_its_target() {
    let s = Server::start().await;
    let c = s.client();
    for b in ["site", "other", "logs"] {
        c.create_bucket().bucket(b).send().await.unwrap();
    }
    let got = c.get_bucket_logging().bucket("site").send().await.unwrap();
    assert!(got.logging_enabled().is_none());

    // No such target; a target that grants nothing.
    assert_eq!(
        put_logging(&c, "site", Some(enabled("nowhere", "p/"))).await,
        Err("400 InvalidTargetBucketForLogging".into())
    );
    assert_eq!(
        put_logging(&c, "site", Some(enabled("logs", "site/"))).await,
        Err("400 InvalidTargetBucketForLogging".into())
    );
    // Granted to the logging service, for this source and prefix only.
    c.put_bucket_policy()
        .bucket("logs")
        .policy(log_policy("logs", "site/", "site"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        put_logging(&c, "other", Some(enabled("logs", "site/"))).await,
        Err("400 InvalidTargetBucketForLogging".into()),
        "the policy names another source"
    );
    assert_eq!(
        put_logging(&c, "site", Some(enabled("logs", "elsewhere/"))).await,
        Err("400 InvalidTargetBucketForLogging".into()),
        "the policy names another prefix"
    );
    let partitioned = TargetObjectKeyFormat::builder()
        .partitioned_prefix(
            PartitionedPrefix::builder()
                .partition_date_source(PartitionDateSource::DeliveryTime)
                .build(),
        )
        .build();
    let mut e = enabled("logs", "site/");
    e.target_object_key_format = Some(partitioned);
    put_logging(&c, "site", Some(e)).await.unwrap();
    let got = c.get_bucket_logging().bucket("site").send().await.unwrap();
    let on = got.logging_enabled().unwrap();
    assert_eq!(on.target_bucket(), "logs");
    assert_eq!(on.target_prefix(), "site/");
    let format = on.target_object_key_format().unwrap();
    assert_eq!(
        format.partitioned_prefix().unwrap().partition_date_source(),
        Some(&PartitionDateSource::DeliveryTime)
    );

    // TargetGrants where the target has ACLs disabled (the default).
    let grant = TargetGrant::builder()
        .grantee(
            Grantee::builder()
                .r#type(aws_sdk_s3::types::Type::Group)
                .uri("http://acs.amazonaws.com/groups/global/AllUsers")
                .build()
                .unwrap(),
        )
        .permission(aws_sdk_s3::types::BucketLogsPermission::Read)
        .build();
    let mut e = enabled("logs", "site/");
    e.target_grants = Some(vec![grant]);
    assert_eq!(
        put_logging(&c, "site", Some(e)).await,
        Err("400 AccessControlListNotSupported".into())
    );

    // An empty status turns logging off.
    put_logging(&c, "site", None).await.unwrap();
    let got = c.get_bucket_logging().bucket("site").send().await.unwrap();
    assert!(got.logging_enabled().is_none());
    // Of a bucket that does not exist.
    let e = c
        .get_bucket_logging()
        .bucket("absent")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchBucket");
}

/// One record, split by AWS's documented format: space-separated fields, the time in
/// brackets, the request URI, referrer and user agent in quotes.
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim_end_matches('\n');
    while !rest.is_empty() {
        let (field, after) = if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']').unwrap();
            (&r[..end], &r[end + 1..])
        } else if let Some(r) = rest.strip_prefix('"') {
            let mut end = 0;
            let bytes = r.as_bytes();
            while bytes[end] != b'"' {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            (&r[..end], &r[end + 1..])
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        out.push(field.to_owned());
        rest = after.strip_prefix(' ').unwrap_or(after);
    }
    out
}

/// The lines of every log object under `prefix` of `bucket`, once there are `want` of them
/// (panics after 30 s).
async fn delivered(
    c: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    want: usize,
) -> (Vec<String>, Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let listed = c
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        let keys: Vec<String> = listed
            .contents()
            .iter()
            .map(|o| o.key().unwrap().to_owned())
            .collect();
        let mut lines = Vec::new();
        for k in &keys {
            let text = String::from_utf8(get_bytes(c, bucket, k).await).unwrap();
            lines.extend(text.lines().map(str::to_owned));
        }
        if lines.len() >= want {
            return (keys, lines);
        }
        assert!(
            Instant::now() < deadline,
            "{} of {want} records delivered: {lines:#?}",
            lines.len()
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test]
async fn requests_are_delivered_as_records_in_the_documented_format() {
    let s = Server::start_with(&["--access-log-flush-seconds", "1"]).await;
    let c = s.client();
    for b in ["site", "logs"] {
        c.create_bucket().bucket(b).send().await.unwrap();
    }
    c.put_bucket_policy()
        .bucket("logs")
        .policy(log_policy("logs", "access/", "site"))
        .send()
        .await
        .unwrap();
    let mut e = enabled("logs", "access/");
    e.target_object_key_format = Some(
        TargetObjectKeyFormat::builder()
            .partitioned_prefix(PartitionedPrefix::builder().build())
            .build(),
    );
    put_logging(&c, "site", Some(e)).await.unwrap();

    // Five requests: a PUT, a GET, a GET of a missing key, an anonymous GET, a presigned GET.
    c.put_object()
        .bucket("site")
        .key("dir/a file.txt")
        .body(b"hello".to_vec().into())
        .send()
        .await
        .unwrap();
    assert_eq!(get_bytes(&c, "site", "dir/a file.txt").await, b"hello");
    let missing = c
        .get_object()
        .bucket("site")
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&missing), "NoSuchKey");
    let http = reqwest::Client::new();
    let anon = http
        .get(format!("{}/site/dir/a%20file.txt", s.endpoint))
        .header("user-agent", "curious \"browser\"")
        .send()
        .await
        .unwrap();
    assert_eq!(anon.status().as_u16(), 403);
    let presigned = c
        .get_object()
        .bucket("site")
        .key("dir/a file.txt")
        .presigned(PresigningConfig::expires_in(Duration::from_secs(300)).unwrap())
        .await
        .unwrap();
    let uri = presigned.uri().to_owned();
    let signature = uri
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("X-Amz-Signature="))
        .unwrap()
        .to_owned();
    assert_eq!(
        http.get(&uri).send().await.unwrap().text().await.unwrap(),
        "hello"
    );

    let (keys, lines) = delivered(&c, "logs", "access/", 6).await;
    // The delivery's own writes are not logged (the target is another bucket), and nothing
    // but PutBucketLogging (answered with logging on) and these five requests went to the
    // logged bucket.
    assert_eq!(lines.len(), 6, "{lines:#?}");
    let owner = |k: &str| k.split('/').nth(1).unwrap().to_owned();
    for k in &keys {
        // access/[SourceAccountId]/[SourceRegion]/[SourceBucket]/[YYYY]/[MM]/[DD]/[YYYY]-[MM]-[DD]-00-00-00-[UniqueString]
        let parts: Vec<&str> = k.split('/').collect();
        assert_eq!(parts.len(), 8, "{k}");
        assert_eq!(parts[0], "access");
        assert_eq!(parts[1].len(), 64);
        assert_eq!(&parts[2..4], ["us-east-1", "site"]);
        let day = format!("{}-{}-{}", parts[4], parts[5], parts[6]);
        assert!(parts[7].starts_with(&format!("{day}-00-00-00-")), "{k}");
        assert_eq!(parts[7].len(), "2026-12-07-00-00-00-".len() + 16, "{k}");
    }
    let all = lines.join("\n");
    assert!(
        !all.contains(&signature),
        "a signature reached the log: {all}"
    );

    let records: Vec<Vec<String>> = lines.iter().map(|l| fields(l)).collect();
    for r in &records {
        assert_eq!(r.len(), 27, "{r:?}");
        assert_eq!(r[0], owner(&keys[0]), "bucket owner");
        assert_eq!(r[1], "site");
        assert!(
            r[2].len() == 26 && r[2].ends_with(" +0000"),
            "time {:?}",
            r[2]
        );
        assert_eq!(r[3], "127.0.0.1");
        assert_eq!(r[5].len(), 16, "request id");
        assert_eq!(r[26], "us-east-1");
    }
    let find = |op: &str, status: &str| {
        records
            .iter()
            .filter(|r| r[6] == op && r[9] == status)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find("REST.PUT.LOGGING_STATUS", "200").len(),
        1,
        "{records:#?}"
    );
    let put = find("REST.PUT.OBJECT", "200");
    assert_eq!(put.len(), 1, "{records:#?}");
    let put = put[0];
    assert_eq!(put[7], "dir/a%20file.txt");
    assert!(
        put[8].starts_with("PUT /site/dir/a%20file.txt"),
        "{}",
        put[8]
    );
    assert!(put[8].ends_with(" HTTP/1.1"), "{}", put[8]);
    assert_eq!((put[10].as_str(), put[12].as_str()), ("-", "5"));
    assert_eq!(put[4].len(), 64, "the root key's canonical id");
    assert_eq!(
        (put[19].as_str(), put[21].as_str()),
        ("SigV4", "AuthHeader")
    );

    let gets = find("REST.GET.OBJECT", "200");
    assert_eq!(gets.len(), 2, "{records:#?}");
    for g in &gets {
        assert_eq!(
            (g[11].as_str(), g[12].as_str()),
            ("5", "5"),
            "bytes sent, object size"
        );
    }
    let presigned = gets.iter().find(|g| g[21] == "QueryString").unwrap();
    assert!(
        presigned[8].contains("X-Amz-Signature=REDACTED"),
        "{}",
        presigned[8]
    );
    let missing = find("REST.GET.OBJECT", "404");
    assert_eq!(missing.len(), 1, "{records:#?}");
    assert_eq!(
        (missing[0][7].as_str(), missing[0][10].as_str()),
        ("nope", "NoSuchKey")
    );
    let anon = find("REST.GET.OBJECT", "403");
    assert_eq!(anon.len(), 1, "{records:#?}");
    let anon = anon[0];
    assert_eq!((anon[4].as_str(), anon[10].as_str()), ("-", "AccessDenied"));
    assert_eq!((anon[19].as_str(), anon[21].as_str()), ("-", "-"));
    assert_eq!(anon[16], "curious \\\"browser\\\"");

    // Once the target's policy stops granting the service, records are dropped, not written.
    c.delete_bucket_policy()
        .bucket("logs")
        .send()
        .await
        .unwrap();
    c.head_object()
        .bucket("site")
        .key("dir/a file.txt")
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let metrics = reqwest::get(format!("{}/_coffer/metrics", s.endpoint))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let dropped = metrics
        .lines()
        .find_map(|l| l.strip_prefix("coffer_access_log_records_dropped_total "))
        .unwrap();
    assert_eq!(dropped, "1", "{metrics}");
    let (_, after) = delivered(&c, "logs", "access/", 6).await;
    assert_eq!(after.len(), 6, "nothing more was written: {after:#?}");
}

#[tokio::test]
async fn website_requests_are_logged_too() {
    let web = format!("127.0.0.1:{}", cluster_tests::free_port());
    let s =
        Server::start_with(&["--access-log-flush-seconds", "1", "--website-address", &web]).await;
    let c = s.client();
    for b in ["site", "logs"] {
        c.create_bucket().bucket(b).send().await.unwrap();
    }
    c.put_bucket_website()
        .bucket("site")
        .website_configuration(
            aws_sdk_s3::types::WebsiteConfiguration::builder()
                .index_document(
                    aws_sdk_s3::types::IndexDocument::builder()
                        .suffix("index.html")
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    c.put_bucket_policy()
        .bucket("logs")
        .policy(log_policy("logs", "web/", "site"))
        .send()
        .await
        .unwrap();
    put_logging(&c, "site", Some(enabled("logs", "web/")))
        .await
        .unwrap();
    // The site is private: anonymous readers are refused, and logged.
    let http = reqwest::Client::new();
    for path in ["/", "/missing.html"] {
        let r = http
            .get(format!("http://{web}{path}"))
            .header("host", "site")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
    }
    let (_, lines) = delivered(&c, "logs", "web/", 3).await;
    let records: Vec<Vec<String>> = lines.iter().map(|l| fields(l)).collect();
    let website: Vec<(&str, &str, &str, &str)> = records
        .iter()
        .filter(|r| r[6] == "WEBSITE.GET.OBJECT")
        .map(|r| (r[4].as_str(), r[7].as_str(), r[9].as_str(), r[10].as_str()))
        .collect();
    assert_eq!(
        website,
        [
            ("-", "-", "403", "AccessDenied"),
            ("-", "missing.html", "403", "AccessDenied")
        ],
        "{records:#?}"
    );
}
