//! Fuzz the parsers of request bodies and stored documents: XML configurations (CORS,
//! tagging, ACL, ownership, public access block), the XML of CompleteMultipartUpload,
//! DeleteObjects and CreateBucket, POST policies and IAM form bodies. Any bytes must parse
//! or be refused with an S3 error, never panic; what parses and is written back as XML must
//! parse again to the same value.
#![no_main]

use coffer_gateway::authz::acl::Acl;
use coffer_gateway::iam::Params;
use coffer_gateway::s3::ops::{acl, cors, owner_id, ownership, public_access, tagging};
use coffer_gateway::s3::post_policy::PostPolicy;
use coffer_gateway::s3::xml::{self, CompleteMultipartUpload, CreateBucketConfiguration, Delete};
use libfuzzer_sys::fuzz_target;

const OWNER: &str = "AKIDFUZZ";

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let text = std::str::from_utf8(body).ok();
    match which % 10 {
        0 => {
            let _ = cors::parse(body);
            if let Some(t) = text {
                let _ = cors::decode(t);
            }
        }
        1 => {
            if let Ok(tags) = tagging::parse(body) {
                if tagging::validate(&tags).is_ok() {
                    let again = tagging::parse(tagging::to_xml(&tags).as_bytes());
                    assert_eq!(
                        again.ok().as_ref(),
                        Some(&tags),
                        "tag set changed on the way back"
                    );
                    assert_eq!(tagging::decode(Some(&tagging::encode(&tags))), tags);
                }
            }
            let _ = tagging::decode(text);
        }
        2 => {
            // Documents name the owner by canonical id; records keep the owner's name.
            let id = owner_id(OWNER);
            if let Ok(a) = acl::parse_policy(body, &id) {
                let again = acl::parse_policy(acl::to_xml(OWNER, &a).as_bytes(), &id);
                assert_eq!(again.ok().as_ref(), Some(&a), "ACL changed on the way back");
            }
            let _ = Acl::decode(text, OWNER);
        }
        3 => {
            if let Ok(o) = ownership::parse(body) {
                let again = ownership::parse(ownership::to_xml(o).as_bytes());
                assert_eq!(again.ok(), Some(o));
            }
        }
        4 => {
            if let Ok(p) = public_access::parse(body) {
                let again = public_access::parse(public_access::to_xml(&p).as_bytes());
                assert_eq!(again.ok().as_ref(), Some(&p));
            }
        }
        5 => {
            let _ = xml::from_body::<CompleteMultipartUpload>(body);
        }
        6 => {
            let _ = xml::from_body::<Delete>(body);
        }
        7 => {
            let _ = xml::from_body::<CreateBucketConfiguration>(body);
        }
        8 => {
            let Some(t) = text else { return };
            // The policy, then form fields as name=value lines.
            let (policy, fields) = t.split_once('\0').unwrap_or((t, "key=k\nbucket=b"));
            if let Ok(p) = PostPolicy::parse(policy) {
                let _ = p.length_range();
                let fields: Vec<(String, String)> = fields
                    .lines()
                    .filter_map(|l| l.split_once('='))
                    .map(|(n, v)| (n.to_owned(), v.to_owned()))
                    .collect();
                let _ = p.check(&fields, "b", 1_700_000_000_000);
            }
        }
        _ => {
            let p = Params::parse(body);
            let _ = p.get("Action");
            let _ = p.required("UserName");
        }
    }
});
