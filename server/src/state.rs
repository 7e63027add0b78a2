//! Shared state: the services every handler and the portal backend use.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use crate::auth::password::PasswordChecks;
use crate::auth::session::CookiePolicy;
use crate::auth::throttle::{LoginThrottle, ThrottlePolicy};
use crate::auth::token::TokenKeys;
use crate::config::{Environment, Settings};
use crate::db::Db;
use crate::notify::{EmailTransport, Notifier, SmsTransport};
use crate::rtc::grants::LiveKitKeys;

/// Long-lived services, built once at startup.
#[derive(Debug)]
pub struct Services {
    /// Request pool (RLS-bound role).
    pub db: Db,
    /// API token signing.
    pub tokens: TokenKeys,
    /// Failed sign-in counters.
    pub throttle: Arc<LoginThrottle>,
    /// The bound on concurrent password hashing.
    pub password_checks: PasswordChecks,
    /// Session cookie attributes.
    pub cookies: CookiePolicy,
    /// LiveKit access-token verification (media signaling).
    pub livekit: Arc<LiveKitKeys>,
    /// Running as `production` (HSTS, secure cookies).
    pub production: bool,
    /// Outgoing email and SMS (or the dev outbox).
    pub notifier: Notifier,
    /// The URL links in messages point at (`BEDSIDE_PUBLIC_URL`).
    pub public_url: String,
}

impl Services {
    /// Services from settings and an open request pool.
    pub fn new(settings: &Settings, db: Db) -> anyhow::Result<Self> {
        let secret = settings
            .auth
            .jwt_secret
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("no JWT secret configured"))?;
        let (Some(api_key), Some(api_secret)) =
            (&settings.livekit.api_key, &settings.livekit.api_secret)
        else {
            anyhow::bail!("no LiveKit API key/secret configured");
        };
        let smtp_url = settings
            .notify
            .smtp_url
            .as_ref()
            .map(|u| secrecy::ExposeSecret::expose_secret(u).to_owned());
        let notifier = Notifier::new(
            EmailTransport::from_settings(smtp_url.as_deref(), settings.notify.from_mailbox())?,
            SmsTransport::from_settings(
                settings.notify.sms_provider(),
                settings.tls_ca_file.as_deref(),
            )?,
            db.clone(),
        );
        Ok(Self {
            notifier,
            public_url: settings.public_url(),
            livekit: Arc::new(LiveKitKeys::new(api_key, api_secret)),
            db,
            tokens: TokenKeys::new(secret, settings.auth.access_token_ttl_secs),
            throttle: Arc::new(LoginThrottle::new(ThrottlePolicy {
                free_per_pair: settings.auth.max_failed_logins,
                free_per_source: settings.auth.max_failed_logins_per_source,
                free_per_account: settings.auth.max_failed_logins_per_account,
                window: Duration::from_secs(settings.auth.failure_window_secs),
                max_delay: Duration::from_secs(settings.auth.max_signin_delay_secs),
            })),
            password_checks: PasswordChecks::for_this_machine(),
            production: settings.environment == Environment::Production,
            cookies: CookiePolicy {
                idle_secs: settings.auth.session_idle_secs,
                secure: settings.environment == Environment::Production,
                ttl_secs: settings.auth.session_ttl_secs,
            },
        })
    }
}

/// The axum router's state.
#[derive(Clone, Debug)]
pub struct AppState {
    /// Leptos' site options (paths of the wasm bundle, CSS, assets).
    pub leptos_options: LeptosOptions,
    /// Services.
    pub services: Arc<Services>,
    /// The embedded SFU and its signaling keys.
    pub rtc: crate::rtc::RtcState,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
