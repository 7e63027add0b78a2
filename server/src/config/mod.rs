//! Typed settings: `configuration/base.toml` (compiled in), an optional file named by
//! `BEDSIDE_CONFIG`, then environment variables. Dev works with no setup at all; production
//! refuses to start with generated secrets or demo data.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use secrecy::ExposeSecret;
use serde::Deserialize;

mod sections;

pub use self::sections::*;

const BASE: &str = include_str!("../../../configuration/base.toml");

/// Dev-only default password of the demo accounts (documented in README; refused in
/// production, where demo data cannot be enabled at all).
pub const DEV_DEMO_PASSWORD: &str = "bedside-demo-password";

/// Where the server runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Environment {
    /// A developer's machine: generated secrets, demo data, relaxed cookies.
    Dev,
    /// A clinic's deployment: explicit secrets, no demo data, `Secure` cookies.
    Production,
}

/// All settings of the server.
#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    /// `dev` or `production`.
    pub environment: Environment,
    /// HTTP listen address; port 0 picks a free one.
    pub addr: SocketAddr,
    /// Folder for generated dev secrets (never committed).
    pub data_dir: PathBuf,
    /// PostgreSQL.
    pub database: DatabaseSettings,
    /// Optional Redis (`REDIS_URL`); unused until the waiting room lands.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// The URL patients and staff open (`BEDSIDE_PUBLIC_URL`; default
    /// `http://{addr}`): links in invitations are built on it.
    #[serde(default)]
    pub public_url: Option<String>,
    /// Outgoing email and SMS.
    #[serde(default)]
    pub notify: NotifySettings,
    /// STUN/TURN for visits.
    #[serde(default)]
    pub turn: TurnConfig,
    /// Extra CA certificates (PEM) trusted by outgoing HTTPS, besides the system's
    /// (`BEDSIDE_TLS_CA_FILE`).
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
    /// Dev mode may listen on a non-loopback address (`BEDSIDE_DEV_ON_NETWORK=1`).
    #[serde(default)]
    pub dev_on_network: bool,
    /// Sign-in, sessions, tokens.
    pub auth: AuthSettings,
    /// Demo workspace seeding.
    #[serde(default)]
    pub demo: DemoSettings,
    /// LiveKit API credentials (media signaling and room service).
    #[serde(default)]
    pub livekit: LiveKitSettings,
    /// The embedded SFU's media transport.
    pub rtc: RtcSettings,
}

impl Settings {
    /// Loads base file, optional `BEDSIDE_CONFIG` file, then the process environment.
    pub fn load() -> anyhow::Result<Self> {
        let mut table: toml::Table = BASE.parse().context("parsing the built-in base.toml")?;
        if let Ok(path) = std::env::var("BEDSIDE_CONFIG") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading BEDSIDE_CONFIG file {path}"))?;
            merge(&mut table, text.parse().context("parsing BEDSIDE_CONFIG")?);
        }
        let mut settings: Settings = table.try_into().context("invalid configuration")?;
        settings.apply_env(|key| std::env::var(key).ok())?;
        settings.finish()?;
        Ok(settings)
    }

    /// Applies environment overrides read through `var`.
    pub fn apply_env(&mut self, var: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        if let Some(v) = var("BEDSIDE_ENV") {
            self.environment = match v.as_str() {
                "dev" => Environment::Dev,
                "production" => Environment::Production,
                other => bail!("BEDSIDE_ENV must be dev or production, not {other:?}"),
            };
        }
        if let Some(v) = var("BEDSIDE_ADDR") {
            self.addr = v.parse().context("BEDSIDE_ADDR must be host:port")?;
        }
        if let Some(v) = var("BEDSIDE_DATA_DIR") {
            self.data_dir = v.into();
        }
        if let Some(v) = var("DATABASE_URL") {
            self.database.url = v.into();
        }
        if let Some(v) = var("DATABASE_APP_ROLE") {
            self.database.app_role = v;
        }
        if let Some(v) = var("DATABASE_APP_PASSWORD") {
            self.database.app_password = Some(v.into());
        }
        if let Some(v) = var("REDIS_URL").filter(|v| !v.is_empty()) {
            self.redis_url = Some(v);
        }
        if let Some(v) = var("BEDSIDE_JWT_SECRET") {
            self.auth.jwt_secret = Some(v.into());
        }
        if let Some(v) = var("BEDSIDE_DEMO_DATA") {
            self.demo.enabled = Some(matches!(v.as_str(), "1" | "true" | "yes" | "on"));
        }
        if let Some(v) = var("LIVEKIT_API_KEY") {
            self.livekit.api_key = Some(v);
        }
        if let Some(v) = var("LIVEKIT_API_SECRET") {
            self.livekit.api_secret = Some(v.into());
        }
        if let Some(v) = var("BEDSIDE_RTC_UDP_PORT") {
            self.rtc.udp_port = v.parse().context("BEDSIDE_RTC_UDP_PORT must be a port")?;
        }
        if let Some(v) = var("BEDSIDE_RTC_TCP_PORT") {
            self.rtc.tcp_port = match v.as_str() {
                "off" => None,
                port => Some(
                    port.parse()
                        .context("BEDSIDE_RTC_TCP_PORT must be a port or off")?,
                ),
            };
        }
        if let Some(v) = var("BEDSIDE_SFU_SHARDS") {
            let shards: usize = v
                .parse()
                .context("BEDSIDE_SFU_SHARDS must be a number of shards")?;
            if !(1..=256).contains(&shards) {
                anyhow::bail!("BEDSIDE_SFU_SHARDS must be between 1 and 256");
            }
            self.rtc.shards = Some(shards);
        }
        if let Some(v) = var("BEDSIDE_SFU_MEDIA_BESIDE_STR0M") {
            self.rtc.media_beside_str0m = match v.as_str() {
                "on" => true,
                "off" => false,
                _ => anyhow::bail!("BEDSIDE_SFU_MEDIA_BESIDE_STR0M must be on or off"),
            };
        }
        if let Some(v) = var("BEDSIDE_SFU_SEND_BESIDE_STR0M") {
            self.rtc.send_beside_str0m = match v.as_str() {
                "on" => true,
                "off" => false,
                _ => anyhow::bail!("BEDSIDE_SFU_SEND_BESIDE_STR0M must be on or off"),
            };
        }
        if let Some(v) = var("BEDSIDE_RTC_BIND_IP") {
            self.rtc.bind_ip = v.parse().context("BEDSIDE_RTC_BIND_IP must be an IP")?;
        }
        if let Some(v) = var("BEDSIDE_WEBHOOK_URLS") {
            self.rtc.webhook_urls = v
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_string)
                .collect();
        }
        if let Some(v) = var("BEDSIDE_RTC_PUBLIC_IP") {
            self.rtc.public_ip = v.parse().context("BEDSIDE_RTC_PUBLIC_IP must be an IP")?;
        }
        if let Some(v) = var("LIVEKIT_URL").filter(|v| !v.is_empty()) {
            self.livekit.url = Some(v.trim_end_matches('/').to_owned());
        }
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect()
        };
        if let Some(v) = var("BEDSIDE_STUN_URLS") {
            self.turn.stun_urls = list(v);
        }
        if let Some(v) = var("BEDSIDE_TURN_URLS") {
            self.turn.turn_urls = list(v);
        }
        if let Some(v) = var("BEDSIDE_TURN_SECRET").filter(|v| !v.is_empty()) {
            self.turn.secret = Some(v.into());
        }
        if let Some(v) = var("BEDSIDE_TURN_TTL_SECS") {
            self.turn.ttl_secs = Some(
                v.parse()
                    .context("BEDSIDE_TURN_TTL_SECS must be a number of seconds")?,
            );
        }
        if let Some(v) = var("BEDSIDE_PUBLIC_URL").filter(|v| !v.is_empty()) {
            self.public_url = Some(v.trim_end_matches('/').to_owned());
        }
        let notify = &mut self.notify;
        if let Some(v) = var("SMTP_URL").filter(|v| !v.is_empty()) {
            notify.smtp_url = Some(v.into());
        }
        if let Some(v) = var("SMTP_FROM").filter(|v| !v.is_empty()) {
            notify.smtp_from = Some(v);
        }
        if let Some(v) = var("SMS_PROVIDER_URL").filter(|v| !v.is_empty()) {
            notify.sms_provider_url = Some(v);
        }
        if let Some(v) = var("SMS_ACCOUNT_SID").filter(|v| !v.is_empty()) {
            notify.sms_account_sid = Some(v);
        }
        if let Some(v) = var("SMS_AUTH_TOKEN").filter(|v| !v.is_empty()) {
            notify.sms_auth_token = Some(v.into());
        }
        if let Some(v) = var("SMS_FROM").filter(|v| !v.is_empty()) {
            notify.sms_from = Some(v);
        }
        if let Some(v) = var("BEDSIDE_TLS_CA_FILE").filter(|v| !v.is_empty()) {
            self.tls_ca_file = Some(v.into());
        }
        if let Some(v) = var("BEDSIDE_DEV_ON_NETWORK") {
            self.dev_on_network = matches!(v.as_str(), "1" | "true" | "yes" | "on");
        }
        if let Some(v) = var("BEDSIDE_DEMO_PASSWORD") {
            self.demo.password = Some(v.into());
        }
        Ok(())
    }

    /// Fills dev defaults (generated secrets) and enforces production rules.
    pub fn finish(&mut self) -> anyhow::Result<()> {
        for url in &self.rtc.webhook_urls {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                bail!("BEDSIDE_WEBHOOK_URLS: {url:?} is not an http(s):// URL");
            }
        }
        if let Some(url) = &self.livekit.url
            && !["ws://", "wss://", "http://", "https://"]
                .iter()
                .any(|p| url.starts_with(p))
        {
            bail!("LIVEKIT_URL must be a ws(s):// or http(s):// URL");
        }
        if let Some(path) = &self.tls_ca_file {
            // Read now, so a wrong path fails at startup rather than at the first webhook.
            crate::tls::https_client(Some(path), std::time::Duration::from_secs(5))?;
        }
        match self.environment {
            Environment::Production => {
                if self.demo.enabled == Some(true) {
                    bail!("production refuses demo data: unset BEDSIDE_DEMO_DATA");
                }
                self.demo.enabled = Some(false);
                let secret = self
                    .auth
                    .jwt_secret
                    .as_ref()
                    .context("production needs BEDSIDE_JWT_SECRET (32+ random characters)")?;
                let secret = secret.expose_secret();
                if secret.len() < 32 || secret.starts_with(DEV_SECRET_PREFIX) {
                    bail!("BEDSIDE_JWT_SECRET must be 32+ random characters, not a dev secret");
                }
                let (Some(key), Some(secret)) = (&self.livekit.api_key, &self.livekit.api_secret)
                else {
                    bail!("production needs LIVEKIT_API_KEY and LIVEKIT_API_SECRET");
                };
                let secret = secret.expose_secret();
                if key.is_empty() || secret.len() < 32 || secret.starts_with(DEV_SECRET_PREFIX) {
                    bail!("LIVEKIT_API_SECRET must be 32+ random characters, not a dev secret");
                }
                self.database.refuse_plaintext_to_a_remote_server()?;
                if self
                    .public_url
                    .as_deref()
                    .is_none_or(|url| !url.starts_with("https://"))
                {
                    bail!(
                        "production needs BEDSIDE_PUBLIC_URL, an https:// URL (links in invitations)"
                    );
                }
                if let Some(url) = &self.notify.smtp_url {
                    let url = url.expose_secret();
                    let encrypted = url.starts_with("smtps://") || url.contains("tls=required");
                    if !encrypted
                        && !crate::tls::is_loopback_url(&url.replacen("smtp://", "http://", 1))
                    {
                        bail!(
                            "production sends email over TLS only: SMTP_URL must be smtps:// or ?tls=required (a loopback relay excepted)"
                        );
                    }
                }
                if self.notify.sms_provider_url.as_deref().is_some_and(|url| {
                    !url.starts_with("https://") && !crate::tls::is_loopback_url(url)
                }) {
                    bail!("production reaches the SMS provider over HTTPS only");
                }
                // Webhooks carry room and participant ids: never in clear over a network.
                if let Some(url) = self
                    .rtc
                    .webhook_urls
                    .iter()
                    .find(|url| url.starts_with("http://") && !crate::tls::is_loopback_url(url))
                {
                    bail!(
                        "production sends webhooks over HTTPS only (loopback excepted); \
                         {url:?} is plain http://"
                    );
                }
            }
            Environment::Dev => {
                // Dev serves demo accounts with a published password and generated
                // secrets: never to the network unless someone says so on purpose.
                if !self.addr.ip().is_loopback() && !self.dev_on_network {
                    bail!(
                        "dev mode listens on loopback only (it has demo accounts and dev \
                         secrets); BEDSIDE_ADDR={} needs BEDSIDE_ENV=production, or \
                         BEDSIDE_DEV_ON_NETWORK=1 to expose a dev server on purpose",
                        self.addr
                    );
                }
                if self.demo.enabled.is_none() {
                    self.demo.enabled = Some(true);
                }
                if self.auth.jwt_secret.is_none() {
                    self.auth.jwt_secret = Some(dev_secret(&self.data_dir, "jwt_secret")?.into());
                }
                if self.livekit.api_key.is_none() || self.livekit.api_secret.is_none() {
                    let key = dev_secret(&self.data_dir, "livekit_api_key")?;
                    // Keys are short public identifiers; keep the generated one readable.
                    let suffix: String =
                        key.chars().skip(DEV_SECRET_PREFIX.len()).take(10).collect();
                    let key = format!("APIdev{suffix}");
                    self.livekit.api_key = Some(key);
                    self.livekit.api_secret =
                        Some(dev_secret(&self.data_dir, "livekit_api_secret")?.into());
                    self.livekit.generated = true;
                }
            }
        }
        Ok(())
    }

    /// The URL links point at: `BEDSIDE_PUBLIC_URL`, else this server's address.
    pub fn public_url(&self) -> String {
        self.public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.addr))
    }

    /// Whether the demo workspace is seeded.
    pub fn demo_enabled(&self) -> bool {
        self.demo.enabled == Some(true)
    }

    /// The demo accounts' password (the documented dev-only default if unset).
    pub fn demo_password(&self) -> String {
        self.demo
            .password
            .as_ref()
            .map(|p| p.expose_secret().to_owned())
            .unwrap_or_else(|| DEV_DEMO_PASSWORD.to_owned())
    }
}

/// Generated secrets start with this, so production can recognise and refuse them.
pub const DEV_SECRET_PREFIX: &str = "dev-only-";

/// Reads (or creates) a generated dev secret in `data_dir/dev-secrets.toml`.
fn dev_secret(data_dir: &Path, name: &str) -> anyhow::Result<String> {
    let path = data_dir.join("dev-secrets.toml");
    let mut table: toml::Table = match std::fs::read_to_string(&path) {
        Ok(text) => text.parse().context("parsing dev-secrets.toml")?,
        Err(_) => toml::Table::new(),
    };
    if let Some(toml::Value::String(value)) = table.get(name) {
        return Ok(value.clone());
    }
    let value = format!("{DEV_SECRET_PREFIX}{}", crate::auth::random_token());
    table.insert(name.to_owned(), toml::Value::String(value.clone()));
    std::fs::create_dir_all(data_dir).context("creating data_dir")?;
    let text = format!(
        "# Generated dev-only secrets. Never use in production; never commit.\n{}",
        toml::to_string(&table).context("writing dev secrets")?
    );
    std::fs::write(&path, text).context("writing dev-secrets.toml")?;
    Ok(value)
}

fn merge(base: &mut toml::Table, overlay: toml::Table) {
    for (key, value) in overlay {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(inner)), toml::Value::Table(over)) => merge(inner, over),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
#[path = "config_test.rs"]
mod tests;
