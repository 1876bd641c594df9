//! Bucket naming rules (the general-purpose bucket rules of the S3 documentation).

/// Whether `name` is a valid bucket name.
pub fn valid_bucket_name(name: &str) -> bool {
    let b = name.as_bytes();
    if !(3..=63).contains(&b.len()) {
        return false;
    }
    let ok_chars = b
        .iter()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'.' || *c == b'-');
    let ends_ok = |c: Option<&u8>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !ok_chars || !ends_ok(b.first()) || !ends_ok(b.last()) {
        return false;
    }
    if name.contains("..") || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return false;
    }
    let bad_prefix = ["xn--", "sthree-", "amzn-s3-demo-"]
        .iter()
        .any(|p| name.starts_with(p));
    let bad_suffix = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"]
        .iter()
        .any(|s| name.ends_with(s));
    !(bad_prefix || bad_suffix)
}

#[cfg(test)]
mod tests {
    use super::valid_bucket_name as v;

    #[test]
    fn naming_rules() {
        for good in ["abc", "my-bucket.2", "a1b", &"a".repeat(63)] {
            assert!(v(good), "{good}");
        }
        for bad in [
            "ab",
            "ABC",
            "a_b",
            "-ab",
            "ab-",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            &"a".repeat(64),
            "a b",
            ".ab",
        ] {
            assert!(!v(bad), "{bad}");
        }
    }
}
