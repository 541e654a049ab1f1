//! Lists every run of a task agent, newest first, following the cursor.
//!
//! ```text
//! TASK_AGENT_TOKEN=... cargo run -p task-agent-client --example list_runs -- \
//!     http://127.0.0.1:8080 ORG_ID PROJECT_ID TASK_AGENT_ID
//! ```
//!
//! `task-agent-server demo` prints this command with the ids filled in.

use futures::TryStreamExt;
use task_agent_client::Client;
use uuid::Uuid;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base_url, org, project, task_agent] = args.as_slice() else {
        return Err(
            "usage: list_runs BASE_URL ORG_ID PROJECT_ID TASK_AGENT_ID (token in TASK_AGENT_TOKEN)"
                .into(),
        );
    };
    let mut client = Client::builder(base_url.as_str());
    if let Ok(token) = std::env::var("TASK_AGENT_TOKEN") {
        client = client.bearer_token(token);
    }
    let client = client.build()?;
    let mut runs = client
        .list_task_agent_runs()
        .org_id(org.parse::<Uuid>()?)
        .project_id(project.parse::<Uuid>()?)
        .task_agent_id(task_agent.parse::<Uuid>()?)
        .page_limit(20u64)
        .stream();
    let mut count = 0;
    while let Some(run) = runs.try_next().await? {
        count += 1;
        println!(
            "{}  {}  {:<9}  {:>6} tokens  {} credits",
            run.id,
            run.created.format("%Y-%m-%d %H:%M:%S"),
            run.status.as_str(),
            run.total_tokens,
            run.total_charged_credits
                .as_deref()
                .map_or("-", |c| c.as_str()),
        );
    }
    println!("{count} runs");
    Ok(())
}
