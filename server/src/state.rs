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
use crate::meetings::media::MediaPlane;
use crate::meetings::turn::TurnSettings;
use crate::notify::{EmailTransport, Notifier, SmsTransport};
use crate::rtc::grants::LiveKitKeys;
use crate::waiting_room::WaitingRoomStore;
use livekit_api::access_token::TokenVerifier;
use livekit_api::webhooks::WebhookReceiver;

/// Long-lived services, built once at startup.
#[derive(Debug)]
pub struct Services {
    /// Request pool (RLS-bound role).
    pub db: Db,
    /// API token signing.
    pub tokens: TokenKeys,
    /// Failed sign-in counters.
    pub throttle: Arc<LoginThrottle>,
    /// Logins confirmed live within the last second (bearer tokens).
    pub live_sessions: crate::auth::live_sessions::LiveSessions,
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
    /// Tokens and room control of the media plane (embedded SFU or external LiveKit).
    pub media: MediaPlane,
    /// The waiting room's live state (in memory, or Redis across nodes).
    pub waiting_room: Arc<dyn WaitingRoomStore>,
    /// Verifies LiveKit webhooks.
    pub webhooks: WebhookReceiver,
    /// Wrong meeting links, slowed per source.
    pub link_throttle: Arc<LoginThrottle>,
    /// STUN/TURN offered to participants.
    pub turn: TurnSettings,
}

impl Services {
    /// Services from settings, an open request pool, the waiting-room store, and the
    /// address this server's own HTTP listener answers on (the embedded SFU's room
    /// service when no `LIVEKIT_URL` is set).
    pub fn new(
        settings: &Settings,
        db: Db,
        waiting_room: Arc<dyn WaitingRoomStore>,
        local_http: std::net::SocketAddr,
    ) -> anyhow::Result<Self> {
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
        let (client_url, api_url) = match &settings.livekit.url {
            Some(url) => (url.clone(), url.replacen("ws", "http", 1)),
            None => (
                settings.public_url().replacen("http", "ws", 1),
                format!("http://{}", loopback_of(local_http)),
            ),
        };
        let media = MediaPlane::new(&client_url, &api_url, api_key, api_secret);
        let webhooks = WebhookReceiver::new(TokenVerifier::with_api_key(
            api_key,
            secrecy::ExposeSecret::expose_secret(api_secret),
        ));
        let link_throttle = Arc::new(LoginThrottle::new(ThrottlePolicy {
            free_per_pair: 10,
            free_per_source: 10,
            // Links are not accounts: only the source counts.
            free_per_account: u32::MAX,
            window: Duration::from_secs(settings.auth.failure_window_secs),
            max_delay: Duration::from_secs(settings.auth.max_signin_delay_secs),
        }));
        Ok(Self {
            media,
            waiting_room,
            webhooks,
            link_throttle,
            turn: settings.turn.settings(),
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
            live_sessions: Default::default(),
            production: settings.environment == Environment::Production,
            cookies: CookiePolicy {
                idle_secs: settings.auth.session_idle_secs,
                secure: settings.environment == Environment::Production,
                ttl_secs: settings.auth.session_ttl_secs,
            },
        })
    }
}

/// A listener address as this process reaches it: a wildcard bind becomes loopback.
pub fn loopback_of(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    std::net::SocketAddr::new(ip, addr.port())
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
