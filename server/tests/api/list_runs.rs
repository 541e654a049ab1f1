//! `GET .../run`: every filter against an oracle, the order, and the 400s
//! and 422s of the query.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use task_agent_client::types::TaskAgentRunPage;
use task_agent_client::{RunStatus, builder};
use uuid::Uuid;

use crate::support::{Agent, Backend, TestServer, at, expect_status};

/// One stored run of the data set, as the oracle sees it.
struct Known {
    id: Uuid,
    created: DateTime<Utc>,
    body: Value,
}

const STATUSES: [&str; 5] = ["completed", "failed", "cancelled", "running", "pending"];

/// 30 varied runs of `agent` (pairs share `created`, so ties are ordered by
/// id), plus runs of a sibling task agent that no list of `agent` may show.
async fn data_set(server: &TestServer, agent: &Agent, revisions: [Uuid; 2]) -> Vec<Known> {
    let mut known = Vec::new();
    for i in 0..30i64 {
        let created = at(i / 2);
        let status = STATUSES[i as usize % 5];
        let terminal = ["completed", "failed", "cancelled"].contains(&status);
        let body = json!({
            "session_id": format!("session-{}", i % 3),
            "input_tokens": i, "output_tokens": 1, "total_tokens": i + 1,
            "created": created,
            "completed": if terminal { json!(created) } else { Value::Null },
            "status": status,
            "is_error": i % 4 == 1,
            "had_task_tool_fail": i % 5 == 2,
            "had_mcp_tool_fail": i % 3 == 0,
            "duration_ms": if i % 6 == 0 { Value::Null } else { json!(i * 100) },
            "task_agent_revision_id": revisions[i as usize % 2],
        });
        let id = Uuid::new_v4();
        server.put_run(agent, id, &body).await;
        known.push(Known { id, created, body });
    }
    let sibling = agent.sibling();
    for i in 0..3 {
        server
            .put_run(
                &sibling,
                Uuid::new_v4(),
                &crate::support::minimal_run(at(i)),
            )
            .await;
    }
    known
}

/// The ids the oracle expects for `keep`, newest first, ties by id.
fn oracle(known: &[Known], keep: impl Fn(&Known) -> bool) -> Vec<Uuid> {
    let mut kept: Vec<&Known> = known.iter().filter(|k| keep(k)).collect();
    kept.sort_by_key(|k| std::cmp::Reverse((k.created, k.id)));
    kept.iter().map(|k| k.id).collect()
}

fn ids(page: &TaskAgentRunPage) -> Vec<Uuid> {
    page.results.iter().map(|run| run.id).collect()
}

async fn every_filter_keeps_exactly_the_matching_runs_newest_first(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let revisions = [Uuid::new_v4(), Uuid::new_v4()];
    let known = data_set(&server, &agent, revisions).await;
    let list = || agent.list(&server.client);

    let all = list().send().await.unwrap().into_inner();
    assert_eq!(ids(&all), oracle(&known, |_| true), "no filter");
    assert!(!all.pagination.has_next);
    assert_eq!(all.pagination.next_cursor, None);
    assert_eq!(
        all.pagination.page_limit.get(),
        100,
        "the default page size"
    );

    let body = |k: &Known, key: &str| k.body[key].clone();
    // Each request is sent in turn below.
    let cases: Vec<(&str, builder::ListTaskAgentRuns, Vec<Uuid>)> = vec![
        (
            "session_id",
            list().session_id("session-1"),
            oracle(&known, |k| body(k, "session_id") == "session-1"),
        ),
        (
            "is_error=true",
            list().is_error(true),
            oracle(&known, |k| body(k, "is_error") == true),
        ),
        (
            "is_error=false",
            list().is_error(false),
            oracle(&known, |k| body(k, "is_error") == false),
        ),
        (
            "had_task_tool_fail",
            list().had_task_tool_fail(true),
            oracle(&known, |k| body(k, "had_task_tool_fail") == true),
        ),
        (
            "had_mcp_tool_fail",
            list().had_mcp_tool_fail(false),
            oracle(&known, |k| body(k, "had_mcp_tool_fail") == false),
        ),
        (
            "status",
            list().status(RunStatus::Cancelled),
            oracle(&known, |k| body(k, "status") == "cancelled"),
        ),
        (
            "created_after (inclusive)",
            list().created_after(at(10)),
            oracle(&known, |k| k.created >= at(10)),
        ),
        (
            "created_before (exclusive)",
            list().created_before(at(4)),
            oracle(&known, |k| k.created < at(4)),
        ),
        (
            "a created window",
            list().created_after(at(3)).created_before(at(7)),
            oracle(&known, |k| k.created >= at(3) && k.created < at(7)),
        ),
        (
            "an empty window",
            list().created_after(at(3)).created_before(at(3)),
            Vec::new(),
        ),
        (
            "min_duration_ms",
            list().min_duration_ms(1500),
            oracle(&known, |k| {
                k.body["duration_ms"].as_i64().is_some_and(|d| d >= 1500)
            }),
        ),
        (
            "min_duration_ms=0 drops unknown durations",
            list().min_duration_ms(0),
            oracle(&known, |k| !k.body["duration_ms"].is_null()),
        ),
        (
            "task_agent_revision_id",
            list().task_agent_revision_id(revisions[1]),
            oracle(&known, |k| {
                body(k, "task_agent_revision_id") == json!(revisions[1])
            }),
        ),
        (
            "several filters",
            list()
                .status(RunStatus::Completed)
                .had_mcp_tool_fail(true)
                .session_id("session-0"),
            oracle(&known, |k| {
                body(k, "status") == "completed"
                    && body(k, "had_mcp_tool_fail") == true
                    && body(k, "session_id") == "session-0"
            }),
        ),
    ];
    for (what, request, want) in cases {
        let page = request.send().await.unwrap().into_inner();
        assert_eq!(ids(&page), want, "{what}");
        assert!(!page.pagination.has_next, "{what}");
    }
    let nothing = list()
        .session_id("no-such-session")
        .send()
        .await
        .unwrap()
        .into_inner();
    assert!(nothing.results.is_empty());
    let nul = server
        .http
        .get(server.url(&format!("{}?session_id=a%00b", agent.runs_path())))
        .send()
        .await
        .unwrap();
    assert_eq!(nul.status(), 200, "a session with NUL matches nothing");
    assert_eq!(nul.json::<Value>().await.unwrap()["results"], json!([]));
    let other = server
        .client
        .list_task_agent_runs()
        .org_id(agent.org)
        .project_id(agent.project)
        .task_agent_id(Uuid::new_v4())
        .send()
        .await
        .unwrap();
    assert!(
        other.results.is_empty(),
        "a task agent without runs lists nothing"
    );
}

async fn the_page_limit_defaults_to_100_and_is_bounded(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    for i in 0..101 {
        server
            .put_run(&agent, Uuid::new_v4(), &crate::support::minimal_run(at(i)))
            .await;
    }
    let page = agent.list(&server.client).send().await.unwrap();
    assert_eq!(page.results.len(), 100);
    assert!(page.pagination.has_next);
    assert!(page.pagination.next_cursor.is_some());

    let too_many = agent.list(&server.client).page_limit(101u64).send().await;
    let error = expect_status(too_many, 422);
    assert!(
        error.message.starts_with("page_limit: "),
        "{}",
        error.message
    );
    for bad in ["0", "-1", "1000000"] {
        let response = server
            .http
            .get(server.url(&format!("{}?page_limit={bad}", agent.runs_path())))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "page_limit={bad}");
    }
}

async fn invalid_query_values_are_400_and_broken_rules_422(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    server
        .put_run(&agent, Uuid::new_v4(), &crate::support::minimal_run(at(0)))
        .await;
    let get = |query: &str| {
        let url = server.url(&format!("{}?{query}", agent.runs_path()));
        let http = server.http.clone();
        async move {
            let response = http.get(url).send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    for query in [
        "page_limit=ten",
        "page_limit=1.5",
        "is_error=maybe",
        "had_task_tool_fail=2",
        "had_mcp_tool_fail=",
        "status=paused",
        "created_after=yesterday",
        "created_before=2026-13-01T00:00:00Z",
        "min_duration_ms=abc",
        "task_agent_revision_id=not-a-uuid",
    ] {
        let (status, body) = get(query).await;
        assert_eq!(status, 400, "{query}: {body}");
    }
    for (query, field) in [
        ("min_duration_ms=-1", "min_duration_ms"),
        (
            "created_after=2026-11-02T00:00:00Z&created_before=2026-11-01T00:00:00Z",
            "created_after",
        ),
        ("cursor=garbage", "cursor"),
        ("cursor=", "cursor"),
    ] {
        let (status, body) = get(query).await;
        assert_eq!(status, 422, "{query}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}: ")),
            "{query}: {body}"
        );
    }
}

async fn a_cursor_only_continues_the_list_it_came_from(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    for i in 0..5 {
        let mut body = crate::support::minimal_run(at(i));
        body["is_error"] = json!(i % 2 == 0);
        server.put_run(&agent, Uuid::new_v4(), &body).await;
    }
    let first = agent
        .list(&server.client)
        .page_limit(2u64)
        .send()
        .await
        .unwrap();
    let cursor = first.pagination.next_cursor.clone().expect("a second page");

    let other_filters = agent
        .list(&server.client)
        .is_error(true)
        .cursor(cursor.clone())
        .send()
        .await;
    let error = expect_status(other_filters, 422);
    assert!(error.message.starts_with("cursor: "), "{}", error.message);

    let sibling = agent.sibling();
    let other_agent = sibling
        .list(&server.client)
        .cursor(cursor.clone())
        .send()
        .await;
    expect_status(other_agent, 422);

    // Every single-character change of the cursor is detected.
    let mut tampered = 0;
    for index in 0..cursor.len() {
        for replacement in ['A', 'z', '-', '_', '0'] {
            let mut changed: Vec<char> = cursor.chars().collect();
            if changed[index] == replacement {
                continue;
            }
            changed[index] = replacement;
            let changed: String = changed.into_iter().collect();
            let url = server.url(&format!(
                "{}?page_limit=2&cursor={changed}",
                agent.runs_path()
            ));
            let response = server.http.get(url).send().await.unwrap();
            assert_eq!(response.status(), 422, "cursor {changed}");
            tampered += 1;
        }
    }
    assert!(tampered > 100);

    // The same page size is not part of the binding: a client may change it.
    let rest = agent
        .list(&server.client)
        .page_limit(10u64)
        .cursor(cursor)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.results.len(), 3);
}

async fn any_instant_is_kept_to_the_millisecond_and_ordered(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    // Out of the range of 64-bit nanoseconds, around the epoch, and finer
    // than the millisecond the API keeps (digits past it are dropped).
    let instants = [
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.500Z"),
        ("1969-12-31T23:59:59.9995Z", "1969-12-31T23:59:59.999Z"),
        ("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"),
        ("2026-11-01T00:00:00.001999999Z", "2026-11-01T00:00:00.001Z"),
        ("2026-11-01T00:00:00.002000001Z", "2026-11-01T00:00:00.002Z"),
        ("9999-12-31T23:59:59.999999999Z", "9999-12-31T23:59:59.999Z"),
    ];
    let mut written = Vec::new();
    for (sent, kept) in instants {
        let id = Uuid::new_v4();
        let body = json!({
            "session_id": "s", "input_tokens": 0, "output_tokens": 0, "total_tokens": 0,
            "created": sent, "status": "running",
        });
        let stored = server.put_run(&agent, id, &body).await;
        assert_eq!(
            stored.created,
            kept.parse::<DateTime<Utc>>().unwrap(),
            "{sent}"
        );
        written.push(id);
    }
    let page = agent.list(&server.client).page_limit(2u64).stream();
    let listed: Vec<Uuid> = futures::TryStreamExt::try_collect::<Vec<_>>(page)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    written.reverse();
    assert_eq!(listed, written, "newest first, across pages");
    let window = agent
        .list(&server.client)
        .created_after("2026-11-01T00:00:00.001Z".parse::<DateTime<Utc>>().unwrap())
        .created_before("2026-11-01T00:00:00.002Z".parse::<DateTime<Utc>>().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&window), [written[2]], "bounds to the millisecond");
}

crate::backend_tests!(
    any_instant_is_kept_to_the_millisecond_and_ordered,
    every_filter_keeps_exactly_the_matching_runs_newest_first,
    the_page_limit_defaults_to_100_and_is_bounded,
    invalid_query_values_are_400_and_broken_rules_422,
    a_cursor_only_continues_the_list_it_came_from,
);
