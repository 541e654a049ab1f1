//! `GET {run path}`: 200 with the ETag, 404, and 400 for malformed ids.

use task_agent_server::api::error_codes;
use uuid::Uuid;

use crate::support::{Agent, Backend, TestServer, at, expect_status, full_run};

async fn a_stored_run_is_returned_with_its_etag(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let put = agent
        .put(&server.client)
        .run_id(run_id)
        .body(crate::support::write_body(&full_run(at(0))))
        .send()
        .await
        .unwrap();
    let put_etag = put.headers()["etag"].clone();
    let got = agent
        .get(&server.client)
        .run_id(run_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status().as_u16(), 200);
    assert_eq!(got.headers()["etag"], put_etag);
    assert!(got.headers()["etag"].to_str().unwrap().starts_with('"'));
    assert_eq!(got.id, run_id);
    assert_eq!(got.task_agent_id, agent.task_agent);
    assert_eq!(got.into_inner(), put.into_inner());
}

async fn an_unknown_run_is_404(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;

    let missing = agent
        .get(&server.client)
        .run_id(Uuid::new_v4())
        .send()
        .await;
    let error = expect_status(missing, 404);
    assert_eq!(error.error_code.as_deref(), Some(error_codes::NOT_FOUND));

    // The same run id under another task agent, project or org (of which
    // the caller is also a member) is another run.
    let other_org = server.agent().await.org;
    for other in [
        agent.sibling(),
        Agent {
            project: Uuid::new_v4(),
            ..agent
        },
        Agent {
            org: other_org,
            ..agent
        },
    ] {
        let result = other.get(&server.client).run_id(run_id).send().await;
        expect_status(result, 404);
    }
}

async fn a_path_id_that_is_not_a_uuid_is_400(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run = Uuid::new_v4();
    let good = agent.run_path(run);
    // Each id of the path in turn (fresh UUIDs: each occurs once).
    for id in [agent.org, agent.project, agent.task_agent, run] {
        for bad in ["not-a-uuid", "123", "0d3e0000-0000-4000-8000-00000000000g"] {
            let path = good.replace(&id.to_string(), bad);
            let response = server.http.get(server.url(&path)).send().await.unwrap();
            assert_eq!(response.status(), 400, "{path}");
            assert!(response.headers().contains_key("x-request-id"));
            let body: serde_json::Value = response.json().await.unwrap();
            assert!(body["message"].as_str().unwrap().contains("UUID"), "{body}");
        }
    }
    assert!(server.checked_responses() >= 12);
}

crate::backend_tests!(
    a_stored_run_is_returned_with_its_etag,
    an_unknown_run_is_404,
    a_path_id_that_is_not_a_uuid_is_400,
);
