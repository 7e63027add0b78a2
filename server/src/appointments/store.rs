//! SQL for `appointment`, always inside a workspace transaction.

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use uuid::Uuid;

use crate::db::WorkspaceTx;

/// An appointment joined with its clinician's and patient's names.
#[derive(Debug, FromRow)]
pub struct AppointmentRow {
    /// Id.
    pub appointment_id: Uuid,
    /// Clinician.
    pub clinician_id: Uuid,
    /// Clinician's name.
    pub clinician_name: String,
    /// Patient.
    pub patient_id: Uuid,
    /// Patient's name.
    pub patient_name: String,
    /// Start (UTC).
    pub starts_at: DateTime<Utc>,
    /// Length.
    pub duration_minutes: i32,
    /// `telehealth` | `in_person`.
    pub modality: String,
    /// Status.
    pub status: String,
    /// Reason.
    pub reason: String,
}

/// Validated columns of an appointment.
#[derive(Debug, Clone)]
pub struct AppointmentFields {
    /// Clinician.
    pub clinician_id: Uuid,
    /// Patient.
    pub patient_id: Uuid,
    /// Start (UTC).
    pub starts_at: DateTime<Utc>,
    /// Length in minutes.
    pub duration_minutes: i32,
    /// Stored modality.
    pub modality: &'static str,
    /// Stored status.
    pub status: &'static str,
    /// Reason.
    pub reason: String,
}

const SELECT: &str = "select a.appointment_id, a.clinician_id, u.name as clinician_name,
        a.patient_id, p.name as patient_name, a.starts_at, a.duration_minutes,
        a.modality, a.status, a.reason
    from appointment a
    join app_user u on u.user_id = a.clinician_id
    join patient p on p.patient_id = a.patient_id";

/// One appointment.
pub async fn find(tx: &mut WorkspaceTx, id: Uuid) -> sqlx::Result<Option<AppointmentRow>> {
    sqlx::query_as(&format!("{SELECT} where a.appointment_id = $1"))
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

/// Appointments starting in `[from, to)`, optionally of one clinician, earliest first.
pub async fn list_between(
    tx: &mut WorkspaceTx,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    clinician_id: Option<Uuid>,
) -> sqlx::Result<Vec<AppointmentRow>> {
    sqlx::query_as(&format!(
        "{SELECT} where a.starts_at >= $1 and a.starts_at < $2
           and ($3::uuid is null or a.clinician_id = $3)
         order by a.starts_at, a.appointment_id"
    ))
    .bind(from)
    .bind(to)
    .bind(clinician_id)
    .fetch_all(&mut **tx)
    .await
}

/// Inserts an appointment; returns its id.
pub async fn insert(
    tx: &mut WorkspaceTx,
    workspace_id: Uuid,
    f: &AppointmentFields,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar(
        "insert into appointment
            (workspace_id, clinician_id, patient_id, starts_at, duration_minutes, modality, status, reason)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning appointment_id",
    )
    .bind(workspace_id)
    .bind(f.clinician_id)
    .bind(f.patient_id)
    .bind(f.starts_at)
    .bind(f.duration_minutes)
    .bind(f.modality)
    .bind(f.status)
    .bind(&f.reason)
    .fetch_one(&mut **tx)
    .await
}

/// Replaces an appointment's columns.
pub async fn update(tx: &mut WorkspaceTx, id: Uuid, f: &AppointmentFields) -> sqlx::Result<()> {
    sqlx::query(
        "update appointment set clinician_id = $2, patient_id = $3, starts_at = $4,
            duration_minutes = $5, modality = $6, status = $7, reason = $8
         where appointment_id = $1",
    )
    .bind(id)
    .bind(f.clinician_id)
    .bind(f.patient_id)
    .bind(f.starts_at)
    .bind(f.duration_minutes)
    .bind(f.modality)
    .bind(f.status)
    .bind(&f.reason)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Deletes an appointment.
pub async fn delete(tx: &mut WorkspaceTx, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("delete from appointment where appointment_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The role of a user of the workspace, if they exist.
pub async fn staff_role(tx: &mut WorkspaceTx, user_id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("select role from app_user where user_id = $1")
        .bind(user_id)
        .fetch_optional(&mut **tx)
        .await
}
