//! `/api/v1/users`: admins list staff and create clinicians (or admins) in their workspace.

use app::types::{FieldError, Role, StaffMember};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::store;
use crate::audit;
use crate::auth::extract::SignedIn;
use crate::auth::password_policy::check_new_password;
use crate::error::{Error, OnConstraint, Result};
use crate::json::ApiJson;
use crate::state::AppState;
use crate::validate;

/// Routes of this module.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/users", get(list).post(create))
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
    password: String,
}

async fn create(
    State(state): State<AppState>,
    user: SignedIn,
    ApiJson(body): ApiJson<NewUserBody>,
) -> Result<(StatusCode, Json<StaffMember>)> {
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
    if let Some(error) = check_new_password("password", &body.password, &[&body.email, &body.name])
    {
        errors.push(error);
    }
    let (Some(email), Some(name), Some(role), true) = (email, name, role, errors.is_empty()) else {
        return Err(Error::Validation(errors));
    };
    let hash = state.services.password_checks.hash(body.password).await??;
    let workspace_id = user.0.workspace_id;
    let mut tx = state.services.db.begin_for(workspace_id).await?;
    let id = store::insert(&mut tx, workspace_id, &email, &name, role, &hash)
        .await
        .on_constraint(
            "app_user_email_key",
            "email",
            "An account with this email already exists.",
        )?;
    audit::record(
        &mut tx,
        workspace_id,
        Some(user.0.id),
        "user.created",
        "user",
        Some(id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %id, "user created");
    Ok((
        StatusCode::CREATED,
        Json(StaffMember {
            id,
            email,
            name,
            role,
        }),
    ))
}
