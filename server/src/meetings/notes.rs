//! The visit's SOAP note: saved as a draft with every change (the console saves while
//! the clinician types), filed on the patient's chart when the meeting ends, and read
//! back there. Only the meeting's clinicians write it; the text is never logged.

use app::meetings::{ParticipantRole, SoapNote};
use app::types::CurrentUser;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::service::{load_for_staff, require_clinician};
use crate::audit;
use crate::db::WorkspaceTx;
use crate::error::{Error, Result};
use crate::state::Services;

/// Longest section, in characters (the table checks the same).
pub const MAX_SECTION_CHARS: usize = 20_000;

#[derive(sqlx::FromRow)]
struct NoteRow {
    subjective: String,
    objective: String,
    assessment: String,
    plan: String,
    updated_at: DateTime<Utc>,
    filed_at: Option<DateTime<Utc>>,
}

impl From<NoteRow> for SoapNote {
    fn from(row: NoteRow) -> Self {
        SoapNote {
            subjective: row.subjective,
            objective: row.objective,
            assessment: row.assessment,
            plan: row.plan,
            updated_at: Some(row.updated_at),
            filed_at: row.filed_at,
        }
    }
}

/// The meeting's note (empty if none was written), for its clinicians and admins.
pub async fn get(services: &Services, user: &CurrentUser, meeting_id: Uuid) -> Result<SoapNote> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    load_for_staff(&mut tx, user, meeting_id).await?;
    let row: Option<NoteRow> = sqlx::query_as(
        "select subjective, objective, assessment, plan, updated_at, filed_at from visit_note where meeting_id = $1",
    )
    .bind(meeting_id)
    .fetch_optional(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "visit_note.viewed",
        "meeting",
        Some(meeting_id),
    )
    .await?;
    tx.commit().await?;
    Ok(row.map(SoapNote::from).unwrap_or_default())
}

/// Saves the draft (every section as given). A filed note is final.
pub async fn save(
    services: &Services,
    user: &CurrentUser,
    meeting_id: Uuid,
    note: &SoapNote,
) -> Result<SoapNote> {
    for (field, text) in [
        ("subjective", &note.subjective),
        ("objective", &note.objective),
        ("assessment", &note.assessment),
        ("plan", &note.plan),
    ] {
        if text.chars().count() > MAX_SECTION_CHARS {
            return Err(Error::field(
                field,
                "Keep each section under 20,000 characters.",
            ));
        }
    }
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let loaded = load_for_staff(&mut tx, user, meeting_id).await?;
    require_clinician(&loaded, user)?;
    let patient_id = loaded
        .participants
        .iter()
        .find(|p| p.role() == ParticipantRole::Patient)
        .and_then(|p| p.patient_id)
        .ok_or(Error::NotFound)?;
    let row: Option<NoteRow> = sqlx::query_as(
        "insert into visit_note (workspace_id, meeting_id, patient_id, author_id, subjective, objective, assessment, plan)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         on conflict (meeting_id) do update set subjective = excluded.subjective, objective = excluded.objective,
             assessment = excluded.assessment, plan = excluded.plan, updated_at = now()
             where visit_note.filed_at is null
         returning subjective, objective, assessment, plan, updated_at, filed_at",
    )
    .bind(user.workspace_id)
    .bind(meeting_id)
    .bind(patient_id)
    .bind(user.id)
    .bind(&note.subjective)
    .bind(&note.objective)
    .bind(&note.assessment)
    .bind(&note.plan)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        return Err(Error::State(
            "This note was filed when the visit ended; it can no longer change.",
        ));
    };
    tx.commit().await?;
    Ok(row.into())
}

/// Files the meeting's note on the chart (the meeting ended), in the ending transaction.
pub async fn file(tx: &mut WorkspaceTx, workspace_id: Uuid, meeting_id: Uuid) -> Result<()> {
    let filed: Option<Uuid> = sqlx::query_scalar(
        "update visit_note set filed_at = now() where meeting_id = $1 and filed_at is null returning visit_note_id",
    )
    .bind(meeting_id)
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(note) = filed {
        audit::record_detail(
            tx,
            workspace_id,
            None,
            "visit_note.filed",
            "visit_note",
            Some(note),
            serde_json::json!({ "meeting_id": meeting_id }),
        )
        .await?;
    }
    Ok(())
}

/// A patient's filed visit notes, newest first (their chart).
pub async fn chart(
    services: &Services,
    user: &CurrentUser,
    patient_id: Uuid,
) -> Result<Vec<SoapNote>> {
    let mut tx = services.db.begin_for(user.workspace_id).await?;
    let rows: Vec<NoteRow> = sqlx::query_as(
        "select subjective, objective, assessment, plan, updated_at, filed_at from visit_note
         where patient_id = $1 and filed_at is not null order by filed_at desc",
    )
    .bind(patient_id)
    .fetch_all(&mut *tx)
    .await?;
    audit::record(
        &mut tx,
        user.workspace_id,
        Some(user.id),
        "visit_note.chart_viewed",
        "patient",
        Some(patient_id),
    )
    .await?;
    tx.commit().await?;
    Ok(rows.into_iter().map(SoapNote::from).collect())
}
