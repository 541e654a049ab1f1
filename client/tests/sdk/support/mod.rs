//! What the client's tests run against: the real server with the demo's
//! sample runs on a SQLite file, trusting a Hydra stand-in that is also
//! the token endpoint of the client-credentials grant, and a front server
//! that fails on purpose before it lets requests through.

pub mod api_server;
pub mod front;
pub mod golden;

pub use api_server::ApiServer;
pub use front::{Front, Reply};

use task_agent_client::types::{self, TaskAgentRun};
use task_agent_client::{Client, Error, ResponseValue};
use task_agent_server::api::RunPath;

/// `GET` of the run at `path`.
pub async fn get_run(
    client: &Client,
    path: &RunPath,
) -> Result<ResponseValue<TaskAgentRun>, Error<types::Error>> {
    client
        .get_task_agent_run()
        .org_id(path.org_id)
        .project_id(path.project_id)
        .task_agent_id(path.task_agent_id)
        .run_id(path.run_id)
        .send()
        .await
}
