//! `/api/v1/appointments`.

use app::types::{Appointment, FieldError};
use axum::extract::Path;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::Deserialize;

use super::model::StartInput;
use super::service::{self, AppointmentInput, ListFilter};
use crate::auth::extract::SignedIn;
use crate::error::{Error, Result};
use crate::json::ApiJson;
use crate::patients::routes::parse_id;
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/appointments", get(list).post(create))
        .route(
            "/api/v1/appointments/{id}",
            get(show).patch(update).delete(remove),
        )
}

/// Appointment fields in JSON. On PATCH, absent fields are unchanged.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AppointmentBody {
    #[serde(default)]
    patient_id: Option<String>,
    #[serde(default)]
    clinician_id: Option<String>,
    #[serde(default)]
    starts_at: Option<String>,
    #[serde(default)]
    duration_minutes: Option<i64>,
    #[serde(default)]
    modality: Option<String>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

impl From<AppointmentBody> for AppointmentInput {
    fn from(b: AppointmentBody) -> Self {
        AppointmentInput {
            patient_id: b.patient_id,
            new_patient: None,
            clinician_id: b.clinician_id,
            start: b.starts_at.map(StartInput::Instant),
            duration_minutes: b.duration_minutes,
            modality: b.modality,
            reason: b.reason,
            status: b.status,
        }
    }
}

#[derive(Deserialize)]
struct ListQuery {
    date: Option<String>,
    clinician_id: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Appointment>>> {
    let mut errors = Vec::new();
    let date = query
        .date
        .as_deref()
        .filter(|d| !d.is_empty())
        .and_then(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| errors.push(FieldError::new("date", "Use the form YYYY-MM-DD.")))
                .ok()
        });
    let clinician_id = query
        .clinician_id
        .as_deref()
        .filter(|c| !c.is_empty())
        .and_then(|c| {
            c.parse()
                .map_err(|_| errors.push(FieldError::new("clinician_id", "Not a valid id.")))
                .ok()
        });
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let day = service::day(&state.services, &user, ListFilter { date, clinician_id }).await?;
    Ok(Json(day.appointments))
}

async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<AppointmentBody>,
) -> Result<(StatusCode, Json<Appointment>)> {
    let appointment = service::create(&state.services, &user, body.into()).await?;
    Ok((StatusCode::CREATED, Json(appointment)))
}

async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Appointment>> {
    Ok(Json(
        service::get(&state.services, &user, parse_id(&id)?).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AppointmentBody>,
) -> Result<Json<Appointment>> {
    let id = parse_id(&id)?;
    Ok(Json(
        service::update(&state.services, &user, id, body.into()).await?,
    ))
}

async fn remove(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    service::delete(&state.services, &user, parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
