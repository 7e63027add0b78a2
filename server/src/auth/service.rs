//! Sign-in, sign-out and request authentication, shared by the REST API and the portal.

use std::net::IpAddr;
use std::time::Instant;

use app::types::{CurrentUser, FieldError};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use uuid::Uuid;

use super::password_policy::check_new_password;
use super::{Principal, session};
use crate::audit;
use crate::db::Db;
use crate::error::{Error, Result};
use crate::state::Services;
use crate::users;

/// A successful sign-in.
#[derive(Debug)]
pub struct SignedIn {
    /// Who signed in.
    pub principal: Principal,
    /// Value of the new session cookie.
    pub session_token: String,
    /// A bearer token for the API.
    pub access_token: String,
}

/// Checks credentials (throttled per account, source and both; see [`super::throttle`]),
/// opens a session and issues a bearer token. `source` is the client's address.
pub async fn sign_in(
    services: &Services,
    email: &str,
    password_text: &str,
    source: Option<IpAddr>,
) -> Result<SignedIn> {
    let email = email.trim().to_lowercase();
    let mut missing = Vec::new();
    if email.is_empty() {
        missing.push(FieldError::new("email", "Enter your email."));
    }
    if password_text.is_empty() {
        missing.push(FieldError::new("password", "Enter your password."));
    }
    if !missing.is_empty() {
        return Err(Error::Validation(missing));
    }
    // Counted before the check, so parallel guesses cannot all slip through.
    let attempt = services
        .throttle
        .begin(&email, source, Instant::now())
        .map_err(|retry_after_secs| Error::Throttled { retry_after_secs })?;

    let account: Option<(Uuid, Uuid, String)> = sqlx::query_as(
        "select user_id, workspace_id, password_hash from auth_account_by_email($1)",
    )
    .bind(&email)
    .fetch_optional(services.db.pool())
    .await?;
    let (ids, stored_hash) = match account {
        Some((user_id, workspace_id, hash)) => (Some((user_id, workspace_id)), Some(hash)),
        None => (None, None),
    };
    let valid = services
        .password_checks
        .verify(password_text.to_owned(), stored_hash)
        .await??;

    let Some((user_id, workspace_id)) = ids.filter(|_| valid) else {
        attempt.failed();
        if let Some((user_id, workspace_id)) = ids {
            // Recorded off the response path: a wrong password must answer exactly like
            // an unknown email, with no extra round trip that times apart the two.
            let db = services.db.clone();
            tokio::spawn(async move {
                if let Err(error) = record_failed_sign_in(&db, workspace_id, user_id).await {
                    tracing::error!(error = format!("{error:#}"), "audit of a failed sign-in");
                }
            });
        }
        tracing::info!("sign-in refused");
        return Err(Error::InvalidCredentials);
    };

    attempt.succeeded();
    let mut tx = services.db.begin_for(workspace_id).await?;
    let (session_token, principal) =
        session::create(&mut tx, user_id, workspace_id, services.cookies.ttl_secs).await?;
    audit::record(
        &mut tx,
        workspace_id,
        Some(user_id),
        "auth.signed_in",
        "user",
        Some(user_id),
    )
    .await?;
    tx.commit().await?;
    let access_token = services
        .tokens
        .issue(principal, chrono::Utc::now().timestamp())?;
    tracing::info!(user_id = %user_id, workspace_id = %workspace_id, "signed in");
    Ok(SignedIn {
        principal,
        session_token,
        access_token,
    })
}

async fn record_failed_sign_in(db: &Db, workspace_id: Uuid, user_id: Uuid) -> Result<()> {
    let mut tx = db.begin_for(workspace_id).await?;
    audit::record(
        &mut tx,
        workspace_id,
        Some(user_id),
        "auth.sign_in_failed",
        "user",
        Some(user_id),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Ends the login carried by `headers` (its cookie's session, or the session its bearer
/// token belongs to), if there is one: the cookie and every bearer token issued with that
/// login stop working.
pub async fn sign_out(services: &Services, headers: &HeaderMap) -> Result<()> {
    let Ok(principal) = principal(services, headers).await else {
        return Ok(());
    };
    let mut tx = services.db.begin_for(principal.workspace_id).await?;
    session::delete_by_id(&mut tx, principal.session_id).await?;
    audit::record(
        &mut tx,
        principal.workspace_id,
        Some(principal.user_id),
        "auth.signed_out",
        "user",
        Some(principal.user_id),
    )
    .await?;
    tx.commit().await?;
    // After the commit: a request racing it cannot re-confirm the ended login.
    services.live_sessions.forget_user(principal.user_id);
    tracing::info!(user_id = %principal.user_id, "signed out");
    Ok(())
}

/// The principal of a request: a bearer token if an `Authorization` header is present
/// (a malformed or invalid one is refused, never ignored), else the session cookie. Either
/// way the login behind it must still be live: not signed out, expired or idle.
pub async fn principal(services: &Services, headers: &HeaderMap) -> Result<Principal> {
    let idle_secs = services.cookies.idle_secs;
    if let Some(value) = headers.get(AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Error::Unauthorized)?;
        let claimed = services
            .tokens
            .verify(token.trim())
            .ok_or(Error::Unauthorized)?;
        let now = Instant::now();
        if services.live_sessions.get(claimed.session_id, now) == Some(claimed) {
            return Ok(claimed);
        }
        let live = session::still_live(&services.db, claimed.session_id, idle_secs).await?;
        let principal = live.filter(|p| *p == claimed).ok_or(Error::Unauthorized)?;
        services.live_sessions.confirm(principal, now);
        return Ok(principal);
    }
    let token = session::token_from_headers(headers).ok_or(Error::Unauthorized)?;
    session::lookup(&services.db, &token, idle_secs)
        .await?
        .ok_or(Error::Unauthorized)
}

/// The signed-in user of a request.
pub async fn current_user(services: &Services, headers: &HeaderMap) -> Result<CurrentUser> {
    let principal = principal(services, headers).await?;
    let mut tx = services.db.begin_for(principal.workspace_id).await?;
    let user = users::store::find(&mut tx, principal.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    tx.commit().await?;
    Ok(user)
}

/// Changes the password of the login carried by `headers`. The current password must be
/// right (counted and slowed like a sign-in, so a stolen session cannot guess it fast),
/// and the new one must pass [`check_new_password`]. Every *other* login of the user
/// ends (cookies and bearer tokens): whoever else knew the old password is signed out,
/// while this tab stays signed in.
pub async fn change_password(
    services: &Services,
    headers: &HeaderMap,
    current_password: &str,
    new_password: &str,
    source: Option<IpAddr>,
) -> Result<()> {
    let principal = principal(services, headers).await?;
    let mut tx = services.db.begin_for(principal.workspace_id).await?;
    let user = users::store::find(&mut tx, principal.user_id)
        .await?
        .ok_or(Error::Unauthorized)?;
    let stored_hash: String =
        sqlx::query_scalar("select password_hash from app_user where user_id = $1")
            .bind(principal.user_id)
            .fetch_one(&mut *tx)
            .await?;
    tx.commit().await?;

    let mut errors = Vec::new();
    if current_password.is_empty() {
        errors.push(FieldError::new(
            "current_password",
            "Enter your current password.",
        ));
    }
    if let Some(error) =
        check_new_password("new_password", new_password, &[&user.email, &user.name])
    {
        errors.push(error);
    } else if new_password == current_password {
        errors.push(FieldError::new(
            "new_password",
            "Choose a password different from the current one.",
        ));
    }
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }

    let attempt = services
        .throttle
        .begin(&user.email, source, Instant::now())
        .map_err(|retry_after_secs| Error::Throttled { retry_after_secs })?;
    let valid = services
        .password_checks
        .verify(current_password.to_owned(), Some(stored_hash))
        .await??;
    if !valid {
        attempt.failed();
        tracing::info!(user_id = %user.id, "password change refused: wrong current password");
        return Err(Error::field(
            "current_password",
            "The current password is incorrect.",
        ));
    }
    attempt.succeeded();
    let new_hash = services
        .password_checks
        .hash(new_password.to_owned())
        .await??;

    let mut tx = services.db.begin_for(principal.workspace_id).await?;
    sqlx::query("update app_user set password_hash = $2 where user_id = $1")
        .bind(principal.user_id)
        .bind(&new_hash)
        .execute(&mut *tx)
        .await?;
    session::delete_others(&mut tx, principal.user_id, principal.session_id).await?;
    audit::record(
        &mut tx,
        principal.workspace_id,
        Some(principal.user_id),
        "auth.password_changed",
        "user",
        Some(principal.user_id),
    )
    .await?;
    tx.commit().await?;
    services.live_sessions.forget_user(principal.user_id);
    tracing::info!(user_id = %principal.user_id, "password changed; other logins ended");
    Ok(())
}
