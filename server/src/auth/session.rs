//! Portal sessions: a random token in an HttpOnly cookie; the database keeps its SHA-256
//! and an expiry. Signing out deletes the row, so a copied cookie stops working at once.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::{Principal, hash_token, random_token};
use crate::db::{Db, WorkspaceTx};

/// Name of the session cookie.
pub const COOKIE_NAME: &str = "bedside_session";

/// How session cookies are written.
#[derive(Debug, Clone, Copy)]
pub struct CookiePolicy {
    /// Adds `Secure` (production: HTTPS only).
    pub secure: bool,
    /// Lifetime in seconds.
    pub ttl_secs: u64,
}

impl CookiePolicy {
    /// `Set-Cookie` value carrying `token`.
    pub fn set(&self, token: &str) -> String {
        format!(
            "{COOKIE_NAME}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{}",
            self.ttl_secs,
            if self.secure { "; Secure" } else { "" }
        )
    }

    /// `Set-Cookie` value that removes the cookie.
    pub fn clear(&self) -> String {
        format!(
            "{COOKIE_NAME}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
            if self.secure { "; Secure" } else { "" }
        )
    }
}

/// The session token from a request's `Cookie` headers, if present.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// Stores a new session for `principal`; returns the token for the cookie.
pub async fn create(
    tx: &mut WorkspaceTx,
    principal: Principal,
    ttl_secs: u64,
) -> sqlx::Result<String> {
    let token = random_token();
    let expires_at = Utc::now() + Duration::seconds(ttl_secs as i64);
    sqlx::query(
        "insert into user_session (workspace_id, user_id, token_hash, expires_at) values ($1, $2, $3, $4)",
    )
    .bind(principal.workspace_id)
    .bind(principal.user_id)
    .bind(hash_token(&token))
    .bind(expires_at)
    .execute(&mut **tx)
    .await?;
    // Housekeeping: this user's expired sessions go when a new one starts.
    sqlx::query("delete from user_session where user_id = $1 and expires_at <= now()")
        .bind(principal.user_id)
        .execute(&mut **tx)
        .await?;
    Ok(token)
}

/// The principal of an unexpired session.
pub async fn lookup(db: &Db, token: &str) -> sqlx::Result<Option<Principal>> {
    let row: Option<(Uuid, Uuid)> =
        sqlx::query_as("select user_id, workspace_id from auth_session_by_token_hash($1)")
            .bind(hash_token(token))
            .fetch_optional(db.pool())
            .await?;
    Ok(row.map(|(user_id, workspace_id)| Principal {
        user_id,
        workspace_id,
    }))
}

/// Deletes the session with `token` (no-op if it is gone).
pub async fn delete(tx: &mut WorkspaceTx, token: &str) -> sqlx::Result<()> {
    sqlx::query("delete from user_session where token_hash = $1")
        .bind(hash_token(token))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "session_test.rs"]
mod tests;
