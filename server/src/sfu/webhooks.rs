//! LiveKit-format webhooks: `room_started`, `room_finished`, `participant_joined`,
//! `participant_left`, `track_published`, `track_unpublished`, POSTed in order as
//! `application/webhook+json` to every configured URL.
//!
//! Signed as LiveKit signs them: the `Authorization` header is a JWT issued by the API key
//! (HS256 with the secret, valid 5 minutes) whose `sha256` claim is the base64 SHA-256 of
//! the body, so `livekit-api`'s `WebhookReceiver` (or any LiveKit server SDK) verifies
//! them. A bounded queue keeps a slow receiver from holding the SFU up: when it is full,
//! events are dropped and counted in the log. Each delivery is tried 3 times with
//! back-off.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use base64::Engine as _;
use livekit_api::access_token::AccessToken;
use livekit_protocol as proto;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// Events waiting for delivery before new ones are dropped.
const QUEUE: usize = 1024;
/// Delivery attempts per event and URL.
const ATTEMPTS: u32 = 3;

/// Where webhooks go and what signs them.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Receiver URLs (`BEDSIDE_WEBHOOK_URLS`, comma-separated).
    pub urls: Vec<String>,
    /// The LiveKit API key (token issuer).
    pub api_key: String,
    /// The LiveKit API secret (token signature).
    pub api_secret: SecretString,
    /// Extra CAs (PEM) trusted for `https://` receivers, besides the system's.
    pub ca_file: Option<std::path::PathBuf>,
}

/// Queues events for the delivery task.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    queue: mpsc::Sender<proto::WebhookEvent>,
    dropped: Arc<AtomicI32>,
}

impl WebhookSender {
    /// Starts the delivery task; `None` when no URL is configured.
    pub fn start(settings: WebhookSettings) -> Option<Self> {
        if settings.urls.is_empty() {
            return None;
        }
        let (queue, receiver) = mpsc::channel(QUEUE);
        tokio::spawn(deliver(settings, receiver));
        Some(Self {
            queue,
            dropped: Arc::new(AtomicI32::new(0)),
        })
    }

    /// Queues one event (dropping it, and counting it, if the queue is full).
    pub fn send(&self, event: proto::WebhookEvent) {
        if self.queue.try_send(event).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            tracing::warn!(dropped, "webhook queue full: event dropped");
        }
    }
}

/// The `Authorization` value for `body`.
pub fn signature(settings: &WebhookSettings, body: &str) -> Option<String> {
    let hash = Sha256::digest(body.as_bytes());
    let sha = base64::engine::general_purpose::STANDARD.encode(hash);
    AccessToken::with_api_key(&settings.api_key, settings.api_secret.expose_secret())
        .with_ttl(Duration::from_secs(300))
        .with_sha256(&sha)
        .to_jwt()
        .ok()
}

async fn deliver(settings: WebhookSettings, mut events: mpsc::Receiver<proto::WebhookEvent>) {
    let client = match crate::tls::https_client(settings.ca_file.as_deref(), Duration::from_secs(5))
    {
        Ok(client) => client,
        Err(error) => {
            // A CA file that cannot be read is refused at startup; this is a last resort.
            tracing::error!(
                error = format!("{error:#}"),
                "webhook client: system roots only"
            );
            crate::tls::https_client(None, Duration::from_secs(5)).unwrap_or_default()
        }
    };
    while let Some(event) = events.recv().await {
        let Ok(body) = serde_json::to_string(&event) else {
            continue;
        };
        let Some(auth) = signature(&settings, &body) else {
            tracing::warn!("webhook could not be signed");
            continue;
        };
        for url in &settings.urls {
            post(&client, url, &body, &auth, &event.event).await;
        }
    }
}

async fn post(client: &reqwest::Client, url: &str, body: &str, auth: &str, kind: &str) {
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .post(url)
            .header("content-type", "application/webhook+json")
            .header("authorization", auth)
            .body(body.to_owned())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => return,
            Ok(response) => {
                tracing::info!(kind, status = %response.status(), attempt, "webhook refused")
            }
            Err(error) => {
                let error = error.without_url();
                tracing::info!(kind, %error, attempt, "webhook not delivered")
            }
        }
        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
    }
    tracing::warn!(kind, "webhook given up after retries");
}
