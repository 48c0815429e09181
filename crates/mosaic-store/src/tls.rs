//! TLS to a shared store, with libpq's `sslmode` meanings (rustls, so no
//! system library is needed):
//!
//! - `disable`: no TLS;
//! - `allow`, `prefer` (the default): TLS when the server offers it;
//! - `require`: TLS or no connection; the certificate is checked against the
//!   root certificate when there is one (as libpq does), otherwise not;
//! - `verify-ca`: the certificate must chain to the root certificate;
//! - `verify-full`: that, and it must name the host.
//!
//! The root certificate comes from `sslrootcert=FILE` (PEM), or libpq's
//! default `~/.postgresql/root.crt`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    const ALL: [Mode; 6] = [Mode::Disable, Mode::Allow, Mode::Prefer, Mode::Require, Mode::VerifyCa, Mode::VerifyFull];

    pub(crate) fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// As URLs write it.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Allow => "allow",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        }
    }

    /// What the client negotiates: TLS never, if offered, or always.
    pub(crate) fn negotiation(self) -> SslMode {
        match self {
            Mode::Disable => SslMode::Disable,
            Mode::Allow | Mode::Prefer => SslMode::Prefer,
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
        }
    }
}

/// How a store URL asks for TLS.
#[derive(Clone, Debug)]
pub(crate) struct Tls {
    pub(crate) mode: Mode,
    /// `sslrootcert=FILE`, if given.
    pub(crate) root: Option<PathBuf>,
}

impl Tls {
    /// The root certificate file in use: the one named, or libpq's default if it exists.
    fn root_file(&self) -> Option<PathBuf> {
        self.root.clone().or_else(|| {
            let default = Path::new(&std::env::var_os("HOME")?).join(".postgresql").join("root.crt");
            default.is_file().then_some(default)
        })
    }

    /// The connector for this mode; `Err` says what is missing or unreadable.
    pub(crate) fn connector(&self) -> Result<MakeRustlsConnect, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let roots = match self.root_file() {
            Some(file) => Some(read_roots(&file)?),
            None if matches!(self.mode, Mode::VerifyCa | Mode::VerifyFull) => {
                return Err(format!(
                    "sslmode={} checks the server's certificate: name its certificate authority with sslrootcert=FILE (PEM), \
                     or put it in ~/.postgresql/root.crt",
                    self.mode.as_str()
                ));
            }
            None => None,
        };
        let chain = roots
            .map(|roots| {
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("the root certificate cannot be used: {e}"))
            })
            .transpose()?;
        let verifier = Arc::new(ServerCheck {
            chain,
            check_name: self.mode == Mode::VerifyFull,
            algorithms: provider.signature_verification_algorithms,
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("no TLS version to offer: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }
}

fn read_roots(file: &Path) -> Result<RootCertStore, String> {
    let unreadable = |e: &dyn std::fmt::Display| format!("cannot read the root certificate {}: {e}", file.display());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(file).map_err(|e| unreadable(&e))? {
        roots.add(cert.map_err(|e| unreadable(&e))?).map_err(|e| unreadable(&e))?;
    }
    if roots.is_empty() {
        return Err(unreadable(&"no certificate in it (PEM expected)"));
    }
    Ok(roots)
}

/// The server's certificate, checked as the mode asks: against the roots
/// (its name only for `verify-full`), or, for `require` without a root
/// certificate as libpq does, not at all (whoever answers is believed). The
/// handshake's signatures are checked either way.
#[derive(Debug)]
struct ServerCheck {
    chain: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for ServerCheck {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(chain) = &self.chain else { return Ok(ServerCertVerified::assertion()) };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp, now) {
            Err(Error::InvalidCertificate(CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }))
                if !self.check_name =>
            {
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
