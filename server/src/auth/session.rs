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
    /// A session unused this long ends (automatic logoff), whatever lifetime it has left.
    pub idle_secs: u64,
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
    cookie_value(headers, COOKIE_NAME)
}

/// The value of cookie `name` in a request's `Cookie` headers, if present and not empty.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

/// Stores a new session (a login) for a user; returns the token for the cookie and the
/// principal, whose `session_id` bearer tokens are then bound to.
pub async fn create(
    tx: &mut WorkspaceTx,
    user_id: Uuid,
    workspace_id: Uuid,
    ttl_secs: u64,
) -> sqlx::Result<(String, Principal)> {
    let token = random_token();
    let expires_at = Utc::now() + Duration::seconds(ttl_secs as i64);
    let session_id: Uuid = sqlx::query_scalar(
        "insert into user_session (workspace_id, user_id, token_hash, expires_at)
         values ($1, $2, $3, $4) returning user_session_id",
    )
    .bind(workspace_id)
    .bind(user_id)
    .bind(hash_token(&token))
    .bind(expires_at)
    .fetch_one(&mut **tx)
    .await?;
    // Housekeeping: this user's expired sessions go when a new one starts.
    sqlx::query("delete from user_session where user_id = $1 and expires_at <= now()")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    let principal = Principal {
        user_id,
        workspace_id,
        session_id,
    };
    Ok((token, principal))
}

/// The principal of a cookie's session, if it is neither expired nor idle for
/// `idle_secs`; marks it seen.
pub async fn lookup(db: &Db, token: &str, idle_secs: u64) -> sqlx::Result<Option<Principal>> {
    let row: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "select user_id, workspace_id, user_session_id from auth_session_by_token_hash($1, $2)",
    )
    .bind(hash_token(token))
    .bind(secs_i32(idle_secs))
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(principal))
}

/// The principal of a bearer token's session, if that session is still live (not
/// signed out, expired or idle); marks it seen.
pub async fn still_live(
    db: &Db,
    session_id: Uuid,
    idle_secs: u64,
) -> sqlx::Result<Option<Principal>> {
    let row: Option<(Uuid, Uuid, Uuid)> = sqlx::query_as(
        "select user_id, workspace_id, user_session_id from auth_session_by_id($1, $2)",
    )
    .bind(session_id)
    .bind(secs_i32(idle_secs))
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(principal))
}

fn secs_i32(secs: u64) -> i32 {
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn principal((user_id, workspace_id, session_id): (Uuid, Uuid, Uuid)) -> Principal {
    Principal {
        user_id,
        workspace_id,
        session_id,
    }
}

/// Ends one session by id (signing out with a bearer token).
pub async fn delete_by_id(tx: &mut WorkspaceTx, session_id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from user_session where user_session_id = $1")
        .bind(session_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Ends every login of `user_id` except `keep` (after a password change).
pub async fn delete_others(tx: &mut WorkspaceTx, user_id: Uuid, keep: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from user_session where user_id = $1 and user_session_id <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
#[path = "session_test.rs"]
mod tests;
