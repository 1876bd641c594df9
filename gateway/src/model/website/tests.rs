//! Tests of the website configuration's parsing, encoding and routing.
#![allow(clippy::unwrap_used)]

use super::*;

fn conf(inner: &str) -> String {
    format!(
        r#"<WebsiteConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</WebsiteConfiguration>"#
    )
}

const INDEX: &str = "<IndexDocument><Suffix>index.html</Suffix></IndexDocument>";

fn rules(r: &str) -> String {
    conf(&format!("{INDEX}<RoutingRules>{r}</RoutingRules>"))
}

fn refused(body: &str) -> (&'static str, String) {
    let e = parse(body.as_bytes()).unwrap_err();
    (
        e.code.as_str(),
        e.message.as_deref().unwrap_or_default().to_owned(),
    )
}

#[test]
fn configurations_parse_and_come_back_the_same() {
    let body = conf(&format!(
        "{INDEX}<ErrorDocument><Key>error.html</Key></ErrorDocument><RoutingRules>\
         <RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>\
         <Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></RoutingRule>\
         <RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals>\
         </Condition><Redirect><HostName>other.test</HostName><HttpRedirectCode>302</HttpRedirectCode>\
         <Protocol>https</Protocol><ReplaceKeyWith>gone.html</ReplaceKeyWith></Redirect></RoutingRule>\
         </RoutingRules>"
    ));
    let w = parse(body.as_bytes()).unwrap();
    assert_eq!(w.index.as_deref(), Some("index.html"));
    assert_eq!(w.error_document.as_deref(), Some("error.html"));
    assert_eq!(w.rules.len(), 2);
    assert_eq!(w.rules[1].redirect.code, Some(302));
    assert_eq!(decode(&encode(&w)), Some(w.clone()));
    let xml = to_xml(&w);
    assert_eq!(parse(xml.as_bytes()).unwrap(), w);
    assert!(xml.contains("<IndexDocument><Suffix>index.html</Suffix></IndexDocument>"));
    let all = parse(
        conf("<RedirectAllRequestsTo><HostName>example.test</HostName><Protocol>https</Protocol></RedirectAllRequestsTo>")
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(
        all.redirect_all,
        Some(RedirectAll {
            host: "example.test".into(),
            protocol: Some("https".into())
        })
    );
    assert_eq!(parse(to_xml(&all).as_bytes()).unwrap(), all);
}

#[test]
fn bad_configurations_get_s3s_errors() {
    assert_eq!(refused("<WebsiteConfiguration").0, "MalformedXML");
    assert_eq!(refused(&conf("")).0, "InvalidArgument");
    for suffix in ["", "a/index.html"] {
        let (code, msg) = refused(&conf(&format!(
            "<IndexDocument><Suffix>{suffix}</Suffix></IndexDocument>"
        )));
        assert_eq!(
            (code, msg.as_str()),
            (
                "InvalidArgument",
                "The IndexDocument Suffix is not well formed"
            )
        );
    }
    let (code, msg) = refused(&conf(&format!(
        "{INDEX}<RedirectAllRequestsTo><HostName>h</HostName></RedirectAllRequestsTo>"
    )));
    assert_eq!(code, "InvalidArgument");
    assert!(
        msg.starts_with("RedirectAllRequestsTo cannot be provided"),
        "{msg}"
    );
    assert_eq!(
        refused(&conf(
            "<RedirectAllRequestsTo><Protocol>http</Protocol></RedirectAllRequestsTo>"
        ))
        .0,
        "MalformedXML"
    );
    let both = "<RoutingRule><Redirect><ReplaceKeyPrefixWith>a</ReplaceKeyPrefixWith>\
                <ReplaceKeyWith>b</ReplaceKeyWith></Redirect></RoutingRule>";
    assert_eq!(
        refused(&rules(both)),
        (
            "InvalidRequest",
            "You can only define ReplaceKeyPrefix or ReplaceKey but not both.".into()
        )
    );
    for code in ["300", "200", "400", "3xx", ""] {
        let r = format!("<RoutingRule><Redirect><HttpRedirectCode>{code}</HttpRedirectCode></Redirect></RoutingRule>");
        let (c, msg) = refused(&rules(&r));
        assert_eq!(c, "InvalidRequest");
        assert_eq!(msg, format!("The provided HTTP redirect code ({code}) is not valid. Valid codes are 3XX except 300."));
    }
    for proto in ["http2", "ftp", "HTTP"] {
        let r =
            format!("<RoutingRule><Redirect><Protocol>{proto}</Protocol></Redirect></RoutingRule>");
        let (c, msg) = refused(&rules(&r));
        assert_eq!(c, "InvalidRequest");
        assert!(
            msg.starts_with("Invalid protocol, protocol can be http or https."),
            "{msg}"
        );
    }
    let r = "<RoutingRule><Condition><HttpErrorCodeReturnedEquals>200</HttpErrorCodeReturnedEquals></Condition><Redirect><HostName>h</HostName></Redirect></RoutingRule>";
    assert_eq!(refused(&rules(r)).0, "InvalidRequest");
    let r = "<RoutingRule><Condition></Condition><Redirect><HostName>h</HostName></Redirect></RoutingRule>";
    assert_eq!(refused(&rules(r)).0, "InvalidRequest");
    let r = "<RoutingRule><Redirect></Redirect></RoutingRule>";
    assert_eq!(refused(&rules(r)).0, "InvalidRequest");
    let r =
        "<RoutingRule><Condition><KeyPrefixEquals>a</KeyPrefixEquals></Condition></RoutingRule>";
    assert_eq!(refused(&rules(r)).0, "MalformedXML");
    let one = "<RoutingRule><Redirect><HostName>h</HostName></Redirect></RoutingRule>";
    assert!(parse(rules(&one.repeat(MAX_RULES)).as_bytes()).is_ok());
    assert_eq!(
        refused(&rules(&one.repeat(MAX_RULES + 1))).0,
        "InvalidRequest"
    );
}

fn asked(key: &str) -> Asked<'_> {
    Asked {
        key,
        raw_path: "",
        host: "site.s3-website.test",
        scheme: "http",
    }
}

/// A routing case: rules, key, the error status the key met (None: before it is read),
/// where it goes.
type Case = (String, &'static str, Option<u16>, Option<(u16, String)>);

/// The routing cases of the S3 user guide's examples: (rules, key, error status the key
/// met or None, where it goes).
#[test]
fn routing_rules_route_as_s3_does() {
    let docs = "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>\
                <Redirect><ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></RoutingRule>";
    let images = "<RoutingRule><Condition><KeyPrefixEquals>images/</KeyPrefixEquals></Condition>\
                  <Redirect><ReplaceKeyWith>folderdeleted.html</ReplaceKeyWith></Redirect></RoutingRule>";
    let on_404 = "<RoutingRule><Condition><HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>\
                  <Redirect><HostName>ec2-11-22-333-44.compute-1.amazonaws.com</HostName>\
                  <ReplaceKeyPrefixWith>report-404/</ReplaceKeyPrefixWith></Redirect></RoutingRule>";
    let both = "<RoutingRule><Condition><KeyPrefixEquals>images/</KeyPrefixEquals>\
                <HttpErrorCodeReturnedEquals>404</HttpErrorCodeReturnedEquals></Condition>\
                <Redirect><HostName>ec2-11-22-333-44.compute-1.amazonaws.com</HostName>\
                <ReplaceKeyPrefixWith>report-404/</ReplaceKeyPrefixWith></Redirect></RoutingRule>";
    let https_other = "<RoutingRule><Condition><KeyPrefixEquals>docs/</KeyPrefixEquals></Condition>\
                       <Redirect><Protocol>https</Protocol><HostName>xyzzy</HostName>\
                       <ReplaceKeyPrefixWith>documents/</ReplaceKeyPrefixWith></Redirect></RoutingRule>";
    let code = |c: u16| {
        format!(
            "<RoutingRule><Condition><KeyPrefixEquals>images/</KeyPrefixEquals></Condition>\
             <Redirect><HttpRedirectCode>{c}</HttpRedirectCode>\
             <ReplaceKeyWith>folderdeleted.html</ReplaceKeyWith></Redirect></RoutingRule>"
        )
    };
    let site = "http://site.s3-website.test";
    let other = "http://ec2-11-22-333-44.compute-1.amazonaws.com";
    let cases: Vec<Case> = vec![
        (docs.into(), "", None, None),
        (docs.into(), "x", None, None),
        (
            docs.into(),
            "docs/",
            None,
            Some((301, format!("{site}/documents/"))),
        ),
        (
            docs.into(),
            "docs/x",
            None,
            Some((301, format!("{site}/documents/x"))),
        ),
        (docs.into(), "documents/x", None, None),
        (
            https_other.into(),
            "docs/x",
            None,
            Some((301, "https://xyzzy/documents/x".into())),
        ),
        (
            images.into(),
            "images/",
            None,
            Some((301, format!("{site}/folderdeleted.html"))),
        ),
        (
            images.into(),
            "images/x",
            None,
            Some((301, format!("{site}/folderdeleted.html"))),
        ),
        (on_404.into(), "x", None, None),
        (
            on_404.into(),
            "x",
            Some(404),
            Some((301, format!("{other}/report-404/x"))),
        ),
        (
            on_404.into(),
            "images/x",
            Some(404),
            Some((301, format!("{other}/report-404/images/x"))),
        ),
        (on_404.into(), "x", Some(403), None),
        (both.into(), "x", Some(404), None),
        (both.into(), "images/x", None, None),
        (
            both.into(),
            "images/x",
            Some(404),
            Some((301, format!("{other}/report-404/x"))),
        ),
        (
            format!("{docs}{images}"),
            "images/a b",
            None,
            Some((301, format!("{site}/folderdeleted.html"))),
        ),
        (
            format!("{images}{}", code(302)),
            "images/a",
            None,
            Some((301, format!("{site}/folderdeleted.html"))),
        ),
    ];
    let mut all = cases;
    for c in [301, 302, 303, 304, 305, 307, 308] {
        all.push((
            code(c),
            "images/x",
            None,
            Some((c, format!("{site}/folderdeleted.html"))),
        ));
    }
    for (r, key, error, want) in all {
        let w = parse(rules(&r).as_bytes()).unwrap();
        let a = asked(key);
        let got = match error {
            None => w.route(&a),
            Some(s) => w.after_error(&a, s),
        };
        let got = got.map(|g| (g.status, g.location));
        assert_eq!(got, want, "{key} {error:?} with {r}");
    }
    // Keys are percent-encoded in the Location, slashes kept.
    let w = parse(rules(docs).as_bytes()).unwrap();
    assert_eq!(
        w.route(&asked("docs/a b+c")).unwrap().location,
        format!("{site}/documents/a%20b%2Bc")
    );
}

#[test]
fn redirect_all_keeps_the_path() {
    let w = parse(
        conf("<RedirectAllRequestsTo><HostName>example.test</HostName></RedirectAllRequestsTo>")
            .as_bytes(),
    )
    .unwrap();
    let a = Asked {
        key: "a b",
        raw_path: "/a%20b",
        host: "h",
        scheme: "https",
    };
    assert_eq!(
        w.route(&a),
        Some(Redirection {
            status: 301,
            location: "https://example.test/a%20b".into()
        })
    );
}
