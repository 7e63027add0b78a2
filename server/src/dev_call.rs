//! `/api/v1/dev/call-token`: in dev mode only (never mounted in production), an access
//! token for the demo call page `/dev/call`, where two browser tabs can call each other
//! on the Rust/WASM client without a meeting. Demo rooms are named `dev-…`, so they
//! never collide with a meeting's room.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::state::AppState;
use app::types::FieldError;

/// Routes of the demo call (mounted only in dev).
pub fn dev_router() -> Router<AppState> {
    Router::new().route("/api/v1/dev/call-token", get(call_token))
}

#[derive(Deserialize)]
struct TokenQuery {
    room: String,
    name: String,
    /// `0`: join without the right to publish (to try live grants).
    #[serde(default)]
    publish: Option<u8>,
}

/// Where to connect and with what.
#[derive(Serialize)]
struct CallToken {
    url: String,
    room: String,
    token: String,
}

fn field(name: &str, value: &str) -> Result<(), FieldError> {
    let fine = (1..=40).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if fine {
        Ok(())
    } else {
        Err(FieldError {
            field: name.into(),
            message: "Use 1–40 letters, digits, '-' or '_'.".into(),
        })
    }
}

async fn call_token(
    State(state): State<AppState>,
    Query(query): Query<TokenQuery>,
) -> Result<Json<CallToken>> {
    let errors: Vec<FieldError> = [field("room", &query.room), field("name", &query.name)]
        .into_iter()
        .filter_map(|r| r.err())
        .collect();
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let room = format!("dev-{}", query.room);
    let media = &state.services.media;
    let token = media.demo_token(&room, &query.name, query.publish != Some(0))?;
    Ok(Json(CallToken {
        url: media.client_url().to_owned(),
        room,
        token,
    }))
}
