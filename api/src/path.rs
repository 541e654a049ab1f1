//! Path parameters. Every id in a path is a UUID; anything else is a 400.

use schemars::JsonSchema;
use serde::Deserialize;
use uuid::Uuid;

/// Path of the runs of one task agent.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, JsonSchema, PartialEq)]
pub struct TaskAgentPath {
    /// The organization.
    pub org_id: Uuid,
    /// The project within the organization.
    pub project_id: Uuid,
    /// The task agent within the project.
    pub task_agent_id: Uuid,
}

/// Path of one run.
#[derive(Clone, Copy, Debug, Deserialize, Eq, Hash, JsonSchema, PartialEq)]
pub struct RunPath {
    /// The organization.
    pub org_id: Uuid,
    /// The project within the organization.
    pub project_id: Uuid,
    /// The task agent within the project.
    pub task_agent_id: Uuid,
    /// The run.
    pub run_id: Uuid,
}

impl RunPath {
    /// The task agent this run belongs to.
    pub fn task_agent(&self) -> TaskAgentPath {
        TaskAgentPath {
            org_id: self.org_id,
            project_id: self.project_id,
            task_agent_id: self.task_agent_id,
        }
    }
}
