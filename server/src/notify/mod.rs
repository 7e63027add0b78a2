//! Outgoing messages: email (SMTP through `lettre`) and SMS (a Twilio-compatible REST
//! provider). With neither configured, which is the default on one machine, messages go
//! to the dev outbox table instead, shown on the dev-only page `/dev/outbox`.
//!
//! Messages carry what the recipient needs (a link, a time, a clinic's name) and never
//! clinical content. Nothing about a message is logged but its id, channel and outcome.

pub mod email;
pub mod outbox;
pub mod routes;
pub mod sms;

use uuid::Uuid;

use crate::db::Db;

pub use self::email::EmailTransport;
pub use self::sms::SmsTransport;

/// One message to one recipient, sent on behalf of a workspace.
#[derive(Debug, Clone)]
pub struct Message {
    /// The workspace it is sent for (the dev outbox is scoped to it).
    pub workspace_id: Uuid,
    /// Email address or phone number.
    pub to: Recipient,
    /// Email subject (unused by SMS).
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// An email address.
    Email(String),
    /// A phone number in E.164 form (`+15550100`).
    Sms(String),
}

impl Recipient {
    /// `email` or `sms`.
    pub fn channel(&self) -> &'static str {
        match self {
            Recipient::Email(_) => "email",
            Recipient::Sms(_) => "sms",
        }
    }
}

/// Sends messages through the configured transports.
#[derive(Debug)]
pub struct Notifier {
    email: EmailTransport,
    sms: SmsTransport,
    db: Db,
}

impl Notifier {
    /// A notifier over `email` and `sms`; `db` holds the dev outbox.
    pub fn new(email: EmailTransport, sms: SmsTransport, db: Db) -> Self {
        Self { email, sms, db }
    }

    /// Sends `message`; an error means it was not accepted by the transport.
    pub async fn send(&self, message: &Message) -> anyhow::Result<()> {
        let result = match &message.to {
            Recipient::Email(address) => match &self.email {
                EmailTransport::DevOutbox => outbox::store(&self.db, message).await,
                transport => {
                    transport
                        .send(address, &message.subject, &message.body)
                        .await
                }
            },
            Recipient::Sms(number) => match &self.sms {
                SmsTransport::DevOutbox => outbox::store(&self.db, message).await,
                transport => transport.send(number, &message.body).await,
            },
        };
        match &result {
            Ok(()) => {
                tracing::info!(workspace_id = %message.workspace_id, channel = message.to.channel(), "message sent")
            }
            Err(error) => tracing::warn!(
                workspace_id = %message.workspace_id,
                channel = message.to.channel(),
                error = %error,
                "message not sent"
            ),
        }
        result
    }

    /// Whether email goes to the dev outbox rather than a real server.
    pub fn email_is_dev_outbox(&self) -> bool {
        matches!(self.email, EmailTransport::DevOutbox)
    }
}
