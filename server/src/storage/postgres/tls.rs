//! TLS to PostgreSQL as libpq's URL parameters `sslmode` and `sslrootcert`
//! ask for it, on rustls (with the aws-lc-rs provider the rest of the
//! server uses).
//!
//! tokio-postgres knows only `sslmode=disable|prefer|require` and refuses
//! the verifying modes and `sslrootcert`, so both parameters are taken out
//! of the URL here; tokio-postgres is told only whether to ask for TLS, and
//! the certificate check it cannot express is this module's verifier.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use percent_encoding::percent_decode_str;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, aws_lc_rs, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode`, with libpq's meaning.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum SslMode {
    /// Plain text only.
    Disable,
    /// TLS when the server offers it, plain text otherwise (libpq's
    /// default); the certificate is checked only against a `sslrootcert`.
    Prefer,
    /// TLS or no connection; the certificate is checked only against a
    /// `sslrootcert` (then as `verify-ca`).
    Require,
    /// TLS with a certificate signed by a trusted CA, for any host name.
    VerifyCa,
    /// TLS with a certificate signed by a trusted CA and valid for the host
    /// connected to.
    VerifyFull,
}

impl SslMode {
    fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for SslMode {
    type Err = TlsError;

    fn from_str(text: &str) -> Result<SslMode, TlsError> {
        [
            SslMode::Disable,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ]
        .into_iter()
        .find(|mode| mode.as_str() == text)
        .ok_or_else(|| TlsError::UnknownMode(text.to_owned()))
    }
}

/// Why the URL's TLS settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// An `sslmode` libpq does not have (or `allow`, which this server
    /// does not offer).
    #[error(
        "sslmode={0:?} in the database URL: expected disable, prefer, require, verify-ca or verify-full"
    )]
    UnknownMode(String),
    /// A parameter whose percent-decoded value is not text.
    #[error("{0} in the database URL is not UTF-8 once percent-decoded")]
    NotUtf8(&'static str),
    /// The `sslrootcert` file cannot be read as PEM.
    #[error("reading sslrootcert {path}: {source}")]
    RootCert {
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The `sslrootcert` file holds no usable certificate.
    #[error("sslrootcert {0}: no CA certificate rustls accepts")]
    NoRootCert(PathBuf),
    /// A verifying mode without `sslrootcert`, on a system without CA
    /// certificates.
    #[error("no CA certificates in the system's store ({0}); name a CA file with sslrootcert")]
    NoSystemRoots(String),
    /// rustls refused the configuration (a bug rather than a setting).
    #[error("setting up TLS: {0}")]
    Rustls(#[from] rustls::Error),
    /// The CA certificates cannot make a verifier.
    #[error("setting up the certificate check: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
}

/// What the database URL asks of TLS.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TlsSettings {
    mode: SslMode,
    /// The `sslrootcert` file; `None` (or libpq's `system`) means the
    /// system's CA certificates.
    root_cert: Option<PathBuf>,
}

/// How much of the server's certificate is checked.
enum Check {
    Nothing,
    Chain,
    ChainAndHost,
}

impl TlsSettings {
    /// Takes `sslmode` and `sslrootcert` out of the query of `url`: the
    /// settings, and the URL that is left for tokio-postgres (its other
    /// parameters as they were written).
    pub fn from_url(url: &str) -> Result<(TlsSettings, String), TlsError> {
        let mut settings = TlsSettings {
            mode: SslMode::Prefer,
            root_cert: None,
        };
        let Some((base, query)) = url.split_once('?') else {
            return Ok((settings, url.to_owned()));
        };
        let decode = |name: &'static str, value: &str| {
            percent_decode_str(value)
                .decode_utf8()
                .map(|value| value.into_owned())
                .map_err(|_| TlsError::NotUtf8(name))
        };
        let mut rest = Vec::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("sslmode", value)) => settings.mode = decode("sslmode", value)?.parse()?,
                Some(("sslrootcert", value)) => {
                    let path = decode("sslrootcert", value)?;
                    settings.root_cert = (path != "system").then(|| path.into());
                }
                _ => rest.push(pair),
            }
        }
        let url = match rest.is_empty() {
            true => base.to_owned(),
            false => format!("{base}?{}", rest.join("&")),
        };
        Ok((settings, url))
    }

    /// The part of the mode tokio-postgres carries out: whether to ask the
    /// server for TLS, and whether to go on without it.
    pub fn wire_mode(&self) -> tokio_postgres::config::SslMode {
        match self.mode {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        }
    }

    /// As libpq: a CA file given makes `prefer` and `require` check the
    /// chain too (libpq's `require` with a root certificate "behaves like
    /// verify-ca").
    fn check(&self) -> Check {
        match (self.mode, &self.root_cert) {
            (SslMode::Disable, _) | (SslMode::Prefer | SslMode::Require, None) => Check::Nothing,
            (SslMode::Prefer | SslMode::Require, Some(_)) | (SslMode::VerifyCa, _) => Check::Chain,
            (SslMode::VerifyFull, _) => Check::ChainAndHost,
        }
    }

    /// The connector that makes the TLS connections, with the certificate
    /// check these settings ask for; the CA certificates are read now, so
    /// that a missing file fails at start.
    pub fn connector(&self) -> Result<MakeRustlsConnect, TlsError> {
        let provider = Arc::new(aws_lc_rs::default_provider());
        let verifier: Arc<dyn ServerCertVerifier> = match self.check() {
            Check::Nothing => Arc::new(Unverified(provider.clone())),
            Check::Chain => Arc::new(ChainOnly(self.webpki(&provider)?)),
            Check::ChainAndHost => self.webpki(&provider)?,
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn webpki(
        &self,
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, TlsError> {
        let mut roots = RootCertStore::empty();
        match &self.root_cert {
            Some(path) => {
                let certificates = CertificateDer::pem_file_iter(path)
                    .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
                    .map_err(|source| TlsError::RootCert {
                        path: path.clone(),
                        source,
                    })?;
                let (added, _) = roots.add_parsable_certificates(certificates);
                if added == 0 {
                    return Err(TlsError::NoRootCert(path.clone()));
                }
            }
            None => {
                let found = rustls_native_certs::load_native_certs();
                let (added, _) = roots.add_parsable_certificates(found.certs);
                if added == 0 {
                    let errors: Vec<String> =
                        found.errors.iter().map(ToString::to_string).collect();
                    return Err(TlsError::NoSystemRoots(errors.join("; ")));
                }
            }
        }
        Ok(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()?,
        )
    }

    /// What a failed connection's certificate error means, in words an
    /// operator can act on; `None` for other failures (their own message
    /// says enough).
    pub fn explain(&self, error: &tokio_postgres::Error) -> Option<String> {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
        while let Some(current) = source {
            // tokio-rustls wraps rustls' error in an io::Error, whose own
            // `source` skips it.
            let rustls_error = current.downcast_ref::<rustls::Error>().or_else(|| {
                current
                    .downcast_ref::<std::io::Error>()
                    .and_then(|io| io.get_ref())
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            });
            if let Some(rustls::Error::InvalidCertificate(problem)) = rustls_error {
                return match problem {
                    CertificateError::UnknownIssuer => Some(format!(
                        "the database server's certificate is not signed by a CA in {}",
                        self.roots()
                    )),
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. } => Some(
                        "the database server's certificate is not valid for the host name in the URL"
                            .to_owned(),
                    ),
                    _ => None,
                };
            }
            source = current.source();
        }
        None
    }

    fn roots(&self) -> String {
        match &self.root_cert {
            Some(path) => format!("sslrootcert {}", path.display()),
            None => "the system's certificate store".to_owned(),
        }
    }
}

impl fmt::Display for TlsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sslmode={}", self.mode.as_str())?;
        match self.check() {
            Check::Nothing => Ok(()),
            Check::Chain | Check::ChainAndHost => {
                write!(f, ", CA certificates from {}", self.roots())
            }
        }
    }
}

/// `prefer` and `require` without a CA file, as libpq: encrypted, but any
/// certificate is accepted (the handshake's signatures are still checked,
/// so the session is with the holder of the certificate's key).
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted CA, for any host name.
/// webpki checks the name only once the chain is valid, so ignoring its
/// name error accepts exactly the certificates with a valid chain.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str) -> (TlsSettings, String) {
        TlsSettings::from_url(url).unwrap()
    }

    #[test]
    fn ssl_parameters_are_taken_out_and_the_rest_is_left_as_written() {
        let (tls, rest) = settings(
            "postgres://app@db/runs?options=-c%20search_path%3Dx&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        );
        assert_eq!(rest, "postgres://app@db/runs?options=-c%20search_path%3Dx");
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(tls.root_cert, Some(PathBuf::from("/etc/ca.pem")));
        let (tls, rest) = settings("postgres://app@db/runs?sslmode=disable");
        assert_eq!(
            (tls.mode, rest.as_str()),
            (SslMode::Disable, "postgres://app@db/runs")
        );
        let (tls, _) = settings("postgres://app@db/runs");
        assert_eq!(tls.mode, SslMode::Prefer, "libpq's default");
        let (tls, _) = settings("postgres://db/runs?sslmode=verify-ca&sslrootcert=system");
        assert_eq!(tls.root_cert, None, "libpq's name for the system's store");
        let error = TlsSettings::from_url("postgres://db/runs?sslmode=allow").unwrap_err();
        assert!(error.to_string().contains("verify-full"), "{error}");
    }

    #[test]
    fn the_certificate_is_checked_as_libpq_checks_it() {
        let check = |url: &str| settings(url).0.check();
        assert!(matches!(
            check("postgres://db?sslmode=require"),
            Check::Nothing
        ));
        assert!(matches!(check("postgres://db"), Check::Nothing));
        assert!(matches!(
            check("postgres://db?sslmode=require&sslrootcert=/ca.pem"),
            Check::Chain
        ));
        assert!(matches!(
            check("postgres://db?sslmode=verify-ca"),
            Check::Chain
        ));
        assert!(matches!(
            check("postgres://db?sslmode=verify-full"),
            Check::ChainAndHost
        ));
    }

    #[test]
    fn a_missing_ca_file_fails_when_the_connector_is_made() {
        let (tls, _) =
            settings("postgres://db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem");
        let error = tls.connector().err().expect("no such file");
        assert!(error.to_string().contains("/nonexistent/ca.pem"), "{error}");
    }
}
