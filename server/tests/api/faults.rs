//! Faults: the database going away under traffic, and the server killed
//! mid-write.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::support::{
    Agent, BINARY, Backend, ServerProcess, TestDatabase, TestIdp, ThrowawayPostgres, WRITER, at,
    http_client, minimal_run,
};
use task_agent_server::auth::WRITE_SCOPE;

/// A GET and a PUT through `server`: their statuses, and whether each 503
/// carried `Retry-After`.
async fn probe(
    client: &reqwest::Client,
    server: &ServerProcess,
    agent: &Agent,
    existing: Uuid,
) -> [(u16, bool); 2] {
    let get = client
        .get(server.url(&agent.run_path(existing)))
        .send()
        .await;
    let put = client
        .put(server.url(&agent.run_path(Uuid::new_v4())))
        .json(&minimal_run(at(1)))
        .send()
        .await;
    [get, put].map(|response| {
        let response = response.expect("the server answers (it never crashes or hangs up)");
        (
            response.status().as_u16(),
            response.headers().contains_key("retry-after"),
        )
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_down_the_server_answers_503_and_then_recovers_by_itself() {
    let Some(cluster) = ThrowawayPostgres::start("faults::while_postgres_is_down_...").await else {
        return;
    };
    let idp = TestIdp::start().await;
    let mut server = ServerProcess::start(BINARY, &cluster.url(), &idp).await;
    let database = task_agent_server::database_url::DatabaseUrl::Postgres(cluster.url())
        .open()
        .await
        .unwrap();
    let agent = Agent::with_members(database.as_ref()).await;
    drop(database);
    let client = http_client(Some(&idp.token(WRITER, &[WRITE_SCOPE])));
    let existing = Uuid::new_v4();
    let created = client
        .put(server.url(&agent.run_path(existing)))
        .json(&minimal_run(at(0)))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    assert_eq!(
        probe(&client, &server, &agent, existing)
            .await
            .map(|(status, _)| status),
        [200, 201]
    );

    cluster.stop_server().await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let answers = probe(&client, &server, &agent, existing).await;
        for (status, _) in answers {
            assert!(
                [200, 201, 503].contains(&status),
                "while the database goes away: {status}"
            );
        }
        if answers
            .iter()
            .all(|(status, retry_after)| *status == 503 && *retry_after)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no 503 with Retry-After: {answers:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503, "not ready without the database");
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200,
        "but alive"
    );

    cluster.start_server().await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let answers = probe(&client, &server, &agent, existing).await;
        for (status, _) in answers {
            assert!(
                [200, 201, 503].contains(&status),
                "while the database comes back: {status}"
            );
        }
        if answers.map(|(status, _)| status) == [200, 201] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not recover: {answers:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        reqwest::get(server.url("/readyz")).await.unwrap().status(),
        200
    );
    assert!(server.is_running(), "the same process, never restarted");
}

/// A write is acknowledged only once committed (both backends commit
/// concurrent writes in groups), so killing the server loses none of them.
async fn kill_9_during_writes_loses_no_acknowledged_write(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let idp = TestIdp::start().await;
    let agent = {
        let database = storage.url.open().await.unwrap();
        Agent::with_members(database.as_ref()).await
    };
    let mut server = ServerProcess::start(BINARY, &storage.url_string(), &idp).await;
    let client = http_client(Some(&idp.token(WRITER, &[WRITE_SCOPE])));

    // Four writers PUT new runs as fast as they can; each remembers the runs
    // the server acknowledged, with their ETags, and counts them in
    // `acknowledged_so_far`.
    let acknowledged_so_far = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (client, url, agent) = (client.clone(), server.base_url().to_owned(), agent);
            let acknowledged_so_far = acknowledged_so_far.clone();
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for i in 0.. {
                    let run_id = Uuid::new_v4();
                    let body = minimal_run(at(writer * 100_000 + i));
                    match client
                        .put(format!("{url}{}", agent.run_path(run_id)))
                        .json(&body)
                        .send()
                        .await
                    {
                        Ok(response) if response.status() == 201 => {
                            let etag = response.headers()["etag"].to_str().unwrap().to_owned();
                            acknowledged.push((run_id, etag));
                            acknowledged_so_far.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(response) => panic!("writer {writer}: {}", response.status()),
                        Err(_) => return acknowledged, // The server is gone.
                    }
                }
                unreachable!()
            })
        })
        .collect();
    // The kill comes once the writes are in full flow, however slowly a busy
    // machine lets them flow: a fixed delay let a starved run see only five.
    let deadline = Instant::now() + Duration::from_secs(60);
    while acknowledged_so_far.load(Ordering::Relaxed) < 40 {
        assert!(
            Instant::now() < deadline,
            "only {} writes were acknowledged in 60 s",
            acknowledged_so_far.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill().unwrap();
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.unwrap());
    }

    let restarted = ServerProcess::start(BINARY, &storage.url_string(), &idp).await;
    for (run_id, etag) in &acknowledged {
        let response = client
            .get(restarted.url(&agent.run_path(*run_id)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "acknowledged run {run_id} was lost");
        assert_eq!(response.headers()["etag"].to_str().unwrap(), etag);
    }
}

crate::backend_tests!(kill_9_during_writes_loses_no_acknowledged_write);
