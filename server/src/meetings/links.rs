//! One-tap links and the visit sessions they are redeemed into.
//!
//! A link carries 256 random bits (only their SHA-256 is stored), is bound to one
//! meeting and participant, expires (default: the meeting's end plus an hour), and is
//! revoked when the meeting ends. Opening it does nothing: only an explicit POST redeems
//! it (mail scanners and link previews fetch pages, they do not post), into a visit
//! session: an HttpOnly cookie bound to the same meeting and participant. The same link
//! may be redeemed again while valid (patients reload, or switch to a phone); each
//! redemption replaces the participant's older sessions.

use axum::http::HeaderMap;
use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::auth::{hash_token, random_token};
use crate::db::WorkspaceTx;
use crate::error::{Error, Result};
use crate::state::Services;

/// The visit session cookie.
pub const VISIT_COOKIE: &str = "bedside_visit";

/// A link or visit session, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    /// The workspace.
    pub workspace_id: Uuid,
    /// The meeting.
    pub meeting_id: Uuid,
    /// The participant.
    pub participant_id: Uuid,
}

#[derive(sqlx::FromRow)]
struct Found {
    workspace_id: Uuid,
    meeting_id: Uuid,
    participant_id: Uuid,
    expires_at: DateTime<Utc>,
    revoked: Option<DateTime<Utc>>,
}

/// Creates a link for `participant_id`; returns its token (for the message only).
pub async fn create(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    meeting_id: Uuid,
    participant_id: Uuid,
    expires_at: DateTime<Utc>,
) -> sqlx::Result<String> {
    let token = random_token();
    sqlx::query(
        "insert into meeting_link (workspace_id, meeting_id, participant_id, token_hash, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(workspace_id)
    .bind(meeting_id)
    .bind(participant_id)
    .bind(hash_token(&token))
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    Ok(token)
}

/// Resolves a link token; every failure (unknown, expired, revoked) is the same
/// [`Error::InvalidLink`].
pub async fn resolve(services: &Services, token: &str) -> Result<Bound> {
    let token = token.trim();
    if token.is_empty() || token.len() > 128 {
        return Err(Error::InvalidLink);
    }
    let found: Option<Found> = sqlx::query_as(
        "select workspace_id, meeting_id, participant_id, expires_at, revoked_at as revoked
         from meeting_link_by_token_hash($1)",
    )
    .bind(hash_token(token))
    .fetch_optional(services.db.pool())
    .await?;
    usable(found)
}

fn usable(found: Option<Found>) -> Result<Bound> {
    match found {
        Some(f) if f.revoked.is_none() && f.expires_at > Utc::now() => Ok(Bound {
            workspace_id: f.workspace_id,
            meeting_id: f.meeting_id,
            participant_id: f.participant_id,
        }),
        _ => Err(Error::InvalidLink),
    }
}

/// Redeems a link into a new visit session; older sessions of the participant are
/// marked replaced. Returns the session's cookie value.
pub async fn redeem(
    services: &Services,
    bound: Bound,
    token: &str,
    ttl: Duration,
) -> Result<String> {
    let session = random_token();
    let mut tx = services.db.begin_for(bound.workspace_id).await?;
    sqlx::query("update meeting_link set last_redeemed_at = now() where token_hash = $1")
        .bind(hash_token(token.trim()))
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "update visit_session set replaced_at = now()
         where participant_id = $1 and replaced_at is null",
    )
    .bind(bound.participant_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "insert into visit_session (workspace_id, meeting_id, participant_id, token_hash, expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(bound.workspace_id)
    .bind(bound.meeting_id)
    .bind(bound.participant_id)
    .bind(hash_token(&session))
    .bind(Utc::now() + ttl)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(session)
}

/// The visit session of a request's cookie, if live and not replaced.
pub async fn visit_session(services: &Services, headers: &HeaderMap) -> Result<Option<Bound>> {
    let Some(token) = crate::auth::session::cookie_value(headers, VISIT_COOKIE) else {
        return Ok(None);
    };
    let found: Option<Found> = sqlx::query_as(
        "select workspace_id, meeting_id, participant_id, expires_at, replaced_at as revoked
         from visit_session_by_token_hash($1)",
    )
    .bind(hash_token(&token))
    .fetch_optional(services.db.pool())
    .await?;
    Ok(usable(found).ok())
}

/// Revokes every link of a meeting (it ended): none can be redeemed again.
pub async fn revoke_all(tx: &mut WorkspaceTx, meeting_id: Uuid) -> sqlx::Result<()> {
    sqlx::query(
        "update meeting_link set revoked_at = now() where meeting_id = $1 and revoked_at is null",
    )
    .bind(meeting_id)
    .execute(&mut **tx)
    .await?;
    // Visit sessions stay: they grant nothing in an ended meeting (no token, no
    // presence), and the patient's page learns from them that the visit ended.
    Ok(())
}

/// The `Set-Cookie` value of a visit session (HttpOnly, SameSite=Strict, whole site).
pub fn set_cookie(value: &str, ttl: Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!(
        "{VISIT_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        ttl.num_seconds()
    )
}
