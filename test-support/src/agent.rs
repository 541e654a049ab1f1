//! A task agent of the tests' own: fresh ids, the members that may read and
//! write its runs, its URL paths, and the generated client's calls on it.

use task_agent_api::{RunPath, TaskAgentPath};
use task_agent_client::{Client, builder};
use task_agent_server::storage::{Database, Membership, Role};
use uuid::Uuid;

/// The subject that is a writer in every organization
/// [`Agent::with_members`] makes.
pub const WRITER: &str = "writer@example.com";
/// The subject that is a reader in every organization
/// [`Agent::with_members`] makes.
pub const READER: &str = "reader@example.com";

/// A task agent with fresh ids (a new organization and project), so that
/// tests sharing a database never see each other's runs.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct Agent {
    /// The organization.
    pub org: Uuid,
    /// The project.
    pub project: Uuid,
    /// The task agent.
    pub task_agent: Uuid,
}

impl Default for Agent {
    fn default() -> Agent {
        Agent::new()
    }
}

impl Agent {
    /// A task agent with new ids, stored nowhere.
    pub fn new() -> Agent {
        Agent {
            org: Uuid::new_v4(),
            project: Uuid::new_v4(),
            task_agent: Uuid::new_v4(),
        }
    }

    /// A new organization, project and task agent in `database`, in which
    /// [`WRITER`] is a writer and [`READER`] a reader.
    ///
    /// # Panics
    ///
    /// If the database refuses the memberships.
    pub async fn with_members(database: &dyn Database) -> Agent {
        let agent = Agent::new();
        for (subject, role) in [(WRITER, Role::Writer), (READER, Role::Reader)] {
            let membership = Membership {
                org_id: agent.org,
                subject: subject.to_owned(),
                role,
            };
            database.put_member(&membership).await.unwrap();
        }
        agent
    }

    /// Another task agent in the same project.
    pub fn sibling(&self) -> Agent {
        Agent {
            task_agent: Uuid::new_v4(),
            ..*self
        }
    }

    /// Its path parameters.
    pub fn path(&self) -> TaskAgentPath {
        TaskAgentPath {
            org_id: self.org,
            project_id: self.project,
            task_agent_id: self.task_agent,
        }
    }

    /// The path parameters of its run `run_id`.
    pub fn run(&self, run_id: Uuid) -> RunPath {
        RunPath {
            org_id: self.org,
            project_id: self.project,
            task_agent_id: self.task_agent,
            run_id,
        }
    }

    /// The URL path of its runs, `/api/v1/org/.../run`.
    pub fn runs_path(&self) -> String {
        self.path().runs_path()
    }

    /// The URL path of its run `run_id`, `/api/v1/org/.../run/{run_id}`.
    pub fn run_path(&self, run_id: Uuid) -> String {
        self.run(run_id).path()
    }

    /// `list_task_agent_runs` of this task agent, to be given its query.
    pub fn list<'a>(&self, client: &'a Client) -> builder::ListTaskAgentRuns<'a> {
        client
            .list_task_agent_runs()
            .org_id(self.org)
            .project_id(self.project)
            .task_agent_id(self.task_agent)
    }

    /// `get_task_agent_run` of this task agent, to be given the run id.
    pub fn get<'a>(&self, client: &'a Client) -> builder::GetTaskAgentRun<'a> {
        client
            .get_task_agent_run()
            .org_id(self.org)
            .project_id(self.project)
            .task_agent_id(self.task_agent)
    }

    /// `put_task_agent_run` of this task agent, to be given the run id and
    /// the body.
    pub fn put<'a>(&self, client: &'a Client) -> builder::PutTaskAgentRun<'a> {
        client
            .put_task_agent_run()
            .org_id(self.org)
            .project_id(self.project)
            .task_agent_id(self.task_agent)
    }
}
