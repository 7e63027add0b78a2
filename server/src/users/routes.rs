//! `/api/v1/users`: admins list staff and invite clinicians (or admins) into their
//! workspace; `/api/v1/invitations/accept` turns an emailed invitation into an account.

use app::types::{FieldError, Role, StaffMember};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::invitations::{self, Invitation};
use super::store;
use crate::auth::extract::SignedIn;
use crate::error::{Error, Result};
use crate::json::ApiJson;
use crate::state::AppState;
use crate::validate;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list).post(create))
        .route("/api/v1/invitations/accept", post(accept))
}

async fn list(State(state): State<AppState>, user: SignedIn) -> Result<Json<Vec<StaffMember>>> {
    let mut tx = state.services.db.begin_for(user.0.workspace_id).await?;
    let staff = store::list(&mut tx).await?;
    tx.commit().await?;
    Ok(Json(staff))
}

#[derive(Deserialize)]
struct NewUserBody {
    email: String,
    name: String,
    #[serde(default)]
    role: Option<String>,
}

/// Invites a colleague: 202 with the same body whether or not the address has an
/// account in another clinic (see [`invitations`]).
async fn create(
    State(state): State<AppState>,
    user: SignedIn,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<Invitation>)> {
    user.require_admin()?;
    let mut errors = Vec::new();
    let email = validate::email("email", &body.email, &mut errors);
    let name = validate::required_text("name", &body.name, 200, &mut errors);
    let role = match body.role.as_deref() {
        None => Some(Role::Clinician),
        Some(text) => Role::parse(text).or_else(|| {
            errors.push(FieldError::new("role", "Role must be admin or clinician."));
            None
        }),
    };
    let (Some(email), Some(name), Some(role), true) = (email, name, role, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let invitation = invitations::invite(
        &state.services,
        user.0.id,
        user.0.workspace_id,
        email,
        name,
        role,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(invitation)))
}

#[derive(Deserialize)]
struct AcceptBody {
    token: String,
    password: String,
}

#[derive(Serialize)]
struct Accepted {
    email: String,
}

/// Accepts an invitation (no sign-in: the emailed token is the credential).
async fn accept(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<(StatusCode, Json<Accepted>)> {
    let email = invitations::accept(&state.services, &body.token, &body.password).await?;
    Ok((StatusCode::CREATED, Json(Accepted { email })))
}
