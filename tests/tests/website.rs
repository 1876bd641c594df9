//! Static website hosting: the website endpoint (`--website-address`) serving a bucket as a
//! site, anonymously, as Amazon S3's website endpoints do: index documents, `/dir` → `/dir/`, error pages and
//! error documents, 404 or 403 for a missing key, redirects (all, routing rules, objects'),
//! ranges and conditions, HEAD, methods, CORS, and Host headers of every shape. The
//! configuration API is `website_config.rs`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    Condition, ErrorDocument, IndexDocument, Protocol, Redirect, RedirectAllRequestsTo,
    RoutingRule, WebsiteConfiguration,
};
use cluster_tests::{free_port, Server};

const DOMAIN: &str = "web.test";

/// The public-read bucket policy of the AWS user guide's website example.
fn public_read(bucket: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"PublicReadGetObject","Effect":"Allow","Principal":"*","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::{bucket}/*"]}}]}}"#
    )
}

struct Site {
    server: Server,
    web: String,
    http: reqwest::Client,
}

/// An answer of the website endpoint.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl Site {
    async fn start() -> Site {
        let web = format!("127.0.0.1:{}", free_port());
        let server =
            Server::start_with(&["--website-address", &web, "--website-domain", DOMAIN]).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Site {
            server,
            web: format!("http://{web}"),
            http,
        }
    }

    /// `method` `path` on the website endpoint with Host `host` and `headers`.
    async fn ask(
        &self,
        method: reqwest::Method,
        host: &str,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut rb = self
            .http
            .request(method, format!("{}{path}", self.web))
            .header("host", host);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        let r = rb.send().await.unwrap();
        Answer {
            status: r.status().as_u16(),
            headers: r.headers().clone(),
            body: r.text().await.unwrap(),
        }
    }

    async fn get(&self, host: &str, path: &str) -> Answer {
        self.ask(reqwest::Method::GET, host, path, &[]).await
    }
}

fn host(bucket: &str) -> String {
    format!("{bucket}.s3-website.{DOMAIN}")
}

async fn put(c: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str, content_type: &str) {
    c.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap();
}

fn index_and_error() -> WebsiteConfiguration {
    WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix("index.html")
                .build()
                .unwrap(),
        )
        .error_document(ErrorDocument::builder().key("error.html").build().unwrap())
        .build()
}

#[tokio::test]
async fn the_website_endpoint_serves_sites() {
    tokio::time::timeout(Duration::from_secs(120), serves_sites())
        .await
        .expect("test timed out");
}

async fn serves_sites() {
    let site = Site::start().await;
    let c = site.server.client();
    let b = "www.example.test";
    let h = host("site");
    c.create_bucket().bucket("site").send().await.unwrap();
    c.create_bucket().bucket(b).send().await.unwrap();
    // Without a configuration: NoSuchWebsiteConfiguration; no such bucket: NoSuchBucket.
    let a = site.get(&h, "/").await;
    assert_eq!(
        (a.status, a.header("x-amz-error-code")),
        (404, Some("NoSuchWebsiteConfiguration"))
    );
    assert!(
        a.body.contains("<li>Code: NoSuchWebsiteConfiguration</li>"),
        "{}",
        a.body
    );
    assert_eq!(a.header("content-type"), Some("text/html; charset=utf-8"));
    let a = site.get(&host("nosuchbucket"), "/").await;
    assert_eq!(
        (a.status, a.header("x-amz-error-code")),
        (404, Some("NoSuchBucket"))
    );

    for bucket in ["site", b] {
        c.put_bucket_website()
            .bucket(bucket)
            .website_configuration(index_and_error())
            .send()
            .await
            .unwrap();
        put(&c, bucket, "index.html", "<h1>home</h1>", "text/html").await;
        put(&c, bucket, "docs/index.html", "<h1>docs</h1>", "text/html").await;
        put(&c, bucket, "style.css", "h1 { color: red }", "text/css").await;
    }
    // Private: anonymous readers get 403 from the page and from a missing key alike.
    let a = site.get(&h, "/").await;
    assert_eq!(
        (a.status, a.header("x-amz-error-code")),
        (403, Some("AccessDenied"))
    );
    let a = site.get(&h, "/nothing-here").await;
    assert_eq!(a.status, 403);
    // Public read: the site is served.
    for bucket in ["site", b] {
        c.put_bucket_policy()
            .bucket(bucket)
            .policy(public_read(bucket))
            .send()
            .await
            .unwrap();
    }
    for hostname in [
        h.clone(),
        format!("site.s3-website-us-east-1.{DOMAIN}"),
        format!("SITE.S3-WEBSITE.{}", DOMAIN.to_uppercase()),
        format!("{h}:8080"),
    ] {
        let a = site.get(&hostname, "/").await;
        assert_eq!(
            (a.status, a.body.as_str()),
            (200, "<h1>home</h1>"),
            "{hostname}"
        );
        assert_eq!(a.header("content-type"), Some("text/html"));
    }
    // A custom domain: the Host is the bucket's name.
    let a = site.get(b, "/docs/").await;
    assert_eq!((a.status, a.body.as_str()), (200, "<h1>docs</h1>"));
    let a = site.get(&h, "/style.css").await;
    assert_eq!(
        (a.status, a.header("content-type")),
        (200, Some("text/css"))
    );
    assert!(a.header("etag").is_some() && a.header("last-modified").is_some());
    // `/docs` without its slash: 302 to the folder.
    let a = site.get(&h, "/docs").await;
    assert_eq!((a.status, a.header("location")), (302, Some("/docs/")));
    assert!(a.body.is_empty());
    // A missing key without an error document: the default page, 403 (anonymous callers
    // may not list the bucket).
    let a = site.get(&h, "/missing.html").await;
    assert_eq!(a.status, 403);
    // With the error document: its page, with the error's status.
    put(&c, "site", "error.html", "<h1>oops</h1>", "text/html").await;
    let a = site.get(&h, "/missing.html").await;
    assert_eq!((a.status, a.body.as_str()), (403, "<h1>oops</h1>"));
    assert_eq!(a.header("x-amz-error-code"), Some("AccessDenied"));
    // Anonymous listing allowed: a missing key is 404.
    let list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"},{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::site"}]}"#;
    c.put_bucket_policy()
        .bucket("site")
        .policy(list)
        .send()
        .await
        .unwrap();
    let a = site.get(&h, "/missing.html").await;
    assert_eq!((a.status, a.body.as_str()), (404, "<h1>oops</h1>"));
    assert_eq!(a.header("x-amz-error-code"), Some("NoSuchKey"));
    // HEAD of an error: no body.
    let a = site
        .ask(reqwest::Method::HEAD, &h, "/missing.html", &[])
        .await;
    assert_eq!((a.status, a.body.as_str()), (404, ""));
    // A private error document: the default page instead.
    let deny = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/*"},{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::site"},{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::site/error.html"}]}"#;
    c.put_bucket_policy()
        .bucket("site")
        .policy(deny)
        .send()
        .await
        .unwrap();
    let a = site.get(&h, "/missing.html").await;
    assert_eq!(a.status, 404);
    assert!(a.body.contains("<li>Code: NoSuchKey</li>"), "{}", a.body);
    assert!(a.body.contains("<li>Key: missing.html</li>"), "{}", a.body);

    // Ranges and conditions, as on GET.
    let a = site
        .ask(
            reqwest::Method::GET,
            &h,
            "/index.html",
            &[("range", "bytes=1-2")],
        )
        .await;
    assert_eq!((a.status, a.body.as_str()), (206, "h1"));
    assert_eq!(a.header("content-range"), Some("bytes 1-2/13"));
    let etag = site
        .get(&h, "/index.html")
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let a = site
        .ask(reqwest::Method::GET, &h, "/", &[("if-none-match", &etag)])
        .await;
    assert_eq!((a.status, a.body.as_str()), (304, ""));
    let a = site
        .ask(
            reqwest::Method::GET,
            &h,
            "/",
            &[("if-modified-since", "Sun, 01 Jan 2090 00:00:00 GMT")],
        )
        .await;
    assert_eq!(a.status, 304);
    let a = site.ask(reqwest::Method::HEAD, &h, "/", &[]).await;
    assert_eq!((a.status, a.body.as_str()), (200, ""));
    assert_eq!(a.header("content-length"), Some("13"));
    // Only GET and HEAD (and CORS preflights).
    for m in [
        reqwest::Method::PUT,
        reqwest::Method::POST,
        reqwest::Method::DELETE,
    ] {
        let a = site.ask(m.clone(), &h, "/index.html", &[]).await;
        assert_eq!(
            (a.status, a.header("x-amz-error-code")),
            (405, Some("MethodNotAllowed")),
            "{m}"
        );
    }
    // Requests are anonymous: credentials are not looked at, and give no more.
    let a = site
        .ask(
            reqwest::Method::GET,
            &h,
            "/error.html",
            &[("authorization", "AWS4-HMAC-SHA256 Credential=x")],
        )
        .await;
    assert_eq!(a.status, 403);

    // CORS: a preflight on the website endpoint, and the headers on a GET, from the bucket's
    // rules.
    c.put_bucket_cors()
        .bucket("site")
        .cors_configuration(
            aws_sdk_s3::types::CorsConfiguration::builder()
                .cors_rules(
                    aws_sdk_s3::types::CorsRule::builder()
                        .allowed_origins("https://app.test")
                        .allowed_methods("GET")
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let a = site
        .ask(
            reqwest::Method::OPTIONS,
            &h,
            "/index.html",
            &[
                ("origin", "https://app.test"),
                ("access-control-request-method", "GET"),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{a:?}");
    assert_eq!(
        a.header("access-control-allow-origin"),
        Some("https://app.test")
    );
    let a = site
        .ask(
            reqwest::Method::OPTIONS,
            &h,
            "/index.html",
            &[
                ("origin", "https://other.test"),
                ("access-control-request-method", "GET"),
            ],
        )
        .await;
    assert_eq!(a.status, 403, "{a:?}");
    let a = site
        .ask(
            reqwest::Method::GET,
            &h,
            "/",
            &[("origin", "https://app.test")],
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.header("access-control-allow-origin"),
        Some("https://app.test")
    );

    // An object's own redirect: 301, no body.
    c.put_object()
        .bucket("site")
        .key("old.html")
        .website_redirect_location("/index.html")
        .body(ByteStream::from_static(b"old"))
        .send()
        .await
        .unwrap();
    let a = site.get(&h, "/old.html").await;
    assert_eq!(
        (a.status, a.header("location"), a.body.as_str()),
        (301, Some("/index.html"), "")
    );

    // Host headers of every shape: the right error, never a 500.
    for (hostname, want, code) in [
        ("", 400, "InvalidArgument"),
        ("127.0.0.1", 404, "NoSuchBucket"),
        ("[::1]:9", 404, "NoSuchBucket"),
        ("no-such.s3-website.web.test", 404, "NoSuchBucket"),
        ("conf.web.test", 404, "NoSuchBucket"),
    ] {
        let a = site.get(hostname, "/").await;
        assert_eq!(
            (a.status, a.header("x-amz-error-code")),
            (want, Some(code)),
            "{hostname:?}"
        );
    }
}

#[tokio::test]
async fn redirects_and_routing_rules() {
    tokio::time::timeout(Duration::from_secs(120), redirects())
        .await
        .expect("test timed out");
}

async fn redirects() {
    let site = Site::start().await;
    let c = site.server.client();
    c.create_bucket().bucket("away").send().await.unwrap();
    c.put_bucket_website()
        .bucket("away")
        .website_configuration(
            WebsiteConfiguration::builder()
                .redirect_all_requests_to(
                    RedirectAllRequestsTo::builder()
                        .host_name("example.test")
                        .protocol(Protocol::Https)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let a = site.get(&host("away"), "/a/b%20c.html").await;
    assert_eq!(
        (a.status, a.header("location")),
        (301, Some("https://example.test/a/b%20c.html"))
    );

    c.create_bucket().bucket("rules").send().await.unwrap();
    // Listing allowed too, so that a missing key is the 404 the error rules match (without
    // it, S3 answers 403, which they do not).
    let read_and_list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::rules/*"},{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::rules"}]}"#;
    c.put_bucket_policy()
        .bucket("rules")
        .policy(read_and_list)
        .send()
        .await
        .unwrap();
    put(&c, "rules", "index.html", "home", "text/html").await;
    let rule = |prefix: Option<&str>, error: Option<&str>, r: Redirect| {
        let mut cond = Condition::builder();
        if let Some(p) = prefix {
            cond = cond.key_prefix_equals(p);
        }
        if let Some(e) = error {
            cond = cond.http_error_code_returned_equals(e);
        }
        let mut b = RoutingRule::builder().redirect(r);
        if prefix.is_some() || error.is_some() {
            b = b.condition(cond.build());
        }
        b.build()
    };
    let conf = WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix("index.html")
                .build()
                .unwrap(),
        )
        .routing_rules(rule(
            Some("docs/"),
            None,
            Redirect::builder()
                .replace_key_prefix_with("documents/")
                .build(),
        ))
        .routing_rules(rule(
            Some("images/"),
            None,
            Redirect::builder()
                .replace_key_with("folderdeleted.html")
                .http_redirect_code("307")
                .build(),
        ))
        .routing_rules(rule(
            Some("old/"),
            Some("404"),
            Redirect::builder()
                .host_name("archive.test")
                .protocol(Protocol::Https)
                .replace_key_prefix_with("report-404/")
                .build(),
        ))
        .routing_rules(rule(
            None,
            Some("404"),
            Redirect::builder()
                .host_name("ec2-11-22-333-44.compute-1.amazonaws.com")
                .replace_key_prefix_with("report-404/")
                .http_redirect_code("308")
                .build(),
        ))
        .build();
    c.put_bucket_website()
        .bucket("rules")
        .website_configuration(conf)
        .send()
        .await
        .unwrap();
    put(&c, "rules", "old/here.html", "still here", "text/html").await;
    let h = host("rules");
    let web = format!("http://{h}");
    for (path, want_status, want_location) in [
        ("/", 200, None),
        ("/docs/", 301, Some(format!("{web}/documents/"))),
        ("/docs/a.html", 301, Some(format!("{web}/documents/a.html"))),
        ("/images/", 307, Some(format!("{web}/folderdeleted.html"))),
        (
            "/images/x/y.png",
            307,
            Some(format!("{web}/folderdeleted.html")),
        ),
        // Both conditions: the prefix and the error.
        ("/old/here.html", 200, None),
        (
            "/old/gone.html",
            301,
            Some("https://archive.test/report-404/gone.html".to_owned()),
        ),
        // The error condition alone (first match wins: the rule above does not match).
        (
            "/x",
            308,
            Some("http://ec2-11-22-333-44.compute-1.amazonaws.com/report-404/x".to_owned()),
        ),
        (
            "/documents/a.html",
            308,
            Some(
                "http://ec2-11-22-333-44.compute-1.amazonaws.com/report-404/documents/a.html"
                    .to_owned(),
            ),
        ),
    ] {
        let a = site.get(&h, path).await;
        assert_eq!(
            (a.status, a.header("location").map(str::to_owned)),
            (want_status, want_location),
            "{path}"
        );
        if (300..400).contains(&a.status) {
            assert!(a.body.is_empty(), "{path}: a redirect has no body");
        }
    }
    // Routing rules come before an object's own redirect.
    c.put_object()
        .bucket("rules")
        .key("docs/page.html")
        .website_redirect_location("/index.html")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let a = site.get(&h, "/docs/page.html").await;
    assert_eq!(
        a.header("location"),
        Some(format!("{web}/documents/page.html").as_str())
    );
}

#[tokio::test]
async fn every_gateway_answers_the_same_and_after_a_restart() {
    tokio::time::timeout(Duration::from_secs(180), every_gateway())
        .await
        .expect("test timed out");
}

/// Wait until `url` answers at all.
async fn answering(url: &str) {
    for _ in 0..300 {
        if reqwest::get(url).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} does not answer");
}

/// A node and two gateways, each with a website listener: a site configured through one is
/// served alike by both (an object's redirect and an encrypted page cross the internal RPC
/// with the version), and again by a gateway that was restarted.
async fn every_gateway() {
    use cluster_tests::{client_for, Process, ACCESS_KEY, SECRET_KEY};
    let dir = tempfile::tempdir().unwrap();
    let node_data = dir.path().join("node");
    let rpc = format!("127.0.0.1:{}", free_port());
    let nd = node_data.to_string_lossy().into_owned();
    let _node = Process::spawn(
        &[
            "node",
            "--data",
            &nd,
            "--rpc-address",
            &rpc,
            "--drives",
            "3",
        ],
        &[],
        &dir.path().join("node.log"),
    );
    let secret_file = node_data.join("cluster.secret");
    for _ in 0..300 {
        if secret_file.exists() && std::net::TcpStream::connect(&rpc).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sf = secret_file.to_string_lossy().into_owned();
    let env = [
        ("COFFER_ACCESS_KEY_ID", ACCESS_KEY),
        ("COFFER_SECRET_ACCESS_KEY", SECRET_KEY),
    ];
    let mut gateways = Vec::new();
    for i in 0..2 {
        let (s3, web) = (
            format!("127.0.0.1:{}", free_port()),
            format!("127.0.0.1:{}", free_port()),
        );
        let gd = dir
            .path()
            .join(format!("gw{i}"))
            .to_string_lossy()
            .into_owned();
        let p = Process::spawn(
            &[
                "gateway",
                "--cluster",
                &rpc,
                "--cluster-secret-file",
                &sf,
                "--data",
                &gd,
                "--address",
                &s3,
                "--website-address",
                &web,
                "--website-domain",
                DOMAIN,
            ],
            &env,
            &dir.path().join(format!("gw{i}.log")),
        );
        answering(&format!("http://{s3}/_coffer/health")).await;
        answering(&format!("http://{web}/_coffer/health")).await;
        gateways.push((p, format!("http://{s3}"), format!("http://{web}")));
    }
    let c = client_for(&gateways[0].1, ACCESS_KEY, SECRET_KEY);
    c.create_bucket().bucket("shared").send().await.unwrap();
    c.put_bucket_policy()
        .bucket("shared")
        .policy(public_read("shared"))
        .send()
        .await
        .unwrap();
    c.put_bucket_website()
        .bucket("shared")
        .website_configuration(index_and_error())
        .send()
        .await
        .unwrap();
    c.put_object()
        .bucket("shared")
        .key("index.html")
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
        .body(ByteStream::from_static(b"<h1>sealed home</h1>"))
        .send()
        .await
        .unwrap();
    c.put_object()
        .bucket("shared")
        .key("old.html")
        .website_redirect_location("/index.html")
        .body(ByteStream::from_static(b"old"))
        .send()
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let h = host("shared");
    let answers = |web: String| {
        let (http, h) = (http.clone(), h.clone());
        async move {
            let mut out = Vec::new();
            for path in ["/", "/old.html", "/missing"] {
                let r = http
                    .get(format!("{web}{path}"))
                    .header("host", &h)
                    .send()
                    .await
                    .unwrap();
                let location = r
                    .headers()
                    .get("location")
                    .map(|l| l.to_str().unwrap().to_owned());
                out.push((r.status().as_u16(), location, r.text().await.unwrap()));
            }
            out
        }
    };
    let want = vec![
        (200, None, "<h1>sealed home</h1>".to_owned()),
        (301, Some("/index.html".to_owned()), String::new()),
        (403, None, String::new()),
    ];
    let strip = |mut a: Vec<(u16, Option<String>, String)>| {
        // The default error page holds a request id: compare its status only.
        a[2].2.clear();
        a
    };
    for (_, _, web) in &gateways {
        assert_eq!(strip(answers(web.clone()).await), want, "{web}");
    }
    // The other gateway's REST endpoint sees the object's redirect too.
    let c2 = client_for(&gateways[1].1, ACCESS_KEY, SECRET_KEY);
    let o = c2
        .head_object()
        .bucket("shared")
        .key("old.html")
        .send()
        .await
        .unwrap();
    assert_eq!(o.website_redirect_location(), Some("/index.html"));
    let (p, _, web) = &mut gateways[1];
    p.restart();
    answering(&format!("{web}/_coffer/health")).await;
    assert_eq!(strip(answers(web.clone()).await), want, "after a restart");
}
