//! The sections of [`super::Settings`]: the embedded SFU, TURN, email and SMS, LiveKit
//! credentials, PostgreSQL, sign-in and demo data, each with what it derives.

use std::net::SocketAddr;
use std::path::Path;
use std::str::FromStr;

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sqlx::postgres::PgConnectOptions;

/// The embedded SFU's UDP port and the address it advertises to clients.
#[derive(Debug, Clone, Deserialize)]
pub struct RtcSettings {
    /// UDP port shared by every peer (`BEDSIDE_RTC_UDP_PORT`; 0 picks a free one).
    pub udp_port: u16,
    /// ICE-TCP port for clients whose UDP is blocked (`BEDSIDE_RTC_TCP_PORT`; 0 picks a
    /// free one; `off` disables it).
    #[serde(default)]
    pub tcp_port: Option<u16>,
    /// Address the UDP socket binds (`BEDSIDE_RTC_BIND_IP`).
    pub bind_ip: std::net::IpAddr,
    /// Address put in the host ICE candidate, reachable by clients
    /// (`BEDSIDE_RTC_PUBLIC_IP`).
    pub public_ip: std::net::IpAddr,
    /// Seconds an empty room stays open.
    pub empty_room_timeout_secs: u64,
    /// Seconds media may take to connect, or stay disconnected, before the participant
    /// is dropped.
    pub ice_timeout_secs: u64,
    /// LiveKit-format webhook receivers (`BEDSIDE_WEBHOOK_URLS`, comma-separated).
    #[serde(default)]
    pub webhook_urls: Vec<String>,
    /// SFU shards, one core task each (`BEDSIDE_SFU_SHARDS`; unset: one per CPU).
    /// Shard `i` listens on `udp_port + i` (and `tcp_port + i`).
    #[serde(default)]
    pub shards: Option<usize>,
    /// Publishers' media is received beside str0m once a stream is known
    /// (`BEDSIDE_SFU_MEDIA_BESIDE_STR0M`, `on` or `off`; default on; docs/sfu.md).
    #[serde(default = "on")]
    pub media_beside_str0m: bool,
    /// Subscribers' media is sent beside str0m (`BEDSIDE_SFU_SEND_BESIDE_STR0M`, `on`
    /// or `off`; default on; docs/sfu.md).
    #[serde(default = "on")]
    pub send_beside_str0m: bool,
}

fn on() -> bool {
    true
}

impl RtcSettings {
    /// The SFU driver's settings; webhooks are signed with the LiveKit credentials.
    /// `tls_ca_file` adds trusted CAs for HTTPS webhook receivers.
    pub fn sfu(
        &self,
        livekit: &LiveKitSettings,
        tls_ca_file: Option<&Path>,
    ) -> crate::sfu::SfuSettings {
        let webhooks = match (&livekit.api_key, &livekit.api_secret) {
            (Some(key), Some(secret)) if !self.webhook_urls.is_empty() => {
                Some(crate::sfu::WebhookSettings {
                    urls: self.webhook_urls.clone(),
                    api_key: key.clone(),
                    api_secret: secret.clone(),
                    ca_file: tls_ca_file.map(Path::to_path_buf),
                })
            }
            _ => None,
        };
        crate::sfu::SfuSettings {
            webhooks,
            tcp_bind: self
                .tcp_port
                .map(|port| SocketAddr::new(self.bind_ip, port)),
            udp_bind: SocketAddr::new(self.bind_ip, self.udp_port),
            public_ip: self.public_ip,
            empty_room_timeout: std::time::Duration::from_secs(self.empty_room_timeout_secs),
            ice_timeout: std::time::Duration::from_secs(self.ice_timeout_secs),
            shards: self.shards.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
            }),
            media_beside_str0m: self.media_beside_str0m,
            send_beside_str0m: self.send_beside_str0m,
        }
    }
}

/// STUN and TURN servers offered to visit participants.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TurnConfig {
    /// `BEDSIDE_STUN_URLS`, comma-separated `stun:` URLs.
    #[serde(default)]
    pub stun_urls: Vec<String>,
    /// `BEDSIDE_TURN_URLS`, comma-separated `turn:`/`turns:` URLs.
    #[serde(default)]
    pub turn_urls: Vec<String>,
    /// `BEDSIDE_TURN_SECRET`: coturn's `static-auth-secret` (`use-auth-secret`).
    #[serde(default)]
    pub secret: Option<SecretString>,
    /// `BEDSIDE_TURN_TTL_SECS`: credential lifetime (default 3600).
    #[serde(default)]
    pub ttl_secs: Option<u64>,
}

impl TurnConfig {
    /// The control plane's TURN settings.
    pub fn settings(&self) -> crate::meetings::turn::TurnSettings {
        crate::meetings::turn::TurnSettings {
            stun_urls: self.stun_urls.clone(),
            turn_urls: self.turn_urls.clone(),
            secret: self.secret.clone(),
            ttl_secs: self.ttl_secs.unwrap_or(3600),
        }
    }
}

/// Email and SMS delivery. Unset means the dev outbox.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NotifySettings {
    /// `SMTP_URL` (lettre's form: `smtps://user:pass@host`, `smtp://host:587?tls=required`).
    #[serde(default)]
    pub smtp_url: Option<SecretString>,
    /// `SMTP_FROM`, the sender mailbox.
    #[serde(default)]
    pub smtp_from: Option<String>,
    /// `SMS_PROVIDER_URL`: base URL of a Twilio-compatible REST API.
    #[serde(default)]
    pub sms_provider_url: Option<String>,
    /// `SMS_ACCOUNT_SID`.
    #[serde(default)]
    pub sms_account_sid: Option<String>,
    /// `SMS_AUTH_TOKEN`.
    #[serde(default)]
    pub sms_auth_token: Option<SecretString>,
    /// `SMS_FROM`: the sender number.
    #[serde(default)]
    pub sms_from: Option<String>,
}

impl NotifySettings {
    /// The SMS provider's settings, if all four are set.
    pub fn sms_provider(&self) -> Option<crate::notify::sms::SmsProviderSettings> {
        Some(crate::notify::sms::SmsProviderSettings {
            base_url: self.sms_provider_url.clone()?,
            account_sid: self.sms_account_sid.clone()?,
            auth_token: self.sms_auth_token.clone()?,
            from: self.sms_from.clone()?,
        })
    }

    /// The `From` of emails.
    pub fn from_mailbox(&self) -> &str {
        self.smtp_from
            .as_deref()
            .unwrap_or("Bedside <no-reply@bedside.invalid>")
    }
}

/// LiveKit API key and secret: access tokens for `/rtc` are HS256 JWTs signed with the
/// secret and issued by (`iss`) the key, so any LiveKit SDK or tool can mint them.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct LiveKitSettings {
    /// `LIVEKIT_API_KEY`.
    #[serde(default)]
    pub api_key: Option<String>,
    /// `LIVEKIT_API_SECRET`.
    #[serde(default)]
    pub api_secret: Option<SecretString>,
    /// `LIVEKIT_URL`: an external LiveKit-compatible server (`wss://…`). Unset: the
    /// embedded SFU, reached through this server's own address.
    #[serde(default)]
    pub url: Option<String>,
    /// Set when dev generated the pair (it is then printed at startup).
    #[serde(skip)]
    pub generated: bool,
}

/// PostgreSQL connection settings.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// Owner connection (migrations, demo seed): a superuser or `BYPASSRLS` role.
    pub url: SecretString,
    /// The unprivileged role requests run as.
    pub app_role: String,
    /// Its password, if the server's authentication needs one.
    #[serde(default)]
    pub app_password: Option<SecretString>,
    /// Pool size of the request pool.
    pub max_connections: u32,
    /// Overrides the database named in `url` (tests use a fresh one each).
    #[serde(default)]
    pub database_name: Option<String>,
}

/// Authentication settings.
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// HMAC key of the API's bearer tokens.
    #[serde(default)]
    pub jwt_secret: Option<SecretString>,
    /// Bearer token lifetime.
    pub access_token_ttl_secs: u64,
    /// Portal session lifetime.
    pub session_ttl_secs: u64,
    /// A session (cookie and its bearer tokens) unused this long ends.
    pub session_idle_secs: u64,
    /// Failed sign-ins admitted freely per account from one source within the window.
    pub max_failed_logins: u32,
    /// Failed sign-ins admitted freely per account from all sources.
    pub max_failed_logins_per_account: u32,
    /// Failed sign-ins admitted freely per source over all accounts.
    pub max_failed_logins_per_source: u32,
    /// How long a failed sign-in counts.
    pub failure_window_secs: u64,
    /// Longest wait between two sign-in attempts once past the free failures.
    pub max_signin_delay_secs: u64,
}

/// Demo data settings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DemoSettings {
    /// Seed the demo workspace; defaults to on in dev, and cannot be on in production.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Password of the demo accounts.
    #[serde(default)]
    pub password: Option<SecretString>,
}

impl DatabaseSettings {
    /// Options of the owner connection.
    pub fn owner_options(&self) -> anyhow::Result<PgConnectOptions> {
        let options = PgConnectOptions::from_str(self.url.expose_secret())
            .context("DATABASE_URL is not a valid postgres URL")?;
        Ok(match &self.database_name {
            Some(name) => options.database(name),
            None => options,
        })
    }

    /// Options of the request role's connection: same server and database, other role.
    pub fn app_options(&self) -> anyhow::Result<PgConnectOptions> {
        let mut options = self.owner_options()?.username(&self.app_role);
        if let Some(password) = &self.app_password {
            options = options.password(password.expose_secret());
        }
        Ok(options)
    }

    /// Production rule: PHI may not cross a network in clear. A database reached over
    /// TCP at a non-loopback address must be asked for TLS (`sslmode=require`,
    /// `verify-ca` or `verify-full` in `DATABASE_URL`); a Unix socket or loopback is
    /// exempt.
    pub fn refuse_plaintext_to_a_remote_server(&self) -> anyhow::Result<()> {
        use sqlx::postgres::PgSslMode;
        let options = self.owner_options()?;
        let host = options.get_host();
        let local = options.get_socket().is_some()
            || host.starts_with('/')
            || host.eq_ignore_ascii_case("localhost")
            || host
                .trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        let encrypted = matches!(
            options.get_ssl_mode(),
            PgSslMode::Require | PgSslMode::VerifyCa | PgSslMode::VerifyFull
        );
        if !local && !encrypted {
            bail!(
                "production refuses an unencrypted connection to a database on another host: \
                 add sslmode=verify-full (or require) to DATABASE_URL"
            );
        }
        Ok(())
    }

    /// The database name.
    pub fn database_name(&self) -> anyhow::Result<String> {
        Ok(self
            .owner_options()?
            .get_database()
            .unwrap_or("postgres")
            .to_owned())
    }
}
