//! Each attempt is a `tracing` event carrying the server's `x-request-id`;
//! tokens never appear in them.

use std::cell::RefCell;
use std::io::Write;
use std::sync::OnceLock;

use task_agent_client::{Client, RetryPolicy};
use tracing_subscriber::fmt::MakeWriter;

use crate::support::{ApiServer, Front, Reply, get_run};

thread_local! {
    /// What the events of this thread wrote, while a test captures them.
    static CAPTURED: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Writes into this thread's capture, if one is on.
struct ThreadCapture;

impl Write for ThreadCapture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURED.with_borrow_mut(|captured| {
            if let Some(captured) = captured {
                captured.extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for ThreadCapture {
    type Writer = ThreadCapture;

    fn make_writer(&'a self) -> ThreadCapture {
        ThreadCapture
    }
}

/// Captures the events of this thread. The subscriber is global: with one
/// per thread, tracing may cache that nobody listens to an event when
/// another test's thread emits it first.
fn capture_events() {
    static SUBSCRIBER: OnceLock<()> = OnceLock::new();
    SUBSCRIBER.get_or_init(|| {
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(ThreadCapture)
            .finish();
        tracing::subscriber::set_global_default(subscriber).unwrap();
    });
    CAPTURED.set(Some(Vec::new()));
}

fn captured_events() -> String {
    String::from_utf8(CAPTURED.take().unwrap_or_default()).unwrap()
}

#[tokio::test]
async fn each_attempt_is_an_event_with_the_server_s_request_id() {
    // This test's runtime runs on this thread only, so every event of the
    // client is captured.
    capture_events();
    let api = ApiServer::start().await;
    let front = Front::start(&api.url, |attempt| match attempt {
        0 => Reply::Status(503, vec![("retry-after", "0")]),
        _ => Reply::Forward,
    })
    .await;
    let token = api.reader_token();
    let client = Client::builder(&front.url)
        .bearer_token(&token)
        .retry(RetryPolicy {
            base_delay: std::time::Duration::from_millis(1),
            ..RetryPolicy::default()
        })
        .build()
        .unwrap();
    let sample = api.sample();
    let response = get_run(&client, &sample).await.unwrap();
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();

    let events = captured_events();
    let lines: Vec<&str> = events
        .lines()
        .filter(|line| line.contains("task_agent_client"))
        .collect();
    let responses: Vec<&&str> = lines
        .iter()
        .filter(|line| line.contains("response"))
        .collect();
    assert_eq!(responses.len(), 2, "{events}");
    assert!(
        responses[0].contains("status=503") && responses[0].contains("attempt=1"),
        "{events}"
    );
    assert!(
        responses[1].contains("status=200")
            && responses[1].contains("attempt=2")
            && responses[1].contains(&format!("request_id=\"{request_id}\""))
            && responses[1].contains("operation=\"get_task_agent_run\""),
        "{events}"
    );
    assert!(
        lines.iter().any(|line| line.contains("retrying")),
        "{events}"
    );
    assert!(!events.contains(&token), "no token in the events");
}
