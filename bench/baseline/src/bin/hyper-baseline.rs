//! `hyper-baseline`: the HTTP limit of the machine, for `cargo xbench run`:
//! bare hyper answering the recorded requests from memory.

use std::convert::Infallible;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (bind, recorded) = bench_baselines::arguments("hyper-baseline");
    let recorded = Arc::new(recorded);
    let listener = TcpListener::bind(bind).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let recorded = recorded.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<Incoming>| {
                let answer = match recorded.get(request.uri().path()) {
                    Some(body) => Response::builder()
                        .header("content-type", "application/json")
                        .body(Full::new(body.clone())),
                    None => Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body(Full::new(Bytes::new())),
                };
                async move { Ok::<_, Infallible>(answer.expect("a valid response")) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
