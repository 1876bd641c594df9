//! Fuzz the policy parser and evaluator: any bytes as a bucket or identity policy must parse
//! or be refused with a reason, never panic, and a parsed policy must evaluate any request
//! (drawn from the same bytes) without panicking.
#![no_main]

use coffer_proto::policy::{Caller, Context, Policy, PolicyKind, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The tail after the last NUL (if any) is the request: action, resource, a context value.
    let (doc, req) = text.rsplit_once('\0').unwrap_or((text, "s3:GetObject\narn:aws:s3:::b/k\nx"));
    let mut parts = req.splitn(3, '\n');
    let action = parts.next().unwrap_or_default();
    let resource = parts.next().unwrap_or_default();
    let value = parts.next().unwrap_or_default();
    let mut ctx = Context::default();
    for key in ["aws:username", "aws:SourceIp", "s3:prefix", "aws:CurrentTime", "s3:max-keys"] {
        ctx.set(key, value);
    }
    let caller = Caller::User {
        name: value.to_owned(),
        user_id: "AIDAFUZZ".to_owned(),
        canonical_id: String::new(),
    };
    for kind in [PolicyKind::Bucket("b".to_owned()), PolicyKind::Identity] {
        if let Ok(p) = Policy::parse(doc, &kind) {
            let _ = p.is_public();
            for c in [&caller, &Caller::Anonymous] {
                let _ = p.evaluate(&Request { caller: c, action, resource, context: &ctx });
            }
        }
    }
});
