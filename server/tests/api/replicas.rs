//! Two server processes on one PostgreSQL database: what one writes the
//! other reads, their lists agree, a cursor one issues the other accepts,
//! and concurrent conditional writes through both never both win.

use serde_json::json;
use task_agent_client::Client;
use task_agent_server::auth::WRITE_SCOPE;
use uuid::Uuid;

use crate::support::{
    Agent, BINARY, Backend, ServerProcess, TestDatabase, TestIdp, WRITER, at, expect_status,
    minimal_run, put_with,
};

async fn list_ids(client: &Client, agent: &Agent) -> Vec<Uuid> {
    let page = agent.list(client).send().await.unwrap();
    page.results.iter().map(|run| run.id).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_database() {
    let Some(backend) = Backend::postgres_or_skip("two_replicas_share_one_database") else {
        return;
    };
    let storage = TestDatabase::create(backend).await;
    let idp = TestIdp::start().await;
    // Both start at once on an empty schema: their migrations race.
    let url = storage.url_string();
    let (mut a, mut b) = tokio::join!(
        ServerProcess::start(BINARY, &url, &idp),
        ServerProcess::start(BINARY, &url, &idp)
    );
    let database = storage.url.open().await.unwrap();
    let agent = Agent::with_members(database.as_ref()).await;
    let token = idp.token(WRITER, &[WRITE_SCOPE]);
    let (via_a, via_b) = (
        Client::with_bearer_token(a.base_url(), &token).unwrap(),
        Client::with_bearer_token(b.base_url(), &token).unwrap(),
    );

    let run_id = Uuid::new_v4();
    let written = put_with(&via_a, &agent, run_id, &minimal_run(at(0)), None)
        .await
        .unwrap();
    let read = agent.get(&via_b).run_id(run_id).send().await.unwrap();
    assert_eq!(read.headers()["etag"], written.headers()["etag"]);
    assert_eq!(read.into_inner(), written.into_inner());

    for i in 1..20 {
        let through = if i % 2 == 0 { &via_a } else { &via_b };
        put_with(through, &agent, Uuid::new_v4(), &minimal_run(at(i)), None)
            .await
            .unwrap();
    }
    let listed_a = list_ids(&via_a, &agent).await;
    assert_eq!(listed_a.len(), 20);
    assert_eq!(
        listed_a,
        list_ids(&via_b, &agent).await,
        "both replicas list the same runs in the same order"
    );

    // A walk whose pages alternate between the replicas: each accepts the
    // other's cursors (the key that signs them is in the shared database).
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    for through in [&via_a, &via_b].into_iter().cycle() {
        let mut request = agent.list(through).page_limit(3u64);
        if let Some(cursor) = cursor.take() {
            request = request.cursor(cursor);
        }
        let page = request.send().await.unwrap().into_inner();
        walked.extend(page.results.iter().map(|run| run.id));
        match page.pagination.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(walked, listed_a, "no run missed or repeated");

    // Conditional writes racing through the two replicas: one wins, the
    // other gets 412, and the stored run is the winner's, unmerged.
    for round in 0..20 {
        let run_id = Uuid::new_v4();
        let mut running = json!({
            "session_id": "race", "input_tokens": 1, "output_tokens": 1, "total_tokens": 2,
            "created": at(100 + round), "status": "running",
        });
        let created = put_with(&via_a, &agent, run_id, &running, None)
            .await
            .unwrap();
        let etag = created.headers()["etag"].to_str().unwrap().to_owned();
        running["session_id"] = json!("through-a");
        let body_a = running.clone();
        running["session_id"] = json!("through-b");
        let body_b = running.clone();
        let (result_a, result_b) = tokio::join!(
            put_with(&via_a, &agent, run_id, &body_a, Some(&etag)),
            put_with(&via_b, &agent, run_id, &body_b, Some(&etag))
        );
        let winner = match (result_a, result_b) {
            (Ok(won), lost) | (lost, Ok(won)) => {
                expect_status(lost, 412);
                won.into_inner()
            }
            (a, b) => panic!("round {round}: neither write won: {a:?} {b:?}"),
        };
        let stored = agent
            .get(&via_b)
            .run_id(run_id)
            .send()
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            stored, winner,
            "round {round}: the stored run is the winner's"
        );
        assert!(["through-a", "through-b"].contains(&stored.session_id.as_str()));
    }
    for replica in [&mut a, &mut b] {
        assert!(
            replica.terminate().await.unwrap().success(),
            "SIGTERM stops a replica cleanly"
        );
    }
}
