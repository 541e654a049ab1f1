//! A loopback HTTP proxy that forwards every request to the server and
//! checks every response against the spec before passing it on.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use task_agent_test_support::{LoopbackResponse, LoopbackServer};

use super::spec::Spec;

struct Shared {
    spec: Spec,
    upstream: SocketAddr,
    http: reqwest::Client,
    checked: AtomicUsize,
    violations: Mutex<Vec<String>>,
}

/// The running proxy.
pub struct ConformanceProxy {
    server: LoopbackServer,
    shared: Arc<Shared>,
}

impl ConformanceProxy {
    /// Starts a proxy to `upstream` on a free loopback port.
    pub async fn start(upstream: SocketAddr) -> ConformanceProxy {
        let shared = Arc::new(Shared {
            spec: Spec::load(),
            upstream,
            http: reqwest::Client::new(),
            checked: AtomicUsize::new(0),
            violations: Mutex::new(Vec::new()),
        });
        let forwarding = shared.clone();
        let server = LoopbackServer::start(move |request| forward(forwarding.clone(), request))
            .await
            .expect("a loopback port");
        ConformanceProxy { server, shared }
    }

    pub fn address(&self) -> SocketAddr {
        self.server.address()
    }

    /// Responses checked so far.
    pub fn checked(&self) -> usize {
        self.shared.checked.load(Ordering::SeqCst)
    }

    /// What did not conform.
    pub fn violations(&self) -> Vec<String> {
        self.shared.violations.lock().unwrap().clone()
    }
}

async fn forward(shared: Arc<Shared>, request: Request<Incoming>) -> Option<LoopbackResponse> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut outgoing = shared
        .http
        .request(
            parts.method.clone(),
            format!("http://{}{path}", shared.upstream),
        )
        .body(body);
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST && name != hyper::header::CONTENT_LENGTH {
            outgoing = outgoing.header(name, value);
        }
    }
    let upstream = match outgoing.send().await {
        Ok(response) => response,
        Err(error) => {
            shared.violations.lock().unwrap().push(format!(
                "{} {path}: the server did not answer: {error}",
                parts.method
            ));
            return Some(
                Response::builder()
                    .status(502)
                    .body(Full::new(Bytes::new()))
                    .unwrap(),
            );
        }
    };
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let bytes = upstream.bytes().await.unwrap_or_default();
    let content_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    shared.checked.fetch_add(1, Ordering::SeqCst);
    if let Err(violation) = shared.spec.check(
        parts.method.as_str(),
        &path,
        status.as_u16(),
        content_type,
        &bytes,
    ) {
        shared
            .violations
            .lock()
            .unwrap()
            .push(format!("{} {path}: {violation}", parts.method));
    }
    let mut response = Response::builder().status(status);
    for (name, value) in &headers {
        if name != hyper::header::CONTENT_LENGTH && name != hyper::header::TRANSFER_ENCODING {
            response = response.header(name, value);
        }
    }
    Some(response.body(Full::new(bytes)).unwrap())
}
