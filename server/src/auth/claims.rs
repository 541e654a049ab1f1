//! The claims of an access token, read with the exact JSON types that
//! RFC 7519, RFC 9068 and Ory Hydra give them: `iss`, `sub` and
//! `client_id` are strings, `exp`, `nbf` and `iat` numbers, `aud` a string
//! or a list of strings, `scp` a list of strings and `scope` a
//! space-separated string. A claim of any other type or shape refuses the
//! token, however it is signed: a lenient reading (an `iss` given as a list
//! that contains the issuer, say) is how two parsers come to disagree about
//! who a token is for.

use serde_json::{Map, Value};

/// Longest text claim (or list entry) accepted. Issuers' identifiers,
/// subjects and scopes are short; a longer one is a mistake or an attack,
/// and a subject is looked up in the database.
pub const MAX_CLAIM_TEXT_BYTES: usize = 1024;

/// Most entries of a list claim (`aud`, `scp`).
pub const MAX_CLAIM_ENTRIES: usize = 256;

/// The latest instant a NumericDate may name: 9999-12-31T23:59:59Z, the end
/// of the range every date library in the path can represent.
const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// What is wrong with a claim.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
pub enum ClaimProblem {
    #[error("is missing")]
    Missing,
    #[error("is not a string")]
    NotAString,
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_CLAIM_TEXT_BYTES} bytes")]
    TooLong,
    #[error("contains NUL")]
    ContainsNul,
    #[error("is not a number of seconds between 1970 and 9999")]
    NotANumericDate,
    #[error("is not a string or a list of strings")]
    NotAStringOrList,
    #[error("is not a list of strings")]
    NotAList,
    #[error("has more than {MAX_CLAIM_ENTRIES} entries")]
    TooManyEntries,
}

/// A claim of the wrong type or shape.
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[error("the {claim} claim {problem}")]
pub struct ClaimError {
    /// The claim's name.
    pub claim: &'static str,
    pub problem: ClaimProblem,
}

/// The claims this server reads, each of its exact type. `iat` and
/// `client_id` are checked but not kept: nothing here depends on them.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AccessTokenClaims {
    /// `iss`.
    pub issuer: String,
    /// `sub`.
    pub subject: String,
    /// `aud`: a single string is a list of one.
    pub audience: Vec<String>,
    /// `exp`, in whole seconds since the Unix epoch.
    pub expires_at: i64,
    /// `nbf`, in whole seconds since the Unix epoch.
    pub not_before: Option<i64>,
    /// The entries of `scp` and of the space-separated `scope`.
    pub scopes: Vec<String>,
}

impl AccessTokenClaims {
    /// Reads the claims of a token's payload.
    pub fn read(claims: &Map<String, Value>) -> Result<AccessTokenClaims, ClaimError> {
        let claim = |name: &'static str| Claim {
            name,
            value: claims.get(name),
        };
        let issuer = claim("iss").required(text)?;
        let subject = claim("sub").required(text)?;
        let audience = claim("aud").optional(string_or_list)?.unwrap_or_default();
        let expires_at = claim("exp").required(numeric_date)?;
        let not_before = claim("nbf").optional(numeric_date)?;
        claim("iat").optional(numeric_date)?;
        claim("client_id").optional(text)?;
        let mut scopes = claim("scp").optional(list)?.unwrap_or_default();
        if let Some(scope) = claim("scope").optional(text)? {
            scopes.extend(scope.split_whitespace().map(str::to_owned));
        }
        Ok(AccessTokenClaims {
            issuer,
            subject,
            audience,
            expires_at,
            not_before,
            scopes,
        })
    }
}

/// One claim of the payload, present or not.
struct Claim<'a> {
    name: &'static str,
    value: Option<&'a Value>,
}

impl Claim<'_> {
    /// The claim read by `read`; an error when it is absent. A `null` is a
    /// value of the wrong type, not an absent claim.
    fn required<T>(&self, read: fn(&Value) -> Result<T, ClaimProblem>) -> Result<T, ClaimError> {
        self.optional(read)?.ok_or(ClaimError {
            claim: self.name,
            problem: ClaimProblem::Missing,
        })
    }

    /// The claim read by `read`, if present.
    fn optional<T>(
        &self,
        read: fn(&Value) -> Result<T, ClaimProblem>,
    ) -> Result<Option<T>, ClaimError> {
        self.value
            .map(read)
            .transpose()
            .map_err(|problem| ClaimError {
                claim: self.name,
                problem,
            })
    }
}

/// A non-empty string of at most [`MAX_CLAIM_TEXT_BYTES`], without NUL.
fn text(value: &Value) -> Result<String, ClaimProblem> {
    let Value::String(text) = value else {
        return Err(ClaimProblem::NotAString);
    };
    if text.is_empty() {
        Err(ClaimProblem::Empty)
    } else if text.len() > MAX_CLAIM_TEXT_BYTES {
        Err(ClaimProblem::TooLong)
    } else if text.contains('\0') {
        Err(ClaimProblem::ContainsNul)
    } else {
        Ok(text.clone())
    }
}

/// A list of at most [`MAX_CLAIM_ENTRIES`] [`text`]s.
fn list(value: &Value) -> Result<Vec<String>, ClaimProblem> {
    let Value::Array(entries) = value else {
        return Err(ClaimProblem::NotAList);
    };
    if entries.len() > MAX_CLAIM_ENTRIES {
        return Err(ClaimProblem::TooManyEntries);
    }
    entries
        .iter()
        .map(|entry| match entry {
            Value::String(_) => text(entry),
            _ => Err(ClaimProblem::NotAList),
        })
        .collect()
}

/// `aud`: one [`text`] or a [`list`] of them (RFC 7519 §4.1.3).
fn string_or_list(value: &Value) -> Result<Vec<String>, ClaimProblem> {
    match value {
        Value::String(_) => Ok(vec![text(value)?]),
        Value::Array(_) => list(value).map_err(|problem| match problem {
            ClaimProblem::NotAList => ClaimProblem::NotAStringOrList,
            other => other,
        }),
        _ => Err(ClaimProblem::NotAStringOrList),
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number of seconds since the epoch,
/// possibly fractional, from 1970 to the year 9999; whole seconds are kept.
fn numeric_date(value: &Value) -> Result<i64, ClaimProblem> {
    let Value::Number(number) = value else {
        return Err(ClaimProblem::NotANumericDate);
    };
    let seconds = match number.as_i64() {
        Some(seconds) => seconds,
        None => number
            .as_f64()
            .filter(|seconds| seconds.is_finite() && seconds.abs() < 1e15)
            .map(|seconds| seconds.floor() as i64)
            .ok_or(ClaimProblem::NotANumericDate)?,
    };
    if (0..=MAX_NUMERIC_DATE).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(ClaimProblem::NotANumericDate)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(claims: Value) -> Result<AccessTokenClaims, ClaimError> {
        AccessTokenClaims::read(claims.as_object().unwrap())
    }

    fn hydra() -> Value {
        json!({
            "iss": "https://hydra.example/",
            "sub": "user-1",
            "aud": [],
            "exp": 2_000_000_000,
            "nbf": 1_700_000_000,
            "iat": 1_700_000_000,
            "client_id": "cli",
            "scp": ["openid", "task_agent_runs:write"],
            "ext": {},
        })
    }

    fn problem(claims: Value) -> ClaimError {
        read(claims).expect_err("refused")
    }

    #[test]
    fn hydra_and_kratos_claims_are_read() {
        let claims = read(hydra()).unwrap();
        assert_eq!(claims.subject, "user-1");
        assert_eq!(claims.scopes, ["openid", "task_agent_runs:write"]);
        assert_eq!(claims.not_before, Some(1_700_000_000));
        let kratos = read(json!({
            "iss": "https://kratos.example/", "sub": "u", "exp": 2e9, "iat": 1.7e9,
            "aud": "runs", "scope": "a  b", "session": {"id": 1},
        }))
        .unwrap();
        assert_eq!(kratos.audience, ["runs"]);
        assert_eq!(kratos.expires_at, 2_000_000_000);
        assert_eq!(kratos.scopes, ["a", "b"]);
    }

    #[test]
    fn every_wrong_type_names_its_claim() {
        let with = |claim: &str, value: Value| {
            let mut claims = hydra();
            claims[claim] = value;
            claims
        };
        for (claim, value, expected) in [
            (
                "iss",
                json!(["https://hydra.example/"]),
                ClaimProblem::NotAString,
            ),
            ("iss", json!(null), ClaimProblem::NotAString),
            ("sub", json!(""), ClaimProblem::Empty),
            ("sub", json!(1), ClaimProblem::NotAString),
            ("sub", json!("a\0b"), ClaimProblem::ContainsNul),
            ("sub", json!("s".repeat(1025)), ClaimProblem::TooLong),
            ("exp", json!("2000000000"), ClaimProblem::NotANumericDate),
            ("exp", json!(1e300), ClaimProblem::NotANumericDate),
            ("exp", json!(u64::MAX), ClaimProblem::NotANumericDate),
            ("exp", json!(-1), ClaimProblem::NotANumericDate),
            ("nbf", json!(null), ClaimProblem::NotANumericDate),
            ("iat", json!({}), ClaimProblem::NotANumericDate),
            ("aud", json!({}), ClaimProblem::NotAStringOrList),
            ("aud", json!([1]), ClaimProblem::NotAStringOrList),
            ("scp", json!("openid"), ClaimProblem::NotAList),
            ("scp", json!([["openid"]]), ClaimProblem::NotAList),
            ("scp", json!(vec!["s"; 257]), ClaimProblem::TooManyEntries),
            ("client_id", json!(true), ClaimProblem::NotAString),
        ] {
            let error = problem(with(claim, value.clone()));
            assert_eq!(error.claim, claim, "{claim} = {value}");
            assert_eq!(error.problem, expected, "{claim} = {value}");
        }
        let mut no_exp = hydra();
        no_exp.as_object_mut().unwrap().remove("exp");
        assert_eq!(problem(no_exp).problem, ClaimProblem::Missing);
    }
}
