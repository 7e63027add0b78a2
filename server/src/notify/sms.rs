//! SMS through a Twilio-compatible REST API (`SMS_PROVIDER_URL`, `SMS_ACCOUNT_SID`,
//! `SMS_AUTH_TOKEN`, `SMS_FROM`), or the dev outbox when unset. The API is the one
//! Twilio and several compatible providers expose: a form POST of `To`, `From`, `Body`
//! to `{base}/2010-04-01/Accounts/{sid}/Messages.json` with HTTP basic auth.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// A Twilio-compatible provider's settings.
#[derive(Debug, Clone)]
pub struct SmsProviderSettings {
    /// Base URL, e.g. `https://api.twilio.com`.
    pub base_url: String,
    /// Account SID (basic-auth user).
    pub account_sid: String,
    /// Auth token (basic-auth password).
    pub auth_token: SecretString,
    /// Sender number or id.
    pub from: String,
}

/// How SMS leaves Bedside.
#[derive(Debug)]
pub enum SmsTransport {
    /// A Twilio-compatible REST provider.
    Provider {
        /// Its settings.
        settings: SmsProviderSettings,
        /// The HTTPS client.
        client: reqwest::Client,
    },
    /// The dev outbox table.
    DevOutbox,
}

impl SmsTransport {
    /// The provider when configured, else the dev outbox.
    pub fn from_settings(
        settings: Option<SmsProviderSettings>,
        extra_ca_file: Option<&std::path::Path>,
    ) -> anyhow::Result<Self> {
        Ok(match settings {
            None => SmsTransport::DevOutbox,
            Some(settings) => SmsTransport::Provider {
                client: crate::tls::https_client(extra_ca_file, Duration::from_secs(10))?,
                settings,
            },
        })
    }

    /// Sends one text (the dev outbox is handled by the caller).
    pub async fn send(&self, to: &str, body: &str) -> anyhow::Result<()> {
        let SmsTransport::Provider { settings, client } = self else {
            anyhow::bail!("the dev outbox is not an SMS provider");
        };
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            settings.base_url.trim_end_matches('/'),
            settings.account_sid
        );
        let response = client
            .post(url)
            .basic_auth(
                &settings.account_sid,
                Some(settings.auth_token.expose_secret()),
            )
            .form(&[("To", to), ("From", settings.from.as_str()), ("Body", body)])
            .send()
            .await
            .map_err(|error| {
                anyhow::anyhow!("SMS provider unreachable: {}", error.without_url())
            })?;
        let status = response.status();
        if !status.is_success() {
            anyhow::bail!("SMS provider refused the message: HTTP {status}");
        }
        Ok(())
    }
}

/// Normalises a phone number to E.164 (`+` and digits), or `None` if it cannot be one.
pub fn e164(number: &str) -> Option<String> {
    let trimmed = number.trim();
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let plus = trimmed.starts_with('+');
    let allowed = trimmed
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    (allowed && (8..=15).contains(&digits.len())).then(|| {
        if plus {
            format!("+{digits}")
        } else if digits.len() == 10 {
            // A national number without country code: assume NANP, as the demo clinic.
            format!("+1{digits}")
        } else {
            format!("+{digits}")
        }
    })
}
