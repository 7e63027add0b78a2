//! `POST /api/v1/livekit/webhook`: LiveKit's webhooks drive presence and the lifecycle.
//! The embedded SFU posts here by default; an external LiveKit is configured to.
//!
//! Each delivery must carry a valid signature (`livekit-api`'s `WebhookReceiver`: a JWT
//! signed with the API secret holding the body's SHA-256, checked for expiry), be
//! recent (`created_at` within [`MAX_AGE_SECS`]), and not have been applied before (its
//! event id is recorded in PostgreSQL, so a replay to any node is refused). Otherwise
//! 401, and nothing changes.

use axum::http::{HeaderMap, StatusCode};
use livekit_api::webhooks::WebhookReceiver;
use livekit_protocol as proto;
use uuid::Uuid;

use super::{admission, service, store};
use crate::error::{Error, Result};
use crate::state::Services;

/// Oldest event accepted, in seconds (LiveKit signs each delivery for 5 minutes).
pub const MAX_AGE_SECS: i64 = 10 * 60;

/// Why a delivery was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No, or a wrong, signature; or a body that does not match it or is not an event.
    Signature,
    /// Too old (or from the future), or without an id.
    Stale,
}

/// Checks a delivery's signature and freshness and decodes it: the pure part of
/// [`receive`], also the fuzz target (`rtc::fuzz_test`).
pub fn verified_event(
    receiver: &WebhookReceiver,
    body: &str,
    auth: &str,
    now_unix: i64,
) -> std::result::Result<proto::WebhookEvent, Refused> {
    let event = receiver
        .receive(body, auth)
        .map_err(|_| Refused::Signature)?;
    if event.id.is_empty()
        || event.id.len() > 128
        || (now_unix - event.created_at).abs() > MAX_AGE_SECS
    {
        return Err(Refused::Stale);
    }
    Ok(event)
}

/// Verifies and applies one delivery.
pub async fn receive(services: &Services, headers: &HeaderMap, body: &str) -> Result<StatusCode> {
    let auth = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::Unauthorized)?;
    let event = verified_event(
        &services.webhooks,
        body,
        auth,
        chrono::Utc::now().timestamp(),
    )
    .map_err(|refused| {
        tracing::info!(reason = ?refused, "webhook refused");
        Error::Unauthorized
    })?;
    let fresh = sqlx::query(
        "insert into livekit_webhook_event (event_id) values ($1) on conflict do nothing",
    )
    .bind(&event.id)
    .execute(services.db.pool())
    .await?
    .rows_affected();
    if fresh == 0 {
        tracing::info!("webhook refused: replayed");
        return Err(Error::Unauthorized);
    }
    apply(services, &event).await?;
    Ok(StatusCode::OK)
}

async fn apply(services: &Services, event: &proto::WebhookEvent) -> Result<()> {
    let Some(room) = &event.room else {
        return Ok(());
    };
    let found: Option<(Uuid, Uuid)> =
        sqlx::query_as("select meeting_id, workspace_id from meeting_by_room_name($1)")
            .bind(&room.name)
            .fetch_optional(services.db.pool())
            .await?;
    let Some((meeting_id, workspace_id)) = found else {
        return Ok(()); // A room that is not a Bedside visit.
    };
    let session = event.participant.as_ref();
    let identity = session.and_then(|p| p.identity.parse::<Uuid>().ok());
    let mut tx = services.db.begin_for(workspace_id).await?;
    let meeting = store::find(&mut tx, meeting_id)
        .await?
        .ok_or(Error::NotFound)?;
    tx.commit().await?;
    match (event.event.as_str(), identity.zip(session)) {
        ("participant_joined", Some((participant, session))) => {
            admission::joined(services, workspace_id, &meeting, participant, session).await?
        }
        ("participant_left", Some((participant, session))) => {
            admission::left(services, workspace_id, &meeting, participant, &session.sid).await?
        }
        ("room_finished", _) => service::end(services, None, workspace_id, meeting_id).await?,
        _ => {}
    }
    Ok(())
}
