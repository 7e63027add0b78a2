//! The LiveKit-compatible surface of the embedded SFU, as far as it exists today: access
//! token verification and the `/rtc/validate` endpoints that `livekit-client` calls
//! before (and after a failed) signaling connection. The `/rtc` WebSocket, media
//! forwarding and the room service come with the SFU issues (see docs/sfu.md).

pub mod grants;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;

use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rtc/validate", get(validate))
        .route("/rtc/v1/validate", get(validate))
}

#[derive(Deserialize)]
struct ValidateQuery {
    access_token: Option<String>,
}

/// Answers like LiveKit: 200 `success` for a token that may join a room, 401 with the
/// reason otherwise (the client shows it to explain a failed connection).
async fn validate(
    State(state): State<AppState>,
    Query(query): Query<ValidateQuery>,
) -> impl IntoResponse {
    let Some(token) = query.access_token.filter(|t| !t.is_empty()) else {
        return (StatusCode::UNAUTHORIZED, "missing access_token").into_response();
    };
    match state.services.livekit.verify_join(&token) {
        Ok(_) => (StatusCode::OK, "success").into_response(),
        Err(error) => (StatusCode::UNAUTHORIZED, error.to_string()).into_response(),
    }
}
