//! Reads one run with tokens from Ory Hydra's client-credentials grant,
//! printing the client's tracing events (token requests, attempts, retries,
//! the server's request ids) to stderr.
//!
//! ```text
//! cargo run -p task-agent-client --example client_credentials -- \
//!     https://app.rightbrain.ai https://auth.example.com CLIENT_ID ORG_ID PROJECT_ID TASK_AGENT_ID RUN_ID
//! ```
//!
//! The client secret is read from `TASK_AGENT_CLIENT_SECRET`.

use std::time::Duration;

use task_agent_client::{Client, ClientCredentials, RetryPolicy};
use uuid::Uuid;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, issuer, client_id, org, project, task_agent, run] = args.as_slice() else {
        return Err(
            "usage: client_credentials BASE_URL ISSUER CLIENT_ID ORG_ID PROJECT_ID \
                    TASK_AGENT_ID RUN_ID (secret in TASK_AGENT_CLIENT_SECRET)"
                .into(),
        );
    };
    let secret = std::env::var("TASK_AGENT_CLIENT_SECRET")?;
    let client = Client::builder(base_url.as_str())
        .client_credentials(
            ClientCredentials::hydra(issuer, client_id.as_str(), secret)
                .with_scopes(["task_agent_runs:read"]),
        )
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy {
            max_attempts: 5,
            ..RetryPolicy::default()
        })
        .build()?;
    let response = client
        .get_task_agent_run()
        .org_id(org.parse::<Uuid>()?)
        .project_id(project.parse::<Uuid>()?)
        .task_agent_id(task_agent.parse::<Uuid>()?)
        .run_id(run.parse::<Uuid>()?)
        .send()
        .await?;
    println!("{}", serde_json::to_string_pretty(response.as_ref())?);
    Ok(())
}
