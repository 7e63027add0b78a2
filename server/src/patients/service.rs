//! Patient rules: validation, audit. Any staff member of the workspace may manage patients.

use app::types::{CurrentUser, Patient};
use uuid::Uuid;

use super::store::{self, PatientFields};
use crate::audit;
use crate::error::{Error, Result};
use crate::state::Services;
use crate::validate;
use crate::workspaces;

/// Raw patient fields, from JSON or the portal form. `None` = absent.
#[derive(Debug, Default, Clone)]
pub struct PatientInput {
    /// Full name.
    pub name: Option<String>,
    /// Email: `Some(None)` clears it.
    pub email: Option<Option<String>>,
    /// Phone: `Some(None)` clears it.
    pub phone: Option<Option<String>>,
    /// Date of birth `YYYY-MM-DD`: `Some(None)` clears it.
    pub date_of_birth: Option<Option<String>>,
}

/// Validates `input` over `base` (the current record when updating).
fn validate(
    input: PatientInput,
    base: Option<&Patient>,
    today: chrono::NaiveDate,
) -> Result<PatientFields> {
    let mut errors = Vec::new();
    let name = match (&input.name, base) {
        (Some(name), _) => validate::required_text("name", name, 200, &mut errors),
        (None, Some(base)) => Some(base.name.clone()),
        (None, None) => validate::required_text("name", "", 200, &mut errors),
    };
    let email = match input.email {
        Some(v) => validate::optional_email("email", v.as_deref(), &mut errors),
        None => Some(base.and_then(|b| b.email.clone())),
    };
    let phone = match input.phone {
        Some(v) => validate::optional_phone("phone", v.as_deref(), &mut errors),
        None => Some(base.and_then(|b| b.phone.clone())),
    };
    let date_of_birth = match input.date_of_birth {
        Some(v) => validate::optional_birth_date("date_of_birth", v.as_deref(), today, &mut errors),
        None => Some(base.and_then(|b| b.date_of_birth)),
    };
    match (name, email, phone, date_of_birth) {
        (Some(name), Some(email), Some(phone), Some(date_of_birth)) if errors.is_empty() => {
            Ok(PatientFields {
                name,
                email,
                phone,
                date_of_birth,
            })
        }
        _ => Err(Error::Validation(errors)),
    }
}

/// Validates patient fields for a new record inside an open transaction.
pub async fn insert_in(
    tx: &mut crate::db::WorkspaceTx,
    user: &CurrentUser,
    input: PatientInput,
) -> Result<Patient> {
    let workspace = workspaces::current(tx).await?;
    let fields = validate(input, None, workspace.today())?;
    let patient = store::insert(tx, user.workspace_id, &fields).await?;
    audit::record(
        tx,
        user.workspace_id,
        Some(user.id),
        "patient.created",
        "patient",
        Some(patient.id),
    )
    .await?;
    Ok(patient)
}

/// Adds a patient.
pub async fn create(
    services: &Services,
    user: &CurrentUser,
    input: PatientInput,
) -> Result<Patient> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let patient = insert_in(&mut tx, user, input).await?;
    tx.commit().await?;
    tracing::info!(patient_id = %patient.id, "patient created");
    Ok(patient)
}

/// The workspace's patients.
pub async fn list(services: &Services, user: &CurrentUser) -> Result<Vec<Patient>> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let patients = store::list(&mut tx).await?;
    let ids: Vec<Uuid> = patients.iter().map(|p| p.id).collect();
    audit::record_read(
        &mut tx,
        user.workspace_id,
        user.id,
        "patient.listed",
        "patient",
        &ids,
    )
    .await?;
    tx.commit().await?;
    Ok(patients)
}

/// One patient (404 if absent or in another workspace).
pub async fn get(services: &Services, user: &CurrentUser, id: Uuid) -> Result<Patient> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let patient = store::find(&mut tx, id).await?.ok_or(Error::NotFound)?;
    audit::record_read(
        &mut tx,
        user.workspace_id,
        user.id,
        "patient.viewed",
        "patient",
        &[id],
    )
    .await?;
    tx.commit().await?;
    Ok(patient)
}

/// Changes the given fields of a patient.
pub async fn update(
    services: &Services,
    user: &CurrentUser,
    id: Uuid,
    input: PatientInput,
) -> Result<Patient> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let current = store::find(&mut tx, id).await?.ok_or(Error::NotFound)?;
    let workspace = workspaces::current(&mut tx).await?;
    let fields = validate(input, Some(&current), workspace.today())?;
    let patient = store::update(&mut tx, id, &fields)
        .await?
        .ok_or(Error::NotFound)?;
    audit::record(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "patient.updated",
        "patient",
        Some(id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(patient_id = %id, "patient updated");
    Ok(patient)
}
