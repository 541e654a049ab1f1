//! The bearer token of a request (RFC 6750 §2.1).

use http::HeaderMap;
use http::header::AUTHORIZATION;

use super::AuthError;

/// Longest token accepted. Real access tokens are a few kilobytes; refusing
/// larger ones early bounds the work an attacker can make us do.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// The token of the request's `Authorization: Bearer` header.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthError> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let value = values
        .next()
        .ok_or_else(|| AuthError::Invalid("no bearer token".to_owned()))?;
    if values.next().is_some() {
        return Err(AuthError::Invalid(
            "more than one Authorization header".to_owned(),
        ));
    }
    if value.len() > MAX_TOKEN_BYTES + "Bearer ".len() {
        return Err(AuthError::Invalid(format!(
            "the token is longer than {MAX_TOKEN_BYTES} bytes"
        )));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthError::Invalid("the Authorization header is not ASCII".to_owned()))?;
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Invalid(
            "the Authorization scheme is not Bearer".to_owned(),
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(AuthError::Invalid("the bearer token is empty".to_owned()));
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
        for bad in [
            &[][..],
            &["Basic dXNlcjpwYXNz"],
            &["Bearer"],
            &["Bearer   "],
            &["Bearer a", "Bearer b"],
        ] {
            assert!(bearer_token(&headers(bad)).is_err(), "{bad:?}");
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_BYTES + 1));
        assert!(bearer_token(&headers(&[&huge])).is_err());
    }
}
