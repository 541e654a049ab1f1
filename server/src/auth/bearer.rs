//! The bearer token of a request (RFC 6750 §2.1).

use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::TokenRejection;

/// Longest token accepted. Real access tokens are a few kilobytes; refusing
/// larger ones early bounds the work an attacker can make us do.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The token of the request's `Authorization: Bearer` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, TokenRejection> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(TokenRejection::Missing)?;
    if values.next().is_some() {
        return Err(TokenRejection::SeveralHeaders);
    }
    if value.len() > MAX_TOKEN_BYTES + "Bearer ".len() {
        return Err(TokenRejection::TooLong);
    }
    let value = value.to_str().map_err(|_| TokenRejection::NotAscii)?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenRejection::NotBearer);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenRejection::Empty);
    }
    Ok(token)
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for value in values {
            map.append(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn only_one_bearer_token_is_accepted() {
        assert_eq!(bearer_token(&headers(&["Bearer abc"])).unwrap(), "abc");
        assert_eq!(bearer_token(&headers(&["bearer  abc "])).unwrap(), "abc");
        for (bad, why) in [
            (&[][..], TokenRejection::Missing),
            (&["Basic dXNlcjpwYXNz"], TokenRejection::NotBearer),
            (&["Bearer"], TokenRejection::Empty),
            (&["Bearer   "], TokenRejection::Empty),
            (&["Bearer a", "Bearer b"], TokenRejection::SeveralHeaders),
        ] {
            assert_eq!(bearer_token(&headers(bad)), Err(why), "{bad:?}");
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert_eq!(
            bearer_token(&headers(&[&huge])),
            Err(TokenRejection::TooLong)
        );
    }
}
