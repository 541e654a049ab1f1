//! A newer server may send a status, a file source or a field this client
//! does not know: the response still reads, and the unknown values are kept.

use serde_json::{Value, json};
use task_agent_client::{Client, RunFileSource, RunStatus};

use crate::support::{ApiServer, Front, Reply, get_run};

/// What a later version of the server might send for a run.
fn from_a_later_server(run: &mut Value) {
    run["status"] = json!("paused");
    run["files"] = json!([{
        "id": "8f1c0000-0000-4000-8000-000000000001",
        "filename": "transcript.txt",
        "content_type": "text/plain",
        "size_bytes": 1024,
        "source": "emailed",
        "created": "2026-01-01T00:00:00Z",
        "retention_days": 30,
    }]);
    run["priority"] = json!({ "level": 3, "reason": "vip" });
    if let Some(usage) = run["model_usages"]
        .as_array_mut()
        .and_then(|usages| usages.first_mut())
    {
        usage["cached_tokens"] = json!(12);
    }
}

#[tokio::test]
async fn unknown_values_are_kept_and_unknown_fields_ignored() {
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |_| Reply::ForwardEdited(from_a_later_server)).await;
    let client = Client::with_bearer_token(&front.url, &api.reader_token()).unwrap();
    let sample = api.sample();
    let run = get_run(&client, &sample).await.unwrap().into_inner();
    assert_eq!(run.id, sample.run_id);
    assert_eq!(run.status, RunStatus::Unknown("paused".to_owned()));
    assert!(!run.status.is_terminal());
    assert_eq!(
        run.files[0].source,
        RunFileSource::Unknown("emailed".to_owned())
    );
    assert_eq!(run.files[0].size_bytes, 1024);
    // Written back, an unknown value is the value that came.
    let json = serde_json::to_value(&run).unwrap();
    assert_eq!(
        (json["status"].as_str(), json["files"][0]["source"].as_str()),
        (Some("paused"), Some("emailed"))
    );
}

/// Every run of a page goes through the same change.
fn page_from_a_later_server(page: &mut Value) {
    for run in page["results"].as_array_mut().unwrap() {
        from_a_later_server(run);
    }
    page["total_estimate"] = json!(60);
}

#[tokio::test]
async fn a_page_with_unknown_values_still_reads() {
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |_| Reply::ForwardEdited(page_from_a_later_server)).await;
    let client = Client::with_bearer_token(&front.url, &api.reader_token()).unwrap();
    let sample = api.sample();
    let page = client
        .list_task_agent_runs()
        .org_id(sample.org_id)
        .project_id(sample.project_id)
        .task_agent_id(sample.task_agent_id)
        .page_limit(5u64)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.results.len(), 5);
    assert!(
        page.results
            .iter()
            .all(|run| run.status.as_str() == "paused")
    );
    // A known status is still a known variant, not `Unknown`.
    assert_eq!("failed".parse::<RunStatus>().unwrap(), RunStatus::Failed);
}
