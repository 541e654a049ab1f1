//! A stand-in identity provider: real RSA and EC keys, a JWKS and an OAuth
//! 2.0 token endpoint served over HTTP on loopback, and tokens shaped like
//! Ory Hydra's JWT access tokens (or Ory Kratos' session tokens).

mod token_endpoint;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use hyper::body::Incoming;
use hyper::{Method, Request};
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
pub use task_agent_server::auth::SigningKey;
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::loopback::{LoopbackResponse, LoopbackServer, json_response};
pub use token_endpoint::{OAuthClient, TokenGrant};

/// Where the JWKS is, as Hydra publishes it.
const JWKS_PATH: &str = "/.well-known/jwks.json";
/// Where the token endpoint is, as Hydra has it.
const TOKEN_PATH: &str = "/oauth2/token";
/// The lifetime of the tokens the tests make directly.
const TOKEN_LIFETIME: Duration = Duration::from_secs(600);

/// The published keys, shared by every identity provider of a test binary:
/// RSA key generation takes a moment, and separate tests need separate
/// providers, not separate keys.
fn shared_keys() -> &'static (SigningKey, SigningKey) {
    static KEYS: OnceLock<(SigningKey, SigningKey)> = OnceLock::new();
    KEYS.get_or_init(|| (new_key(Algorithm::RS256), new_key(Algorithm::ES256)))
}

/// A key no identity provider publishes (ES256: quick to make), for the
/// tokens servers must refuse.
fn unpublished_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| new_key(Algorithm::ES256))
}

/// A new key, not published anywhere.
pub fn new_key(algorithm: Algorithm) -> SigningKey {
    SigningKey::generate(algorithm).expect("key generation works")
}

/// The identity provider: its issuer URL is its base URL, where it serves
/// the JWKS (`/.well-known/jwks.json`) and Hydra's token endpoint
/// (`/oauth2/token`, the client-credentials grant, for the clients
/// [registered](TestIdp::register_client) with it).
///
/// It runs as tasks of the runtime it is started in, until dropped.
pub struct TestIdp {
    /// Base URL, used as `iss`.
    pub issuer: String,
    /// The published RS256 key (Hydra's default).
    pub rsa: SigningKey,
    /// The published ES256 key (Kratos' session tokenizer).
    pub ec: SigningKey,
    shared: Arc<Shared>,
    server: Option<LoopbackServer>,
}

/// What the provider's answers need.
struct Shared {
    issuer: String,
    rsa: SigningKey,
    jwks: RwLock<Vec<Value>>,
    clients: Mutex<Vec<token_endpoint::Registered>>,
    grants: Mutex<Vec<TokenGrant>>,
}

impl TestIdp {
    /// An identity provider serving on a free loopback port.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub async fn start() -> TestIdp {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let mut idp = TestIdp::unstarted(listener.local_addr().expect("a bound address"));
        idp.serve(listener);
        idp
    }

    /// An identity provider for `address` that does not answer yet (see
    /// [`serve`](TestIdp::serve)): for the tests of a server whose
    /// identity provider is down.
    pub fn unstarted(address: SocketAddr) -> TestIdp {
        let (rsa, ec) = shared_keys().clone();
        let issuer = format!("http://{address}");
        let shared = Arc::new(Shared {
            issuer: issuer.clone(),
            rsa: rsa.clone(),
            jwks: RwLock::new(vec![jwk(&rsa), jwk(&ec)]),
            clients: Mutex::new(Vec::new()),
            grants: Mutex::new(Vec::new()),
        });
        TestIdp {
            issuer,
            rsa,
            ec,
            shared,
            server: None,
        }
    }

    /// Starts answering on `listener`, which is bound to the issuer's
    /// address.
    pub fn serve(&mut self, listener: TcpListener) {
        let shared = self.shared.clone();
        let server = LoopbackServer::on(listener, move |request| {
            let shared = shared.clone();
            async move { Some(answer(&shared, request).await) }
        })
        .expect("a bound listener");
        self.server = Some(server);
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}{JWKS_PATH}", self.issuer)
    }

    /// The token endpoint's URL (what `ClientCredentials::hydra` derives
    /// from the issuer).
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.issuer)
    }

    /// Adds `key` to the published JWKS (key rotation).
    pub fn publish(&self, key: &SigningKey) {
        self.shared.jwks.write().unwrap().push(jwk(key));
    }

    /// Lets `client` obtain tokens from the token endpoint.
    pub fn register_client(&self, client: OAuthClient) {
        self.shared
            .clients
            .lock()
            .unwrap()
            .push(token_endpoint::Registered::new(client));
    }

    /// Every request the token endpoint received, in order.
    pub fn grants(&self) -> Vec<TokenGrant> {
        self.shared.grants.lock().unwrap().clone()
    }

    /// The claims of a Hydra JWT access token for `subject` with `scopes`,
    /// valid for ten minutes.
    pub fn hydra_claims(&self, subject: &str, scopes: &[&str]) -> Value {
        hydra_claims(&self.issuer, subject, scopes, TOKEN_LIFETIME)
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
                "exp": now + TOKEN_LIFETIME.as_secs() as i64,
                "iat": now,
                "nbf": now,
                "jti": Uuid::new_v4(),
                "session": { "identity": { "id": subject } },
            }))
            .unwrap()
    }
}

/// The claims of a Hydra JWT access token (`strategies.access_token: jwt`).
fn hydra_claims(issuer: &str, subject: &str, scopes: &[&str], lifetime: Duration) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({
        "iss": issuer,
        "sub": subject,
        "aud": [],
        "exp": now + lifetime.as_secs() as i64,
        "nbf": now,
        "iat": now,
        "jti": Uuid::new_v4(),
        "client_id": "test-client",
        "scp": scopes,
        "ext": {},
    })
}

async fn answer(shared: &Shared, request: Request<Incoming>) -> LoopbackResponse {
    match (request.method(), request.uri().path()) {
        (&Method::GET, JWKS_PATH) => {
            json_response(200, &json!({ "keys": *shared.jwks.read().unwrap() }))
        }
        (&Method::POST, TOKEN_PATH) => token_endpoint::answer(shared, request).await,
        _ => json_response(404, &json!({ "error": "not_found" })),
    }
}

fn jwk(key: &SigningKey) -> Value {
    serde_json::to_value(key.jwk()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The key ids the provider publishes.
    async fn published_kids(idp: &TestIdp) -> Vec<String> {
        let jwks: Value = reqwest::get(idp.jwks_url())
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|key| key["kid"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Asks the token endpoint for a token as `id` with `secret`.
    async fn grant(idp: &TestIdp, id: &str, secret: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(idp.token_url())
            .basic_auth(id, Some(secret))
            .form(&[("grant_type", "client_credentials"), ("scope", "a b")])
            .send()
            .await
            .unwrap()
    }

    fn kid(token: &str) -> String {
        jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
    }

    #[tokio::test]
    async fn the_jwks_has_the_keys_of_the_tokens() {
        let idp = TestIdp::start().await;
        let kids = published_kids(&idp).await;
        assert!(kids.contains(&kid(&idp.token("someone", &["a"]))));
        assert!(kids.contains(&kid(&idp.kratos_token("someone"))));
        let rotated = new_key(Algorithm::ES256);
        idp.publish(&rotated);
        assert!(
            published_kids(&idp)
                .await
                .contains(&rotated.kid().to_owned())
        );
    }

    #[tokio::test]
    async fn the_token_endpoint_serves_registered_clients_only() {
        let idp = TestIdp::start().await;
        idp.register_client(OAuthClient {
            unpublished_tokens: 1,
            ..OAuthClient::new("reporting", "secret")
        });
        assert_eq!(grant(&idp, "reporting", "wrong").await.status(), 401);
        let kids = published_kids(&idp).await;
        let mut tokens = Vec::new();
        for _ in 0..2 {
            let answer: Value = grant(&idp, "reporting", "secret")
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(answer["scope"], "a b");
            tokens.push(answer["access_token"].as_str().unwrap().to_owned());
        }
        assert!(!kids.contains(&kid(&tokens[0])), "the first is unpublished");
        assert!(kids.contains(&kid(&tokens[1])));
        let grants = idp.grants();
        assert_eq!(grants.len(), 3);
        assert!(
            grants
                .iter()
                .all(|grant| grant.grant_type == "client_credentials")
        );
    }
}
