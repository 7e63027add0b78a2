//! Email over SMTP (`SMTP_URL`), or the dev outbox when it is unset.
//!
//! `SMTP_URL` is lettre's URL form: `smtps://user:pass@host:465` (implicit TLS),
//! `smtp://user:pass@host:587?tls=required` (STARTTLS), or plain `smtp://host:port`,
//! which production accepts only on loopback (a local relay). TLS is rustls with the
//! system's roots.

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How email leaves Bedside.
#[derive(Debug)]
pub enum EmailTransport {
    /// An SMTP server.
    Smtp {
        /// The connection (pooled by lettre).
        transport: Box<AsyncSmtpTransport<Tokio1Executor>>,
        /// The `From` of every message (`SMTP_FROM`).
        from: Mailbox,
    },
    /// The dev outbox table.
    DevOutbox,
}

impl EmailTransport {
    /// SMTP at `url` when given, else the dev outbox.
    pub fn from_settings(url: Option<&str>, from: &str) -> anyhow::Result<Self> {
        let Some(url) = url else {
            return Ok(EmailTransport::DevOutbox);
        };
        crate::tls::install_crypto_provider();
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("SMTP_URL is not a valid smtp:// or smtps:// URL")?
            .timeout(Some(std::time::Duration::from_secs(15)))
            .build();
        let from = from.parse().context("SMTP_FROM is not a valid mailbox")?;
        Ok(EmailTransport::Smtp {
            transport: Box::new(transport),
            from,
        })
    }

    /// Sends one plain-text message (the dev outbox is handled by the caller).
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let EmailTransport::Smtp { transport, from } = self else {
            anyhow::bail!("the dev outbox is not an SMTP transport");
        };
        let to: Mailbox = to.parse().context("recipient address")?;
        let message = lettre::Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())
            .context("building the message")?;
        transport
            .send(message)
            .await
            .map_err(|error| anyhow::anyhow!("SMTP: {}", smtp_error_kind(&error)))?;
        Ok(())
    }
}

/// What kind of SMTP failure, without the server's text (which may quote addresses).
fn smtp_error_kind(error: &lettre::transport::smtp::Error) -> &'static str {
    if error.is_permanent() {
        "permanent rejection"
    } else if error.is_transient() {
        "transient rejection"
    } else if error.is_timeout() {
        "timeout"
    } else if error.is_tls() {
        "TLS failure"
    } else {
        "connection or protocol failure"
    }
}
