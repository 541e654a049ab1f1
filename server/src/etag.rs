//! Entity tags of stored runs and the `If-Match` condition (RFC 9110).

use sha2::{Digest, Sha256};

/// The strong entity tag of a run's JSON: equal content, equal tag.
pub fn etag_of(json: &str) -> String {
    let digest = Sha256::digest(json.as_bytes());
    let mut tag = String::with_capacity(34);
    tag.push('"');
    for byte in &digest[..16] {
        tag.push_str(&format!("{byte:02x}"));
    }
    tag.push('"');
    tag
}

/// The condition of an `If-Match` header.
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum IfMatch {
    /// `*`: any stored version.
    Any,
    /// One of these entity tags (each with its quotes; weak ones keep `W/`).
    Tags(Vec<String>),
}

/// An `If-Match` value that is not `*` nor a list of entity tags.
#[derive(Debug, thiserror::Error)]
#[error("If-Match must be `*` or a comma-separated list of quoted entity tags, got {0:?}")]
pub struct MalformedIfMatch(pub String);

impl IfMatch {
    /// Parses an `If-Match` header value.
    pub fn parse(value: &str) -> Result<IfMatch, MalformedIfMatch> {
        let malformed = || MalformedIfMatch(value.to_owned());
        if value.trim() == "*" {
            return Ok(IfMatch::Any);
        }
        let mut tags = Vec::new();
        let mut rest = value;
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',']);
            if rest.is_empty() {
                break;
            }
            let weak = rest.starts_with("W/");
            let quoted = if weak { &rest[2..] } else { rest };
            let body = quoted.strip_prefix('"').ok_or_else(malformed)?;
            let end = body.find('"').ok_or_else(malformed)?;
            if !body[..end]
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80)
            {
                return Err(malformed());
            }
            let length = end + 2 + if weak { 2 } else { 0 };
            tags.push(rest[..length].to_owned());
            rest = &rest[length..];
            if !(rest.is_empty() || rest.starts_with([',', ' ', '\t'])) {
                return Err(malformed());
            }
        }
        if tags.is_empty() {
            return Err(malformed());
        }
        Ok(IfMatch::Tags(tags))
    }

    /// Whether a stored version with `etag` satisfies the condition. The
    /// comparison is strong: a weak tag never matches.
    pub fn matches(&self, etag: &str) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|tag| !tag.starts_with("W/") && tag == etag),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_quoted_and_follow_content() {
        let tag = etag_of("{\"a\":1}");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34);
        assert_eq!(tag, etag_of("{\"a\":1}"));
        assert_ne!(tag, etag_of("{\"a\":2}"));
    }

    #[test]
    fn if_match_lists_are_parsed() {
        assert_eq!(IfMatch::parse("*").unwrap(), IfMatch::Any);
        assert_eq!(
            IfMatch::parse("\"a\", W/\"b\",\"c,d\"").unwrap(),
            IfMatch::Tags(vec!["\"a\"".into(), "W/\"b\"".into(), "\"c,d\"".into()])
        );
        for bad in ["", "a", "\"a", "\"a\"b", "W/a", ",", "\"a b\""] {
            assert!(IfMatch::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn matching_is_strong() {
        let condition = IfMatch::parse("W/\"a\", \"b\"").unwrap();
        assert!(condition.matches("\"b\""));
        assert!(!condition.matches("\"a\""));
        assert!(IfMatch::Any.matches("\"x\""));
    }
}
