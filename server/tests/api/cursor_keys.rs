//! Keyed list cursors: a cursor made without the server's key is refused;
//! the key is kept in the database, made once for all replicas, and rotated
//! with `cursor-key rotate`, after which the cursors of the old key are
//! refused with a message that says to start again.

use futures::TryStreamExt;
use task_agent_client::types::{self, TaskAgentRun, TaskAgentRunPage};
use task_agent_client::{Client, ResponseValue};
use task_agent_server::api::TaskAgentPath;
use task_agent_server::auth::WRITE_SCOPE;
use task_agent_server::cursor::{self, CursorKey, ListIdentity};
use task_agent_server::storage::{Position, RunFilter};
use tokio::process::Command;
use uuid::Uuid;

use crate::support::{
    Agent, BINARY, Backend, ServerProcess, TestDatabase, TestIdp, TestServer, WRITER, at,
    expect_status, minimal_run, put_with, unkeyed_cursor,
};

const INVALID: &str = "cursor: corrupt, or issued for other filters";
const ROTATED: &str =
    "cursor: issued before the server's cursor key was rotated; start again from the first page";

/// A page of two runs of `agent` through `client`, after `cursor`.
async fn page(
    agent: &Agent,
    client: &Client,
    cursor: Option<String>,
) -> Result<ResponseValue<TaskAgentRunPage>, task_agent_client::Error<types::Error>> {
    let mut request = agent.list(client).page_limit(2u64);
    if let Some(cursor) = cursor {
        request = request.cursor(cursor);
    }
    request.send().await
}

/// Replicas that start at once share the first key; a rotation replaces it
/// with the next, for every replica.
async fn the_first_key_is_made_once_and_rotation_replaces_it(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let stores = futures::future::try_join_all((0..4).map(|_| storage.url.open()))
        .await
        .unwrap();
    let first = futures::future::try_join_all(stores.iter().map(|store| store.cursor_key()))
        .await
        .unwrap();
    assert_eq!(first[0].id, 1);
    assert_eq!(first[0].secret.len(), 32);
    assert!(first.iter().all(|key| *key == first[0]), "one key for all");

    let second = stores[0].rotate_cursor_key().await.unwrap();
    assert_eq!(second.id, 2);
    assert_ne!(second.secret, first[0].secret);
    assert_eq!(stores[1].cursor_key().await.unwrap(), second);

    // Two rotations at once both succeed; the database keeps the newer.
    let (a, b) = tokio::join!(stores[2].rotate_cursor_key(), stores[3].rotate_cursor_key());
    let newest = [a.unwrap(), b.unwrap()]
        .into_iter()
        .max_by_key(|key| key.id)
        .unwrap();
    assert!(newest.id > 2);
    assert_eq!(stores[0].cursor_key().await.unwrap(), newest);
    assert_eq!(
        format!("{newest:?}"),
        format!("StoredCursorKey {{ id: {} }}", newest.id),
        "the secret stays out of logs"
    );
}

/// Before cursors were keyed, anyone could compute a valid cursor for any
/// position; now a cursor needs the server's secret.
async fn cursors_made_without_the_key_are_refused(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = Uuid::new_v4();
        server.put_run(&agent, id, &minimal_run(at(i))).await;
        ids.push(id);
    }
    let first = agent
        .list(&server.client)
        .page_limit(1u64)
        .send()
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.results[0].id, ids[2]);
    let after_newest = Position {
        created: at(2).into(),
        run_id: ids[2],
    };
    let list = ListIdentity::new(
        &TaskAgentPath {
            org_id: agent.org,
            project_id: agent.project,
            task_agent_id: agent.task_agent,
        },
        &RunFilter::default(),
    );
    // With the server's key, a cursor made here is the one the server
    // issued: what is refused below is refused for its key alone.
    let stored = server.database.cursor_key().await.unwrap();
    let genuine = cursor::encode(
        after_newest,
        &list,
        &CursorKey::new(stored.id, &stored.secret),
    );
    assert_eq!(first.pagination.next_cursor.as_deref(), Some(&*genuine));

    let forged = [
        (
            "checked as before (unkeyed SHA-256)",
            unkeyed_cursor(&agent, after_newest),
        ),
        (
            "an HMAC under another secret",
            cursor::encode(after_newest, &list, &CursorKey::new(stored.id, &[0x5a; 32])),
        ),
    ];
    for (what, cursor) in forged {
        let refused = agent
            .list(&server.client)
            .page_limit(1u64)
            .cursor(cursor)
            .send()
            .await;
        assert_eq!(expect_status(refused, 422).message, INVALID, "{what}");
    }
    let second = agent
        .list(&server.client)
        .page_limit(1u64)
        .cursor(genuine)
        .send()
        .await
        .unwrap();
    assert_eq!(second.results[0].id, ids[1]);
}

/// `cursor-key rotate` while servers run: a replica that sees a cursor of
/// the new key switches to it at once (the others within 30 s), and then
/// refuses the cursors of the old key with 422 and a message that says what
/// to do; a new walk from the first page works.
async fn after_a_rotation_old_cursors_are_refused_and_lists_start_again(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let url = storage.url_string();
    let idp = TestIdp::start().await;
    let mut a = ServerProcess::start(BINARY, &url, &idp).await;
    let database = storage.url.open().await.unwrap();
    let agent = Agent::with_members(database.as_ref()).await;
    let token = idp.token(WRITER, &[WRITE_SCOPE]);
    let via_a = Client::with_bearer_token(a.base_url(), &token).unwrap();
    for i in 0..5 {
        put_with(&via_a, &agent, Uuid::new_v4(), &minimal_run(at(i)), None)
            .await
            .unwrap();
    }
    let old = page(&agent, &via_a, None).await.unwrap().into_inner();
    let old_cursor = old.pagination.next_cursor.unwrap();
    let second = page(&agent, &via_a, Some(old_cursor.clone()))
        .await
        .unwrap();
    assert_eq!(second.results.len(), 2, "accepted before the rotation");

    let output = Command::new(BINARY)
        .args(["cursor-key", "rotate", "--database", &url])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with("cursor key 2 is now current"),
        "{stdout}"
    );

    let mut b = ServerProcess::start(BINARY, &url, &idp).await;
    let via_b = Client::with_bearer_token(b.base_url(), &token).unwrap();
    let new_cursor = page(&agent, &via_b, None)
        .await
        .unwrap()
        .into_inner()
        .pagination
        .next_cursor
        .unwrap();
    let continued = page(&agent, &via_a, Some(new_cursor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        continued.results, second.results,
        "a cursor of the new key works on the replica that held the old one"
    );
    for via in [&via_a, &via_b] {
        let refused = page(&agent, via, Some(old_cursor.clone())).await;
        assert_eq!(expect_status(refused, 422).message, ROTATED);
    }

    let walked: Vec<TaskAgentRun> = agent
        .list(&via_a)
        .page_limit(2u64)
        .stream()
        .try_collect()
        .await
        .unwrap();
    let created: Vec<_> = walked.iter().map(|run| run.created).collect();
    assert_eq!(created, (0..5).rev().map(at).collect::<Vec<_>>());
    for replica in [&mut a, &mut b] {
        assert!(replica.terminate().await.unwrap().success());
    }
}

crate::backend_tests!(
    the_first_key_is_made_once_and_rotation_replaces_it,
    cursors_made_without_the_key_are_refused,
    after_a_rotation_old_cursors_are_refused_and_lists_start_again,
);
