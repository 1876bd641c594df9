//! The router against botocore's S3 service model (`data/s3/2006-03-01/service-2.json.gz`,
//! shipped in the botocore package that `make test-deps` installs): every operation's HTTP
//! binding routes to that operation or to NotImplemented under its name, never to another
//! operation, and every known sub-resource with a method S3 has no operation for at that level
//! (a bucket's or an object's) is MethodNotAllowed.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use actix_web::http::Method;

use super::*;

/// The model, read through the Python that has botocore (`PYTHON`, else `python3`).
fn s3_model() -> serde_json::Value {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args([
            "-c",
            "import botocore, gzip, os, sys; \
             p = os.path.join(os.path.dirname(botocore.__file__), \
             'data', 's3', '2006-03-01', 'service-2.json.gz'); \
             sys.stdout.write(gzip.open(p).read().decode())",
        ])
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e}"));
    assert!(
        out.status.success(),
        "botocore's S3 model could not be read (make test-deps installs boto3): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// One operation's request, as the model binds it with its required members.
struct Binding {
    method: Method,
    level: Option<Level>,
    /// Query names and values, the requestUri's own first.
    query: Vec<(String, String)>,
    /// The sub-resource: the first name of the requestUri's own query.
    sub: Option<String>,
    copy_source: bool,
}

impl Binding {
    fn key(&self) -> String {
        let q: BTreeSet<_> = self.query.iter().map(|(k, _)| k.as_str()).collect();
        format!(
            "{} {:?} {q:?} {}",
            self.method, self.level, self.copy_source
        )
    }

    fn route(&self) -> Result<Endpoint, S3Error> {
        let (bucket, key) = match self.level {
            None => (None, None),
            Some(Level::Bucket) => (Some("bucket"), None),
            Some(Level::Object) => (Some("bucket"), Some("dir/key")),
        };
        let q = Query(self.query.clone());
        Endpoint::route(&self.method, bucket, key, &q, self.copy_source)
    }
}

fn binding(model: &serde_json::Value, op: &serde_json::Value) -> Binding {
    let http = &op["http"];
    let uri = http["requestUri"].as_str().unwrap();
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let level = match path {
        "/" => None,
        "/{Bucket}" => Some(Level::Bucket),
        "/{Bucket}/{Key+}" => Some(Level::Object),
        other => panic!("unexpected requestUri path {other}"),
    };
    let mut query: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let sub = query.first().map(|(k, _)| k.clone());
    let mut copy_source = false;
    if let Some(input) = op["input"]["shape"].as_str() {
        let shape = &model["shapes"][input];
        let required: BTreeSet<&str> = shape["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str())
            .collect();
        for (name, member) in shape["members"].as_object().unwrap() {
            if !required.contains(name.as_str()) {
                continue;
            }
            let at = member["locationName"].as_str().unwrap_or(name);
            match member["location"].as_str() {
                Some("querystring") => {
                    let number =
                        model["shapes"][member["shape"].as_str().unwrap()]["type"] == "integer";
                    query.push((at.to_owned(), if number { "1" } else { "x" }.to_owned()));
                }
                Some("header") if at.eq_ignore_ascii_case("x-amz-copy-source") => {
                    copy_source = true;
                }
                _ => {}
            }
        }
    }
    Binding {
        method: Method::from_bytes(http["method"].as_str().unwrap().as_bytes()).unwrap(),
        level,
        query,
        sub,
        copy_source,
    }
}

/// Operations the router does not serve: S3 Object Lambda's, addressed by a host prefix.
const NOT_ADDRESSED_BY_BUCKET: &[&str] = &["WriteGetObjectResponse"];

#[test]
fn every_operation_of_the_model_routes_to_itself_or_to_not_implemented() {
    let model = s3_model();
    let ops = model["operations"].as_object().unwrap();
    assert!(ops.len() > 100, "{} operations", ops.len());
    // Operations with the same binding (GetBucketLifecycle and
    // GetBucketLifecycleConfiguration) are one request: either name is right.
    let mut by_binding: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    let mut bindings = Vec::new();
    for (name, op) in ops {
        if NOT_ADDRESSED_BY_BUCKET.contains(&name.as_str()) {
            continue;
        }
        let b = binding(&model, op);
        by_binding.entry(b.key()).or_default().insert(name);
        bindings.push((name.as_str(), b));
    }
    let mut wrong = Vec::new();
    for (name, b) in &bindings {
        let same = &by_binding[&b.key()];
        match b.route() {
            Ok(e) if same.contains(e.name()) => {}
            other => wrong.push(format!(
                "{name} ({} {:?} {:?}): {other:?}",
                b.method, b.level, b.query
            )),
        }
    }
    assert!(wrong.is_empty(), "misrouted:\n{}", wrong.join("\n"));
}

#[test]
fn a_known_sub_resource_with_a_method_s3_has_no_operation_for_is_method_not_allowed() {
    let model = s3_model();
    let mut known: BTreeMap<(Level, String), BTreeSet<String>> = BTreeMap::new();
    for (name, op) in model["operations"].as_object().unwrap() {
        if NOT_ADDRESSED_BY_BUCKET.contains(&name.as_str()) {
            continue;
        }
        let b = binding(&model, op);
        let (Some(level), Some(sub)) = (b.level, &b.sub) else {
            continue;
        };
        // ListObjectsV2's `list-type=2` selects a listing, not a sub-resource.
        if sub == "list-type" {
            continue;
        }
        known
            .entry((level, sub.clone()))
            .or_default()
            .insert(b.method.to_string());
    }
    // The router's table names exactly the model's sub-resources and methods.
    let table: BTreeSet<(Level, String, String)> = SUBRESOURCE_OPERATIONS
        .iter()
        .map(|(l, s, m, _)| (*l, (*s).to_owned(), (*m).to_owned()))
        .collect();
    let model_set: BTreeSet<(Level, String, String)> = known
        .iter()
        .flat_map(|((l, s), ms)| ms.iter().map(|m| (*l, s.clone(), m.clone())))
        .collect();
    assert_eq!(table, model_set);
    let subs: BTreeSet<&String> = known.keys().map(|(_, s)| s).collect();
    let mut wrong = Vec::new();
    for (level, sub) in subs
        .iter()
        .flat_map(|s| [(Level::Bucket, *s), (Level::Object, *s)])
    {
        let methods = known
            .get(&(level, sub.clone()))
            .cloned()
            .unwrap_or_default();
        for method in [
            Method::GET,
            Method::PUT,
            Method::POST,
            Method::DELETE,
            Method::HEAD,
        ] {
            if methods.contains(method.as_str()) {
                continue;
            }
            let b = Binding {
                method: method.clone(),
                level: Some(level),
                query: vec![(sub.clone(), String::new())],
                sub: Some(sub.clone()),
                copy_source: false,
            };
            match b.route() {
                Err(e) if e.code == S3ErrorCode::MethodNotAllowed => {}
                other => wrong.push(format!("{method} {level:?} ?{sub}: {other:?}")),
            }
        }
    }
    assert!(wrong.is_empty(), "not refused:\n{}", wrong.join("\n"));
}
