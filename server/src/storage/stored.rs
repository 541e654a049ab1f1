//! Reading back what a backend stored: a run's status, a membership's role.
//! A value that does not parse is damage to the database, not a client's
//! mistake, hence an internal error. (A run's JSON needs no such check: the
//! database refuses a body that is not JSON.)

use super::{Role, StoreError};
use crate::api::RunStatus;

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
