//! `/api/v1/auth/*` and `/api/v1/me`.

use app::types::CurrentUser;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::extract::{ClientAddr, SignedIn};
use super::service;
use crate::error::Result;
use crate::json::ApiJson;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/me", get(me))
        .route("/api/v1/me/password", post(change_password))
}

#[derive(Deserialize)]
struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct LoginResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

async fn login(
    State(state): State<AppState>,
    source: ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<impl IntoResponse> {
    let services = &state.services;
    let signed_in = service::sign_in(services, &body.email, &body.password, source.0).await?;
    Ok((
        AppendHeaders([(SET_COOKIE, services.cookies.set(&signed_in.session_token))]),
        Json(LoginResponse {
            access_token: signed_in.access_token,
            token_type: "Bearer",
            expires_in: services.tokens.ttl_secs(),
        }),
    ))
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<impl IntoResponse> {
    service::sign_out(&state.services, &headers).await?;
    Ok((
        StatusCode::NO_CONTENT,
        AppendHeaders([(SET_COOKIE, state.services.cookies.clear())]),
    ))
}

#[derive(Deserialize)]
struct ChangePasswordBody {
    current_password: String,
    new_password: String,
}

async fn change_password(
    State(state): State<AppState>,
    source: ClientAddr,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<StatusCode> {
    service::change_password(
        &state.services,
        &headers,
        &body.current_password,
        &body.new_password,
        source.0,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(SignedIn(user): SignedIn) -> Json<CurrentUser> {
    Json(user)
}
