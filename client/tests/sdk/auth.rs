//! A static bearer token, and the client-credentials grant against a
//! Hydra-style token endpoint: the token is cached, replaced before it
//! expires, and replaced once when the API refuses it.

use std::time::Duration;

use task_agent_client::{Client, ClientCredentials, Error};

use crate::support::api_server::{CLIENT_SECRET, DEMO_READER};
use crate::support::{ApiServer, get_run};

/// The OAuth client of the tests: a reader of the demo organization.
const CLIENT_ID: &str = DEMO_READER;

async fn get_sample(
    client: &Client,
    api: &ApiServer,
) -> Result<uuid::Uuid, Error<task_agent_client::types::Error>> {
    Ok(get_run(client, &api.sample()).await?.id)
}

/// A client of `api` that gets its tokens from the identity provider.
fn client_of(api: &ApiServer) -> Client {
    let credentials = ClientCredentials::hydra(&api.idp.issuer, CLIENT_ID, CLIENT_SECRET)
        .with_scopes(["task_agent_runs:read", "offline"]);
    Client::builder(&api.url)
        .client_credentials(credentials)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_static_bearer_token_reads_a_run() {
    let api = ApiServer::start().await;
    let client = Client::with_bearer_token(&api.url, &api.reader_token()).unwrap();
    assert_eq!(
        get_sample(&client, &api).await.unwrap(),
        api.sample().run_id
    );

    let anonymous = Client::builder(&api.url).build().unwrap();
    let refused = get_sample(&anonymous, &api).await.unwrap_err();
    assert_eq!(refused.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
}

#[tokio::test]
async fn a_header_breaking_token_is_refused_when_building() {
    let built = Client::with_bearer_token("http://127.0.0.1:1", "line\nbreak");
    assert!(
        matches!(built, Err(task_agent_client::BuildError::InvalidToken)),
        "{built:?}"
    );
}

#[tokio::test]
async fn client_credentials_are_exchanged_once_and_the_token_reused() {
    let api = ApiServer::start().await;
    api.register_client(CLIENT_ID, 3600, 0);
    let client = client_of(&api);
    for _ in 0..3 {
        assert_eq!(
            get_sample(&client, &api).await.unwrap(),
            api.sample().run_id
        );
    }
    let grants = api.idp.grants();
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0].grant_type, "client_credentials");
    assert_eq!(
        grants[0].scope.as_deref(),
        Some("task_agent_runs:read offline")
    );
}

#[tokio::test]
async fn a_token_is_replaced_before_it_expires() {
    let api = ApiServer::start().await;
    // A two-second token is replaced a tenth of its life before it expires.
    api.register_client(CLIENT_ID, 2, 0);
    let client = client_of(&api);
    get_sample(&client, &api).await.unwrap();
    get_sample(&client, &api).await.unwrap();
    assert_eq!(api.idp.grants().len(), 1);
    tokio::time::sleep(Duration::from_millis(1900)).await;
    get_sample(&client, &api).await.unwrap();
    assert_eq!(api.idp.grants().len(), 2);
}

#[tokio::test]
async fn a_refused_token_is_replaced_once_and_the_request_succeeds() {
    let api = ApiServer::start().await;
    api.register_client(CLIENT_ID, 3600, 1);
    let client = client_of(&api);
    assert_eq!(
        get_sample(&client, &api).await.unwrap(),
        api.sample().run_id
    );
    assert_eq!(api.idp.grants().len(), 2);
    // The replacement is cached.
    get_sample(&client, &api).await.unwrap();
    assert_eq!(api.idp.grants().len(), 2);
}

#[tokio::test]
async fn a_token_refused_twice_is_not_replaced_again() {
    let api = ApiServer::start().await;
    api.register_client(CLIENT_ID, 3600, usize::MAX);
    let client = client_of(&api);
    let refused = get_sample(&client, &api).await.unwrap_err();
    assert_eq!(refused.status(), Some(reqwest::StatusCode::UNAUTHORIZED));
    assert_eq!(
        api.idp.grants().len(),
        2,
        "one token, one replacement, no loop"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_fails_with_the_token_endpoint_s_answer() {
    let api = ApiServer::start().await;
    api.register_client(CLIENT_ID, 3600, 0);
    let wrong = ClientCredentials::hydra(&api.idp.issuer, CLIENT_ID, "not the secret");
    let client = Client::builder(&api.url)
        .client_credentials(wrong)
        .build()
        .unwrap();
    let error = get_sample(&client, &api).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("refused the client credentials") && message.contains("invalid_client"),
        "{message}"
    );
    assert!(!message.contains("not the secret"), "{message}");
}

#[tokio::test]
async fn an_unreachable_token_endpoint_fails_the_request_clearly() {
    let api = ApiServer::start().await;
    let nowhere = ClientCredentials::hydra("http://127.0.0.1:1", CLIENT_ID, CLIENT_SECRET);
    let client = Client::builder(&api.url)
        .client_credentials(nowhere)
        .build()
        .unwrap();
    let message = get_sample(&client, &api).await.unwrap_err().to_string();
    assert!(
        message.contains("token endpoint cannot be reached"),
        "{message}"
    );
}
