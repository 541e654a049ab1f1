//! The rules a run must pass beyond its JSON shape. A violation is a 422
//! whose message names the field (with its index inside lists).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};

use crate::api::{DECIMAL_PATTERN, Decimal, RunFile, SESSION_ID_MAX_CHARS, TaskAgentRunWrite};
use crate::error::ApiError;

static DECIMAL: LazyLock<regress::Regex> = LazyLock::new(|| {
    regress::Regex::new(DECIMAL_PATTERN).expect("DECIMAL_PATTERN is a valid regular expression")
});

/// Whether `text` is a decimal string as the API defines it.
pub fn is_decimal(text: &str) -> bool {
    DECIMAL.find(text).is_some()
}

/// Checks every rule of a `PUT` body; the first violation is the error.
pub fn validate_run(run: &TaskAgentRunWrite) -> Result<(), ApiError> {
    let session_chars = run.session_id.0.chars().count();
    if session_chars == 0 || session_chars > SESSION_ID_MAX_CHARS as usize {
        return Err(ApiError::invalid(
            "session_id",
            format!("must be 1 to {SESSION_ID_MAX_CHARS} characters long, got {session_chars}"),
        ));
    }
    if run.session_id.0.contains('\0') {
        return Err(ApiError::invalid(
            "session_id",
            "must not contain NUL characters",
        ));
    }
    count("input_tokens", run.input_tokens)?;
    count("output_tokens", run.output_tokens)?;
    count("total_tokens", run.total_tokens)?;
    let sum = run.input_tokens.checked_add(run.output_tokens);
    if sum != Some(run.total_tokens) {
        return Err(ApiError::invalid(
            "total_tokens",
            format!(
                "must equal input_tokens + output_tokens ({} + {}), got {}",
                run.input_tokens, run.output_tokens, run.total_tokens
            ),
        ));
    }
    decimal("charged_credits", run.charged_credits.as_ref())?;
    decimal("total_charged_credits", run.total_charged_credits.as_ref())?;
    not_before_created("completed", run.completed, run.created)?;
    not_before_created("last_activity_at", run.last_activity_at, run.created)?;
    match (run.status.is_terminal(), run.completed.is_some()) {
        (true, false) => {
            return Err(ApiError::invalid(
                "completed",
                format!("must be set when status is {}", run.status.as_str()),
            ));
        }
        (false, true) => {
            return Err(ApiError::invalid(
                "completed",
                format!("must be null while status is {}", run.status.as_str()),
            ));
        }
        _ => {}
    }
    optional_count("duration_ms", run.duration_ms)?;
    validate_parts(run)
}

/// The rules of the nested lists.
fn validate_parts(run: &TaskAgentRunWrite) -> Result<(), ApiError> {
    for (i, call) in run.task_tools_invoked.iter().flatten().enumerate() {
        optional_count(
            &format!("task_tools_invoked[{i}].duration_ms"),
            call.duration_ms,
        )?;
    }
    for (i, call) in run.mcp_tools_invoked.iter().flatten().enumerate() {
        optional_count(
            &format!("mcp_tools_invoked[{i}].duration_ms"),
            call.duration_ms,
        )?;
    }
    for (i, call) in run.integration_tools_invoked.iter().flatten().enumerate() {
        optional_count(
            &format!("integration_tools_invoked[{i}].duration_ms"),
            call.duration_ms,
        )?;
    }
    for (i, phase) in run.phase_timings.iter().flatten().enumerate() {
        count(
            &format!("phase_timings[{i}].duration_ms"),
            phase.duration_ms,
        )?;
    }
    if let Some(usage) = &run.context_usage {
        count("context_usage.used_tokens", usage.used_tokens)?;
        count("context_usage.context_window", usage.context_window)?;
        count("context_usage.compactions", usage.compactions)?;
    }
    for (i, usage) in run.model_usages.iter().enumerate() {
        count(
            &format!("model_usages[{i}].input_tokens"),
            usage.input_tokens,
        )?;
        count(
            &format!("model_usages[{i}].output_tokens"),
            usage.output_tokens,
        )?;
        count(
            &format!("model_usages[{i}].total_tokens"),
            usage.total_tokens,
        )?;
        decimal(
            &format!("model_usages[{i}].charged_credits"),
            usage.charged_credits.as_ref(),
        )?;
    }
    for (i, RunFile { size_bytes, .. }) in run.files.iter().enumerate() {
        count(&format!("files[{i}].size_bytes"), *size_bytes)?;
    }
    Ok(())
}

fn count(field: &str, value: i64) -> Result<(), ApiError> {
    if value < 0 {
        return Err(ApiError::invalid(
            field,
            format!("must be at least 0, got {value}"),
        ));
    }
    Ok(())
}

fn optional_count(field: &str, value: Option<i64>) -> Result<(), ApiError> {
    value.map_or(Ok(()), |value| count(field, value))
}

fn decimal(field: &str, value: Option<&Decimal>) -> Result<(), ApiError> {
    match value {
        Some(Decimal(text)) if !is_decimal(text) => Err(ApiError::invalid(
            field,
            format!(
                "must be a decimal string such as \"12.50\" (pattern {DECIMAL_PATTERN}), got {text:?}"
            ),
        )),
        _ => Ok(()),
    }
}

fn not_before_created(
    field: &str,
    value: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
) -> Result<(), ApiError> {
    match value {
        Some(instant) if instant < created => Err(ApiError::invalid(
            field,
            format!(
                "must not be before created ({}), got {}",
                created.to_rfc3339(),
                instant.to_rfc3339()
            ),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_strings_follow_the_pattern() {
        for good in ["0", "12.50", "+1", "-0.5", ".5", "5.", "007"] {
            assert!(is_decimal(good), "{good:?}");
        }
        for bad in [
            "", ".", "+", "-.", "1e5", "1,5", "1.2.3", " 1", "abc", "NaN",
        ] {
            assert!(!is_decimal(bad), "{bad:?}");
        }
    }
}

#[cfg(test)]
mod properties {
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    use super::*;
    use crate::api::{ModelUsage, RunStatus, SessionId};

    /// Strings that are often, but not always, decimals.
    fn maybe_decimal() -> impl Strategy<Value = Option<Decimal>> {
        proptest::option::of(prop_oneof![
            "[+-]?[0-9]{0,4}(\\.[0-9]{0,4})?",
            "[-+.0-9eE, ]{0,6}",
            ".{0,6}",
        ])
        .prop_map(|text| text.map(Decimal))
    }

    fn count() -> impl Strategy<Value = i64> {
        prop_oneof![0..10_000i64, -10..0i64, Just(i64::MAX), Just(i64::MIN)]
    }

    fn instant() -> impl Strategy<Value = DateTime<Utc>> {
        (-62_000_000_000i64..250_000_000_000i64, 0..1_000_000_000u32)
            .prop_map(|(seconds, nanos)| Utc.timestamp_opt(seconds, nanos).single().unwrap())
    }

    prop_compose! {
        fn write()(
            session in ".{0,140}",
            (input_tokens, output_tokens, total_tokens) in (count(), count(), count()),
            sum in any::<bool>(),
            charged_credits in maybe_decimal(),
            usage_credits in maybe_decimal(),
            created in instant(),
            completed_offset in proptest::option::of(-1_000i64..1_000_000),
            activity_offset in proptest::option::of(-1_000i64..1_000_000),
            duration_ms in proptest::option::of(count()),
            status in 0..5usize,
        ) -> TaskAgentRunWrite {
            let total_tokens = if sum { input_tokens.wrapping_add(output_tokens) } else { total_tokens };
            let body = serde_json::json!({
                "session_id": "s", "input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
                "created": created, "status": "running",
            });
            let mut write: TaskAgentRunWrite = serde_json::from_value(body).unwrap();
            write.session_id = SessionId(session);
            write.input_tokens = input_tokens;
            write.output_tokens = output_tokens;
            write.total_tokens = total_tokens;
            write.charged_credits = charged_credits;
            write.completed = completed_offset.map(|ms| created + Duration::milliseconds(ms));
            write.last_activity_at = activity_offset.map(|ms| created + Duration::milliseconds(ms));
            write.duration_ms = duration_ms;
            write.status = RunStatus::ALL[status];
            write.model_usages = vec![ModelUsage {
                llm_model_id: uuid::Uuid::nil(),
                model_name: "m".into(),
                is_fallback: false,
                input_tokens: 1,
                output_tokens: 1,
                total_tokens: 2,
                charged_credits: usage_credits,
            }];
            write
        }
    }

    /// The rules, restated independently of the implementation.
    fn breaks_a_rule(write: &TaskAgentRunWrite) -> bool {
        let decimal_ok = |value: &Option<Decimal>| {
            value.as_ref().is_none_or(|Decimal(text)| {
                let body = text.strip_prefix(['+', '-']).unwrap_or(text);
                let digits = body.chars().filter(char::is_ascii_digit).count();
                let points = body.chars().filter(|c| *c == '.').count();
                digits > 0 && points <= 1 && body.chars().all(|c| c.is_ascii_digit() || c == '.')
            })
        };
        let chars = write.session_id.0.chars().count();
        chars == 0
            || chars > 128
            || write.session_id.0.contains('\0')
            || write.input_tokens < 0
            || write.output_tokens < 0
            || write.total_tokens < 0
            || write.input_tokens.checked_add(write.output_tokens) != Some(write.total_tokens)
            || !decimal_ok(&write.charged_credits)
            || !decimal_ok(&write.total_charged_credits)
            || write
                .model_usages
                .iter()
                .any(|usage| !decimal_ok(&usage.charged_credits))
            || write.completed.is_some_and(|at| at < write.created)
            || write.last_activity_at.is_some_and(|at| at < write.created)
            || write.status.is_terminal() != write.completed.is_some()
            || write.duration_ms.is_some_and(|ms| ms < 0)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        /// Validation never panics, accepts exactly the bodies that keep
        /// every rule, and names a field when it refuses.
        #[test]
        fn validation_accepts_exactly_the_bodies_that_keep_the_rules(write in write()) {
            match validate_run(&write) {
                Ok(()) => prop_assert!(!breaks_a_rule(&write), "accepted a body that breaks a rule: {write:?}"),
                Err(ApiError::Invalid { field, .. }) => {
                    prop_assert!(breaks_a_rule(&write), "refused a valid body ({field}): {write:?}");
                    prop_assert!(!field.is_empty());
                }
                Err(other) => prop_assert!(false, "not a 422: {other}"),
            }
        }
    }
}
