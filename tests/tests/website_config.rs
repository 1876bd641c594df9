//! Static website hosting's REST side: Put/Get/DeleteBucketWebsite (S3's validation errors,
//! nothing stored on a refusal) and `x-amz-website-redirect-location` on PUT, copy and
//! multipart uploads. The website endpoint itself is `website.rs`.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests: a failed unwrap is a failed test

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    Condition, ErrorDocument, IndexDocument, Protocol, Redirect, RoutingRule, WebsiteConfiguration,
};
use cluster_tests::{code, status, Server};

#[tokio::test]
async fn website_configuration_api() {
    tokio::time::timeout(Duration::from_secs(120), configuration_api())
        .await
        .expect("test timed out");
}

async fn configuration_api() {
    let server = Server::start().await;
    let c = server.client();
    c.create_bucket().bucket("conf").send().await.unwrap();
    let e = c
        .get_bucket_website()
        .bucket("conf")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (404, "NoSuchWebsiteConfiguration")
    );
    let rules = WebsiteConfiguration::builder()
        .index_document(
            IndexDocument::builder()
                .suffix("index.html")
                .build()
                .unwrap(),
        )
        .error_document(ErrorDocument::builder().key("404.html").build().unwrap())
        .routing_rules(
            RoutingRule::builder()
                .condition(Condition::builder().key_prefix_equals("docs/").build())
                .redirect(
                    Redirect::builder()
                        .replace_key_prefix_with("documents/")
                        .http_redirect_code("302")
                        .protocol(Protocol::Https)
                        .host_name("other.test")
                        .build(),
                )
                .build(),
        )
        .build();
    c.put_bucket_website()
        .bucket("conf")
        .website_configuration(rules)
        .send()
        .await
        .unwrap();
    let got = c.get_bucket_website().bucket("conf").send().await.unwrap();
    assert_eq!(got.index_document().unwrap().suffix(), "index.html");
    assert_eq!(got.error_document().unwrap().key(), "404.html");
    let r = &got.routing_rules()[0];
    assert_eq!(r.condition().unwrap().key_prefix_equals(), Some("docs/"));
    let d = r.redirect().unwrap();
    assert_eq!(
        (
            d.replace_key_prefix_with(),
            d.http_redirect_code(),
            d.protocol(),
            d.host_name()
        ),
        (
            Some("documents/"),
            Some("302"),
            Some(&Protocol::Https),
            Some("other.test")
        )
    );
    c.delete_bucket_website()
        .bucket("conf")
        .send()
        .await
        .unwrap();
    let e = c
        .get_bucket_website()
        .bucket("conf")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "NoSuchWebsiteConfiguration");
    // Deleting what is not there is fine, as on S3.
    c.delete_bucket_website()
        .bucket("conf")
        .send()
        .await
        .unwrap();

    // Bad documents: S3's codes, and nothing stored.
    let ep = &server.endpoint;
    let conf = |inner: &str| {
        format!(
            r#"<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</WebsiteConfiguration>"#
        )
    };
    let index = "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>";
    let rule = |r: &str| {
        conf(&format!(
            "{index}<RoutingRules><RoutingRule>{r}</RoutingRule></RoutingRules>"
        ))
    };
    let cases = [
        ("<WebsiteConfiguration><IndexDocument>".to_owned(), 400, "MalformedXML"),
        (conf(""), 400, "InvalidArgument"),
        (conf("<IndexDocument><Suffix></Suffix></IndexDocument>"), 400, "InvalidArgument"),
        (conf("<IndexDocument><Suffix>a/b.html</Suffix></IndexDocument>"), 400, "InvalidArgument"),
        (
            conf(&format!("{index}<RedirectAllRequestsTo><HostName>h.test</HostName></RedirectAllRequestsTo>")),
            400,
            "InvalidArgument",
        ),
        (
            rule("<Redirect><ReplaceKeyPrefixWith>a</ReplaceKeyPrefixWith><ReplaceKeyWith>b</ReplaceKeyWith></Redirect>"),
            400,
            "InvalidRequest",
        ),
        (rule("<Redirect><HttpRedirectCode>300</HttpRedirectCode></Redirect>"), 400, "InvalidRequest"),
        (rule("<Redirect><Protocol>ftp</Protocol></Redirect>"), 400, "InvalidRequest"),
        (
            rule("<Condition><HttpErrorCodeReturnedEquals>200</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>h</HostName></Redirect>"),
            400,
            "InvalidRequest",
        ),
        (
            conf(&format!(
                "{index}<RoutingRules>{}</RoutingRules>",
                "<RoutingRule><Redirect><HostName>h</HostName></Redirect></RoutingRule>".repeat(51)
            )),
            400,
            "InvalidRequest",
        ),
        (
            conf(&format!("{index}<ErrorDocument><Key>{}</Key></ErrorDocument>", "e".repeat(200_000))),
            400,
            "MalformedXML",
        ),
    ];
    for (body, want_status, want_code) in cases {
        let r = cluster_tests::signed(reqwest::Method::PUT, ep, "/conf?website", &[])
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let got_status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(got_status, want_status, "{body:.200}: {text}");
        assert!(
            text.contains(&format!("<Code>{want_code}</Code>")),
            "{body:.200}: {text}"
        );
        let e = c
            .get_bucket_website()
            .bucket("conf")
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "NoSuchWebsiteConfiguration", "nothing stored");
    }

    // x-amz-website-redirect-location: checked, stored, returned by GET and HEAD, dropped by a
    // copy that does not set it again.
    let e = c
        .put_object()
        .bucket("conf")
        .key("bad")
        .website_redirect_location("elsewhere.html")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        (status(&e), code(&e).as_str()),
        (400, "InvalidRedirectLocation")
    );
    let e = c
        .put_object()
        .bucket("conf")
        .key("bad")
        .website_redirect_location(format!("/{}", "a".repeat(2048)))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "InvalidRedirectLocation");
    let e = c
        .head_object()
        .bucket("conf")
        .key("bad")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(&e), 404, "nothing stored");
    c.put_object()
        .bucket("conf")
        .key("moved")
        .website_redirect_location("/new.html")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await
        .unwrap();
    let h = c
        .head_object()
        .bucket("conf")
        .key("moved")
        .send()
        .await
        .unwrap();
    assert_eq!(h.website_redirect_location(), Some("/new.html"));
    let g = c
        .get_object()
        .bucket("conf")
        .key("moved")
        .send()
        .await
        .unwrap();
    assert_eq!(g.website_redirect_location(), Some("/new.html"));
    c.copy_object()
        .bucket("conf")
        .key("copied")
        .copy_source("conf/moved")
        .send()
        .await
        .unwrap();
    let h = c
        .head_object()
        .bucket("conf")
        .key("copied")
        .send()
        .await
        .unwrap();
    assert_eq!(
        h.website_redirect_location(),
        None,
        "a copy does not take it"
    );
    c.copy_object()
        .bucket("conf")
        .key("copied")
        .copy_source("conf/copied")
        .website_redirect_location("https://example.test/")
        .send()
        .await
        .unwrap();
    let h = c
        .head_object()
        .bucket("conf")
        .key("copied")
        .send()
        .await
        .unwrap();
    assert_eq!(h.website_redirect_location(), Some("https://example.test/"));
    // Multipart: set when the upload is created, the completed object has it.
    let up = c
        .create_multipart_upload()
        .bucket("conf")
        .key("multi")
        .website_redirect_location("/multi.html")
        .send()
        .await
        .unwrap();
    let id = up.upload_id().unwrap();
    let p = c
        .upload_part()
        .bucket("conf")
        .key("multi")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"part"))
        .send()
        .await
        .unwrap();
    c.complete_multipart_upload()
        .bucket("conf")
        .key("multi")
        .upload_id(id)
        .multipart_upload(cluster_tests::completed(&[(
            1,
            p.e_tag().unwrap().to_owned(),
        )]))
        .send()
        .await
        .unwrap();
    let h = c
        .head_object()
        .bucket("conf")
        .key("multi")
        .send()
        .await
        .unwrap();
    assert_eq!(h.website_redirect_location(), Some("/multi.html"));
}
