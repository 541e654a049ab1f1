//! A downstream project's test, mocking this API with the generated
//! `httpmock` helpers instead of running the server.

use httpmock::MockServer;
use task_agent_client::Client;
use task_agent_client::mock::MockServerExt;
use task_agent_client::types::{self, TaskAgentRun};
use task_agent_server::api::error_codes;

/// What a project's code under test might do: report a run's status.
async fn describe(
    client: &Client,
    org: uuid::Uuid,
    project: uuid::Uuid,
    agent: uuid::Uuid,
    run: uuid::Uuid,
) -> String {
    match client
        .get_task_agent_run()
        .org_id(org)
        .project_id(project)
        .task_agent_id(agent)
        .run_id(run)
        .send()
        .await
    {
        Ok(run) => format!("{} used {} tokens", run.status, run.total_tokens),
        Err(error) => match error.status() {
            Some(status) => format!("no run ({status})"),
            None => format!("unreachable: {error}"),
        },
    }
}

fn run(id: uuid::Uuid, agent: uuid::Uuid) -> TaskAgentRun {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "task_agent_id": agent,
        "session_id": "session-1",
        "user_id": null,
        "input_tokens": 1200,
        "output_tokens": 300,
        "total_tokens": 1500,
        "charged_credits": "0.25",
        "total_charged_credits": "0.25",
        "created": "2026-11-28T10:00:00Z",
        "completed": "2026-11-28T10:00:05Z",
        "last_activity_at": "2026-11-28T10:00:05Z",
        "duration_ms": 5000,
        "status": "completed",
        "is_error": false,
        "task_agent_revision_id": null,
        "primary_llm_model_id": null,
        "fallback_llm_model_id": null,
        "primary_failure_reason": null,
        "termination_reason": null,
        "invocation_id": null,
        "is_continuation": false,
        "used_fallback_model": false,
        "had_mcp_tool_fail": false,
        "had_task_tool_fail": false,
        "had_integration_tool_fail": false,
        "mcp_tools_invoked": null,
        "task_tools_invoked": null,
        "integration_tools_invoked": null,
        "skills_activated": null,
        "phase_timings": null,
        "context_usage": null,
        "model_usages": [],
        "files": [],
    }))
    .unwrap()
}

#[tokio::test]
async fn a_downstream_test_mocks_the_api() {
    let (org, project, agent) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    let (known, missing) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let server = MockServer::start_async().await;
    let found = server.get_task_agent_run(|when, then| {
        when.org_id(&org)
            .project_id(&project)
            .task_agent_id(&agent)
            .run_id(&known);
        then.ok(&run(known, agent));
    });
    let not_found = server.get_task_agent_run(|when, then| {
        when.run_id(&missing);
        then.not_found(&types::Error {
            request_id: "mock".to_owned(),
            error_code: Some(error_codes::NOT_FOUND.to_owned()),
            message: "Not Found".to_owned(),
        });
    });

    let client = Client::builder(server.base_url()).build().unwrap();
    assert_eq!(
        describe(&client, org, project, agent, known).await,
        "completed used 1500 tokens"
    );
    assert_eq!(
        describe(&client, org, project, agent, missing).await,
        "no run (404 Not Found)"
    );
    found.assert_async().await;
    not_found.assert_async().await;
}
