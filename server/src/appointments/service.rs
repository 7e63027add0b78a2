//! Appointment rules: who may book, see and change what; validation; audit.

use app::types::{Appointment, AppointmentStatus, CurrentUser, DaySchedule, FieldError, Role};
use chrono::NaiveDate;
use uuid::Uuid;

use super::model::{self, StartInput};
use super::store::{self, AppointmentFields, AppointmentRow};
use crate::audit;
use crate::db::WorkspaceTx;
use crate::error::{Error, Result};
use crate::patients::service::{self as patients, PatientInput};
use crate::patients::store as patient_store;
use crate::state::Services;
use crate::workspaces::{self, Workspace};

/// Raw appointment fields from the REST API or the portal. `None` = absent (unchanged
/// on update, required or defaulted on create).
#[derive(Debug, Default, Clone)]
pub struct AppointmentInput {
    /// Existing patient id (text, validated here).
    pub patient_id: Option<String>,
    /// A patient to create with the appointment (portal), used when `patient_id` is absent.
    pub new_patient: Option<PatientInput>,
    /// Clinician id; a clinician may leave it out (themself), an admin must give it.
    pub clinician_id: Option<String>,
    /// Start.
    pub start: Option<StartInput>,
    /// Length in minutes.
    pub duration_minutes: Option<i64>,
    /// `telehealth` | `in_person`.
    pub modality: Option<String>,
    /// Reason text.
    pub reason: Option<String>,
    /// Status.
    pub status: Option<String>,
}

/// Filter of a list request.
#[derive(Debug, Default, Clone, Copy)]
pub struct ListFilter {
    /// The local day; today if `None`.
    pub date: Option<NaiveDate>,
    /// Only this clinician's (admins); clinicians always see only their own.
    pub clinician_id: Option<Uuid>,
}

/// The trimmed text of an optional field, `None` when absent or blank.
fn non_blank(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A user may touch an appointment if it is theirs, or if they are an admin.
fn check_owner(user: &CurrentUser, row: &AppointmentRow) -> Result<()> {
    if user.role == Role::Admin || row.clinician_id == user.id {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Resolves and checks every field of `input` over `base` (the stored appointment).
async fn resolve(
    tx: &mut WorkspaceTx,
    user: &CurrentUser,
    workspace: &Workspace,
    input: AppointmentInput,
    base: Option<&AppointmentRow>,
) -> Result<AppointmentFields> {
    let mut errors: Vec<FieldError> = Vec::new();

    let clinician_id = match (non_blank(&input.clinician_id), base) {
        (None, Some(b)) => Some(b.clinician_id),
        (None, None) if user.role == Role::Clinician => Some(user.id),
        (None, None) => {
            errors.push(FieldError::new("clinician_id", "Choose the clinician."));
            None
        }
        (Some(text), _) => match text.parse::<Uuid>() {
            Ok(id) if user.role == Role::Clinician && id != user.id => {
                return Err(Error::Forbidden);
            }
            Ok(id) => match store::staff_role(tx, id).await?.as_deref() {
                Some("clinician") => Some(id),
                _ => {
                    errors.push(FieldError::new(
                        "clinician_id",
                        "No such clinician in this clinic.",
                    ));
                    None
                }
            },
            Err(_) => {
                errors.push(FieldError::new(
                    "clinician_id",
                    "No such clinician in this clinic.",
                ));
                None
            }
        },
    };

    let patient_id = match (non_blank(&input.patient_id), base) {
        (Some(text), _) => match text.parse::<Uuid>() {
            Ok(id) if patient_store::find(tx, id).await?.is_some() => Some(id),
            _ => {
                errors.push(FieldError::new(
                    "patient_id",
                    "No such patient in this clinic.",
                ));
                None
            }
        },
        (None, Some(b)) if input.new_patient.is_none() => Some(b.patient_id),
        (None, _) => None, // a new patient, or missing: settled below
    };

    let starts_at = match (&input.start, base) {
        (Some(start), _) => model::parse_start(start, workspace.time_zone, &mut errors),
        (None, Some(b)) => Some(b.starts_at),
        (None, None) => {
            errors.push(FieldError::new("starts_at", "The start time is required."));
            None
        }
    };
    let duration = match (input.duration_minutes, base) {
        (Some(m), _) => model::parse_duration(m, &mut errors),
        (None, Some(b)) => Some(b.duration_minutes),
        (None, None) => Some(30),
    };
    let modality = match (&input.modality, base) {
        (Some(m), _) => model::parse_modality(m, &mut errors),
        (None, Some(b)) => model::parse_modality(&b.modality, &mut errors),
        (None, None) => {
            errors.push(FieldError::new(
                "modality",
                "Choose telehealth or in_person.",
            ));
            None
        }
    };
    let status = match (non_blank(&input.status), base) {
        (Some(s), _) => model::parse_status(s, &mut errors),
        (None, Some(b)) => model::parse_status(&b.status, &mut errors),
        (None, None) => Some(AppointmentStatus::Scheduled),
    };
    let reason = match (&input.reason, base) {
        (Some(r), _) => model::parse_reason(r, &mut errors),
        (None, Some(b)) => Some(b.reason.clone()),
        (None, None) => Some(String::new()),
    };

    // A new patient is created only when everything else is valid, so nothing half-done
    // remains after a rejected form.
    let patient_id =
        match (patient_id, input.new_patient) {
            (Some(id), _) => Some(id),
            (None, Some(new_patient)) if errors.is_empty() => {
                let new_patient = PatientInput {
                    name: Some(new_patient.name.unwrap_or_default()),
                    ..new_patient
                };
                match patients::insert_in(tx, user, new_patient).await {
                    Ok(patient) => Some(patient.id),
                    Err(Error::Validation(fields)) => {
                        errors.extend(fields.into_iter().map(|f| {
                            FieldError::new(format!("new_patient_{}", f.field), f.message)
                        }));
                        None
                    }
                    Err(other) => return Err(other),
                }
            }
            (None, Some(_)) => None,
            (None, None) => {
                if !errors.iter().any(|e| e.field == "patient_id") {
                    errors.push(FieldError::new("patient_id", "Choose the patient."));
                }
                None
            }
        };

    match (
        clinician_id,
        patient_id,
        starts_at,
        duration,
        modality,
        status,
        reason,
    ) {
        (
            Some(clinician_id),
            Some(patient_id),
            Some(starts_at),
            Some(duration_minutes),
            Some(modality),
            Some(status),
            Some(reason),
        ) if errors.is_empty() => Ok(AppointmentFields {
            clinician_id,
            patient_id,
            starts_at,
            duration_minutes,
            modality: modality.as_str(),
            status: status.as_str(),
            reason,
        }),
        _ => Err(Error::Validation(errors)),
    }
}

/// Books an appointment.
pub async fn create(
    services: &Services,
    user: &CurrentUser,
    input: AppointmentInput,
) -> Result<Appointment> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let workspace = workspaces::current(&mut tx).await?;
    let fields = resolve(&mut tx, user, &workspace, input, None).await?;
    let id = store::insert(&mut tx, user.workspace_id, &fields).await?;
    audit::record(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "appointment.created",
        "appointment",
        Some(id),
    )
    .await?;
    let row = store::find(&mut tx, id).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    tracing::info!(appointment_id = %id, "appointment created");
    Ok(model::to_wire(row, workspace.time_zone))
}

/// One appointment.
pub async fn get(services: &Services, user: &CurrentUser, id: Uuid) -> Result<Appointment> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let workspace = workspaces::current(&mut tx).await?;
    let row = store::find(&mut tx, id).await?.ok_or(Error::NotFound)?;
    check_owner(user, &row)?;
    audit::record_read(
        &mut tx,
        user.workspace_id,
        user.id,
        "appointment.viewed",
        "appointment",
        &[id],
    )
    .await?;
    tx.commit().await?;
    Ok(model::to_wire(row, workspace.time_zone))
}

/// Changes the given fields of an appointment.
pub async fn update(
    services: &Services,
    user: &CurrentUser,
    id: Uuid,
    input: AppointmentInput,
) -> Result<Appointment> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let workspace = workspaces::current(&mut tx).await?;
    let current = store::find(&mut tx, id).await?.ok_or(Error::NotFound)?;
    check_owner(user, &current)?;
    let fields = resolve(&mut tx, user, &workspace, input, Some(&current)).await?;
    store::update(&mut tx, id, &fields).await?;
    audit::record(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "appointment.updated",
        "appointment",
        Some(id),
    )
    .await?;
    let row = store::find(&mut tx, id).await?.ok_or(Error::NotFound)?;
    tx.commit().await?;
    tracing::info!(appointment_id = %id, "appointment updated");
    Ok(model::to_wire(row, workspace.time_zone))
}

/// Deletes an appointment (the audit trail keeps that it existed).
pub async fn delete(services: &Services, user: &CurrentUser, id: Uuid) -> Result<()> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let current = store::find(&mut tx, id).await?.ok_or(Error::NotFound)?;
    check_owner(user, &current)?;
    store::delete(&mut tx, id).await?;
    audit::record(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "appointment.deleted",
        "appointment",
        Some(id),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(appointment_id = %id, "appointment deleted");
    Ok(())
}

/// One local day of appointments: a clinician's own, or (admins) everyone's or one
/// clinician's.
pub async fn day(
    services: &Services,
    user: &CurrentUser,
    filter: ListFilter,
) -> Result<DaySchedule> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let workspace = workspaces::current(&mut tx).await?;
    let date = filter.date.unwrap_or_else(|| workspace.today());
    let (from, to) = model::day_bounds(date, workspace.time_zone);
    let clinician = match user.role {
        Role::Clinician => Some(user.id),
        Role::Admin => filter.clinician_id,
    };
    let rows = store::list_between(&mut tx, from, to, clinician).await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.appointment_id).collect();
    audit::record_read(
        &mut tx,
        user.workspace_id,
        user.id,
        "schedule.viewed",
        "appointment",
        &ids,
    )
    .await?;
    tx.commit().await?;
    Ok(DaySchedule {
        date,
        time_zone: workspace.time_zone.name().to_owned(),
        appointments: rows
            .into_iter()
            .map(|r| model::to_wire(r, workspace.time_zone))
            .collect(),
    })
}
