//! Authentication and authorization with real tokens against a real JWKS
//! endpoint on loopback.

use std::time::Duration;
use task_agent_server::api::error_codes;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use task_agent_server::auth::WRITE_SCOPE;
use uuid::Uuid;

use crate::support::{
    Agent, AuthOptions, Backend, READER, SigningKey, TestIdp, TestServer, WRITER, at,
    expect_status, http_client, minimal_run, new_key, write_body,
};

/// A GET of an existing run with `token`: its status and `WWW-Authenticate`.
async fn get_with(
    server: &TestServer,
    agent: &Agent,
    run_id: Uuid,
    token: Option<&str>,
) -> (u16, Option<String>) {
    let response = http_client(token)
        .get(server.url(&agent.run_path(run_id)))
        .send()
        .await
        .unwrap();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (response.status().as_u16(), challenge)
}

/// A token signed by `key`.
fn sign(key: &SigningKey, claims: &Value) -> String {
    key.sign(claims).unwrap()
}

/// A base64url JSON part of a token (for tokens that a correct issuer would
/// never produce).
fn unsigned_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

async fn a_reader_member_reads_with_hydra_rs256_and_kratos_es256_tokens(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    for token in [
        server.idp.token(READER, &["openid"]),
        server.idp.kratos_token(READER),
    ] {
        let reader = server.client_with_token(&token);
        let run = agent.get(&reader).run_id(run_id).send().await.unwrap();
        assert_eq!(run.id, run_id);
        let page = agent.list(&reader).send().await.unwrap();
        assert_eq!(page.results.len(), 1);
    }
}

async fn every_failed_verification_is_401_with_a_bearer_challenge(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    let idp = &server.idp;
    let claims = idp.hydra_claims(READER, &["openid"]);
    let with = |key: &str, value: Value| {
        let mut changed = claims.clone();
        changed[key] = value;
        changed
    };
    let now = chrono::Utc::now().timestamp();
    let unpublished = new_key(Algorithm::RS256);
    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(idp.rsa.kid().to_owned());
        jsonwebtoken::encode(
            &header,
            &claims,
            &EncodingKey::from_secret(idp.rsa.public_pem().as_bytes()).unwrap(),
        )
        .unwrap()
    };
    let alg_none = format!(
        "{}.{}.",
        unsigned_part(&json!({"alg": "none", "typ": "JWT", "kid": idp.rsa.kid()})),
        unsigned_part(&claims)
    );
    let bad_signature = {
        let token = sign(&idp.rsa, &claims);
        let (rest, signature) = token.rsplit_once('.').unwrap();
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).unwrap();
        bytes[0] ^= 1;
        format!("{rest}.{}", URL_SAFE_NO_PAD.encode(bytes))
    };
    let swapped_payload = {
        let token = sign(&idp.rsa, &claims);
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = unsigned_part(&with("sub", json!(WRITER)));
        parts[1] = &forged;
        parts.join(".")
    };
    let no_kid = {
        let token = sign(&idp.rsa, &claims);
        let payload_and_signature = token.split_once('.').unwrap().1.to_owned();
        format!(
            "{}.{payload_and_signature}",
            unsigned_part(&json!({"alg": "RS256", "typ": "JWT"}))
        )
    };
    let oversized = sign(&idp.rsa, &with("padding", json!("x".repeat(17 * 1024))));
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no Authorization header", None),
        ("an empty bearer token", Some(String::new())),
        ("garbage", Some("not.a.jwt".to_owned())),
        ("random bytes", Some("%%%%".to_owned())),
        ("alg none", Some(alg_none)),
        (
            "HS256 keyed with the RSA public key",
            Some(hs256_with_public_key),
        ),
        ("a bad signature", Some(bad_signature)),
        (
            "a payload swapped under a valid signature",
            Some(swapped_payload),
        ),
        ("an unknown kid", Some(sign(&unpublished, &claims))),
        ("no kid", Some(no_kid)),
        (
            "the wrong issuer",
            Some(sign(&idp.rsa, &with("iss", json!("https://evil.example")))),
        ),
        (
            "an issuer that differs by a slash",
            Some(sign(
                &idp.rsa,
                &with("iss", json!(format!("{}/", idp.issuer))),
            )),
        ),
        (
            "expired",
            Some(sign(&idp.rsa, &with("exp", json!(now - 3600)))),
        ),
        (
            "not valid before a future nbf",
            Some(sign(&idp.rsa, &with("nbf", json!(now + 3600)))),
        ),
        (
            "no exp",
            Some(sign(&idp.rsa, &{
                let mut c = claims.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            })),
        ),
        (
            "no sub",
            Some(sign(&idp.rsa, &{
                let mut c = claims.clone();
                c.as_object_mut().unwrap().remove("sub");
                c
            })),
        ),
        ("a token over 16 KiB", Some(oversized)),
    ];
    for (what, token) in cases {
        let (status, challenge) = get_with(&server, &agent, run_id, token.as_deref()).await;
        assert_eq!(status, 401, "{what}");
        let challenge = challenge.unwrap_or_else(|| panic!("{what}: no WWW-Authenticate"));
        assert!(challenge.starts_with("Bearer "), "{what}: {challenge}");
        assert!(
            challenge.contains("error=\"invalid_token\""),
            "{what}: {challenge}"
        );
    }
    let basic = reqwest::Client::new()
        .get(server.url(&agent.run_path(run_id)))
        .header(
            "authorization",
            "Basic d3JpdGVyQGV4YW1wbGUuY29tOnNlY3JldA==",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 401, "another scheme");

    // Every operation authenticates, writes included.
    let list = http_client(None)
        .get(server.url(&agent.runs_path()))
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 401);
    let put = http_client(Some("garbage"))
        .put(server.url(&agent.run_path(Uuid::new_v4())))
        .json(&minimal_run(at(0)))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 401);
}

async fn the_audience_is_checked_only_when_configured(backend: Backend) {
    let idp = TestIdp::start().await;
    let server = TestServer::start_with(
        backend,
        idp,
        AuthOptions {
            audience: Some("task-agent-runs".into()),
            ..Default::default()
        },
    )
    .await;
    let (agent, run_id) = server.agent_with_run().await;
    let claims = server.idp.hydra_claims(READER, &[]);
    let with_aud = |aud: Value| {
        let mut changed = claims.clone();
        changed["aud"] = aud;
        sign(&server.idp.rsa, &changed)
    };
    for (aud, status) in [
        (json!(["task-agent-runs"]), 200),
        (json!(["other", "task-agent-runs"]), 200),
        (json!("task-agent-runs"), 200),
        (json!([]), 401),
        (json!(["other"]), 401),
    ] {
        assert_eq!(
            get_with(&server, &agent, run_id, Some(&with_aud(aud.clone())))
                .await
                .0,
            status,
            "aud {aud}"
        );
    }
    let kratos = server.idp.kratos_token(READER);
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&kratos)).await.0,
        401,
        "no aud at all"
    );
}

async fn a_key_added_to_the_jwks_after_start_verifies(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    let rotated = new_key(Algorithm::ES256);
    let token = sign(&rotated, &server.idp.hydra_claims(READER, &[]));
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&token)).await.0,
        401,
        "not published yet"
    );
    server.idp.publish(&rotated);
    // Refetches for unknown key ids are rate-limited (100 ms in the tests).
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&token)).await.0,
        200,
        "published: refetched"
    );
}

async fn members_may_read_but_only_writers_with_the_scope_may_write(backend: Backend) {
    let server = TestServer::start(backend).await;
    let agent = server.agent().await;
    let run_id = Uuid::new_v4();
    let body = minimal_run(at(0));
    server.put_run(&agent, run_id, &body).await;
    let put_as = |token: String| {
        let client = server.client_with_token(&token);
        let body = write_body(&minimal_run(at(1)));
        async move {
            agent
                .put(&client)
                .run_id(Uuid::new_v4())
                .body(body)
                .send()
                .await
        }
    };
    let idp = &server.idp;

    let error = expect_status(put_as(idp.token(READER, &[WRITE_SCOPE])).await, 403);
    assert!(error.message.contains("reader"), "{}", error.message);
    let writer_without_scope = put_as(idp.token(WRITER, &["openid", "task_agent_runs:read"])).await;
    assert_eq!(
        expect_status(writer_without_scope, 403)
            .error_code
            .as_deref(),
        Some(error_codes::FORBIDDEN)
    );
    let raw = http_client(Some(&idp.token(WRITER, &[])))
        .put(server.url(&agent.run_path(Uuid::new_v4())))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 403);
    let challenge = raw.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains("error=\"insufficient_scope\""),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("scope=\"{WRITE_SCOPE}\"")),
        "{challenge}"
    );
    let space_separated = sign(&idp.rsa, &{
        let mut claims = idp.hydra_claims(WRITER, &[]);
        claims.as_object_mut().unwrap().remove("scp");
        claims["scope"] = json!(format!("openid {WRITE_SCOPE}"));
        claims
    });
    assert_eq!(
        put_as(space_separated).await.unwrap().status().as_u16(),
        201,
        "the OAuth scope claim, space-separated"
    );
    let scp_as_text = sign(&idp.rsa, &{
        let mut claims = idp.hydra_claims(WRITER, &[]);
        claims["scp"] = json!(format!("openid {WRITE_SCOPE}"));
        claims
    });
    let refused = expect_status(put_as(scp_as_text).await, 401);
    assert_eq!(
        refused.message, "the scp claim is not a list of strings",
        "Hydra's scp is a list, never a string"
    );

    let stranger = idp.token("stranger@example.com", &["openid", WRITE_SCOPE]);
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&stranger)).await.0,
        403,
        "a non-member reads"
    );
    expect_status(put_as(stranger).await, 403);

    // A member of org A asks for a run of org B by its exact path: 403, the
    // same as for a run that does not exist, so nothing leaks.
    let org_b = server.agent().await;
    let run_b = Uuid::new_v4();
    server.put_run(&org_b, run_b, &body).await;
    let member_of_a_only = "only-a@example.com";
    server
        .database
        .put_member(&task_agent_server::storage::Membership {
            org_id: agent.org,
            subject: member_of_a_only.to_owned(),
            role: task_agent_server::storage::Role::Writer,
        })
        .await
        .unwrap();
    let token_a = idp.token(member_of_a_only, &[WRITE_SCOPE]);
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&token_a)).await.0,
        200,
        "its own org"
    );
    assert_eq!(
        get_with(&server, &org_b, run_b, Some(&token_a)).await.0,
        403,
        "an existing run of org B"
    );
    assert_eq!(
        get_with(&server, &org_b, Uuid::new_v4(), Some(&token_a))
            .await
            .0,
        403,
        "a missing run of org B"
    );
}

async fn while_the_jwks_cannot_be_fetched_requests_get_503_until_it_comes_up(backend: Backend) {
    let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = reserved.local_addr().unwrap();
    drop(reserved);
    let mut idp = TestIdp::unstarted(address);
    let token = idp.token(READER, &[]);
    let server =
        TestServer::start_with(backend, TestIdp::unstarted(address), AuthOptions::default()).await;
    let agent = server.agent().await;
    let run_path = agent.run_path(Uuid::new_v4());

    let response = http_client(Some(&token))
        .get(server.url(&run_path))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        503,
        "not 401: the token may well be valid"
    );
    assert!(response.headers().contains_key("retry-after"));
    let ready = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 503, "not ready without keys");
    assert_eq!(
        reqwest::get(server.url("/healthz")).await.unwrap().status(),
        200,
        "but alive"
    );

    idp.serve(tokio::net::TcpListener::bind(address).await.unwrap());
    let mut status = 0;
    for _ in 0..100 {
        status = http_client(Some(&token))
            .get(server.url(&run_path))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        if status != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        status, 404,
        "the keys were fetched and the token verified without a restart"
    );
    assert_eq!(
        reqwest::get(server.url("/readyz")).await.unwrap().status(),
        200
    );
}

async fn a_cached_token_still_expires(backend: Backend) {
    let idp = TestIdp::start().await;
    let server = TestServer::start_with(
        backend,
        idp,
        AuthOptions {
            leeway: Duration::ZERO,
            ..Default::default()
        },
    )
    .await;
    let (agent, run_id) = server.agent_with_run().await;
    let mut claims = server.idp.hydra_claims(READER, &[]);
    claims["exp"] = json!(chrono::Utc::now().timestamp() + 1);
    let short_lived = sign(&server.idp.rsa, &claims);
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&short_lived))
            .await
            .0,
        200
    );
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&short_lived))
            .await
            .0,
        200,
        "from the cache"
    );
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        get_with(&server, &agent, run_id, Some(&short_lived))
            .await
            .0,
        401,
        "expired, cached or not"
    );
}

/// The wrong-typed forms of a claim whose right value is `valid`: a list,
/// an object, the other of number and string, null, an empty string and a
/// huge value.
fn wrong_typed(claim: &str, valid: &Value) -> Vec<(&'static str, Value)> {
    let (swapped, huge) = match valid {
        Value::String(_) => (json!(1_700_000_000), json!("x".repeat(2048))),
        Value::Number(number) => (json!(number.to_string()), json!(1e300)),
        // `aud` may be a string, so its swap is a number.
        _ if claim == "aud" => (json!(1_700_000_000), json!(vec!["x"; 300])),
        _ => (json!("openid"), json!(vec!["x"; 300])),
    };
    vec![
        ("a list", json!([valid])),
        ("an object", json!({ "value": valid })),
        ("number and string swapped", swapped),
        ("null", Value::Null),
        ("an empty string", json!("")),
        ("a huge value", huge),
    ]
}

async fn wrong_typed_claims_are_401_before_any_membership_lookup(backend: Backend) {
    let server = TestServer::start(backend).await;
    let (agent, run_id) = server.agent_with_run().await;
    let idp = &server.idp;
    let claims = ["iss", "sub", "aud", "exp", "nbf", "iat", "scp", "client_id"];
    let mut refused = 0;
    // A member would read the run (200) and a stranger be denied (403):
    // 401 for both shows the claims are checked before the membership.
    for (subject, otherwise) in [(READER, 200), ("stranger@example.com", 403)] {
        for (algorithm, key) in [("RS256", &idp.rsa), ("ES256", &idp.ec)] {
            let valid = idp.hydra_claims(subject, &["openid"]);
            let (status, _) = get_with(&server, &agent, run_id, Some(&sign(key, &valid))).await;
            assert_eq!(status, otherwise, "{subject}: the well-typed token");
            for claim in claims {
                for (what, value) in wrong_typed(claim, &valid[claim]) {
                    let mut wrong = valid.clone();
                    wrong[claim] = value;
                    let token = sign(key, &wrong);
                    let (status, challenge) = get_with(&server, &agent, run_id, Some(&token)).await;
                    let case = format!("{subject}, {algorithm}, {claim} as {what}");
                    assert_eq!(status, 401, "{case}");
                    let challenge = challenge.unwrap_or_default();
                    assert!(
                        challenge.contains("error=\"invalid_token\"")
                            && challenge.contains(&format!("the {claim} claim")),
                        "{case}: {challenge}"
                    );
                    refused += 1;
                }
            }
        }
    }
    assert_eq!(refused, 2 * 2 * claims.len() * 6);
}

crate::backend_tests!(
    a_reader_member_reads_with_hydra_rs256_and_kratos_es256_tokens,
    every_failed_verification_is_401_with_a_bearer_challenge,
    the_audience_is_checked_only_when_configured,
    a_key_added_to_the_jwks_after_start_verifies,
    members_may_read_but_only_writers_with_the_scope_may_write,
    while_the_jwks_cannot_be_fetched_requests_get_503_until_it_comes_up,
    a_cached_token_still_expires,
    wrong_typed_claims_are_401_before_any_membership_lookup,
);
