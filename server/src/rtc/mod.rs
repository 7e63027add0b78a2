//! The LiveKit-compatible signaling surface of the embedded SFU: access-token
//! verification, `/rtc/validate` and `/rtc/v1/validate` (which `livekit-client` calls
//! when a connection fails), and the `/rtc` (two peer connections) and `/rtc/v1` (one)
//! WebSockets, and LiveKit's `RoomService` over Twirp. Media and room state live in
//! [`crate::sfu`]; see docs/sfu.md.

pub mod grants;
pub mod join;
pub(crate) mod limits;
mod socket;

pub(crate) use crate::sfu::driver::unix_ms;
mod twirp;

#[cfg(test)]
mod fuzz_test;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use crate::rtc::grants::LiveKitKeys;
use crate::sfu::{PeerMode, SfuHandle};

/// What the signaling routes need: the token keys and the running SFU.
#[derive(Clone, Debug)]
pub struct RtcState {
    /// Verifies access tokens.
    pub keys: Arc<LiveKitKeys>,
    /// The SFU task.
    pub sfu: SfuHandle,
    /// STUN/TURN offered in join responses (the same as `/video/ice-servers`).
    pub turn: crate::meetings::turn::TurnSettings,
}

/// Routes of this module, for any outer router state.
pub fn router<S: Clone + Send + Sync + 'static>(state: RtcState) -> Router<S> {
    Router::new()
        .route("/rtc", get(rtc_two_connections))
        .route("/rtc/v1", get(rtc_single_connection))
        .route("/rtc/validate", get(validate))
        .route("/rtc/v1/validate", get(validate))
        .route("/metrics", get(metrics))
        .route(
            "/twirp/livekit.RoomService/{method}",
            post(twirp::room_service).layer(axum::extract::DefaultBodyLimit::max(twirp::MAX_BODY)),
        )
        .with_state(state)
}

async fn rtc_single_connection(
    State(state): State<RtcState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    connect(state, query, &headers, upgrade, PeerMode::Single)
}

async fn rtc_two_connections(
    State(state): State<RtcState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    connect(state, query, &headers, upgrade, PeerMode::Dual)
}

/// The `Authorization: Bearer` token of a request, if any.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The access token of a signaling request, taken as LiveKit's server takes it: the
/// `access_token` query parameter (browser SDKs) or an `Authorization: Bearer` header
/// (the SDKs built on LiveKit's Rust core).
fn signaling_token<'a>(query: Option<&'a String>, headers: &'a HeaderMap) -> Option<&'a str> {
    query
        .map(String::as_str)
        .filter(|t| !t.is_empty())
        .or_else(|| bearer_token(headers))
}

/// `GET /metrics`: the SFU's counters in Prometheus text format, for operators only: the
/// bearer token must be a LiveKit API JWT with the `roomList` grant (an operator's). One
/// room's `roomAdmin` is not enough: the metrics cover every room.
/// Scrapers can be given a long-lived one (`lk token create --list --valid-for 8760h`).
async fn metrics(State(state): State<RtcState>, headers: HeaderMap) -> Response {
    let token = bearer_token(&headers);
    let grants = token.and_then(|t| state.keys.verify_api(t).ok());
    match grants {
        None => (StatusCode::UNAUTHORIZED, "a LiveKit API token is required").into_response(),
        Some(g) if !g.room_list => {
            (StatusCode::FORBIDDEN, "roomList grant required").into_response()
        }
        Some(_) => match state.sfu.metrics().await {
            Some(text) => (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4",
                )],
                text,
            )
                .into_response(),
            None => StatusCode::SERVICE_UNAVAILABLE.into_response(),
        },
    }
}

/// Verifies the token and the join request before upgrading, so a refused client gets a
/// plain HTTP status (401 or 400) and its reason, as from LiveKit.
fn connect(
    state: RtcState,
    query: HashMap<String, String>,
    headers: &HeaderMap,
    upgrade: WebSocketUpgrade,
    mode: PeerMode,
) -> Response {
    let Some(token) = signaling_token(query.get("access_token"), headers) else {
        return (StatusCode::UNAUTHORIZED, "missing access_token").into_response();
    };
    let grant = match state.keys.verify_join(token) {
        Ok(grant) => grant,
        Err(error) => return (StatusCode::UNAUTHORIZED, error.to_string()).into_response(),
    };
    let request = match (mode, query.get("join_request")) {
        (PeerMode::Single, Some(param)) => match join::from_wrapped(param) {
            Ok(request) => request,
            Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
        },
        _ => join::from_query(&query),
    };
    // The join request's offer is held to the same size as any later one.
    if let Some(offer) = &request.publisher_offer
        && let Err(violation) = limits::check(&livekit_protocol::signal_request::Message::Offer(
            offer.clone(),
        ))
    {
        return (StatusCode::BAD_REQUEST, violation.0).into_response();
    }
    // Bedside's open receive sections: a client that handles them says so.
    let open_sections = query
        .get(bedside_sfu::signal_ext::OPEN_SECTIONS_PARAM)
        .is_some_and(|v| v == "1");
    let connection = (mode, open_sections);
    let sfu = state.sfu.clone();
    let ice_servers = state
        .turn
        .ice_servers(&grant.identity, unix_ms() / 1000)
        .into_iter()
        .map(|server| livekit_protocol::IceServer {
            urls: server.urls,
            username: server.username.unwrap_or_default(),
            credential: server.credential.unwrap_or_default(),
        })
        .collect();
    upgrade
        .max_message_size(limits::MAX_FRAME_BYTES)
        .max_frame_size(limits::MAX_FRAME_BYTES)
        .read_buffer_size(limits::READ_BUFFER_BYTES)
        .on_upgrade(move |ws| socket::run(ws, sfu, grant, request, connection, ice_servers))
}

#[derive(Deserialize)]
struct ValidateQuery {
    access_token: Option<String>,
}

/// Answers like LiveKit: 200 `success` for a token that may join a room, 401 with the
/// reason otherwise (the client shows it to explain a failed connection).
async fn validate(
    State(state): State<RtcState>,
    Query(query): Query<ValidateQuery>,
    headers: HeaderMap,
) -> impl IntoResponse {
    let Some(token) = signaling_token(query.access_token.as_ref(), &headers) else {
        return (StatusCode::UNAUTHORIZED, "missing access_token").into_response();
    };
    match state.keys.verify_join(token) {
        Ok(_) => (StatusCode::OK, "success").into_response(),
        Err(error) => (StatusCode::UNAUTHORIZED, error.to_string()).into_response(),
    }
}
