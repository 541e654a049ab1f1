//! HTTP/1.1 on a loopback listener, for the stand-ins the tests need (an
//! identity provider, proxies, servers that fail on purpose).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A response of a [`LoopbackServer`].
pub type LoopbackResponse = Response<Full<Bytes>>;

/// An HTTP server on loopback, answering each request with a handler;
/// stopped when dropped.
///
/// It runs on the runtime it was started in, as tasks: a test's stand-ins
/// live and die with the test.
#[derive(Debug)]
pub struct LoopbackServer {
    address: SocketAddr,
    task: JoinHandle<()>,
}

impl LoopbackServer {
    /// Serves `handle` on a free loopback port.
    ///
    /// `handle` answers a request with `Some(response)`, or with `None` to
    /// drop the connection without an answer (what a crashing upstream
    /// does).
    pub async fn start<H, F>(handle: H) -> std::io::Result<LoopbackServer>
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Option<LoopbackResponse>> + Send + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        LoopbackServer::on(listener, handle)
    }

    /// Serves `handle` on `listener` (for a server that must come up at an
    /// address known before it, such as an identity provider that was
    /// down).
    pub fn on<H, F>(listener: TcpListener, handle: H) -> std::io::Result<LoopbackServer>
    where
        H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
        F: Future<Output = Option<LoopbackResponse>> + Send + 'static,
    {
        let address = listener.local_addr()?;
        let handle = Arc::new(handle);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let handle = handle.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |request| {
                        let answer = handle(request);
                        // An error makes hyper close the connection unanswered.
                        async move { answer.await.ok_or("closing the connection") }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(LoopbackServer { address, task })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Its base URL, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl Drop for LoopbackServer {
    fn drop(&mut self) {
        // Stops accepting; connections already accepted end with the
        // runtime or when their client closes them.
        self.task.abort();
    }
}

/// A response with `body` as JSON.
pub fn json_response(status: u16, body: &serde_json::Value) -> LoopbackResponse {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("a valid response")
}
