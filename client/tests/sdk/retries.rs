//! Idempotent requests are tried again after a dropped connection, a 429 or
//! a 503, waiting as `Retry-After` asks; nothing else is retried.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use task_agent_client::types::{TaskAgentRun, TaskAgentRunWrite};
use task_agent_client::{Client, RetryPolicy};
use task_agent_server::api::RunPath;

use crate::support::api_server::{DEMO_WRITER, WRITE_SCOPE};
use crate::support::{ApiServer, Front, Reply, get_run};

/// Quick retries, so that the tests do not wait on backoff.
fn quick(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_secs(2),
    }
}

fn client(front: &Front, token: &str, policy: RetryPolicy) -> Client {
    Client::builder(&front.url)
        .bearer_token(token)
        .retry(policy)
        .build()
        .unwrap()
}

async fn get(
    client: &Client,
    path: &RunPath,
) -> Result<TaskAgentRun, task_agent_client::Error<task_agent_client::types::Error>> {
    Ok(get_run(client, path).await?.into_inner())
}

/// The sample run, read as a reader through `front` with `policy`.
async fn get_sample_through(
    front: &Front,
    api: &ApiServer,
    policy: RetryPolicy,
) -> Result<TaskAgentRun, task_agent_client::Error<task_agent_client::types::Error>> {
    get(&client(front, &api.reader_token(), policy), &api.sample()).await
}

#[tokio::test]
async fn a_get_is_retried_after_503_429_and_a_dropped_connection() {
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |attempt| match attempt {
        0 => Reply::Status(503, vec![("retry-after", "0")]),
        1 => Reply::Status(429, vec![]),
        2 => Reply::Drop,
        _ => Reply::Forward,
    })
    .await;
    let run = get_sample_through(&front, &api, quick(4)).await.unwrap();
    assert_eq!(run.id, api.sample().run_id);
    assert_eq!(front.seen().len(), 4);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |attempt| match attempt {
        0 => Reply::Status(503, vec![("retry-after", "1")]),
        _ => Reply::Forward,
    })
    .await;
    let started = Instant::now();
    get_sample_through(&front, &api, quick(2)).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(front.seen().len(), 2);
}

#[tokio::test]
async fn retries_stop_after_the_last_attempt_with_its_answer() {
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |_| Reply::Status(503, vec![("retry-after", "0")])).await;
    let error = get_sample_through(&front, &api, quick(3))
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(front.seen().len(), 3);
}

#[tokio::test]
async fn other_errors_are_returned_at_once() {
    let api = ApiServer::start().await;
    for status in [400, 401, 403, 404, 409, 412, 422, 500] {
        let front = Front::start(&api.url, move |_| {
            Reply::Status(status, vec![("retry-after", "0")])
        })
        .await;
        let error = get_sample_through(&front, &api, quick(4))
            .await
            .unwrap_err();
        assert_eq!(error.status().map(|status| status.as_u16()), Some(status));
        assert_eq!(front.seen().len(), 1, "{status} is not retried");
    }
}

#[tokio::test]
async fn retries_can_be_turned_off() {
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |_| Reply::Status(503, vec![])).await;
    let error = get_sample_through(&front, &api, RetryPolicy::none())
        .await
        .unwrap_err();
    assert_eq!(error.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(front.seen().len(), 1);
}

#[tokio::test]
async fn a_put_is_retried_with_the_same_body_and_writes_the_run_once() {
    let api = ApiServer::start().await;
    let reader = Client::with_bearer_token(&api.url, &api.reader_token()).unwrap();
    let sample = get(&reader, &api.sample()).await.unwrap();
    let mut body = serde_json::to_value(&sample).unwrap();
    body.as_object_mut()
        .unwrap()
        .retain(|field, _| field != "id" && field != "task_agent_id");
    let body: TaskAgentRunWrite = serde_json::from_value(body).unwrap();
    let path = RunPath {
        run_id: uuid::Uuid::new_v4(),
        ..api.sample()
    };

    let front = Front::start(&api.url, |attempt| match attempt {
        0 => Reply::Status(503, vec![("retry-after", "0")]),
        1 => Reply::Drop,
        _ => Reply::Forward,
    })
    .await;
    let writer = client(&front, &api.token(DEMO_WRITER, &[WRITE_SCOPE]), quick(4));
    let written = writer
        .put_task_agent_run()
        .org_id(path.org_id)
        .project_id(path.project_id)
        .task_agent_id(path.task_agent_id)
        .run_id(path.run_id)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(written.status(), StatusCode::CREATED);
    let seen = front.seen();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|request| request.method == "PUT"));

    let stored = get(&reader, &path).await.unwrap();
    assert_eq!(stored.id, path.run_id);
    assert_eq!(
        TaskAgentRun {
            id: sample.id,
            ..stored
        },
        sample,
        "written once, as sent"
    );
}
