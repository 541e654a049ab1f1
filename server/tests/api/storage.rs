//! The storage interface itself, on both backends: migrations, concurrent
//! writers, batches and memberships.

use std::sync::Arc;

use futures::future::join_all;
use serde_json::json;
use task_agent_server::api::{RunPath, TaskAgentPath, TaskAgentRun};
use task_agent_server::etag::{IfMatch, etag_of};
use task_agent_server::storage::{
    Database, Membership, PutError, PutOutcome, PutRejection, Role, RunFilter, RunRecord, RunWrite,
    StoreError,
};
use uuid::Uuid;

use crate::support::{Backend, TestDatabase, at};

fn record(path: RunPath, session: &str, status: &str) -> RunRecord {
    let terminal = ["completed", "failed", "cancelled"].contains(&status);
    let run: TaskAgentRun = serde_json::from_value(json!({
        "id": path.run_id, "task_agent_id": path.task_agent_id, "session_id": session, "user_id": null,
        "input_tokens": 1, "output_tokens": 1, "total_tokens": 2, "charged_credits": null,
        "total_charged_credits": null, "created": at(0), "completed": if terminal { json!(at(1)) } else { json!(null) },
        "last_activity_at": null, "duration_ms": null, "status": status, "is_error": false,
        "task_agent_revision_id": null, "primary_llm_model_id": null, "fallback_llm_model_id": null,
        "invocation_id": null, "is_continuation": false, "used_fallback_model": false, "had_task_tool_fail": false,
        "had_mcp_tool_fail": false, "had_integration_tool_fail": false, "primary_failure_reason": null,
        "termination_reason": null, "task_tools_invoked": null, "mcp_tools_invoked": null,
        "integration_tools_invoked": null, "skills_activated": null, "phase_timings": null, "context_usage": null,
        "model_usages": [], "files": [],
    }))
    .unwrap();
    RunRecord::new(path, &run).unwrap()
}

fn new_path() -> RunPath {
    RunPath {
        org_id: Uuid::new_v4(),
        project_id: Uuid::new_v4(),
        task_agent_id: Uuid::new_v4(),
        run_id: Uuid::new_v4(),
    }
}

async fn migrations_run_once_even_when_started_together(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let opened = join_all((0..4).map(|_| storage.url.open())).await;
    let stores: Vec<_> = opened
        .into_iter()
        .map(|store| store.expect("every concurrent start migrates or waits"))
        .collect();
    let path = new_path();
    stores[0]
        .put_run(record(path, "s", "running"), None)
        .await
        .unwrap();
    let reopened = storage
        .url
        .open()
        .await
        .expect("reopening an up-to-date database");
    assert!(
        reopened.get_run(&path).await.unwrap().is_some(),
        "nothing was migrated twice or lost"
    );
    reopened.ping().await.unwrap();
}

async fn concurrent_creators_of_one_run_leave_one_creation(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    let path = new_path();
    let outcomes = join_all((0..8).map(|writer| {
        let store = Arc::clone(&store);
        async move {
            store
                .put_run(record(path, &format!("writer-{writer}"), "running"), None)
                .await
                .unwrap()
        }
    }))
    .await;
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PutOutcome::Created)
            .count(),
        1,
        "{outcomes:?}"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| **o == PutOutcome::Replaced)
            .count(),
        7,
        "{outcomes:?}"
    );
}

async fn concurrent_conditional_writers_never_both_win(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    let path = new_path();
    let first = record(path, "first", "running");
    let etag = first.etag.clone();
    store.put_run(first, None).await.unwrap();
    let results = join_all((0..8).map(|writer| {
        let (store, condition) = (Arc::clone(&store), IfMatch::parse(&etag).unwrap());
        async move {
            store
                .put_run(
                    record(path, &format!("writer-{writer}"), "running"),
                    Some(condition),
                )
                .await
        }
    }))
    .await;
    let won = results
        .iter()
        .filter(|r| matches!(r, Ok(PutOutcome::Replaced)))
        .count();
    let lost = results
        .iter()
        .filter(|r| matches!(r, Err(PutError::Rejected(PutRejection::PreconditionFailed))))
        .count();
    assert_eq!((won, lost), (1, 7), "{results:?}");
}

async fn concurrent_writers_of_many_runs_each_get_their_own_outcome(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    // Writes that arrive together may share a transaction (group commit on
    // SQLite): creations, and conditions on runs that do not exist, mixed.
    let writes: Vec<(RunPath, Option<IfMatch>)> = (0..64)
        .map(|n| (new_path(), (n % 4 == 3).then_some(IfMatch::Any)))
        .collect();
    let results = join_all(writes.iter().map(|(path, condition)| {
        let (store, condition) = (Arc::clone(&store), condition.clone());
        async move {
            store
                .put_run(record(*path, "s", "running"), condition)
                .await
        }
    }))
    .await;
    for ((path, condition), result) in writes.iter().zip(&results) {
        let stored = store.get_run(path).await.unwrap();
        match condition {
            None => {
                assert!(matches!(result, Ok(PutOutcome::Created)), "{result:?}");
                assert!(stored.is_some(), "an acknowledged creation is stored");
            }
            Some(_) => {
                assert!(
                    matches!(
                        result,
                        Err(PutError::Rejected(PutRejection::PreconditionFailed))
                    ),
                    "{result:?}"
                );
                assert!(stored.is_none(), "a refused write leaves nothing");
            }
        }
    }
}

/// SQLite commits writes that arrive together in one transaction; when that
/// transaction fails, the failure reaches only the write that caused it.
/// On PostgreSQL a write decides on what its `SELECT ... FOR UPDATE` saw,
/// and a new run has no row to lock: another session may create it before
/// the write inserts it. Here that session's insert is in place but not yet
/// committed, so the write's insert waits on the primary key; once the
/// other session commits, the insert fails, the `COMMIT` that went out
/// with it rolls back, and the write is decided again against the stored
/// run: replaced, neither created twice nor an error.
#[tokio::test]
async fn on_postgresql_a_run_created_meanwhile_is_replaced_not_created_twice() {
    let Some(backend) = Backend::postgres_or_skip(
        "on_postgresql_a_run_created_meanwhile_is_replaced_not_created_twice",
    ) else {
        return;
    };
    let (storage, store, template) = database_with_a_run(backend).await;
    let path = RunPath {
        run_id: Uuid::new_v4(),
        ..template
    };
    let (other, connection) = tokio_postgres::connect(&storage.url_string(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    other.batch_execute("BEGIN").await.unwrap();
    let inserted = other
        .execute(
            "INSERT INTO task_agent_runs SELECT org_id, project_id, task_agent_id, $1, created_sec, \
             created_nsec, 'other', status, is_error, had_task_tool_fail, had_mcp_tool_fail, \
             duration_ms, task_agent_revision_id, etag, body FROM task_agent_runs WHERE run_id = $2",
            &[&path.run_id, &template.run_id],
        )
        .await
        .unwrap();
    assert_eq!(inserted, 1);

    let writing = {
        let store = Arc::clone(&store);
        tokio::spawn(async move { store.put_run(record(path, "mine", "running"), None).await })
    };
    // Until the write waits on the other session's uncommitted row.
    let mut waits = 0;
    for _ in 0..500 {
        if waits > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let row = other
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'transactionid'",
                &[],
            )
            .await
            .unwrap();
        waits = row.get::<_, i64>(0);
        assert!(
            !writing.is_finished(),
            "the write did not wait for the other session"
        );
    }
    assert!(
        waits > 0,
        "the write never waited on the other session's row"
    );
    other.batch_execute("COMMIT").await.unwrap();

    assert_eq!(writing.await.unwrap().unwrap(), PutOutcome::Replaced);
    let stored = store.get_run(&path).await.unwrap().expect("stored");
    let run: serde_json::Value = serde_json::from_str(stored.run.json()).unwrap();
    assert_eq!(run["session_id"], "mine", "the write's version is stored");
    let listed = store
        .list_runs(
            &TaskAgentPath {
                org_id: path.org_id,
                project_id: path.project_id,
                task_agent_id: path.task_agent_id,
            },
            &RunFilter::default(),
            None,
            10,
        )
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "the template and this run, once");
}

#[tokio::test]
async fn on_sqlite_a_damaged_run_fails_only_its_own_write() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let store = storage.url.open().await.unwrap();
    let damaged = new_path();
    store
        .put_run(record(damaged, "s", "running"), None)
        .await
        .unwrap();
    storage
        .sqlite_connection()
        .execute(
            "UPDATE task_agent_runs SET status = 'exploded' WHERE run_id = ?1",
            [damaged.run_id],
        )
        .unwrap();

    let others: Vec<RunPath> = (0..32).map(|_| new_path()).collect();
    let writes = std::iter::once(damaged).chain(others.iter().copied());
    let results = join_all(writes.map(|path| {
        let store = Arc::clone(&store);
        async move { store.put_run(record(path, "s", "running"), None).await }
    }))
    .await;
    assert!(
        matches!(&results[0], Err(PutError::Store(_))),
        "the damaged run's write fails: {:?}",
        results[0]
    );
    for (path, result) in others.iter().zip(&results[1..]) {
        assert!(matches!(result, Ok(PutOutcome::Created)), "{result:?}");
        assert!(store.get_run(path).await.unwrap().is_some());
    }
}

/// On SQLite, writes queue in the process for the one writer; a write that
/// could not start within the wait limit (5 s) is refused, unwritten, even
/// if the database is free by the time its turn comes.
#[tokio::test]
async fn on_sqlite_a_write_that_waited_too_long_is_refused_unwritten() {
    let storage = TestDatabase::create(Backend::Sqlite).await;
    let store = storage.url.open().await.unwrap();
    let lock = storage.lock_writes().await;
    let membership = Membership {
        org_id: Uuid::new_v4(),
        subject: "ahead".into(),
        role: Role::Reader,
    };
    let late = new_path();
    // Queued first, the membership write waits out SQLite's busy timeout
    // (5 s) on the lock, which is then released; the run, queued right
    // behind it, has waited longer than 5 s when its turn comes.
    let ahead = async {
        let result = store.put_member(&membership).await;
        drop(lock);
        result
    };
    let behind = store.put_run(record(late, "s", "running"), None);
    let (ahead, behind) = futures::future::join(ahead, behind).await;
    assert!(
        matches!(ahead, Err(StoreError::Unavailable(_))),
        "{ahead:?}"
    );
    assert!(
        matches!(behind, Err(PutError::Store(StoreError::Unavailable(_)))),
        "{behind:?}"
    );
    assert!(
        store.get_run(&late).await.unwrap().is_none(),
        "nothing was written"
    );
    store
        .put_run(record(late, "s", "running"), None)
        .await
        .expect("the writer goes on once the database is free");
}

async fn a_batch_applies_the_rules_in_order(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    let (a, b) = (new_path(), new_path());
    let outcomes = store
        .put_runs(vec![
            RunWrite {
                record: record(a, "one", "running"),
                if_match: None,
            },
            RunWrite {
                record: record(a, "two", "completed"),
                if_match: None,
            },
            RunWrite {
                record: record(a, "three", "running"),
                if_match: None,
            },
            RunWrite {
                record: record(b, "b", "running"),
                if_match: Some(IfMatch::Any),
            },
        ])
        .await
        .unwrap();
    assert_eq!(
        outcomes,
        [
            Ok(PutOutcome::Created),
            Ok(PutOutcome::Replaced),
            Err(PutRejection::Terminal(
                task_agent_server::api::RunStatus::Completed
            )),
            Err(PutRejection::PreconditionFailed),
        ]
    );
    let stored = store.get_run(&a).await.unwrap().unwrap();
    assert_eq!(
        stored.etag,
        record(a, "two", "completed").etag,
        "the last accepted version"
    );
    assert!(store.get_run(&b).await.unwrap().is_none());
}

async fn memberships_are_kept_per_organization(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    let (org, other) = (Uuid::new_v4(), Uuid::new_v4());
    store
        .put_member(&Membership {
            org_id: org,
            subject: "alice".into(),
            role: Role::Reader,
        })
        .await
        .unwrap();
    store
        .put_member(&Membership {
            org_id: org,
            subject: "alice".into(),
            role: Role::Writer,
        })
        .await
        .unwrap();
    store
        .put_member(&Membership {
            org_id: other,
            subject: "bob".into(),
            role: Role::Reader,
        })
        .await
        .unwrap();
    assert_eq!(store.role(org, "alice").await.unwrap(), Some(Role::Writer));
    assert_eq!(store.role(other, "alice").await.unwrap(), None);
    assert_eq!(store.members(Some(org)).await.unwrap().len(), 1);
    assert_eq!(store.members(None).await.unwrap().len(), 2);
    assert!(store.remove_member(org, "alice").await.unwrap());
    assert!(!store.remove_member(org, "alice").await.unwrap());
    assert_eq!(store.role(org, "alice").await.unwrap(), None);
}

/// A new database holding one run, and the store open on it.
async fn database_with_a_run(backend: Backend) -> (TestDatabase, Arc<dyn Database>, RunPath) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    let path = new_path();
    store
        .put_run(record(path, "s", "running"), None)
        .await
        .unwrap();
    (storage, store, path)
}

/// Reads send a run's body as it is stored, so the database refuses a body
/// that is not JSON, whoever writes it, and keeps what it had.
async fn the_database_refuses_a_body_that_is_not_json(backend: Backend) {
    let (storage, store, path) = database_with_a_run(backend).await;
    let before = store.get_run(&path).await.unwrap().unwrap();

    let refused = storage
        .execute("UPDATE task_agent_runs SET body = '{\"truncated'")
        .await
        .expect_err("a body that is not JSON is refused");
    assert!(refused.to_lowercase().contains("json"), "{refused}");
    let refused = storage
        .execute(
            // The stored run again, under another organization.
            "INSERT INTO task_agent_runs SELECT project_id, org_id, task_agent_id, run_id, \
             created_sec, created_nsec, 'other', status, is_error, had_task_tool_fail, \
             had_mcp_tool_fail, duration_ms, task_agent_revision_id, etag, 'not json' \
             FROM task_agent_runs",
        )
        .await
        .expect_err("a new run whose body is not JSON is refused");
    assert!(refused.to_lowercase().contains("json"), "{refused}");

    let after = store.get_run(&path).await.unwrap().unwrap();
    assert_eq!(after.run.json(), before.run.json());
}

/// The migration that made the database refuse a body that is not JSON
/// checked the bodies stored before it: it fails on one that is not JSON,
/// and the database stays as it was, for an operator to mend.
async fn the_json_migration_fails_on_a_stored_body_that_is_not_json(backend: Backend) {
    let (storage, store, path) = database_with_a_run(backend).await;
    let body = store.get_run(&path).await.unwrap().unwrap().run.into_json();
    drop(store);
    // The database as the previous version left it, with a damaged body.
    let undo_the_constraint = match backend {
        Backend::Sqlite => {
            "DROP TRIGGER task_agent_runs_body_is_json_on_insert; \
             DROP TRIGGER task_agent_runs_body_is_json_on_update;"
        }
        Backend::Postgres => {
            "ALTER TABLE task_agent_runs DROP CONSTRAINT task_agent_runs_body_is_json;"
        }
    };
    storage
        .execute(&format!(
            "{undo_the_constraint} DROP TABLE cursor_keys; \
             DELETE FROM schema_migrations WHERE version >= 3; \
             UPDATE task_agent_runs SET body = '{{\"truncated';"
        ))
        .await
        .unwrap();

    let error = match storage.url.open().await {
        Ok(_) => panic!("the migration accepted a body that is not JSON"),
        Err(error) => format!("{error:#}"),
    };
    assert!(error.contains("migration 3"), "{error}");
    assert!(error.to_lowercase().contains("json"), "{error}");
    storage
        .execute(&format!(
            "UPDATE task_agent_runs SET body = '{}'",
            body.replace('\'', "''")
        ))
        .await
        .expect("the damaged body can still be mended");
    storage
        .url
        .open()
        .await
        .expect("then the migration applies");
}

/// A run stored before contract 2.0.0, with timestamps finer than the
/// millisecond, is rewritten by migration 4 as a 2.0.0 server writes it: a
/// repeat of it, finished, is then the same run, not a change (409).
async fn stored_runs_are_cut_to_the_millisecond(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    let path = new_path();
    let mut fine: serde_json::Value =
        serde_json::from_str(record(path, "s", "completed").run.json()).unwrap();
    fine["created"] = json!("2026-11-20T09:14:03.512345Z");
    fine["completed"] = json!("2026-11-20T09:14:05.000999999Z");
    fine["phase_timings"] =
        json!([{"phase": "llm", "started_at": "2026-11-20T09:14:03.5129Z", "duration_ms": 1}]);
    // Stored as the server before 2.0.0 stored it: to the nanosecond.
    let before: TaskAgentRun = serde_json::from_value(fine.clone()).unwrap();
    store
        .put_run(RunRecord::new(path, &before).unwrap(), None)
        .await
        .unwrap();
    let other = new_path();
    store
        .put_run(record(other, "s", "running"), None)
        .await
        .unwrap();
    let untouched = store.get_run(&other).await.unwrap().unwrap();
    drop(store);
    storage
        .execute("DROP TABLE cursor_keys; DELETE FROM schema_migrations WHERE version >= 4")
        .await
        .unwrap();

    let store = storage.url.open().await.expect("migration 4 applies");
    let stored = store.get_run(&path).await.unwrap().unwrap();
    let run: serde_json::Value = serde_json::from_str(stored.run.json()).unwrap();
    assert_eq!(run["created"], "2026-11-20T09:14:03.512Z");
    assert_eq!(run["completed"], "2026-11-20T09:14:05Z");
    assert_eq!(
        run["phase_timings"][0]["started_at"],
        "2026-11-20T09:14:03.512Z"
    );
    assert_eq!(stored.etag, etag_of(stored.run.json()));
    let repeat = RunRecord::new(path, &serde_json::from_value(run).unwrap()).unwrap();
    let task_agent = TaskAgentPath {
        org_id: path.org_id,
        project_id: path.project_id,
        task_agent_id: path.task_agent_id,
    };
    let listed = store
        .list_runs(&task_agent, &RunFilter::default(), None, 10)
        .await
        .unwrap();
    assert_eq!(listed[0].position, repeat.position, "the sort columns too");
    let outcome = store.put_run(repeat, None).await.unwrap();
    assert_eq!(
        outcome,
        PutOutcome::Unchanged,
        "a repeat of the finished run"
    );
    let kept = store.get_run(&other).await.unwrap().unwrap();
    assert_eq!(
        (kept.etag, kept.run.json()),
        (untouched.etag, untouched.run.json()),
        "a run already at the millisecond is left as it is"
    );
}

/// Reads that arrive together may share a statement (on PostgreSQL); each
/// still gets its own run, or none: a run asked for twice, a run id under
/// another task agent and an unknown run, mixed.
async fn concurrent_readers_each_get_their_own_run(backend: Backend) {
    let storage = TestDatabase::create(backend).await;
    let store = storage.url.open().await.unwrap();
    let stored: Vec<RunRecord> = (0..32)
        .map(|n| record(new_path(), &format!("session {n}"), "running"))
        .collect();
    let writes = stored.iter().map(|record| RunWrite {
        record: record.clone(),
        if_match: None,
    });
    store.put_runs(writes.collect()).await.unwrap();
    let mut reads: Vec<(RunPath, Option<&RunRecord>)> = Vec::new();
    for record in &stored {
        let elsewhere = RunPath {
            task_agent_id: Uuid::new_v4(),
            ..record.path
        };
        reads.extend([
            (record.path, Some(record)),
            (elsewhere, None),
            (new_path(), None),
        ]);
    }
    reads.extend(
        stored
            .iter()
            .step_by(3)
            .map(|record| (record.path, Some(record))),
    );
    let results = join_all(reads.iter().map(|(path, _)| store.get_run(path))).await;
    for ((path, expected), result) in reads.iter().zip(results) {
        let found = result.unwrap();
        assert_eq!(
            found.map(|run| (run.etag, run.run.json().to_owned())),
            expected.map(|record| (record.etag.clone(), record.run.json().to_owned())),
            "the read of {path:?}"
        );
    }
}

crate::backend_tests!(
    concurrent_readers_each_get_their_own_run,
    stored_runs_are_cut_to_the_millisecond,
    the_database_refuses_a_body_that_is_not_json,
    the_json_migration_fails_on_a_stored_body_that_is_not_json,
    migrations_run_once_even_when_started_together,
    concurrent_creators_of_one_run_leave_one_creation,
    concurrent_conditional_writers_never_both_win,
    concurrent_writers_of_many_runs_each_get_their_own_outcome,
    a_batch_applies_the_rules_in_order,
    memberships_are_kept_per_organization,
);
