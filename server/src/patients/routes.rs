//! `/api/v1/patients`.

use app::types::Patient;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use uuid::Uuid;

use super::service::{self, PatientInput};
use crate::auth::extract::SignedIn;
use crate::error::{Error, Result};
use crate::json::{ApiJson, double_option};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/patients", get(list).post(create))
        .route("/api/v1/patients/{id}", get(show).patch(update))
}

/// Patient fields in JSON; for PATCH, an absent field is unchanged and `null` clears it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatientBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    date_of_birth: Option<Option<String>>,
}

impl From<PatientBody> for PatientInput {
    fn from(b: PatientBody) -> Self {
        PatientInput {
            name: b.name,
            email: b.email,
            phone: b.phone,
            date_of_birth: b.date_of_birth,
        }
    }
}

/// Parses a path id; anything that is not a UUID cannot exist.
pub fn parse_id(text: &str) -> Result<Uuid> {
    text.parse().map_err(|_| Error::NotFound)
}

async fn list(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<Vec<Patient>>> {
    Ok(Json(service::list(&state.services, &user).await?))
}

async fn create(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<PatientBody>,
) -> Result<(StatusCode, Json<Patient>)> {
    let patient = service::create(&state.services, &user, body.into()).await?;
    Ok((StatusCode::CREATED, Json(patient)))
}

async fn show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
) -> Result<Json<Patient>> {
    Ok(Json(
        service::get(&state.services, &user, parse_id(&id)?).await?,
    ))
}

async fn update(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatientBody>,
) -> Result<Json<Patient>> {
    let id = parse_id(&id)?;
    Ok(Json(
        service::update(&state.services, &user, id, body.into()).await?,
    ))
}
