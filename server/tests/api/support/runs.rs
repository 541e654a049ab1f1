//! Writing and reading the sample runs of `task-agent-test-support`
//! through the generated client.

use serde_json::Value;
use task_agent_client::types::{self, TaskAgentRun};
use task_agent_client::{Client, ResponseValue};
use uuid::Uuid;

use super::{Agent, TestServer, write_body};

/// PUTs `body` as run `run_id` of `agent` through `client`, with an
/// optional `If-Match`.
pub async fn put_with(
    client: &Client,
    agent: &Agent,
    run_id: Uuid,
    body: &Value,
    if_match: Option<&str>,
) -> Result<ResponseValue<TaskAgentRun>, task_agent_client::Error<types::Error>> {
    let mut request = agent.put(client).run_id(run_id).body(write_body(body));
    if let Some(condition) = if_match {
        request = request.if_match(condition);
    }
    request.send().await
}

impl TestServer {
    /// Writes `body` as run `run_id` of `agent` through the generated client.
    pub async fn put_run(&self, agent: &Agent, run_id: Uuid, body: &Value) -> TaskAgentRun {
        agent
            .put(&self.client)
            .run_id(run_id)
            .body(write_body(body))
            .send()
            .await
            .unwrap_or_else(|error| panic!("PUT {run_id}: {error}"))
            .into_inner()
    }

    /// Reads run `run_id` of `agent` through the generated client.
    pub async fn get_run(&self, agent: &Agent, run_id: Uuid) -> TaskAgentRun {
        agent
            .get(&self.client)
            .run_id(run_id)
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {run_id}: {error}"))
            .into_inner()
    }
}
