//! The wildcards of IAM policies: `*` matches any run of characters (also none) and `?` any one
//! character, in actions (case-insensitively), resources, and the `Like` condition operators.

/// Whether `text` matches `pattern`, where `*` and `?` are wildcards.
pub fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    // Iterative glob match with backtracking to the last star: linear in practice, never
    // exponential (a policy is untrusted input).
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// [`matches`], ignoring ASCII case (action names).
pub fn matches_ignore_case(pattern: &str, text: &str) -> bool {
    matches(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
}

/// Whether some string that starts with `prefix` matches `pattern`.
pub fn can_match_with_prefix(pattern: &str, prefix: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = prefix.chars().collect();
    // reach[i]: pattern position i is reachable after consuming the prefix so far.
    let mut reach = vec![false; p.len() + 1];
    reach[0] = true;
    close_stars(&p, &mut reach);
    for &c in &t {
        let mut next = vec![false; p.len() + 1];
        for i in 0..p.len() {
            if reach[i] {
                match p[i] {
                    '*' => next[i] = true,
                    '?' => next[i + 1] = true,
                    pc if pc == c => next[i + 1] = true,
                    _ => {}
                }
            }
        }
        close_stars(&p, &mut next);
        reach = next;
    }
    // Any reachable position completes: the rest of the text is ours to choose. Reaching the
    // end with text left over only works if the pattern ended in a star, which keeps it alive.
    reach.iter().any(|&r| r)
}

/// A star may match nothing: what reaches it also reaches the position after it.
fn close_stars(p: &[char], reach: &mut [bool]) {
    for i in 0..p.len() {
        if reach[i] && p[i] == '*' {
            reach[i + 1] = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globbing() {
        assert!(matches("*", ""));
        assert!(matches("a*c", "abbbc"));
        assert!(matches("a*c", "ac"));
        assert!(!matches("a*c", "acb"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches("arn:aws:s3:::b/*/x", "arn:aws:s3:::b/1/2/x"));
        assert!(!matches("arn:aws:s3:::b", "arn:aws:s3:::b/"));
        assert!(matches("*a*a*a*a*a*b", &"a".repeat(30).replace("aa", "ab")));
        assert!(!matches(&"*a".repeat(50), &"a".repeat(49)));
        assert!(matches_ignore_case("s3:Get*", "S3:GETOBJECT"));
        assert!(matches("é?", "éü"));
    }

    #[test]
    fn prefixes() {
        assert!(can_match_with_prefix("arn:aws:s3:::b/*", "arn:aws:s3:::b/"));
        assert!(can_match_with_prefix("arn:aws:s3:::b/k", "arn:aws:s3:::b/"));
        assert!(can_match_with_prefix("arn:aws:s3:::*", "arn:aws:s3:::b/"));
        assert!(can_match_with_prefix("arn:aws:s3:::b?k", "arn:aws:s3:::b/"));
        assert!(!can_match_with_prefix("arn:aws:s3:::b", "arn:aws:s3:::b/"));
        assert!(!can_match_with_prefix(
            "arn:aws:s3:::c/*",
            "arn:aws:s3:::b/"
        ));
        assert!(!can_match_with_prefix(
            "arn:aws:s3:::bb/*",
            "arn:aws:s3:::b/"
        ));
    }
}
