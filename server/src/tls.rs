//! TLS for Bedside's outgoing connections: PostgreSQL (sqlx) and HTTPS clients
//! (webhooks). Both use rustls with aws-lc-rs, the crypto library the SFU already
//! builds for DTLS, so there is one crypto stack in the binary and no OpenSSL.
//!
//! HTTPS clients trust the operating system's roots plus, optionally, a PEM file of the
//! operator's own CAs (`BEDSIDE_TLS_CA_FILE`), for receivers behind a private CA.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;

/// Installs aws-lc-rs as rustls' process-wide provider (idempotent). Called before any
/// TLS connection is made; reqwest and sqlx then use it.
pub fn install_crypto_provider() {
    // An error only means a provider is installed already (tests start many apps).
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}

/// An HTTP client for outgoing requests: HTTPS verified against the system's roots and
/// `extra_ca_file`'s certificates, with a `timeout` per request.
pub fn https_client(
    extra_ca_file: Option<&Path>,
    timeout: Duration,
) -> anyhow::Result<reqwest::Client> {
    install_crypto_provider();
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .https_only(false)
        .timeout(timeout);
    if let Some(path) = extra_ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("reading BEDSIDE_TLS_CA_FILE {}", path.display()))?;
        let certificates = reqwest::Certificate::from_pem_bundle(&pem)
            .context("BEDSIDE_TLS_CA_FILE holds no valid PEM certificates")?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().context("building the HTTPS client")
}

/// Whether an `http(s)://` URL goes to this machine only (plain HTTP is acceptable
/// there: nothing crosses a network).
pub fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(bracketed) = authority.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}
