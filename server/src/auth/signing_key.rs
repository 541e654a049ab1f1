//! A private key that signs JWTs, with its public half as a JWK. The
//! development issuer signs with one; tests and benchmarks play identity
//! provider with them.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use jsonwebtoken::jwk::{Jwk, KeyAlgorithm, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// A signing key.
#[derive(Clone)]
pub struct SigningKey {
    algorithm: Algorithm,
    encoding: EncodingKey,
    private_pem: String,
    public_pem: String,
    jwk: Jwk,
}

impl SigningKey {
    /// A new key for `algorithm`: RS256 (RSA-2048) or ES256 (P-256).
    pub fn generate(algorithm: Algorithm) -> anyhow::Result<SigningKey> {
        let failed = |what: &str| anyhow::anyhow!("generating a {what} key failed");
        // Only the private key is made here; the rest is derived from it as
        // when it is read back.
        let private: Vec<u8> = match algorithm {
            Algorithm::RS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| failed("RSA"))?;
                let private: Pkcs8V1Der = pair.as_der().map_err(|_| failed("RSA"))?;
                private.as_ref().to_vec()
            }
            Algorithm::ES256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .map_err(|_| failed("EC"))?;
                let private = pair.to_pkcs8v1().map_err(|_| failed("EC"))?;
                private.as_ref().to_vec()
            }
            other => anyhow::bail!("cannot generate keys for {other:?}"),
        };
        SigningKey::from_private_pem(algorithm, &pem("PRIVATE KEY", &private))
    }

    /// The key stored as PKCS#8 PEM by [`SigningKey::private_pem`].
    pub fn from_private_pem(algorithm: Algorithm, private_pem: &str) -> anyhow::Result<SigningKey> {
        let der = ::pem::parse(private_pem)?.into_contents();
        let public = match algorithm {
            Algorithm::RS256 => {
                let pair = RsaKeyPair::from_pkcs8(&der)
                    .map_err(|e| anyhow::anyhow!("not an RSA key: {e}"))?;
                let public: PublicKeyX509Der = pair
                    .public_key()
                    .as_der()
                    .map_err(|_| anyhow::anyhow!("encoding an RSA key failed"))?;
                public.as_ref().to_vec()
            }
            Algorithm::ES256 => {
                let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
                    .map_err(|e| anyhow::anyhow!("not a P-256 key: {e}"))?;
                let public: PublicKeyX509Der = pair
                    .public_key()
                    .as_der()
                    .map_err(|_| anyhow::anyhow!("encoding an EC key failed"))?;
                public.as_ref().to_vec()
            }
            other => anyhow::bail!("unsupported signing algorithm {other:?}"),
        };
        SigningKey::from_pem(algorithm, private_pem, pem("PUBLIC KEY", &public))
    }

    fn from_pem(
        algorithm: Algorithm,
        private_pem: &str,
        public_pem: String,
    ) -> anyhow::Result<SigningKey> {
        let encoding = match algorithm {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(private_pem.as_bytes())?,
            _ => EncodingKey::from_ec_pem(private_pem.as_bytes())?,
        };
        let mut jwk = Jwk::from_encoding_key(&encoding, algorithm)?;
        // RFC 7638 thumbprint: stable, and different for every key.
        jwk.common.key_id = Some(jwk.thumbprint(ThumbprintHash::SHA256)?);
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        jwk.common.key_algorithm = Some(KeyAlgorithm::from(algorithm));
        Ok(SigningKey {
            algorithm,
            encoding,
            private_pem: private_pem.to_owned(),
            public_pem,
            jwk,
        })
    }

    /// The key id (`kid`) of signed tokens.
    pub fn kid(&self) -> &str {
        self.jwk
            .common
            .key_id
            .as_deref()
            .expect("set at construction")
    }

    /// The public key, for a JWKS.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The private key as PKCS#8 PEM (keep it secret).
    pub fn private_pem(&self) -> &str {
        &self.private_pem
    }

    /// The public key as SPKI PEM.
    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    /// A JWT of `claims`, with this key's `alg` and `kid`.
    pub fn sign(&self, claims: &impl Serialize) -> anyhow::Result<String> {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid().to_owned());
        header.typ = Some("JWT".to_owned());
        Ok(jsonwebtoken::encode(&header, claims, &self.encoding)?)
    }
}

fn pem(label: &str, der: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new(label, der.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_pem() {
        for algorithm in [Algorithm::RS256, Algorithm::ES256] {
            let key = SigningKey::generate(algorithm).unwrap();
            let again = SigningKey::from_private_pem(algorithm, key.private_pem()).unwrap();
            assert_eq!(key.jwk(), again.jwk());
            assert_eq!(key.public_pem(), again.public_pem());
            assert_ne!(key.kid(), SigningKey::generate(algorithm).unwrap().kid());
        }
    }
}
