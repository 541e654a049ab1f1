//! PostgreSQL in production: TLS, statement deadlines, pool size (S12).
//!
//! The TLS tests run clusters of their own with `ssl = on` and a
//! certificate from a CA the test makes; the server connects with libpq's
//! `sslmode` and `sslrootcert`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use task_agent_client::{Client, ClientBuilder, RetryPolicy};
use task_agent_server::auth::WRITE_SCOPE;
use task_agent_server::database_url::DatabaseUrl;
use tokio::process::Command;
use uuid::Uuid;

use crate::support::{
    Agent, BINARY, Backend, ServerProcess, ServerTls, TestDatabase, TestIdp, ThrowawayPostgres,
    WRITER, at, minimal_run, put_with,
};

/// A certificate authority of the test's own.
struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    /// Its certificate, as `sslrootcert` names it.
    file: PathBuf,
}

impl TestCa {
    fn new(name: &str, directory: &Path) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let file = directory.join(format!("{name}.pem"));
        std::fs::write(&file, issuer.pem()).unwrap();
        TestCa { issuer, file }
    }

    /// A server certificate for `names` (host names or IP addresses).
    fn server(&self, names: &[&str]) -> ServerTls {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let certificate = CertificateParams::new(names)
            .unwrap()
            .signed_by(&key, &self.issuer)
            .unwrap();
        ServerTls {
            certificate: certificate.pem(),
            key: key.serialize_pem(),
        }
    }
}

/// `cluster`'s URL with `parameters` (`sslmode=...&...`).
fn url_with(cluster: &ThrowawayPostgres, parameters: &str) -> String {
    format!("{}?{parameters}", cluster.url())
}

/// Runs `serve` on `url`, expecting it to fail at start: what it said.
async fn start_fails(url: &str) -> String {
    let data = tempfile::tempdir().unwrap();
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        Command::new(BINARY)
            .args(["serve", "--bind", "127.0.0.1:0", "--dev-issuer"])
            .arg("--data-dir")
            .arg(data.path())
            .args(["--database", url])
            .output(),
    )
    .await
    .expect("a server that cannot connect stops at once")
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(!output.status.success(), "started on {url}: {stderr}");
    stderr
}

/// The status and message of `/readyz`.
async fn readiness(server: &ServerProcess) -> (u16, String) {
    let response = reqwest::get(server.url("/readyz")).await.unwrap();
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap();
    let message = body["message"].as_str().unwrap_or_default().to_owned();
    (status, message)
}

/// The server's sessions: (with TLS, without).
async fn sessions(cluster: &ThrowawayPostgres) -> (usize, usize) {
    let rows = cluster
        .execute(
            "SELECT ssl FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
             WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
        )
        .await;
    let encrypted = rows.iter().filter(|row| row.get(0) == Some("t")).count();
    (encrypted, rows.len() - encrypted)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_connects_and_serves_and_readiness_reports_when_tls_goes_away() {
    let directory = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test-ca", directory.path());
    let test = "postgres_connection::verify_full_connects_and_serves_...";
    let Some(cluster) =
        ThrowawayPostgres::start_with(test, Some(&ca.server(&["localhost", "127.0.0.1"]))).await
    else {
        return;
    };
    let url = url_with(
        &cluster,
        &format!("sslmode=verify-full&sslrootcert={}", ca.file.display()),
    );
    let agent = {
        let database = DatabaseUrl::Postgres(url.clone()).open().await.unwrap();
        Agent::with_members(database.as_ref()).await
    };
    let idp = TestIdp::start().await;
    let server = ServerProcess::start(BINARY, &url, &idp).await;
    let client =
        Client::with_bearer_token(server.base_url(), &idp.token(WRITER, &[WRITE_SCOPE])).unwrap();
    let run_id = Uuid::new_v4();
    let created = put_with(&client, &agent, run_id, &minimal_run(at(0)), None)
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    agent.get(&client).run_id(run_id).send().await.unwrap();
    assert_eq!(readiness(&server).await.0, 200);
    let (encrypted, plain) = sessions(&cluster).await;
    assert!(
        encrypted > 0 && plain == 0,
        "{encrypted} sessions with TLS, {plain} without"
    );

    // The database stops offering TLS: new connections are refused, and
    // the probe says why.
    // ALTER SYSTEM cannot share a transaction with another statement.
    cluster.execute("ALTER SYSTEM SET ssl = off").await;
    cluster.execute("SELECT pg_reload_conf()").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let message = loop {
        // Until the reload is done, a new connection may still get TLS.
        cluster
            .execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
            )
            .await;
        let (status, message) = readiness(&server).await;
        if status == 503 && message.contains("TLS") {
            break message;
        }
        assert!(Instant::now() < deadline, "still {status}: {message}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        message.contains("server does not support TLS") && message.contains("sslmode=verify-full"),
        "{message}"
    );
    assert_eq!(sessions(&cluster).await, (0, 0), "and no plain connection");

    // `require` insists on TLS as well.
    let stderr = start_fails(&url_with(&cluster, "sslmode=require")).await;
    assert!(stderr.contains("server does not support TLS"), "{stderr}");

    cluster.execute("ALTER SYSTEM RESET ssl").await;
    cluster.execute("SELECT pg_reload_conf()").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while readiness(&server).await.0 != 200 {
        assert!(Instant::now() < deadline, "not ready again with TLS back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    agent.get(&client).run_id(run_id).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_ca_or_host_name_fails_at_start_naming_the_cause() {
    let directory = tempfile::tempdir().unwrap();
    let ca = TestCa::new("test-ca", directory.path());
    let other = TestCa::new("other-ca", directory.path());
    let test = "postgres_connection::a_wrong_ca_or_host_name_fails_...";
    // A certificate for another name than the 127.0.0.1 the URL connects to.
    let Some(cluster) =
        ThrowawayPostgres::start_with(test, Some(&ca.server(&["db.example"]))).await
    else {
        return;
    };
    let with = |mode: &str, root: &TestCa| {
        url_with(
            &cluster,
            &format!("sslmode={mode}&sslrootcert={}", root.file.display()),
        )
    };

    let stderr = start_fails(&with("verify-full", &other)).await;
    assert!(
        stderr.contains(&format!(
            "the database server's certificate is not signed by a CA in sslrootcert {}",
            other.file.display()
        )),
        "{stderr}"
    );
    let stderr = start_fails(&with("verify-full", &ca)).await;
    assert!(
        stderr.contains("the database server's certificate is not valid for the host name"),
        "{stderr}"
    );
    assert!(
        stderr.contains("127.0.0.1") && stderr.contains("db.example"),
        "names both: {stderr}"
    );

    // verify-ca checks the chain only; require checks nothing, unless given
    // a CA, as libpq.
    let opens = |url: String| async move { DatabaseUrl::Postgres(url).open().await };
    opens(with("verify-ca", &ca)).await.unwrap();
    assert!(opens(with("verify-ca", &other)).await.is_err());
    opens(url_with(&cluster, "sslmode=require")).await.unwrap();
    assert!(opens(with("require", &other)).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_past_its_deadline_is_503_and_the_connection_stays_usable() {
    let Some(backend) = Backend::postgres_or_skip("a_statement_past_its_deadline_...") else {
        return;
    };
    let storage = TestDatabase::create(backend).await;
    let agent = {
        let database = storage.url.open().await.unwrap();
        Agent::with_members(database.as_ref()).await
    };
    let idp = TestIdp::start().await;
    // One connection: the request after the timeout must get the very
    // connection whose statement was cancelled.
    let server = ServerProcess::start_with_flags(
        BINARY,
        &storage.url_string(),
        &idp,
        &[
            "--database-pool-size",
            "1",
            "--statement-timeout-ms",
            "1000",
        ],
    )
    .await;
    // Without retries, to see the 503 itself.
    let client = ClientBuilder::new(server.base_url())
        .bearer_token(idp.token(WRITER, &[WRITE_SCOPE]))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let run_id = Uuid::new_v4();
    let body = minimal_run(at(0));
    let created = put_with(&client, &agent, run_id, &body, None).await;
    assert_eq!(created.unwrap().status(), 201);

    // Another session locks the run's row, as a long transaction would.
    let (locker, connection) =
        tokio_postgres::connect(&storage.url_string(), tokio_postgres::NoTls)
            .await
            .unwrap();
    let connection = tokio::spawn(connection);
    locker.batch_execute("BEGIN").await.unwrap();
    let locked = locker
        .query(
            "SELECT 1 FROM task_agent_runs WHERE run_id = $1 FOR UPDATE",
            &[&run_id],
        )
        .await
        .unwrap();
    assert_eq!(locked.len(), 1);

    let started = Instant::now();
    let blocked = put_with(&client, &agent, run_id, &body, None).await;
    let waited = started.elapsed();
    match blocked {
        Err(task_agent_client::Error::ErrorResponse(response)) => {
            assert_eq!(response.status(), 503);
            assert_eq!(response.headers()["retry-after"], "1");
        }
        other => panic!("expected 503, got {other:?}"),
    }
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "answered after {waited:?} with a deadline of 1 s"
    );
    // Reads do not wait for the row lock, and get the same connection.
    agent.get(&client).run_id(run_id).send().await.unwrap();

    locker.batch_execute("ROLLBACK").await.unwrap();
    let replayed = put_with(&client, &agent, run_id, &body, None).await;
    assert_eq!(replayed.unwrap().status(), 200, "the write goes through");
    agent.get(&client).run_id(run_id).send().await.unwrap();
    assert!(!server.log().contains("panicked"), "{}", server.log());
    drop(locker);
    connection.await.unwrap().unwrap();
}
