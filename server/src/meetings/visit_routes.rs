//! The participant-facing routes: links (`verify-token`, `rsvp`, `calls/generate-token`),
//! the waiting page's heartbeat, media tokens (`livekit/token`), `video/*`, and the
//! LiveKit webhook receiver. Link tokens travel in an `Authorization: Link …` header or
//! a POST body, never in a URL (URLs end up in logs and browser history).

use app::meetings::{DeviceCheckReport, IceServer, LinkInfo, MediaToken, VisitStatus};
use axum::extract::{FromRequestParts, Query, State};
use axum::http::header::{AUTHORIZATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{AppendHeaders, IntoResponse};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::links::{self, Bound};
use super::routes::parse_id;
use super::visit::{self, Caller, VISIT_SESSION_HOURS};
use super::webhook;
use crate::auth::extract::ClientAddr;
use crate::error::{Error, Result};
use crate::json::ApiJson;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/meetings/verify-token",
            get(verify_from_header).post(verify_from_body),
        )
        .route("/api/v1/meetings/{id}/rsvp", post(rsvp))
        .route("/api/v1/calls/generate-token", post(generate_token))
        .route("/api/v1/calls/heartbeat", post(heartbeat))
        .route("/api/v1/calls/device-check", post(device_check))
        .route(
            "/api/v1/calls/speed-test",
            get(speed_test_download).post(speed_test_upload),
        )
        .route("/api/v1/livekit/token", post(livekit_token))
        .route("/api/v1/livekit/webhook", post(receive_webhook))
        .route("/api/v1/video/auth-token", get(recorder_token))
        .route("/api/v1/video/ice-servers", get(ice_servers))
        .route("/api/v1/video/consent-log", post(consent_log))
        .route(
            "/api/v1/meetings/{id}/messages",
            get(list_messages).post(post_message),
        )
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    /// Staff by bearer token or portal cookie; else a visit session cookie.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        visit::caller(&state.services, &parts.headers).await
    }
}

/// A visit session only (the patient's side).
pub struct VisitSession(pub Bound);

impl FromRequestParts<AppState> for VisitSession {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        links::visit_session(&state.services, &parts.headers)
            .await?
            .map(VisitSession)
            .ok_or(Error::Unauthorized)
    }
}

fn link_from_header(headers: &HeaderMap) -> Result<String> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Link "))
        .map(|t| t.trim().to_owned())
        .ok_or(Error::InvalidLink)
}

#[derive(Deserialize)]
struct LinkBody {
    link_token: String,
}

async fn verify_from_header(
    State(state): State<AppState>,
    source: ClientAddr,
    headers: HeaderMap,
) -> Result<Json<LinkInfo>> {
    let token = link_from_header(&headers)?;
    Ok(Json(
        visit::link_info(&state.services, &token, source.0).await?.1,
    ))
}

async fn verify_from_body(
    State(state): State<AppState>,
    source: ClientAddr,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<Json<LinkInfo>> {
    Ok(Json(
        visit::link_info(&state.services, &body.link_token, source.0)
            .await?
            .1,
    ))
}

#[derive(Deserialize)]
struct RsvpBody {
    link_token: String,
    response: String,
}

async fn rsvp(
    State(state): State<AppState>,
    source: ClientAddr,
    axum::extract::Path(id): axum::extract::Path<String>,
    ApiJson(body): ApiJson<RsvpBody>,
) -> Result<StatusCode> {
    let accepted = match body.response.as_str() {
        "accepted" => true,
        "declined" => false,
        _ => {
            return Err(Error::field(
                "response",
                "Response must be accepted or declined.",
            ));
        }
    };
    visit::rsvp(
        &state.services,
        parse_id(&id)?,
        &body.link_token,
        accepted,
        source.0,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct Redeemed {
    meeting_id: Uuid,
    participant_id: Uuid,
}

/// Redeems a link into the visit session cookie.
async fn generate_token(
    State(state): State<AppState>,
    source: ClientAddr,
    ApiJson(body): ApiJson<LinkBody>,
) -> Result<impl IntoResponse> {
    let (bound, session) = visit::redeem(&state.services, &body.link_token, source.0).await?;
    let cookie = links::set_cookie(
        &session,
        chrono::Duration::hours(VISIT_SESSION_HOURS),
        state.services.production,
    );
    Ok((
        StatusCode::CREATED,
        AppendHeaders([(SET_COOKIE, cookie)]),
        Json(Redeemed {
            meeting_id: bound.meeting_id,
            participant_id: bound.participant_id,
        }),
    ))
}

async fn heartbeat(
    State(state): State<AppState>,
    VisitSession(bound): VisitSession,
) -> Result<Json<VisitStatus>> {
    Ok(Json(visit::heartbeat(&state.services, &bound).await?))
}

async fn device_check(
    State(state): State<AppState>,
    VisitSession(bound): VisitSession,
    ApiJson(report): ApiJson<DeviceCheckReport>,
) -> Result<StatusCode> {
    visit::report_device_check(&state.services, &bound, &report).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The device check's throughput sample, each way: small enough for a thin link to
/// finish in seconds, large enough to time.
pub const SPEED_TEST_BYTES: usize = 256 * 1024;

/// Bytes that do not compress (a proxy that compresses would flatter the link).
fn speed_test_payload() -> &'static [u8] {
    static PAYLOAD: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PAYLOAD.get_or_init(|| {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        (0..SPEED_TEST_BYTES)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect()
    })
}

/// The download half of the device check's throughput sample (visit sessions only).
async fn speed_test_download(VisitSession(_): VisitSession) -> impl IntoResponse {
    (
        [
            (axum::http::header::CONTENT_TYPE, "application/octet-stream"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        speed_test_payload(),
    )
}

/// The upload half: the body is read and dropped; at most [`SPEED_TEST_BYTES`].
async fn speed_test_upload(
    VisitSession(_): VisitSession,
    body: axum::body::Bytes,
) -> Result<StatusCode> {
    if body.len() > SPEED_TEST_BYTES {
        return Err(Error::field("body", "A speed test sends at most 256 KiB."));
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct TokenBody {
    meeting_id: String,
}

async fn livekit_token(
    State(state): State<AppState>,
    caller: Caller,
    source: ClientAddr,
    ApiJson(body): ApiJson<TokenBody>,
) -> Result<Json<MediaToken>> {
    let meeting_id = body
        .meeting_id
        .trim()
        .parse()
        .map_err(|_| Error::field("meeting_id", "Not a meeting id."))?;
    Ok(Json(
        visit::media_token(&state.services, &caller, meeting_id, source.0).await?,
    ))
}

async fn receive_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: String,
) -> Result<StatusCode> {
    webhook::receive(&state.services, &headers, &body).await
}

#[derive(Deserialize)]
struct MeetingQuery {
    meeting_id: String,
}

async fn recorder_token(
    State(state): State<AppState>,
    user: crate::auth::extract::SignedIn,
    Query(query): Query<MeetingQuery>,
) -> Result<Json<MediaToken>> {
    Ok(Json(
        super::consent::recorder_token(&state.services, &user.0, parse_id(&query.meeting_id)?)
            .await?,
    ))
}

#[derive(Serialize)]
struct IceServers {
    ice_servers: Vec<IceServer>,
}

async fn ice_servers(State(state): State<AppState>, caller: Caller) -> Result<Json<IceServers>> {
    let identity = match &caller {
        Caller::Staff(principal) => principal.user_id,
        Caller::Visit(bound) => bound.participant_id,
    };
    let now = chrono::Utc::now().timestamp();
    Ok(Json(IceServers {
        ice_servers: state.services.turn.ice_servers(&identity.to_string(), now),
    }))
}

#[derive(Deserialize)]
struct ConsentBody {
    meeting_id: String,
    consent: bool,
    text_version: String,
}

async fn consent_log(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ConsentBody>,
) -> Result<StatusCode> {
    let meeting_id = body
        .meeting_id
        .trim()
        .parse()
        .map_err(|_| Error::field("meeting_id", "Not a meeting id."))?;
    super::consent::consent(
        &state.services,
        &caller,
        meeting_id,
        body.consent,
        &body.text_version,
    )
    .await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
struct AfterQuery {
    #[serde(default)]
    after: Option<i64>,
}

/// The meeting's chat, oldest first (`?after=` for what is new).
async fn list_messages(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    Query(query): Query<AfterQuery>,
) -> Result<Json<Vec<app::meetings::ChatMessage>>> {
    Ok(Json(
        super::chat::list(&state.services, &caller, parse_id(&id)?, query.after).await?,
    ))
}

#[derive(Deserialize)]
struct MessageBody {
    body: String,
}

/// Sends a chat message as the caller.
async fn post_message(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
    ApiJson(body): ApiJson<MessageBody>,
) -> Result<(StatusCode, Json<app::meetings::ChatMessage>)> {
    let message = super::chat::post(&state.services, &caller, parse_id(&id)?, &body.body).await?;
    Ok((StatusCode::CREATED, Json(message)))
}
