//! `x-amz-tagging`: the tag set a new object or upload gets.

use actix_web::http::header::HeaderMap;

use super::get;
use crate::model::tags::{validate, Tags};
use crate::s3::error::S3Result;
use crate::s3::router::Query;

/// `x-amz-tagging` (`k1=v1&k2=v2`, URL-encoded), validated; None when absent.
pub fn from_header(h: &HeaderMap) -> S3Result<Option<Tags>> {
    let Some(raw) = get(h, "x-amz-tagging") else {
        return Ok(None);
    };
    let tags: Tags = Query::parse(raw).0;
    validate(&tags)?;
    Ok(Some(tags))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_header_is_a_query_string() {
        let mut h = HeaderMap::new();
        assert_eq!(from_header(&h).unwrap(), None);
        h.insert(
            actix_web::http::header::HeaderName::from_static("x-amz-tagging"),
            actix_web::http::header::HeaderValue::from_static("team=red&note=a%20b"),
        );
        assert_eq!(
            from_header(&h).unwrap(),
            Some(vec![
                ("team".to_owned(), "red".to_owned()),
                ("note".to_owned(), "a b".to_owned())
            ])
        );
    }
}
