//! The website endpoint's answers that are not objects: HTML error pages (with
//! `x-amz-error-code` and `x-amz-error-message`, as S3's website endpoints send them) and
//! redirects (an empty body and a `Location`).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use crate::model::website::Redirection;
use crate::s3::error::{S3Error, S3ErrorCode};

/// `text` with the characters HTML gives a meaning escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A header value's text: a message or code with nothing a header cannot carry.
fn header_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() && !c.is_ascii_control() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

/// The headers that name error `e` (also on an error document served in its place).
pub fn error_headers(b: &mut actix_web::HttpResponseBuilder, e: &S3Error) {
    b.insert_header(("x-amz-error-code", e.code.as_str()));
    b.insert_header((
        "x-amz-error-message",
        header_text(e.message.as_deref().unwrap_or(e.code.message())),
    ));
}

/// The default page of error `e` (HEAD: headers only). 304 Not Modified has no page.
pub fn error(e: &S3Error, request_id: &str, head: bool) -> HttpResponse {
    let status = e.code.status();
    let mut b = HttpResponse::build(status);
    for (k, v) in &e.headers {
        b.insert_header((*k, v.as_str()));
    }
    if e.code == S3ErrorCode::NotModified {
        return b.finish();
    }
    error_headers(&mut b, e);
    b.content_type("text/html; charset=utf-8");
    if head {
        return b.finish();
    }
    let title = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("Error")
    );
    let mut items = vec![
        ("Code", e.code.as_str().to_owned()),
        (
            "Message",
            e.message.as_deref().unwrap_or(e.code.message()).to_owned(),
        ),
    ];
    for (k, v) in &e.extra {
        items.push((k, v.clone()));
    }
    items.push(("RequestId", request_id.to_owned()));
    items.push(("HostId", request_id.to_owned()));
    let mut html =
        format!("<html>\n<head><title>{title}</title></head>\n<body>\n<h1>{title}</h1>\n<ul>\n");
    for (k, v) in items {
        html.push_str(&format!("<li>{k}: {}</li>\n", escape(&v)));
    }
    html.push_str("</ul>\n<hr/>\n</body>\n</html>\n");
    b.body(html)
}

/// A redirect: its status, `Location`, and no body.
pub fn redirect(r: &Redirection) -> HttpResponse {
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::MOVED_PERMANENTLY);
    HttpResponse::build(status)
        .insert_header(("location", r.location.as_str()))
        .finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::body::MessageBody;

    fn body(r: HttpResponse) -> String {
        let b = r.into_body().try_into_bytes().unwrap();
        String::from_utf8(b.to_vec()).unwrap()
    }

    #[test]
    fn error_pages_are_html_with_the_code_in_headers() {
        let e = S3Error::new(S3ErrorCode::NoSuchKey).with("Key", "<a&b>");
        let r = error(&e, "ABC", false);
        assert_eq!(r.status(), 404);
        assert_eq!(r.headers().get("x-amz-error-code").unwrap(), "NoSuchKey");
        assert_eq!(
            r.headers().get("x-amz-error-message").unwrap(),
            "The specified key does not exist."
        );
        assert_eq!(
            r.headers().get("content-type").unwrap(),
            "text/html; charset=utf-8"
        );
        let html = body(r);
        assert!(html.contains("<title>404 Not Found</title>"), "{html}");
        assert!(html.contains("<li>Code: NoSuchKey</li>"), "{html}");
        assert!(html.contains("<li>Key: &lt;a&amp;b&gt;</li>"), "{html}");
        assert!(html.contains("<li>RequestId: ABC</li>"), "{html}");
        let head = error(&e, "ABC", true);
        assert_eq!(head.headers().get("x-amz-error-code").unwrap(), "NoSuchKey");
        assert!(body(head).is_empty());
        let not_modified = error(&S3Error::new(S3ErrorCode::NotModified), "A", false);
        assert_eq!(not_modified.status(), 304);
        assert!(body(not_modified).is_empty());
    }

    #[test]
    fn redirects_have_a_location_and_no_body() {
        let r = redirect(&Redirection {
            status: 307,
            location: "https://example.test/x".into(),
        });
        assert_eq!(r.status(), 307);
        assert_eq!(
            r.headers().get("location").unwrap(),
            "https://example.test/x"
        );
        assert!(body(r).is_empty());
    }
}
