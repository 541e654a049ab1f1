//! Every attempt has a deadline; a request that times out is not retried,
//! since the server may still be working on it.

use std::time::{Duration, Instant};

use task_agent_client::{Client, DEFAULT_TIMEOUT, Error, RetryPolicy};

use crate::support::{ApiServer, Front, Reply, get_run};

#[tokio::test]
async fn a_slow_answer_fails_after_the_timeout_without_a_retry() {
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |_| Reply::Delay(Duration::from_secs(5))).await;
    let client = Client::builder(&front.url)
        .bearer_token(api.reader_token())
        .timeout(Duration::from_millis(300))
        .retry(RetryPolicy::default())
        .build()
        .unwrap();
    let sample = api.sample();
    let started = Instant::now();
    let error = get_run(&client, &sample).await.unwrap_err();
    let Error::CommunicationError(error) = &error else {
        panic!("expected a communication error, got {error:?}");
    };
    assert!(error.is_timeout(), "{error:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "it did not wait for the answer"
    );
    assert_eq!(front.seen().len(), 1);
}

#[tokio::test]
async fn the_default_timeout_lets_a_slow_answer_arrive() {
    assert!(DEFAULT_TIMEOUT >= Duration::from_secs(10));
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |_| Reply::Delay(Duration::from_millis(500))).await;
    let client = Client::with_bearer_token(&front.url, &api.reader_token()).unwrap();
    let sample = api.sample();
    let run = get_run(&client, &sample).await.unwrap();
    assert_eq!(run.id, sample.run_id);
}
