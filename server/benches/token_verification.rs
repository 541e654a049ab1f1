//! The hot-path effect of the verified-token cache: verifying a bearer JWT
//! (signature and claims) against taking it from the cache.
//!
//! `cargo bench -p task-agent-server --bench token_verification`

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use serde_json::json;
use task_agent_server::auth::{JwksSource, JwtVerifier, KeySet, SigningKey, VerifierConfig};

const ISSUER: &str = "https://issuer.example";

fn verification(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("verify a bearer token");
    for algorithm in [Algorithm::RS256, Algorithm::ES256] {
        let key = SigningKey::generate(algorithm).unwrap();
        let now = chrono::Utc::now().timestamp();
        let token = key
            .sign(&json!({
                "iss": ISSUER, "sub": "bench", "aud": [], "exp": now + 3600, "nbf": now, "iat": now,
                "jti": "b", "client_id": "bench", "scp": ["task_agent_runs:write"], "ext": {},
            }))
            .unwrap();
        let keys = Arc::new(KeySet::new(
            JwksSource::Static(JwkSet {
                keys: vec![key.jwk().clone()],
            }),
            Duration::from_secs(10),
        ));
        runtime.block_on(keys.refresh()).unwrap();
        let verifier = JwtVerifier::new(
            VerifierConfig {
                issuer: ISSUER.to_owned(),
                audience: None,
                leeway: Duration::from_secs(30),
                cache_ttl: Duration::from_secs(60),
                cache_capacity: 10_000,
            },
            keys,
        );
        group.bench_function(
            format!("{algorithm:?} signature and claims (no cache)"),
            |b| {
                b.iter(|| {
                    runtime
                        .block_on(verifier.verify_signature_and_claims(black_box(&token)))
                        .unwrap()
                })
            },
        );
        runtime.block_on(verifier.verify(&token)).unwrap();
        group.bench_function(format!("{algorithm:?} from the cache"), |b| {
            b.iter(|| {
                runtime
                    .block_on(verifier.verify(black_box(&token)))
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, verification);
criterion_main!(benches);
