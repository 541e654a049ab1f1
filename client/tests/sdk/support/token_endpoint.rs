//! An OAuth 2.0 token endpoint shaped like Ory Hydra's `/oauth2/token`:
//! the client-credentials grant, the client authenticated with HTTP basic
//! authentication, tokens signed by the API server's development issuer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use serde_json::json;
use task_agent_server::auth::{DevIssuer, TokenRequest};

use super::http::{json, serve};

pub const CLIENT_ID: &str = "reporting";
pub const CLIENT_SECRET: &str = "s3cret: with/odd+chars";

/// What the endpoint was asked.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    pub grant_type: String,
    pub scope: Option<String>,
}

pub struct TokenEndpoint {
    /// The issuer URL (`{issuer}/oauth2/token` is the endpoint).
    pub issuer: String,
    grants: Arc<Mutex<Vec<TokenGrant>>>,
    task: tokio::task::JoinHandle<()>,
}

/// How the endpoint's tokens are made.
pub struct Minting {
    /// The key the API trusts.
    pub issuer: DevIssuer,
    /// Tokens signed by another key, which the API refuses, for the first
    /// requests.
    pub untrusted: Option<(DevIssuer, usize)>,
    /// The subject of every token.
    pub subject: String,
    /// `expires_in` of every token, in seconds.
    pub expires_in: u64,
}

impl TokenEndpoint {
    pub async fn start(minting: Minting) -> TokenEndpoint {
        let grants = Arc::new(Mutex::new(Vec::new()));
        let issued = Arc::new(AtomicUsize::new(0));
        let minting = Arc::new(minting);
        let recorded = grants.clone();
        let (address, task) = serve(move |request| {
            let (grants, issued, minting) = (recorded.clone(), issued.clone(), minting.clone());
            async move {
                if request.method() != hyper::Method::POST
                    || request.uri().path() != "/oauth2/token"
                {
                    return Some(json(404, &json!({ "error": "not_found" })));
                }
                let expected = format!(
                    "Basic {}",
                    STANDARD.encode(format!(
                        "{}:{}",
                        urlencode(CLIENT_ID),
                        urlencode(CLIENT_SECRET)
                    ))
                );
                let authenticated = request
                    .headers()
                    .get("authorization")
                    .is_some_and(|value| value.as_bytes() == expected.as_bytes());
                let body = request.into_body().collect().await.ok()?.to_bytes();
                let form: Vec<(String, String)> = form_urlencoded(&body);
                let field = |name: &str| {
                    form.iter()
                        .find(|(key, _)| key == name)
                        .map(|(_, value)| value.clone())
                };
                let grant = TokenGrant {
                    grant_type: field("grant_type").unwrap_or_default(),
                    scope: field("scope"),
                };
                grants.lock().unwrap().push(grant.clone());
                if !authenticated {
                    return Some(json(401, &json!({ "error": "invalid_client" })));
                }
                if grant.grant_type != "client_credentials" {
                    return Some(json(400, &json!({ "error": "unsupported_grant_type" })));
                }
                let scopes: Vec<String> = grant
                    .scope
                    .iter()
                    .flat_map(|scope| scope.split(' ').map(str::to_owned))
                    .collect();
                let request = TokenRequest {
                    subject: minting.subject.clone(),
                    scopes,
                    audience: Vec::new(),
                    ttl: std::time::Duration::from_secs(minting.expires_in),
                };
                let number = issued.fetch_add(1, Ordering::SeqCst);
                let signer = match &minting.untrusted {
                    Some((untrusted, count)) if number < *count => untrusted,
                    _ => &minting.issuer,
                };
                Some(json(
                    200,
                    &json!({
                        "access_token": signer.mint(&request).unwrap(),
                        "token_type": "bearer",
                        "expires_in": minting.expires_in,
                        "scope": grant.scope.unwrap_or_default(),
                    }),
                ))
            }
        })
        .await;
        TokenEndpoint {
            issuer: format!("http://{address}"),
            grants,
            task,
        }
    }

    /// Every request the endpoint received, in order.
    pub fn grants(&self) -> Vec<TokenGrant> {
        self.grants.lock().unwrap().clone()
    }
}

impl Drop for TokenEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// RFC 6749 §2.3.1: the client id and secret are form-urlencoded before
/// they are joined for basic authentication.
fn urlencode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn form_urlencoded(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}
