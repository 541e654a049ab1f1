//! A server in front of the API that answers each request as a script
//! says: it fails the first attempts on purpose (an error status, a dropped
//! connection, a slow answer), rewrites answers, or passes requests through.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::Response;
use hyper::body::Bytes;
use serde_json::Value;
use task_agent_test_support::{LoopbackServer, json_response};

/// What the front does with one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Passes it to the API and its answer back.
    Forward,
    /// Passes it to the API and its answer back, the JSON body changed.
    ForwardEdited(fn(&mut Value)),
    /// Answers this status with a JSON error body, and these headers.
    Status(u16, Vec<(&'static str, &'static str)>),
    /// Drops the connection without an answer.
    Drop,
    /// Passes it on after a wait.
    Delay(Duration),
}

/// A request the front received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
}

pub struct Front {
    pub url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    _server: LoopbackServer,
}

impl Front {
    /// A front of the API at `upstream` that answers request `n` (from 0)
    /// with `script(n)`.
    pub async fn start(
        upstream: &str,
        script: impl Fn(usize) -> Reply + Send + Sync + 'static,
    ) -> Front {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let recorded = seen.clone();
        let upstream = upstream.to_owned();
        let http = reqwest::Client::new();
        let server = LoopbackServer::start(move |request| {
            let mut log = recorded.lock().unwrap();
            let reply = script(log.len());
            log.push(Seen {
                method: request.method().to_string(),
            });
            drop(log);
            let (http, upstream) = (http.clone(), upstream.clone());
            async move {
                let edit = match reply {
                    Reply::Status(status, headers) => {
                        let mut response = json_response(
                            status,
                            &serde_json::json!({
                                "request_id": "front",
                                "error_code": null,
                                "message": "failing on purpose",
                            }),
                        );
                        for (name, value) in headers {
                            response.headers_mut().insert(name, value.parse().unwrap());
                        }
                        return Some(response);
                    }
                    Reply::Drop => return None,
                    Reply::Delay(wait) => {
                        tokio::time::sleep(wait).await;
                        None
                    }
                    Reply::Forward => None,
                    Reply::ForwardEdited(edit) => Some(edit),
                };
                let (parts, body) = request.into_parts();
                let body = body.collect().await.ok()?.to_bytes();
                let answer = http
                    .request(parts.method, format!("{upstream}{}", parts.uri))
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await
                    .ok()?;
                let mut response = Response::builder().status(answer.status());
                for (name, value) in answer.headers() {
                    if name != "content-length" {
                        response = response.header(name, value);
                    }
                }
                let mut body = answer.bytes().await.ok()?;
                if let Some(edit) = edit {
                    let mut value: Value = serde_json::from_slice(&body).unwrap();
                    edit(&mut value);
                    body = Bytes::from(value.to_string());
                }
                Some(response.body(Full::new(body)).unwrap())
            }
        })
        .await
        .unwrap();
        Front {
            url: server.url(),
            seen,
            _server: server,
        }
    }

    /// Every request the front received, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}
