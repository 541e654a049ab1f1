//! Walking a list page by page: no run twice, none missed, even while runs
//! are being written; and the client's stream over all pages.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::TryStreamExt;
use task_agent_client::types::TaskAgentRun;
use uuid::Uuid;

use crate::support::{Backend, TestServer, at, minimal_run};

async fn pages_have_no_duplicates_or_gaps_while_runs_are_inserted(backend: Backend) {
    let server = Arc::new(TestServer::start(backend).await);
    let agent = server.agent().await;
    let mut before = HashSet::new();
    for i in 0..120 {
        let id = Uuid::new_v4();
        // Several runs share each instant, so ties are ordered by id.
        server.put_run(&agent, id, &minimal_run(at(i / 4))).await;
        before.insert(id);
    }

    let writing = Arc::new(AtomicBool::new(true));
    let writer = {
        let (server, writing) = (server.clone(), writing.clone());
        tokio::spawn(async move {
            let mut written = 0;
            let mut i = 0;
            while writing.load(Ordering::SeqCst) {
                // Newer runs land before the cursor, older ones behind it;
                // neither may disturb the walk.
                let created = if i % 2 == 0 {
                    at(1_000 + i)
                } else {
                    at(-1_000 - i)
                };
                server
                    .put_run(&agent, Uuid::new_v4(), &minimal_run(created))
                    .await;
                written += 1;
                i += 1;
                tokio::task::yield_now().await;
            }
            written
        })
    };

    let mut seen: Vec<TaskAgentRun> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = agent.list(&server.client).page_limit(7u64);
        if let Some(cursor) = cursor.take() {
            request = request.cursor(cursor);
        }
        let page = request.send().await.unwrap().into_inner();
        pages += 1;
        assert!(page.results.len() <= 7);
        assert_eq!(
            page.pagination.has_next,
            page.pagination.next_cursor.is_some()
        );
        seen.extend(page.results);
        match page.pagination.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
        tokio::task::yield_now().await;
    }
    writing.store(false, Ordering::SeqCst);
    let concurrent_writes = writer.await.unwrap();

    assert!(pages >= 120 / 7, "walked {pages} pages");
    assert!(concurrent_writes > 0, "runs were written during the walk");
    let mut unique = HashSet::new();
    for run in &seen {
        assert!(unique.insert(run.id), "run {} appeared twice", run.id);
    }
    for window in seen.windows(2) {
        assert!(
            (window[0].created, window[0].id) > (window[1].created, window[1].id),
            "out of order"
        );
    }
    let missing: Vec<_> = before.difference(&unique).collect();
    assert!(
        missing.is_empty(),
        "runs that existed before the walk were skipped: {missing:?}"
    );
}

async fn the_client_stream_yields_every_run_across_pages(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let mut written = Vec::new();
    for i in 0..23 {
        let id = Uuid::new_v4();
        let mut body = minimal_run(at(i));
        body["is_error"] = serde_json::json!(i % 2 == 0);
        server.put_run(&agent, id, &body).await;
        written.push((at(i), id, i % 2 == 0));
    }
    let streamed: Vec<TaskAgentRun> = agent
        .list(&server.client)
        .is_error(true)
        .page_limit(5u64)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let mut expected: Vec<_> = written
        .iter()
        .filter(|(_, _, error)| *error)
        .map(|(created, id, _)| (*created, *id))
        .collect();
    expected.sort_by(|a, b| b.cmp(a));
    let got: Vec<_> = streamed.iter().map(|run| (run.created, run.id)).collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 12);
}

crate::backend_tests!(
    pages_have_no_duplicates_or_gaps_while_runs_are_inserted,
    the_client_stream_yields_every_run_across_pages,
);
