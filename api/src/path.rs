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

impl TaskAgentPath {
    /// The URL path of this task agent's runs (`list_task_agent_runs`).
    pub fn runs_path(&self) -> String {
        format!(
            "/api/v1/org/{}/project/{}/task-agent/{}/run",
            self.org_id, self.project_id, self.task_agent_id
        )
    }
}

impl RunPath {
    /// The URL path of this run (`get_task_agent_run`,
    /// `put_task_agent_run`).
    pub fn path(&self) -> String {
        format!("{}/{}", self.task_agent().runs_path(), self.run_id)
    }

    /// The task agent this run belongs to.
    pub fn task_agent(&self) -> TaskAgentPath {
        TaskAgentPath {
            org_id: self.org_id,
            project_id: self.project_id,
            task_agent_id: self.task_agent_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    /// The paths are the trait's route templates, filled in.
    #[test]
    fn the_paths_follow_the_routes_of_the_api() {
        let run = RunPath {
            org_id: Uuid::from_u128(1),
            project_id: Uuid::from_u128(2),
            task_agent_id: Uuid::from_u128(3),
            run_id: Uuid::from_u128(4),
        };
        let fill = |template: &str| {
            template
                .replace("{org_id}", &run.org_id.to_string())
                .replace("{project_id}", &run.project_id.to_string())
                .replace("{task_agent_id}", &run.task_agent_id.to_string())
                .replace("{run_id}", &run.run_id.to_string())
        };
        let document = crate::openapi_document();
        let routes: Vec<String> = document["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(|template| fill(template))
            .collect();
        assert!(routes.contains(&run.path()), "{routes:?}");
        assert!(routes.contains(&run.task_agent().runs_path()), "{routes:?}");
    }
}
