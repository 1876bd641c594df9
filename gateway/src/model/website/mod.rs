//! Static website hosting: the `<WebsiteConfiguration>` document (parsed, validated with S3's
//! errors, written back) and its stored form (JSON in the bucket's `Website` document), and
//! the routing decisions the website endpoint makes from it ([`Website::route`],
//! [`Website::after_error`]).

use serde::{Deserialize, Serialize};

use crate::s3::error::{S3Error, S3ErrorCode, S3Result};
use crate::s3::xml::{self, XmlWriter};

/// Most routing rules a configuration may have, as on S3.
pub const MAX_RULES: usize = 50;

/// A bucket's website configuration, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Website {
    /// Every request answers a redirect to this host (and nothing else may be configured).
    #[serde(default)]
    pub redirect_all: Option<RedirectAll>,
    /// The index document's suffix (`index.html`): what `/` and `dir/` serve.
    #[serde(default)]
    pub index: Option<String>,
    /// The key of the page that 4XX errors serve.
    #[serde(default)]
    pub error_document: Option<String>,
    /// Routing rules, first match wins.
    #[serde(default)]
    pub rules: Vec<RoutingRule>,
}

/// `RedirectAllRequestsTo`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedirectAll {
    /// Host name.
    pub host: String,
    /// `http` or `https` (None: the request's own).
    #[serde(default)]
    pub protocol: Option<String>,
}

/// One routing rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingRule {
    /// When it applies (None: always).
    #[serde(default)]
    pub condition: Option<Condition>,
    /// Where it sends the request.
    pub redirect: Redirect,
}

/// A rule's `Condition`: every part given must hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// The key starts with this.
    #[serde(default)]
    pub key_prefix: Option<String>,
    /// Serving the key failed with this status (4XX or 5XX).
    #[serde(default)]
    pub error_code: Option<u16>,
}

/// A rule's `Redirect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Redirect {
    /// Host name (None: the request's own).
    #[serde(default)]
    pub host: Option<String>,
    /// Status (None: 301).
    #[serde(default)]
    pub code: Option<u16>,
    /// `http` or `https` (None: the request's own).
    #[serde(default)]
    pub protocol: Option<String>,
    /// Replaces the matched `KeyPrefixEquals` (the whole key's start, `""` without one).
    #[serde(default)]
    pub replace_prefix: Option<String>,
    /// Replaces the whole key.
    #[serde(default)]
    pub replace_key: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WebsiteXml {
    #[serde(rename = "RedirectAllRequestsTo")]
    redirect_all: Option<RedirectAllXml>,
    #[serde(rename = "IndexDocument")]
    index: Option<IndexXml>,
    #[serde(rename = "ErrorDocument")]
    error: Option<ErrorXml>,
    #[serde(rename = "RoutingRules")]
    rules: Option<RulesXml>,
}

#[derive(Debug, Deserialize)]
struct RedirectAllXml {
    #[serde(rename = "HostName")]
    host: String,
    #[serde(rename = "Protocol")]
    protocol: Option<String>,
}

#[derive(Debug, Deserialize)]
struct IndexXml {
    #[serde(rename = "Suffix")]
    suffix: String,
}

#[derive(Debug, Deserialize)]
struct ErrorXml {
    #[serde(rename = "Key")]
    key: String,
}

#[derive(Debug, Deserialize)]
struct RulesXml {
    #[serde(rename = "RoutingRule", default)]
    rules: Vec<RuleXml>,
}

#[derive(Debug, Deserialize)]
struct RuleXml {
    #[serde(rename = "Condition")]
    condition: Option<ConditionXml>,
    #[serde(rename = "Redirect")]
    redirect: RedirectXml,
}

#[derive(Debug, Deserialize)]
struct ConditionXml {
    #[serde(rename = "KeyPrefixEquals")]
    key_prefix: Option<String>,
    #[serde(rename = "HttpErrorCodeReturnedEquals")]
    error_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RedirectXml {
    #[serde(rename = "HostName")]
    host: Option<String>,
    #[serde(rename = "HttpRedirectCode")]
    code: Option<String>,
    #[serde(rename = "Protocol")]
    protocol: Option<String>,
    #[serde(rename = "ReplaceKeyPrefixWith")]
    replace_prefix: Option<String>,
    #[serde(rename = "ReplaceKeyWith")]
    replace_key: Option<String>,
}

fn invalid_argument(msg: &str, name: &str, value: &str) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidArgument, msg.to_owned())
        .with("ArgumentName", name)
        .with("ArgumentValue", value)
}

fn invalid_request(msg: String) -> S3Error {
    S3Error::msg(S3ErrorCode::InvalidRequest, msg)
}

/// `http` or `https`, or S3's error.
fn protocol(p: Option<String>) -> S3Result<Option<String>> {
    match p.as_deref().map(str::trim) {
        None => Ok(None),
        Some(v @ ("http" | "https")) => Ok(Some(v.to_owned())),
        Some(_) => Err(invalid_request(
            "Invalid protocol, protocol can be http or https. If not defined the protocol will \
             be selected automatically."
                .into(),
        )),
    }
}

/// A host name: not empty, and nothing a `Location` header could not carry.
fn host(h: String, element: &str) -> S3Result<String> {
    let h = h.trim().to_owned();
    if h.is_empty()
        || h.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(invalid_argument(
            &format!("The {element} is not well formed"),
            element,
            &h,
        ));
    }
    Ok(h)
}

fn rule(r: RuleXml) -> S3Result<RoutingRule> {
    let condition = match r.condition {
        None => None,
        Some(c) => {
            if c.key_prefix.is_none() && c.error_code.is_none() {
                return Err(invalid_request(
                    "Condition cannot be empty. To redirect all requests without a condition, \
                     the condition element shouldn't be present."
                        .into(),
                ));
            }
            let error_code = match c.error_code.as_deref().map(str::trim) {
                None => None,
                Some(v) => Some(
                    v.parse::<u16>()
                        .ok()
                        .filter(|n| (400..600).contains(n))
                        .ok_or_else(|| {
                            invalid_request(format!(
                                "The provided HTTP error code ({v}) is not valid. Valid codes \
                                 are 4XX or 5XX."
                            ))
                        })?,
                ),
            };
            Some(Condition {
                key_prefix: c.key_prefix,
                error_code,
            })
        }
    };
    let x = r.redirect;
    if x.replace_prefix.is_some() && x.replace_key.is_some() {
        return Err(invalid_request(
            "You can only define ReplaceKeyPrefix or ReplaceKey but not both.".into(),
        ));
    }
    let code = match x.code.as_deref().map(str::trim) {
        None => None,
        Some(v) => Some(
            v.parse::<u16>()
                .ok()
                .filter(|n| (301..400).contains(n))
                .ok_or_else(|| {
                    invalid_request(format!(
                        "The provided HTTP redirect code ({v}) is not valid. Valid codes are \
                         3XX except 300."
                    ))
                })?,
        ),
    };
    let redirect = Redirect {
        host: x.host.map(|h| host(h, "HostName")).transpose()?,
        code,
        protocol: protocol(x.protocol)?,
        replace_prefix: x.replace_prefix,
        replace_key: x.replace_key,
    };
    if redirect == Redirect::default() {
        return Err(invalid_request(
            "A Redirect must name at least one of HostName, HttpRedirectCode, Protocol, \
             ReplaceKeyPrefixWith or ReplaceKeyWith."
                .into(),
        ));
    }
    Ok(RoutingRule {
        condition,
        redirect,
    })
}

/// Parse and validate a `<WebsiteConfiguration>` body as PutBucketWebsite does.
pub fn parse(body: &[u8]) -> S3Result<Website> {
    let conf: WebsiteXml = xml::from_body(body)?;
    let rules = conf.rules.map(|r| r.rules).unwrap_or_default();
    if let Some(all) = conf.redirect_all {
        if conf.index.is_some() || conf.error.is_some() || !rules.is_empty() {
            return Err(invalid_argument(
                "RedirectAllRequestsTo cannot be provided in conjunction with other Routing \
                 Rules.",
                "RedirectAllRequestsTo",
                "not null",
            ));
        }
        return Ok(Website {
            redirect_all: Some(RedirectAll {
                host: host(all.host, "HostName")?,
                protocol: protocol(all.protocol)?,
            }),
            ..Website::default()
        });
    }
    let Some(index) = conf.index else {
        return Err(invalid_argument(
            "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty",
            "IndexDocument",
            "null",
        ));
    };
    let suffix = index.suffix;
    if suffix.is_empty() || suffix.contains('/') || suffix.len() > 1024 {
        return Err(invalid_argument(
            "The IndexDocument Suffix is not well formed",
            "IndexDocument",
            &suffix,
        ));
    }
    let error_document = match conf.error {
        None => None,
        Some(e) if e.key.is_empty() || e.key.len() > 1024 => {
            return Err(invalid_argument(
                "The ErrorDocument Key is not well formed",
                "ErrorDocument",
                &e.key,
            ))
        }
        Some(e) => Some(e.key),
    };
    if rules.len() > MAX_RULES {
        return Err(invalid_request(format!(
            "The number of routing rules must not exceed the allowed limit of {MAX_RULES}."
        )));
    }
    Ok(Website {
        redirect_all: None,
        index: Some(suffix),
        error_document,
        rules: rules.into_iter().map(rule).collect::<S3Result<_>>()?,
    })
}

/// The stored form.
pub fn encode(w: &Website) -> String {
    // Strings, numbers and options always serialize.
    serde_json::to_string(w).unwrap_or_default()
}

/// A stored document (None: it does not decode; it did when stored).
pub fn decode(doc: &str) -> Option<Website> {
    serde_json::from_str(doc).ok()
}

/// The configuration as GetBucketWebsite answers it.
pub fn to_xml(w: &Website) -> String {
    let mut x = XmlWriter::new();
    x.open_ns("WebsiteConfiguration");
    if let Some(all) = &w.redirect_all {
        x.open("RedirectAllRequestsTo");
        x.elem("HostName", &all.host);
        if let Some(p) = &all.protocol {
            x.elem("Protocol", p);
        }
        x.close("RedirectAllRequestsTo");
    }
    if let Some(s) = &w.index {
        x.open("IndexDocument");
        x.elem("Suffix", s);
        x.close("IndexDocument");
    }
    if let Some(k) = &w.error_document {
        x.open("ErrorDocument");
        x.elem("Key", k);
        x.close("ErrorDocument");
    }
    if !w.rules.is_empty() {
        x.open("RoutingRules");
        for r in &w.rules {
            x.open("RoutingRule");
            if let Some(c) = &r.condition {
                x.open("Condition");
                if let Some(code) = c.error_code {
                    x.elem("HttpErrorCodeReturnedEquals", &code.to_string());
                }
                if let Some(p) = &c.key_prefix {
                    x.elem("KeyPrefixEquals", p);
                }
                x.close("Condition");
            }
            let d = &r.redirect;
            x.open("Redirect");
            if let Some(h) = &d.host {
                x.elem("HostName", h);
            }
            if let Some(code) = d.code {
                x.elem("HttpRedirectCode", &code.to_string());
            }
            if let Some(p) = &d.protocol {
                x.elem("Protocol", p);
            }
            if let Some(p) = &d.replace_prefix {
                x.elem("ReplaceKeyPrefixWith", p);
            }
            if let Some(k) = &d.replace_key {
                x.elem("ReplaceKeyWith", k);
            }
            x.close("Redirect");
            x.close("RoutingRule");
        }
        x.close("RoutingRules");
    }
    x.close("WebsiteConfiguration");
    x.finish()
}

/// Where a redirect sends the client: status and `Location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirection {
    /// 3XX.
    pub status: u16,
    /// The `Location` header.
    pub location: String,
}

/// The request a routing decision is made for.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    /// The key (the path without its leading `/`, decoded).
    pub key: &'a str,
    /// The path as the request sent it, encoded (RedirectAllRequestsTo keeps it).
    pub raw_path: &'a str,
    /// The Host header the request came with.
    pub host: &'a str,
    /// `http` or `https`: how the request came.
    pub scheme: &'a str,
}

impl Website {
    /// The redirect the configuration answers `asked` with before any object is read:
    /// RedirectAllRequestsTo, or the first routing rule without an error-code condition whose
    /// key prefix matches (None: serve the key).
    pub fn route(&self, asked: &Asked<'_>) -> Option<Redirection> {
        if let Some(all) = &self.redirect_all {
            let scheme = all.protocol.as_deref().unwrap_or(asked.scheme);
            return Some(Redirection {
                status: 301,
                location: format!("{scheme}://{}{}", all.host, asked.raw_path),
            });
        }
        self.rules
            .iter()
            .find(|r| r.applies(asked.key, None))
            .map(|r| r.redirect(asked))
    }

    /// The redirect a routing rule makes of an error `status` that serving `asked` met (None:
    /// answer the error).
    pub fn after_error(&self, asked: &Asked<'_>, status: u16) -> Option<Redirection> {
        self.rules
            .iter()
            .find(|r| r.applies(asked.key, Some(status)))
            .map(|r| r.redirect(asked))
    }
}

impl RoutingRule {
    /// Whether the rule applies to `key` before it is served (`error`: None) or after it
    /// failed with `error`. A rule with an error-code condition applies only after an error.
    fn applies(&self, key: &str, error: Option<u16>) -> bool {
        let Some(c) = &self.condition else {
            // A rule without a condition redirects every request, before anything is read.
            return error.is_none();
        };
        let prefix = c.key_prefix.as_deref().is_none_or(|p| key.starts_with(p));
        prefix && c.error_code == error
    }
}

impl RoutingRule {
    /// Where this rule sends `asked`: its key replaced (the whole key, or the prefix the
    /// condition matched: all of the key's start, `""`, without one), on the rule's host and
    /// protocol or the request's own.
    fn redirect(&self, asked: &Asked<'_>) -> Redirection {
        let r = &self.redirect;
        let matched = self
            .condition
            .as_ref()
            .and_then(|c| c.key_prefix.as_deref())
            .unwrap_or("");
        let key = match (&r.replace_key, &r.replace_prefix) {
            (Some(k), _) => k.clone(),
            (None, Some(p)) => {
                format!("{p}{}", asked.key.get(matched.len()..).unwrap_or(""))
            }
            (None, None) => asked.key.to_owned(),
        };
        let host = r.host.as_deref().unwrap_or(asked.host);
        let scheme = r.protocol.as_deref().unwrap_or(asked.scheme);
        Redirection {
            status: r.code.unwrap_or(301),
            location: format!(
                "{scheme}://{host}/{}",
                crate::auth::sigv4::uri_encode(&key, true)
            ),
        }
    }
}

#[cfg(test)]
mod tests;
