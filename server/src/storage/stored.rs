//! Reading back what a backend stored: the run's JSON, its status, a
//! membership's role. A value that does not parse is damage to the
//! database, not a client's mistake, hence an internal error.

use serde_json::value::RawValue;

use super::{Role, StoreError};
use crate::api::{RunStatus, Serialized, TaskAgentRun};

/// A stored run's JSON, checked to be JSON before it is sent as it is.
pub(super) fn run_json(body: String) -> Result<Serialized<TaskAgentRun>, StoreError> {
    let json = RawValue::from_string(body).map_err(|error| StoreError::Internal(error.into()))?;
    Ok(Serialized::from_json(json))
}

/// A stored run's status.
pub(super) fn run_status(name: &str) -> Result<RunStatus, StoreError> {
    RunStatus::parse(name).ok_or_else(|| {
        StoreError::Internal(anyhow::anyhow!("stored run has unknown status {name:?}"))
    })
}

/// A stored membership's role.
pub(super) fn role(name: &str) -> Result<Role, StoreError> {
    name.parse().map_err(|error: String| {
        StoreError::Internal(anyhow::anyhow!("stored membership: {error}"))
    })
}
