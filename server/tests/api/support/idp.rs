//! A stand-in identity provider: real RSA and EC keys, a JWKS served over
//! HTTP on loopback, and tokens shaped like Ory Hydra's JWT access tokens
//! (or Ory Kratos' session tokens).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
pub use task_agent_server::auth::SigningKey;
use tokio::net::TcpListener;
use uuid::Uuid;

/// Keys shared by the tests of this binary (RSA generation takes a moment).
fn shared_keys() -> &'static (SigningKey, SigningKey) {
    static KEYS: OnceLock<(SigningKey, SigningKey)> = OnceLock::new();
    KEYS.get_or_init(|| (new_key(Algorithm::RS256), new_key(Algorithm::ES256)))
}

/// A new key, not published anywhere.
pub fn new_key(algorithm: Algorithm) -> SigningKey {
    SigningKey::generate(algorithm).expect("key generation works")
}

/// The identity provider.
pub struct TestIdp {
    /// Base URL, used as `iss`.
    pub issuer: String,
    /// The published RS256 key (Hydra's default).
    pub rsa: SigningKey,
    /// The published ES256 key (Kratos' session tokenizer).
    pub ec: SigningKey,
    published: Arc<RwLock<Vec<Value>>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl TestIdp {
    /// An identity provider serving its JWKS on a free loopback port.
    pub async fn start() -> TestIdp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut idp = TestIdp::unstarted(listener.local_addr().unwrap());
        idp.serve(listener);
        idp
    }

    /// An identity provider for `address` that does not answer yet.
    pub fn unstarted(address: SocketAddr) -> TestIdp {
        let (rsa, ec) = shared_keys().clone();
        let published = Arc::new(RwLock::new(vec![jwk(&rsa), jwk(&ec)]));
        TestIdp {
            issuer: format!("http://{address}"),
            rsa,
            ec,
            published,
            task: None,
        }
    }

    /// Starts answering on `listener`.
    pub fn serve(&mut self, listener: TcpListener) {
        let published = self.published.clone();
        self.task = Some(tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let published = published.clone();
                tokio::spawn(async move {
                    let service =
                        service_fn(move |request: hyper::Request<hyper::body::Incoming>| {
                            let published = published.clone();
                            async move {
                                let response = if request.uri().path() == "/.well-known/jwks.json" {
                                    let body =
                                        json!({ "keys": *published.read().unwrap() }).to_string();
                                    Response::builder()
                                        .header("content-type", "application/json")
                                        .body(Full::new(Bytes::from(body)))
                                } else {
                                    Response::builder()
                                        .status(StatusCode::NOT_FOUND)
                                        .body(Full::new(Bytes::new()))
                                };
                                Ok::<_, Infallible>(response.unwrap())
                            }
                        });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }));
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer)
    }

    /// Adds `key` to the published JWKS (key rotation).
    pub fn publish(&self, key: &SigningKey) {
        self.published.write().unwrap().push(jwk(key));
    }

    /// The claims of a Hydra JWT access token for `subject` with `scopes`.
    pub fn hydra_claims(&self, subject: &str, scopes: &[&str]) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({
            "iss": self.issuer,
            "sub": subject,
            "aud": [],
            "exp": now + 600,
            "nbf": now,
            "iat": now,
            "jti": Uuid::new_v4(),
            "client_id": "test-client",
            "scp": scopes,
            "ext": {},
        })
    }

    /// An RS256 Hydra access token.
    pub fn token(&self, subject: &str, scopes: &[&str]) -> String {
        self.rsa.sign(&self.hydra_claims(subject, scopes)).unwrap()
    }

    /// An ES256 Kratos session token (`tokenize_as`): no `aud`, no scopes.
    pub fn kratos_token(&self, subject: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        self.ec
            .sign(&json!({
            "iss": self.issuer,
            "sub": subject,
            "exp": now + 600,
            "iat": now,
            "nbf": now,
            "jti": Uuid::new_v4(),
            "session": { "identity": { "id": subject } },
            }))
            .unwrap()
    }
}

fn jwk(key: &SigningKey) -> Value {
    serde_json::to_value(key.jwk()).unwrap()
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
