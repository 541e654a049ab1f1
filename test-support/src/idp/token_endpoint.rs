//! The identity provider's OAuth 2.0 token endpoint, shaped like Ory
//! Hydra's `/oauth2/token`: the client-credentials grant, the client
//! authenticated with HTTP basic authentication, the answer a Hydra JWT
//! access token whose subject is the client.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http_body_util::BodyExt;
use hyper::Request;
use hyper::body::Incoming;
use serde_json::json;

use super::{Shared, hydra_claims, unpublished_key};
use crate::loopback::{LoopbackResponse, json_response};

/// An OAuth 2.0 client registered with the identity provider.
///
/// As with Hydra's client-credentials grant, its tokens' subject (`sub`)
/// is its id, so a server authorizes it by its id.
#[derive(Clone, Debug)]
pub struct OAuthClient {
    /// The client id, and the subject of its tokens.
    pub id: String,
    /// The client secret.
    pub secret: String,
    /// How long its tokens live (`expires_in`).
    pub token_lifetime: Duration,
    /// How many of its first tokens are signed by a key the provider does
    /// not publish, which servers refuse (to test what a client does with
    /// a refused token).
    pub unpublished_tokens: usize,
}

impl OAuthClient {
    /// A client whose tokens live an hour and are all signed by a published
    /// key.
    pub fn new(id: &str, secret: &str) -> OAuthClient {
        OAuthClient {
            id: id.to_owned(),
            secret: secret.to_owned(),
            token_lifetime: Duration::from_secs(3600),
            unpublished_tokens: 0,
        }
    }
}

/// A request the token endpoint received, authenticated or not.
#[derive(Clone, Debug)]
pub struct TokenGrant {
    /// Its `grant_type`.
    pub grant_type: String,
    /// Its `scope`, when it had one.
    pub scope: Option<String>,
}

/// A registered client and how many tokens it was issued.
pub(super) struct Registered {
    client: OAuthClient,
    /// `Authorization` as the client sends it.
    basic: String,
    issued: usize,
}

impl Registered {
    pub(super) fn new(client: OAuthClient) -> Registered {
        // RFC 6749 §2.3.1: the id and secret are form-urlencoded before they
        // are joined.
        let encode =
            |value: &str| form_urlencoded::byte_serialize(value.as_bytes()).collect::<String>();
        let basic = format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", encode(&client.id), encode(&client.secret)))
        );
        Registered {
            client,
            basic,
            issued: 0,
        }
    }
}

/// Answers a `POST /oauth2/token`.
pub(super) async fn answer(shared: &Shared, request: Request<Incoming>) -> LoopbackResponse {
    let authorization = request.headers().get(hyper::header::AUTHORIZATION).cloned();
    let Ok(body) = request.into_body().collect().await else {
        return json_response(400, &json!({ "error": "invalid_request" }));
    };
    let form: Vec<(String, String)> = form_urlencoded::parse(&body.to_bytes())
        .into_owned()
        .collect();
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let grant = TokenGrant {
        grant_type: field("grant_type").unwrap_or_default(),
        scope: field("scope"),
    };
    shared.grants.lock().unwrap().push(grant.clone());

    let mut clients = shared.clients.lock().unwrap();
    let Some(registered) = clients.iter_mut().find(|registered| {
        authorization
            .as_ref()
            .is_some_and(|value| value.as_bytes() == registered.basic.as_bytes())
    }) else {
        return json_response(401, &json!({ "error": "invalid_client" }));
    };
    if grant.grant_type != "client_credentials" {
        return json_response(400, &json!({ "error": "unsupported_grant_type" }));
    }
    let scope = grant.scope.unwrap_or_default();
    let scopes: Vec<&str> = scope.split(' ').filter(|scope| !scope.is_empty()).collect();
    let client = &registered.client;
    let claims = hydra_claims(&shared.issuer, &client.id, &scopes, client.token_lifetime);
    let key = if registered.issued < client.unpublished_tokens {
        unpublished_key()
    } else {
        &shared.rsa
    };
    registered.issued += 1;
    json_response(
        200,
        &json!({
            "access_token": key.sign(&claims).unwrap(),
            "token_type": "bearer",
            "expires_in": client.token_lifetime.as_secs(),
            "scope": scope,
        }),
    )
}
