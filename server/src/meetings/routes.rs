//! `/api/v1/meetings`: the clinician's side of a visit (create, read, change, end,
//! invite, admit, reject, events, audit).

use std::convert::Infallible;

use app::meetings::{Meeting, MeetingWithToken, ParticipantRole};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::media::Applied;
use super::roster::{self, NewGuest};
use super::service::{self, load_for_staff};
use super::visit::{self, Channel};
use crate::auth::extract::SignedIn;
use crate::error::{Error, Result};
use crate::json::ApiJson;
use crate::state::AppState;
use crate::validate;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/meetings", post(create))
        .route("/api/v1/meetings/{id}", get(read).patch(patch).delete(end))
        .route("/api/v1/meetings/{id}/invite", post(invite))
        .route(
            "/api/v1/meetings/{id}/participants/{pid}/admit",
            post(admit),
        )
        .route(
            "/api/v1/meetings/{id}/participants/{pid}/reject",
            post(reject),
        )
        .route("/api/v1/meetings/{id}/events", get(events))
        .route("/api/v1/meetings/{id}/audit", get(audit_trail))
        .route("/api/v1/meetings/{id}/note", get(read_note).put(save_note))
        .route("/api/v1/patients/{id}/notes", get(patient_chart))
}

/// A path id: malformed is 404, like an absent one.
pub fn parse_id(text: &str) -> Result<Uuid> {
    text.parse().map_err(|_| Error::NotFound)
}

#[derive(Deserialize)]
struct CreateBody {
    appointment_id: String,
    #[serde(default)]
    duration_minutes: Option<i32>,
}

async fn create(
    State(state): State<AppState>,
    user: SignedIn,
    source: crate::auth::extract::ClientAddr,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<MeetingWithToken>)> {
    let appointment_id: Uuid = body
        .appointment_id
        .trim()
        .parse()
        .map_err(|_| Error::field("appointment_id", "Not an appointment id."))?;
    let (meeting, created) = service::create(
        &state.services,
        &user.0,
        appointment_id,
        body.duration_minutes,
        source.0,
    )
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(meeting)))
}

async fn read(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Meeting>> {
    Ok(Json(
        service::get(&state.services, &user.0, parse_id(&id)?).await?,
    ))
}

#[derive(Deserialize)]
struct AddParticipant {
    role: String,
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
}

#[derive(Deserialize)]
struct PatchBody {
    #[serde(default)]
    duration_minutes: Option<i32>,
    #[serde(default)]
    add_participant: Option<AddParticipant>,
}

fn new_guest(add: AddParticipant) -> Result<NewGuest> {
    let mut errors = Vec::new();
    let role = ParticipantRole::parse(add.role.trim());
    match role {
        Some(ParticipantRole::Clinician) => {
            let user_id = add.user_id.as_deref().and_then(|t| t.trim().parse().ok());
            user_id
                .map(|user_id| NewGuest::Clinician { user_id })
                .ok_or_else(|| {
                    Error::field("add_participant.user_id", "Give the colleague's user id.")
                })
        }
        Some(role @ (ParticipantRole::Caregiver | ParticipantRole::Interpreter)) => {
            let name = validate::required_text(
                "add_participant.name",
                add.name.as_deref().unwrap_or_default(),
                200,
                &mut errors,
            );
            let email = add
                .email
                .as_deref()
                .filter(|e| !e.trim().is_empty())
                .and_then(|e| validate::email("add_participant.email", e, &mut errors));
            let phone = add
                .phone
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned);
            if phone
                .as_deref()
                .is_some_and(|p| crate::notify::sms::e164(p).is_none())
            {
                errors.push(app::types::FieldError::new(
                    "add_participant.phone",
                    "Not a phone number.",
                ));
            }
            match (name, errors.is_empty()) {
                (Some(name), true) => Ok(NewGuest::Guest {
                    role,
                    name,
                    email,
                    phone,
                }),
                _ => Err(Error::Validation(errors)),
            }
        }
        _ => Err(Error::field(
            "add_participant.role",
            "Role must be clinician, caregiver or interpreter.",
        )),
    }
}

async fn patch(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchBody>,
) -> Result<Json<Meeting>> {
    let id = parse_id(&id)?;
    if body.duration_minutes.is_none() && body.add_participant.is_none() {
        return Err(Error::field(
            "body",
            "Give duration_minutes or add_participant.",
        ));
    }
    let add = body.add_participant.map(new_guest).transpose()?;
    Ok(Json(
        roster::patch(&state.services, &user.0, id, body.duration_minutes, add).await?,
    ))
}

async fn end(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    service::end(
        &state.services,
        Some(&user.0),
        user.0.workspace_id,
        parse_id(&id)?,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct InviteBody {
    participant_id: String,
    channel: String,
    #[serde(default)]
    sms_consent: bool,
}

#[derive(Serialize)]
struct Invited {
    participant_id: Uuid,
    channel: &'static str,
}

async fn invite(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<InviteBody>,
) -> Result<(StatusCode, Json<Invited>)> {
    let id = parse_id(&id)?;
    let participant_id: Uuid = body
        .participant_id
        .trim()
        .parse()
        .map_err(|_| Error::field("participant_id", "Not a participant id."))?;
    let (channel, name) = match body.channel.as_str() {
        "email" => (Channel::Email, "email"),
        "sms" => (Channel::Sms, "sms"),
        _ => return Err(Error::field("channel", "Channel must be email or sms.")),
    };
    visit::invite(
        &state.services,
        &user.0,
        id,
        participant_id,
        channel,
        body.sms_consent,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(Invited {
            participant_id,
            channel: name,
        }),
    ))
}

#[derive(Serialize)]
struct Decided {
    participant_id: Uuid,
    /// Whether the participant was connected and got the change live.
    live: bool,
}

async fn admit(
    State(state): State<AppState>,
    user: SignedIn,
    Path((id, pid)): Path<(String, String)>,
) -> Result<Json<Decided>> {
    let participant_id = parse_id(&pid)?;
    let applied = service::admit(&state.services, &user.0, parse_id(&id)?, participant_id).await?;
    Ok(Json(Decided {
        participant_id,
        live: applied == Applied::Live,
    }))
}

#[derive(Deserialize, Default)]
struct RejectBody {
    #[serde(default)]
    reason: Option<String>,
}

async fn reject(
    State(state): State<AppState>,
    user: SignedIn,
    Path((id, pid)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Decided>> {
    let participant_id = parse_id(&pid)?;
    // The body is optional: none, or `{"reason": "…"}`.
    let body: RejectBody = if body.iter().all(u8::is_ascii_whitespace) {
        RejectBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| Error::MalformedBody("expected {\"reason\": \"…\"}".into()))?
    };
    let reason = body
        .reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::field(
            "reason",
            "Keep the reason under 500 characters.",
        ));
    }
    let applied = service::reject(
        &state.services,
        &user.0,
        parse_id(&id)?,
        participant_id,
        reason,
    )
    .await?;
    Ok(Json(Decided {
        participant_id,
        live: applied == Applied::Live,
    }))
}

/// Server-sent events of the meeting (participant states, status), pushed as they
/// happen on any node. The first event is a snapshot of who is waiting.
async fn events(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = std::result::Result<Event, Infallible>>>> {
    let id = parse_id(&id)?;
    let mut tx = state.services.db.begin_for(user.0.workspace_id).await?;
    load_for_staff(&mut tx, &user.0, id).await?;
    tx.commit().await?;
    let live = state.services.waiting_room.subscribe(id).await?;
    let queue = state.services.waiting_room.queue(id).await?;
    let snapshot = Event::default()
        .event("queue")
        .json_data(&queue)
        .unwrap_or_else(|_| Event::default().event("queue").data("[]"));
    let updates = live.map(|event| {
        Ok(Event::default()
            .event("meeting")
            .json_data(&event)
            .unwrap_or_else(|_| Event::default().comment("unencodable event")))
    });
    let stream = futures_util::stream::once(async move { Ok(snapshot) }).chain(updates);
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

#[derive(Serialize, sqlx::FromRow)]
struct AuditEntry {
    id: i64,
    action: String,
    actor_user_id: Option<Uuid>,
    subject_type: String,
    subject_id: Option<Uuid>,
    detail: serde_json::Value,
    occurred_at: chrono::DateTime<chrono::Utc>,
}

/// The meeting's trail, oldest first: its clinicians and workspace admins only.
async fn audit_trail(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditEntry>>> {
    let id = parse_id(&id)?;
    let mut tx = state.services.db.begin_for(user.0.workspace_id).await?;
    load_for_staff(&mut tx, &user.0, id).await?;
    let entries: Vec<AuditEntry> = sqlx::query_as(
        "select audit_event_id as id, action, actor_user_id, subject_type, subject_id, detail, occurred_at
         from audit_event where detail->>'meeting_id' = $1 order by audit_event_id",
    )
    .bind(id.to_string())
    .fetch_all(&mut *tx)
    .await?;
    crate::audit::record(
        &mut tx,
        user.0.workspace_id,
        Some(user.0.id),
        "meeting.audit_viewed",
        "meeting",
        Some(id),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(entries))
}

async fn read_note(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<app::meetings::SoapNote>> {
    Ok(Json(
        super::notes::get(&state.services, &user.0, parse_id(&id)?).await?,
    ))
}

#[derive(Deserialize)]
struct NoteBody {
    #[serde(default)]
    subjective: String,
    #[serde(default)]
    objective: String,
    #[serde(default)]
    assessment: String,
    #[serde(default)]
    plan: String,
}

/// Saves the SOAP draft (all four sections).
async fn save_note(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<NoteBody>,
) -> Result<Json<app::meetings::SoapNote>> {
    let note = app::meetings::SoapNote {
        subjective: body.subjective,
        objective: body.objective,
        assessment: body.assessment,
        plan: body.plan,
        ..Default::default()
    };
    Ok(Json(
        super::notes::save(&state.services, &user.0, parse_id(&id)?, &note).await?,
    ))
}

/// A patient's filed visit notes, newest first.
async fn patient_chart(
    State(state): State<AppState>,
    user: SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Vec<app::meetings::SoapNote>>> {
    Ok(Json(
        super::notes::chart(&state.services, &user.0, parse_id(&id)?).await?,
    ))
}
