//! CORS rules: the `<CORSConfiguration>` document (parsed, validated, written back), the stored
//! form (JSON in the bucket's `Cors` document), matching a request against the rules
//! (AllowedOrigin with one wildcard, AllowedMethod, AllowedHeader) and the headers a match
//! answers with. Used by the CORS handlers and by dispatch for actual requests.

use actix_web::http::header::{HeaderName, HeaderValue};
use coffer_proto::policy::wildcard;
use serde::{Deserialize, Serialize};

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::{self, XmlWriter};

/// Rules a configuration may hold (as S3).
const MAX_RULES: usize = 100;
/// The methods a rule may allow.
const METHODS: [&str; 5] = ["GET", "PUT", "HEAD", "POST", "DELETE"];

/// One rule, as stored (JSON) in the bucket's `Cors` document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorsRule {
    /// ID.
    pub id: Option<String>,
    /// AllowedOrigin patterns.
    pub origins: Vec<String>,
    /// AllowedMethod.
    pub methods: Vec<String>,
    /// AllowedHeader patterns.
    pub headers: Vec<String>,
    /// ExposeHeader.
    pub expose: Vec<String>,
    /// MaxAgeSeconds.
    pub max_age: Option<u32>,
}

#[derive(Debug, Deserialize)]
struct CorsConfiguration {
    #[serde(rename = "CORSRule", default)]
    rules: Vec<RuleXml>,
}

#[derive(Debug, Deserialize)]
struct RuleXml {
    #[serde(rename = "ID", default)]
    id: Option<String>,
    #[serde(rename = "AllowedOrigin", default)]
    origins: Vec<String>,
    #[serde(rename = "AllowedMethod", default)]
    methods: Vec<String>,
    #[serde(rename = "AllowedHeader", default)]
    headers: Vec<String>,
    #[serde(rename = "ExposeHeader", default)]
    expose: Vec<String>,
    #[serde(rename = "MaxAgeSeconds", default)]
    max_age: Option<u32>,
}

fn invalid(msg: String) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidRequest, msg)
}

/// Parse and validate a `<CORSConfiguration>` body.
pub fn parse(body: &[u8]) -> S3Result<Vec<CorsRule>> {
    let conf: CorsConfiguration = xml::from_body(body)?;
    if conf.rules.is_empty() || conf.rules.len() > MAX_RULES {
        return Err(S3Error::new(S3ErrorCode::MalformedXML));
    }
    let mut rules = Vec::with_capacity(conf.rules.len());
    for r in conf.rules {
        if r.origins.is_empty() || r.methods.is_empty() {
            return Err(S3Error::new(S3ErrorCode::MalformedXML));
        }
        if let Some(m) = r.methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
            return Err(invalid(format!(
                "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
            )));
        }
        if let Some(o) = r.origins.iter().find(|o| o.matches('*').count() > 1) {
            return Err(invalid(format!(
                "AllowedOrigin \"{o}\" can not have more than one wildcard."
            )));
        }
        if let Some(h) = r.headers.iter().find(|h| h.matches('*').count() > 1) {
            return Err(invalid(format!(
                "AllowedHeader \"{h}\" can not have more than one wildcard."
            )));
        }
        rules.push(CorsRule {
            id: r.id,
            origins: r.origins,
            methods: r.methods,
            headers: r.headers,
            expose: r.expose,
            max_age: r.max_age,
        });
    }
    Ok(rules)
}

/// The stored rules of a document (none if it does not decode: it did when stored).
pub fn decode(doc: &str) -> Vec<CorsRule> {
    serde_json::from_str(doc).unwrap_or_default()
}

/// The first rule that allows `origin` to use `method` with request headers `headers`.
pub fn matching<'r>(
    rules: &'r [CorsRule],
    origin: &str,
    method: &str,
    headers: &[&str],
) -> Option<&'r CorsRule> {
    rules.iter().find(|r| {
        r.origins.iter().any(|o| wildcard::matches(o, origin))
            && r.methods.iter().any(|m| m == method)
            && headers.iter().all(|h| {
                r.headers
                    .iter()
                    .any(|a| wildcard::matches_ignore_case(a, h.trim()))
            })
    })
}

fn header(name: &'static str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    Some((
        HeaderName::from_static(name),
        HeaderValue::from_str(value).ok()?,
    ))
}

/// The CORS headers answering `origin` under `rule`; `requested` are a preflight's requested
/// headers (None for an actual request).
pub fn headers(
    rule: &CorsRule,
    origin: &str,
    requested: Option<&str>,
) -> Vec<(HeaderName, HeaderValue)> {
    let any = rule.origins.iter().any(|o| o == "*");
    let mut out = vec![
        header(
            "access-control-allow-origin",
            if any { "*" } else { origin },
        ),
        header("access-control-allow-methods", &rule.methods.join(", ")),
        header(
            "vary",
            "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
        ),
    ];
    if !any {
        out.push(header("access-control-allow-credentials", "true"));
    }
    if let Some(h) = requested.filter(|h| !h.is_empty()) {
        out.push(header("access-control-allow-headers", h));
    }
    if !rule.expose.is_empty() {
        out.push(header(
            "access-control-expose-headers",
            &rule.expose.join(", "),
        ));
    }
    if let Some(age) = rule.max_age {
        out.push(header("access-control-max-age", &age.to_string()));
    }
    out.into_iter().flatten().collect()
}

/// The `<CORSConfiguration>` document of `rules`.
pub fn to_xml(rules: &[CorsRule]) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("CORSConfiguration");
    for r in rules {
        x.open("CORSRule");
        x.opt("ID", r.id.as_deref());
        for (tag, list) in [
            ("AllowedHeader", &r.headers),
            ("AllowedMethod", &r.methods),
            ("AllowedOrigin", &r.origins),
            ("ExposeHeader", &r.expose),
        ] {
            for v in list {
                x.elem(tag, v);
            }
        }
        if let Some(age) = r.max_age {
            x.elem("MaxAgeSeconds", &age.to_string());
        }
        x.close("CORSRule");
    }
    x.close("CORSConfiguration");
    x.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const CONF: &str = r#"<CORSConfiguration>
      <CORSRule><AllowedOrigin>https://*.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>
        <AllowedMethod>POST</AllowedMethod><AllowedHeader>x-amz-*</AllowedHeader><AllowedHeader>content-type</AllowedHeader>
        <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>
      <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
    </CORSConfiguration>"#;

    #[test]
    fn rules_match_origin_method_and_headers() {
        let rules = parse(CONF.as_bytes()).unwrap();
        assert_eq!(parse(to_xml(&rules).as_bytes()).unwrap(), rules);
        let put = matching(
            &rules,
            "https://app.example.com",
            "PUT",
            &["X-Amz-Date", "Content-Type"],
        );
        assert_eq!(put.unwrap().max_age, Some(600));
        assert!(matching(&rules, "https://app.example.com", "PUT", &["authorization"]).is_none());
        assert!(matching(&rules, "http://app.example.com", "PUT", &[]).is_none());
        assert!(matching(&rules, "https://app.example.com", "DELETE", &[]).is_none());
        let get = matching(&rules, "http://anything", "GET", &[]).unwrap();
        let h = headers(get, "http://anything", None);
        assert!(h
            .iter()
            .any(|(k, v)| k == "access-control-allow-origin" && v == "*"));
        let h = headers(put.unwrap(), "https://app.example.com", Some("x-amz-date"));
        let find = |name: &str| {
            h.iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.to_str().unwrap().to_owned())
        };
        assert_eq!(
            find("access-control-allow-origin").as_deref(),
            Some("https://app.example.com")
        );
        assert_eq!(
            find("access-control-allow-methods").as_deref(),
            Some("PUT, POST")
        );
        assert_eq!(
            find("access-control-allow-headers").as_deref(),
            Some("x-amz-date")
        );
        assert_eq!(
            find("access-control-expose-headers").as_deref(),
            Some("ETag")
        );
        assert_eq!(find("access-control-max-age").as_deref(), Some("600"));
    }

    #[test]
    fn bad_configurations_are_refused() {
        let code = |b: &str| parse(b.as_bytes()).unwrap_err().code;
        assert_eq!(code("<CORSConfiguration/>"), S3ErrorCode::MalformedXML);
        assert_eq!(code("<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"), S3ErrorCode::MalformedXML);
        assert_eq!(code("<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule></CORSConfiguration>"), S3ErrorCode::InvalidRequest);
        assert_eq!(code("<CORSConfiguration><CORSRule><AllowedOrigin>*.*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"), S3ErrorCode::InvalidRequest);
        assert_eq!(
            code("<CORSConfiguration><CORSRule>"),
            S3ErrorCode::MalformedXML
        );
    }
}
