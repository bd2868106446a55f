//! TLS to PostgreSQL, as the URL asks with libpq's words: `sslmode=` `disable`, `allow`,
//! `prefer` (the default), `require`, `verify-ca` or `verify-full`, and `sslrootcert=` a PEM
//! file of the CA certificates to trust (without it, the public CAs of `webpki-roots`).
//!
//! - `require` encrypts; it checks the certificate against `sslrootcert` when one is given
//!   (as libpq does), else not at all — an attacker on the path can still pose as the server;
//! - `verify-ca` also checks that a trusted CA signed the server's certificate;
//! - `verify-full` also checks that the certificate names the host of the URL: the one that
//!   stops a server in the middle. Use it to a managed database.
//!
//! The password must never cross a network in clear: to a host that is not this machine
//! (not `localhost`, a loopback address or a Unix socket), `disable`, `allow`, `prefer` or no
//! `sslmode` is refused before anything is sent. The driver knows neither `verify-*` nor
//! `sslrootcert`: they are taken out of the URL here, and the driver is told `require`.
//! Connections are rustls with ring (as reqwest's), through `tokio-postgres-rustls`.

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use postgres::config::Host;
use postgres::{Client, NoTls};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::PgError;

/// What `sslmode` asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Mode {
    Disable,
    /// `allow` and `prefer`: TLS if the server offers it (only on this machine, see above).
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl Mode {
    fn parse(text: &str) -> Result<Mode, PgError> {
        Ok(match text {
            "disable" => Mode::Disable,
            "allow" | "prefer" => Mode::Prefer,
            "require" => Mode::Require,
            "verify-ca" => Mode::VerifyCa,
            "verify-full" => Mode::VerifyFull,
            other => {
                return Err(PgError::Tls(format!(
                    "the URL's sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, \
                     verify-full"
                )));
            }
        })
    }

    /// What the driver is told (it knows only these three).
    fn driver(self) -> &'static str {
        match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require | Mode::VerifyCa | Mode::VerifyFull => "require",
        }
    }
}

/// The TLS part of a URL, taken out of it.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Wanted {
    /// `None`: no `sslmode` in the URL.
    pub(super) mode: Option<Mode>,
    pub(super) root_cert: Option<String>,
}

/// `url` without `sslmode` and `sslrootcert` (the driver's `sslmode` put back as it knows
/// it), and what they asked. Both forms: `postgres://…?k=v&…` and `key=value key=value`.
pub(super) fn split(url: &str) -> Result<(String, Wanted), PgError> {
    let is_url = url.contains("://");
    if !is_url && !url.contains("sslmode") && !url.contains("sslrootcert") {
        // Left whole: its quoted values may hold spaces.
        return Ok((
            url.to_owned(),
            Wanted {
                mode: None,
                root_cert: None,
            },
        ));
    }
    let (base, params, separator) = if is_url {
        let (base, query) = url.split_once('?').unwrap_or((url, ""));
        (base, query.split('&').collect::<Vec<_>>(), "&")
    } else {
        ("", url.split_whitespace().collect(), " ")
    };
    let (mut mode, mut root_cert) = (None, None);
    let mut kept = Vec::new();
    for param in params {
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        let value = super::percent_decoded(value.trim_matches('\''));
        match key {
            "sslmode" => mode = Some(Mode::parse(&value)?),
            "sslrootcert" => root_cert = Some(value),
            _ if !param.is_empty() => kept.push(param.to_owned()),
            _ => {}
        }
    }
    if let Some(mode) = mode {
        kept.push(format!("sslmode={}", mode.driver()));
    }
    let rest = kept.join(separator);
    let driver_url = match (is_url, rest.is_empty()) {
        (true, true) => base.to_owned(),
        (true, false) => format!("{base}?{rest}"),
        (false, _) => rest,
    };
    Ok((driver_url, Wanted { mode, root_cert }))
}

/// How connections are made: plain, or TLS with its checks.
#[derive(Clone)]
pub(super) struct Tls {
    connector: Option<MakeRustlsConnect>,
    /// Said after a refused certificate: what was checked against what.
    hint: String,
}

impl Tls {
    /// The connections `wanted` asks for to the hosts of `config`; refuses to send the
    /// password in clear to another machine.
    pub(super) fn new(config: &postgres::Config, wanted: &Wanted) -> Result<Tls, PgError> {
        let mode = wanted.mode.unwrap_or(Mode::Prefer);
        if matches!(mode, Mode::Disable | Mode::Prefer)
            && let Some(host) = remote_host(config)
        {
            let asked = match wanted.mode {
                None => "no sslmode".to_owned(),
                Some(_) => format!("sslmode={}", mode.driver()),
            };
            return Err(PgError::Tls(format!(
                "the URL has {asked}, which could send the password to `{host}` in clear: add \
                 sslmode=verify-full (with sslrootcert=/path/to/the-ca.pem unless a public CA \
                 signed the server's certificate), or at least sslmode=require"
            )));
        }
        let roots = match (&wanted.root_cert, mode) {
            (Some(path), _) => Some(read_roots(path)?),
            (None, Mode::VerifyCa | Mode::VerifyFull) => Some(RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            }),
            (None, _) => None,
        };
        let trusted = match &wanted.root_cert {
            Some(path) => format!("the CA certificates of sslrootcert `{path}`"),
            None => "the public CAs (give the database's CA with sslrootcert=)".to_owned(),
        };
        let hint = match mode {
            Mode::VerifyFull => format!(
                "sslmode=verify-full: the server's certificate must be signed by {trusted} and \
                 name the URL's host"
            ),
            _ => format!("the server's certificate must be signed by {trusted}"),
        };
        let connector = match (mode, roots) {
            (Mode::Disable | Mode::Prefer, _) => None,
            (Mode::VerifyFull, Some(roots)) => Some(client_config(Check::Full(roots))?),
            (_, Some(roots)) => Some(client_config(Check::Chain(roots))?),
            (_, None) => Some(client_config(Check::Nothing)?),
        };
        Ok(Tls {
            connector: connector.map(MakeRustlsConnect::new),
            hint,
        })
    }

    pub(super) fn connect(&self, config: &postgres::Config) -> Result<Client, postgres::Error> {
        match &self.connector {
            Some(connector) => config.connect(connector.clone()),
            None => config.connect(NoTls),
        }
    }

    /// A connection error's words, with what was checked when a certificate was refused.
    pub(super) fn explain(&self, words: String) -> String {
        if self.connector.is_some() && words.contains("certificate") {
            format!("{words} ({})", self.hint)
        } else {
            words
        }
    }
}

/// The first host of `config` that is not this machine, if any.
fn remote_host(config: &postgres::Config) -> Option<String> {
    let loopback = |address: &IpAddr| address.is_loopback();
    // With `hostaddr`, the addresses are where it connects; the host names only name them.
    if !config.get_hostaddrs().is_empty() {
        return config
            .get_hostaddrs()
            .iter()
            .find(|address| !loopback(address))
            .map(IpAddr::to_string);
    }
    config.get_hosts().iter().find_map(|host| match host {
        Host::Unix(_) => None,
        Host::Tcp(name) => {
            let local = name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_matches(['[', ']'])
                    .parse::<IpAddr>()
                    .is_ok_and(|address| loopback(&address));
            (!local).then(|| name.clone())
        }
    })
}

fn read_roots(path: &str) -> Result<RootCertStore, PgError> {
    let unreadable = |why: String| PgError::Tls(format!("cannot use sslrootcert `{path}`: {why}"));
    let mut roots = RootCertStore::empty();
    let certificates =
        CertificateDer::pem_file_iter(Path::new(path)).map_err(|e| unreadable(e.to_string()))?;
    for certificate in certificates {
        let certificate = certificate.map_err(|e| unreadable(e.to_string()))?;
        roots
            .add(certificate)
            .map_err(|e| unreadable(format!("a certificate in it is not usable as a CA: {e}")))?;
    }
    if roots.is_empty() {
        return Err(unreadable(
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    Ok(roots)
}

/// What a connection checks of the server's certificate.
enum Check {
    Nothing,
    Chain(RootCertStore),
    Full(RootCertStore),
}

fn client_config(check: Check) -> Result<ClientConfig, PgError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let failed = |e: rustls::Error| PgError::Tls(format!("cannot set up TLS: {e}"));
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(failed)?;
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::Full(roots) => {
            return Ok(builder.with_root_certificates(roots).with_no_client_auth());
        }
        Check::Chain(roots) => Arc::new(AnyName(
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
                .build()
                .map_err(|e| PgError::Tls(format!("cannot set up TLS: {e}")))?,
        )),
        Check::Nothing => Arc::new(Unchecked(provider)),
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// `sslmode=require` without `sslrootcert`: any certificate, but the handshake's signatures
/// are still checked (the server holds the key of the certificate it shows).
#[derive(Debug)]
struct Unchecked(Arc<CryptoProvider>);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
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

/// `verify-ca` (and `require` with `sslrootcert`): the chain to a trusted CA, any name.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The chain is checked before the name: a name error means the chain was good.
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
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
