//! A development token issuer: the server keeps an ES256 signing key in its
//! data directory, publishes it as a JWKS, and mints tokens shaped like Ory
//! Hydra's JWT access tokens, so the API can be tried without an identity
//! provider. Never use it in production: anyone with the data directory can
//! mint tokens.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use serde_json::json;
use uuid::Uuid;

use super::SigningKey;

/// The `iss` of development tokens.
pub const DEV_ISSUER: &str = "urn:task-agent-server:dev-issuer";

/// The key file inside the data directory.
const KEY_FILE: &str = "dev-issuer-key.pem";

/// What a minted token says.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub subject: String,
    pub scopes: Vec<String>,
    pub audience: Vec<String>,
    pub ttl: std::time::Duration,
}

/// The development issuer's key.
pub struct DevIssuer {
    key: SigningKey,
}

impl DevIssuer {
    /// Loads the key from `data_dir`, creating it (readable by its owner
    /// only) on first use.
    pub fn load_or_create(data_dir: &Path) -> anyhow::Result<DevIssuer> {
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("creating {}", data_dir.display()))?;
            let key = SigningKey::generate(Algorithm::ES256)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options
                .open(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            file.write_all(key.private_pem().as_bytes())?;
        }
        let pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let key = SigningKey::from_private_pem(Algorithm::ES256, &pem)
            .with_context(|| format!("{} holds no ES256 key", path.display()))?;
        Ok(DevIssuer { key })
    }

    /// The public key, as the JWKS the server publishes.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: vec![self.key.jwk().clone()],
        }
    }

    /// A signed access token.
    pub fn mint(&self, request: &TokenRequest) -> anyhow::Result<String> {
        let now = chrono::Utc::now().timestamp();
        self.key.sign(&json!({
            "iss": DEV_ISSUER,
            "sub": request.subject,
            "aud": request.audience,
            "iat": now,
            "nbf": now,
            "exp": now + i64::try_from(request.ttl.as_secs()).unwrap_or(i64::MAX / 2),
            "jti": Uuid::new_v4(),
            "client_id": "task-agent-server-dev",
            "scp": request.scopes,
            "ext": {},
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_is_created_once_and_reused() {
        let directory = tempfile::tempdir().unwrap();
        let first = DevIssuer::load_or_create(directory.path()).unwrap();
        let again = DevIssuer::load_or_create(directory.path()).unwrap();
        assert_eq!(first.jwks(), again.jwks());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(directory.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
        }
    }
}
